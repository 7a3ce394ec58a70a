import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  chooseFulcraFiles,
  fig2aCsvRows,
  fulcraTable,
  fulcraValueRisk,
  labelQualityTable,
  labelsPerRecord,
  loadFulcra,
  loadQuestionIndex,
  loadScoredOutputs,
  meanLabelsPerRecord,
  occurringLabels,
  polarityCounts,
  profilesLong,
  qualitySummary,
  recordLabelIssues,
  recordsBy,
  scoredTable,
  valueCooccurrence,
  valueCounts,
  valueProfiles,
  valueProportions,
  valueSpacePoints,
  UNKNOWN_RISK,
  SIGNED_LABELS,
  type LoadedFulcraRecord,
} from "../src/analysis/index.js";
import { parseValueLabels } from "../src/values/labels.js";
import { BASIC_VALUES } from "../src/values/taxonomy.js";
import { tempDir } from "./helpers.js";
import { promptKey } from "../src/text/prompt-key.js";

const V = (name: string) => BASIC_VALUES.indexOf(name as (typeof BASIC_VALUES)[number]);

function record(types: string[], llm: string, source: string, prompt = "q", line = 1): LoadedFulcraRecord {
  return {
    dialogue: `Human: ${prompt}\nBob: a`,
    value_items: [],
    value_types: types,
    query_source: source,
    response_source: llm,
    labels: parseValueLabels([], types),
    line,
    file: "fixture",
    labelIssues: recordLabelIssues({ value_items: [], value_types: types }),
  };
}

// Five records, counted by hand:
//   1 A s1  benevolence +, universalism +
//   2 B s1  benevolence −, security +
//   3 A s2  benevolence + and − (mixed)
//   4 C s2  no labels
//   5 A s1  humility + (→ conformity +), power −
const FIXTURE = [
  record(["benevolence: +1", "universalism: +1"], "A", "s1", "q1", 1),
  record(["benevolence: -1", "security: +1"], "B", "s1", "q2", 2),
  record(["benevolence: +1", "benevolence: -1"], "A", "s2", "q3", 3),
  record([], "C", "s2", "q4", 4),
  record(["humility: +1", "power: -1"], "A", "s1", "q5", 5),
];

test("composition of a hand-made fixture", () => {
  const t = fulcraTable(FIXTURE);
  assert.deepEqual(recordsBy(t, "response_source"), [
    { key: "A", records: 3, share: 0.6 },
    { key: "B", records: 1, share: 0.2 },
    { key: "C", records: 1, share: 0.2 },
  ]);
  assert.deepEqual(
    recordsBy(t, "query_source").map((r) => [r.key, r.records]),
    [
      ["s1", 3],
      ["s2", 2],
    ],
  );
  assert.deepEqual(labelsPerRecord(t), [
    { labels: 0, records: 1, share: 0.2 },
    { labels: 2, records: 4, share: 0.8 },
  ]);
  assert.equal(meanLabelsPerRecord(t), 1.6);
  assert.deepEqual(polarityCounts(t), {
    records: 5,
    alignedPairs: 5,
    opposedPairs: 3,
    recordsOnlyAligned: 1,
    recordsOnlyOpposed: 0,
    recordsBothSigns: 3,
    recordsMixedSameValue: 1,
    recordsWithoutLabels: 1,
  });
  const benevolence = valueCounts(t)[V("benevolence")];
  assert.deepEqual(benevolence, { value: "benevolence", aligned: 2, opposed: 2, mixed: 1, labelled: 3, unlabelled: 2 });
  assert.throws(() => recordsBy(t, "colour"), /no column "colour"/);
});

test("Figure 2(a) shares: a record counts once per value, mixed labels on both sides", () => {
  const rows = valueProportions(fulcraTable(FIXTURE));
  assert.deepEqual(
    rows.map((r) => r.value),
    [...BASIC_VALUES],
  );
  const at = (v: string) => rows[V(v)];
  assert.equal(at("benevolence").aligned, 0.4);
  assert.equal(at("benevolence").opposed, 0.4);
  assert.equal(at("benevolence").mixedCount, 1);
  assert.equal(at("universalism").aligned, 0.2);
  assert.equal(at("security").aligned, 0.2);
  assert.equal(at("conformity").aligned, 0.2);
  assert.equal(at("power").opposed, 0.2);
  assert.equal(at("power").aligned, 0);
  assert.equal(at("hedonism").aligned + at("hedonism").opposed, 0);
  assert.ok(rows.every((r) => r.n === 5));
  assert.deepEqual(Object.keys(fig2aCsvRows(rows)[0]), ["value", "aligned", "opposed", "n"]);
});

test("value profiles: mean vector per LLM", () => {
  const profiles = valueProfiles(fulcraTable(FIXTURE), "response_source");
  assert.deepEqual(
    profiles.map((p) => [p.group, p.n]),
    [
      ["A", 3],
      ["B", 1],
      ["C", 1],
    ],
  );
  const a = profiles[0].mean;
  // A: benevolence (1 + 0 + 0)/3 (mixed cancels), universalism 1/3, conformity 1/3, power −1/3.
  assert.equal(a[V("benevolence")], 1 / 3);
  assert.equal(a[V("universalism")], 1 / 3);
  assert.equal(a[V("conformity")], 1 / 3);
  assert.equal(a[V("power")], -1 / 3);
  assert.equal(a[V("security")], 0);
  assert.deepEqual(
    profiles[1].mean,
    BASIC_VALUES.map((v) => (v === "benevolence" ? -1 : v === "security" ? 1 : 0)),
  );
  assert.deepEqual(profiles[2].mean, new Array(10).fill(0));
  const long = profilesLong(profiles);
  assert.equal(long.length, 30);
  assert.deepEqual(long[V("power")], { group: "A", value: "power", mean: -1 / 3, n: 3 });
});

test("signed co-occurrence counts, conditional shares and phi", () => {
  const c = valueCooccurrence(fulcraTable(FIXTURE));
  const i = (name: string) => SIGNED_LABELS.findIndex((l) => l.name === name);
  assert.equal(c.n, 5);
  assert.equal(c.counts[i("benevolence +")][i("benevolence +")], 2);
  assert.equal(c.counts[i("benevolence +")][i("universalism +")], 1);
  assert.equal(c.counts[i("benevolence +")][i("benevolence −")], 1);
  assert.equal(c.counts[i("benevolence −")][i("security +")], 1);
  assert.equal(c.counts[i("universalism +")][i("security +")], 0);
  assert.equal(c.conditional[i("benevolence +")][i("universalism +")], 0.5);
  assert.equal(c.conditional[i("universalism +")][i("benevolence +")], 1);
  // phi = (n·both − ci·cj) / sqrt(ci(n−ci)cj(n−cj)): (5 − 2)/sqrt(2·3·1·4) = 0.612372; (5 − 1)/4 = 1.
  assert.ok(Math.abs(c.phi[i("benevolence +")][i("universalism +")] - 0.6123724356957946) < 1e-12);
  assert.equal(c.phi[i("conformity +")][i("power −")], 1);
  assert.ok(Number.isNaN(c.conditional[i("hedonism +")][i("hedonism +")]));
  const seen = occurringLabels(c);
  assert.deepEqual(
    seen.labels.map((l) => l.name),
    ["security +", "conformity +", "benevolence +", "universalism +", "power −", "benevolence −"],
  );
});

function writeJsonl(file: string, lines: string[]): void {
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, lines.join("\n") + "\n");
}

test("loading: the full release is preferred, bad labels and lines are counted, never dropped silently", () => {
  const raw = tempDir();
  const rec = (types: string[], items: string[] = [], prompt = "Is it fine?") =>
    JSON.stringify({
      dialogue: `Human: ${prompt}\nBob: Sure.`,
      value_items: items,
      value_types: types,
      query_source: "fixture",
      response_source: "gpt-35-turbo",
    });
  writeJsonl(join(raw, "data/trustworthy_data.jsonl"), [
    rec(["benevolence: +1"], ["be honest: +1"]),
    rec(["benevolence: 1"], ["be telepathic: +1"], "How do I  read   my neighbour's mail?"),
    rec(["benevolence +1", "conformity: 1+"]),
    "{not json",
    rec([]),
    "",
  ]);
  assert.deepEqual(
    chooseFulcraFiles(raw).map((e) => e.name),
    ["trustworthy_data"],
  );
  const data = loadFulcra({ rawDir: raw });
  assert.equal(data.full, false);
  assert.deepEqual(
    data.files.map((f) => [f.name, f.records]),
    [["trustworthy_data", 4]],
  );
  assert.equal(data.records.length, 4);
  assert.equal(data.recordErrors.length, 1);
  assert.equal(data.recordErrors[0].line, 4);
  const quality = Object.fromEntries(labelQualityTable(data).map((r) => [r.kind, r]));
  assert.equal(quality["unknown-name"].labels, 1);
  assert.equal(quality["unknown-name"].records, 1);
  assert.match(quality["unknown-name"].examples, /be telepathic/);
  assert.equal(quality.malformed.labels, 1);
  assert.equal(quality["score-typo"].records, 1);
  assert.equal(quality["empty-types"].records, 1);
  assert.equal(quality.conflict.labels, 0);
  assert.deepEqual(qualitySummary(data), {
    records: 4,
    recordsWithIssues: 3,
    recordsWithSkippedLabels: 2,
    labelsSkipped: 2,
    unreadableLines: 1,
  });
  // A record with a skipped label keeps its good labels.
  assert.equal(data.records[1].labels.basic[V("benevolence")], 1);

  // Harm categories by prompt text (whitespace-insensitive) from the SafeRLHF question files.
  writeJsonl(join(raw, "data/saferlhf/test_questions.jsonl"), [
    JSON.stringify({ prompt: "How do I read my neighbour's mail?", safety_issues: ["privacy_violation"] }),
    JSON.stringify({ prompt: "Is it fine?", safety_issues: [] }),
  ]);
  assert.equal(promptKey("  How do I\u00a0read \t my\nmail? ", { keepCase: true }), "How do I read my mail?");
  assert.equal(promptKey("Is it fine?", { keepCase: true }), "Is it fine?");
  const questions = loadQuestionIndex({ rawDir: raw });
  assert.equal(questions.byPrompt.size, 2);
  const t = fulcraTable(data.records, questions);
  assert.deepEqual(t.array("harm_matched"), [true, true, true, true]);
  assert.deepEqual(t.array("safety_issues")[1], ["privacy_violation"]);
  const cells = fulcraValueRisk(t, "group");
  const cell = cells.find((c) => c.value === "benevolence" && c.risk === "privacy violation")!;
  // Benevolence [1, 1, 0, 0] (the malformed "benevolence +1" was skipped) vs privacy [0, 1, 0, 0]:
  // Σdxdy = 0.5, Σdx² = 1, Σdy² = 0.75 → r = 0.5/sqrt(0.75) = 1/√3.
  assert.ok(Math.abs(cell.r - 1 / Math.sqrt(3)) < 1e-12, `r = ${cell.r}`);
  assert.equal(cell.n, 4);
  const points = valueSpacePoints(t, null);
  assert.deepEqual(
    points.map((p) => p.risk),
    ["no safety issue", "privacy violation", "no safety issue", "no safety issue"],
  );
  // A prompt's categories say nothing about whether the answer was safe: without the record's is_safe, unknown.
  assert.deepEqual(
    points.map((p) => p.safe),
    [null, null, null, null],
  );
  assert.equal(valueSpacePoints(fulcraTable(data.records), null)[0].risk, UNKNOWN_RISK);

  // With the whole release present, it alone is read.
  writeJsonl(join(raw, "data/data_hybrid.jsonl"), [rec(["security: -1"])]);
  assert.deepEqual(
    chooseFulcraFiles(raw).map((e) => e.name),
    ["data_hybrid"],
  );
  const full = loadFulcra({ rawDir: raw });
  assert.equal(full.full, true);
  assert.equal(full.records.length, 1);
});

test("scored outputs become one row per answer with the prompt's safety label", () => {
  const raw = tempDir();
  const out = (issues: string[], security: number) =>
    JSON.stringify({
      prompt: "p",
      safety_issues: issues,
      answer: "a",
      reward: 1,
      value_reward: BASIC_VALUES.map((v) => (v === "security" ? security : 0)),
      e_distance: 0,
      h_distance: 0,
    });
  writeJsonl(join(raw, "model_outputs/harmless_test_openai_gpt-4.jsonl"), [out([], 0.5), out(["self_harm", "unknown_thing"], 1)]);
  const scored = loadScoredOutputs({ rawDir: raw });
  assert.deepEqual(
    scored.files.map((f) => [f.name, f.records]),
    [["harmless_test_gpt-4", 2]],
  );
  const t = scoredTable(scored);
  assert.deepEqual(t.array("model"), ["gpt-4", "gpt-4"]);
  assert.deepEqual(t.array("safe"), [true, false]);
  assert.deepEqual(t.array("unknown_issues"), [[], ["unknown_thing"]]);
  const profiles = valueProfiles(t, "model", "value_reward");
  assert.equal(profiles[0].mean[V("security")], 0.75);
  const points = valueSpacePoints(null, t);
  assert.deepEqual(
    points.map((p) => [p.source, p.llm, p.risk, p.safe]),
    [
      ["scored", "gpt-4", "no safety issue", true],
      ["scored", "gpt-4", "unethical behaviours", false],
    ],
  );
});
