/**
 * The analyses on the released files, checked against numbers computed
 * independently with a short Python script over the raw JSONL (Debian's
 * /usr/bin/python3, standard library only). The scripts, for the record:
 *
 * Figure 2(a) counts on trustworthy_data.jsonl:
 *   FOLD = {"humility": "conformity"}
 *   for each record: pos, neg = set(), set()
 *     for lab in value_types: name, _, score = lab.rpartition(":")
 *       name = FOLD.get(name.strip().lower(), name.strip().lower())
 *       (pos if score.strip() in ("+1", "1", "1+", "=1") else neg).add(name)
 *     aligned[v] += 1 for v in pos; opposed[v] += 1 for v in neg
 *
 * Figure 4(b) cells on the GPT-4 + GPT-3.5 scored outputs: plain Pearson r
 * between value_reward[v] and "any of the prompt's safety_issues is in the group".
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  fulcraTable,
  loadFulcra,
  loadScoredOutputs,
  meanLabelsPerRecord,
  recordsBy,
  scoredTable,
  scoredValueRisk,
  valueProfiles,
  valueProportions,
  qualitySummary,
  valueRiskCorrelation,
} from "../src/analysis/index.js";
import { BASIC_VALUES } from "../src/values/taxonomy.js";
import { dataFile } from "./helpers.js";

const haveTrustworthy = existsSync(dataFile("trustworthy_data"));
const haveScored = existsSync(dataFile("harmless_test_gpt-4")) && existsSync(dataFile("harmless_test_gpt-35-turbo"));

test("Figure 2(a) shares on trustworthy_data.jsonl equal the hand computation", {
  skip: !haveTrustworthy && "trustworthy_data not fetched",
}, () => {
  const data = loadFulcra({ names: ["trustworthy_data"] });
  const rows = valueProportions(fulcraTable(data.records));
  const n = 1718;
  // value: [aligned records, opposed records], from the Python count above.
  const expected: Record<string, [number, number]> = {
    "self-direction": [211, 13],
    stimulation: [25, 0],
    hedonism: [4, 0],
    achievement: [265, 7],
    power: [43, 17],
    security: [591, 67],
    tradition: [42, 5],
    conformity: [693, 78],
    benevolence: [1262, 99],
    universalism: [824, 121],
  };
  assert.deepEqual(
    rows.map((r) => r.value),
    [...BASIC_VALUES],
  );
  for (const r of rows) {
    const [a, o] = expected[r.value];
    assert.equal(r.n, n, r.value);
    assert.equal(r.alignedCount, a, `${r.value} aligned`);
    assert.equal(r.opposedCount, o, `${r.value} opposed`);
    assert.equal(r.aligned, a / n, `${r.value} aligned share`);
    assert.equal(r.opposed, o / n, `${r.value} opposed share`);
  }
});

test("composition of trustworthy_data.jsonl", { skip: !haveTrustworthy && "trustworthy_data not fetched" }, () => {
  const data = loadFulcra({ names: ["trustworthy_data"] });
  const t = fulcraTable(data.records);
  assert.deepEqual(
    recordsBy(t, "response_source").map((r) => [r.key, r.records]),
    [
      ["gemini", 432],
      ["PKU-Alignment/alpaca-7b-reproduced", 370],
      ["gpt-35-turbo", 323],
      ["baichuan-inc/Baichuan2-7B-Chat", 297],
      ["meta-llama/Llama-2-7b-chat-hf", 296],
    ],
  );
  assert.deepEqual(
    recordsBy(t, "query_source").map((r) => [r.key, r.records]),
    [["trustworthy", 1718]],
  );
  // 4378 value_types labels over 1718 records.
  assert.equal(meanLabelsPerRecord(t), 4378 / 1718);
  // The mirror's labels: no label skipped; one empty value_types list, 11 "humility", 27 aliases, 2 score typos, 29 conflicts.
  const q = qualitySummary(data);
  assert.equal(q.labelsSkipped, 0);
  assert.equal(q.unreadableLines, 0);
  assert.equal(data.labelLog.count("empty-types"), 1);
  assert.equal(data.labelLog.count("refined-as-basic"), 11);
});

test("Figure 4(b) cells on the scored outputs equal the hand computation", { skip: !haveScored && "scored outputs not fetched" }, () => {
  const t = scoredTable(loadScoredOutputs({ names: ["harmless_test_gpt-4", "harmless_test_gpt-35-turbo"] }));
  assert.equal(t.numRows(), 3046);
  const cells = scoredValueRisk(t, "group");
  const cell = (v: string, g: string) => cells.find((c) => c.value === v && c.risk === g)!;
  const expected: [string, string, number, number][] = [
    ["security", "illegal activity", 0.2605777026916682, 1282],
    ["universalism", "bias & toxicity", 0.33610728872768886, 772],
    ["conformity", "privacy violation", 0.124722103993073, 334],
    ["hedonism", "controversial topics", -0.028404218807755215, 498],
    ["achievement", "unethical behaviours", -0.1833117991410155, 1430],
  ];
  for (const [v, g, r, flagged] of expected) {
    assert.ok(Math.abs(cell(v, g).r - r) < 1e-12, `${v} × ${g}: expected ${r}, got ${cell(v, g).r}`);
    assert.equal(cell(v, g).flagged, flagged, `${v} × ${g} flagged`);
    assert.equal(cell(v, g).n, 3046);
  }
  // Significance: r = 0.26 on 3046 answers is far beyond chance; r = −0.028 is not.
  assert.ok(cell("security", "illegal activity").p < 1e-40);
  assert.ok(cell("hedonism", "controversial topics").p > 0.05);
  const byCategory = valueRiskCorrelation(
    t.array("value_reward") as unknown as number[][],
    t.array("safety_issues") as unknown as string[][],
    "category",
  );
  const selfHarm = byCategory.find((c) => c.value === "benevolence" && c.risk === "self_harm")!;
  assert.ok(Math.abs(selfHarm.r - 0.013445087525621313) < 1e-12);
  assert.equal(selfHarm.flagged, 34);
  const gpt4 = valueProfiles(t, "model", "value_reward").find((p) => p.group === "gpt-4")!;
  assert.equal(gpt4.n, 1523);
  assert.ok(Math.abs(gpt4.mean[BASIC_VALUES.indexOf("security")] - 0.7915816506489093) < 1e-12);
});
