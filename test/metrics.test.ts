import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { readRecords } from "../src/data/readers.js";
import { groupByHarmCategory, HARM_CATEGORIES } from "../src/metrics/harm.js";
import { describeDistribution, histogram, quantile, std } from "../src/runtime/stats.js";
import { checkStoredDistances, summarizeScoredOutputs } from "../src/metrics/summary.js";
import { valueDistances } from "../src/values/distance.js";
import { meanValueVector } from "../src/values/vectors.js";
import { dataFile, tempDir } from "./helpers.js";

/*
 * Reference numbers computed outside the kit, with Debian's /usr/bin/python3
 * (json + math.fsum) over the raw JSONL files:
 *
 *   rows = [json.loads(l) for l in open(path) if l.strip()]
 *   reward_mean = fsum(r["reward"]) / n;   value_mean[d] = fsum(r["value_reward"][d]) / n
 *   e = sqrt(Σ_{d∈{5,7,8,9}} (v_d − 1)²);   h = Σ_{d∈{5,7,8,9}} |v_d − 1|
 *   masked = Σ_{d∈{5,7,8,9}, |v_d|>0.3} |v_d − 1|
 *   (indices: security, conformity, benevolence, universalism in paper order)
 */
const REFERENCE = {
  "harmless_test_gpt-4": {
    n: 1523,
    reward_mean: 0.2571717539563477,
    value_mean: [
      0.22450569793959893, -0.011124491674330387, -0.02159091177057371, 0.30276273194680076, -0.04744553788008379, 0.7915816506489075,
      -0.0136330049148094, 0.7912286923311176, 0.8081563989831989, 0.2256609649946247,
    ],
    e_distance_mean: 1.0734150560168487,
    h_distance_mean: 1.3833722930421513,
    masked_distance_mean: 0.24794078170477546,
    reward_q25: -0.6264428198337555,
    reward_median: -0.0878809317946434,
    reward_min: -7.178123474121094,
    reward_max: 8.125239372253418,
    self_harm: { n: 17, reward_mean: 0.22597389120389433, e_distance_mean: 1.1015264050256974 },
    none: { n: 276, reward_mean: 1.436428432835374 },
    uk: { e_distance_mean: 1.4631819368898902, masked_distance_mean: 0.6496252024084025 },
  },
  "harmless_test_gpt-35-turbo": {
    n: 1523,
    reward_mean: 0.6241682612628249,
    value_mean: [
      0.27361861107997515, 0.005083161905258127, -0.004834567569336028, 0.48705634457221575, 0.003366539911071386, 0.7606749582304123,
      -0.017017032458569125, 0.7104570017353211, 0.7568916055206236, 0.25082813568678397,
    ],
    e_distance_mean: 1.1357853427241205,
    h_distance_mean: 1.521148298826859,
    masked_distance_mean: 0.3128813201745491,
    reward_q25: -0.5701460242271423,
    reward_median: 0.24711740016937256,
    reward_min: -7.589465141296387,
    reward_max: 7.953090667724609,
    self_harm: { n: 17, reward_mean: 1.0143275203950264, e_distance_mean: 0.9967173012709541 },
    none: { n: 276, reward_mean: 2.0182832502658763 },
    uk: { e_distance_mean: 1.5127225525836034, masked_distance_mean: 0.6518263606837092 },
  },
} as const;

const TOL = 1e-9;
function close(actual: number, expected: number, what: string, tol = TOL): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} (±${tol})`);
}

for (const [name, ref] of Object.entries(REFERENCE)) {
  test(`${name}: mean reward, mean value vector and mean distances match the independent computation`, () => {
    const s = summarizeScoredOutputs(dataFile(name));
    assert.equal(s.n, ref.n);
    assert.deepEqual(s.bad_lines, []);
    close(s.reward_mean, ref.reward_mean, "reward_mean");
    assert.equal(s.value_mean.length, 10);
    s.value_mean.forEach((v, i) => close(v, ref.value_mean[i], `value_mean[${i}]`));
    close(s.e_distance_mean, ref.e_distance_mean, "e_distance_mean");
    close(s.h_distance_mean, ref.h_distance_mean, "h_distance_mean");
    close(s.masked_distance_mean, ref.masked_distance_mean, "masked_distance_mean");
    close(s.reward.q25, ref.reward_q25, "reward q25");
    close(s.reward.median, ref.reward_median, "reward median");
    assert.equal(s.reward.min, ref.reward_min);
    assert.equal(s.reward.max, ref.reward_max);
    assert.equal(
      s.reward_histogram.counts.reduce((a, b) => a + b, 0),
      ref.n,
    );
    // Breakdown by harm category.
    assert.equal(s.by_category.self_harm.n, ref.self_harm.n);
    close(s.by_category.self_harm.reward_mean, ref.self_harm.reward_mean, "self_harm reward");
    close(s.by_category.self_harm.e_distance_mean, ref.self_harm.e_distance_mean, "self_harm e");
    assert.equal(s.by_category.none.n, ref.none.n);
    close(s.by_category.none.reward_mean, ref.none.reward_mean, "none reward");
    assert.deepEqual(Object.keys(s.by_category), [...HARM_CATEGORIES, "none"], "all 14 categories present, in order");
    assert.deepEqual(s.unknown_categories, []);
  });

  test(`${name}: every stored e_distance / h_distance equals the recomputation`, () => {
    const s = summarizeScoredOutputs(dataFile(name));
    assert.equal(s.stored_fields.checked, ref.n);
    assert.equal(s.stored_fields.e_distance_disagreements, 0);
    assert.equal(s.stored_fields.h_distance_disagreements, 0);
    // Floating-point rounding only (the Python check saw at most 4.4e-16).
    assert.ok(s.stored_fields.e_distance_max_abs_diff < 1e-12);
    assert.ok(s.stored_fields.h_distance_max_abs_diff < 1e-12);
  });

  test(`${name}: distances to the UK target use all ten dimensions`, () => {
    const s = summarizeScoredOutputs(dataFile(name), { target: "uk" });
    assert.equal(s.target_name, "uk");
    close(s.e_distance_mean, ref.uk.e_distance_mean, "uk e");
    close(s.masked_distance_mean, ref.uk.masked_distance_mean, "uk masked");
    // The stored fields are still checked against `ideal`, so they still agree.
    assert.equal(s.stored_fields.e_distance_disagreements, 0);
  });
}

test("summary of a file with broken lines and tampered distances: bad lines listed, disagreements counted", () => {
  const src = readRecords("scored_outputs", dataFile("harmless_test_gpt-4"));
  const lines = src.slice(0, 4).map(({ line: _l, ...r }) => JSON.stringify(r));
  const tampered = { ...JSON.parse(lines[1]), e_distance: 0.5 };
  const file = join(tempDir(), "x.jsonl");
  writeFileSync(
    file,
    [lines[0], JSON.stringify(tampered), "{not json", lines[2], JSON.stringify({ prompt: "p" }), lines[3]].join("\n") + "\n",
  );
  const s = summarizeScoredOutputs(file);
  assert.equal(s.n, 4);
  assert.deepEqual(
    s.bad_lines.map((b) => b.line),
    [3, 5],
  );
  assert.match(s.bad_lines[1].reason, /missing field "safety_issues"/);
  assert.equal(s.stored_fields.e_distance_disagreements, 1);
  assert.equal(s.stored_fields.h_distance_disagreements, 0);
  assert.deepEqual(
    s.stored_fields.examples.map((e) => [e.line, e.field, e.stored]),
    [[2, "e_distance", 0.5]],
  );
  assert.throws(() => summarizeScoredOutputs(join(tempDir(), "nope.jsonl")), /no such file/);
});

test("distances, means and statistics on hand-worked numbers", () => {
  // v on security/conformity/benevolence/universalism = 0.5, 1, 0.2, −0.4; target ideal.
  const v = [0.9, 0, 0, 0, 0, 0.5, 0, 1, 0.2, -0.4];
  const ideal = [0, 0, 0, 0, 0, 1, 0, 1, 1, 1];
  const d = valueDistances(v, ideal);
  // e = sqrt(0.25 + 0 + 0.64 + 1.96) = sqrt(2.85); h = 0.5 + 0 + 0.8 + 1.4 = 2.7;
  // masked drops benevolence (|0.2| ≤ 0.3): 0.5 + 0 + 1.4 = 1.9.
  close(d.e_distance, Math.sqrt(2.85), "e", 1e-15);
  close(d.h_distance, 2.7, "h", 1e-15);
  close(d.masked_distance, 1.9, "masked", 1e-15);
  assert.deepEqual(
    meanValueVector([v, v.map((x) => -x)]),
    v.map(() => 0),
  );
  assert.throws(() => meanValueVector([[1, 2]]), /2 numbers, expected 10/);

  // quantiles: sorted [1, 2, 4, 8]; q=0.25 → position 0.75 → 1 + 0.75·1 = 1.75; median → 3.
  assert.equal(quantile([1, 2, 4, 8], 0.25), 1.75);
  assert.equal(quantile([1, 2, 4, 8], 0.5), 3);
  // sample std of [1, 2, 4, 8]: mean 3.75, squares 7.5625 + 3.0625 + 0.0625 + 18.0625 = 28.75, /3, sqrt.
  close(std([1, 2, 4, 8]), Math.sqrt(28.75 / 3), "std", 1e-15);
  assert.equal(describeDistribution([8, 1, 4, 2]).median, 3);
  // 4 bins over [0, 8]: 0–2 {1}, 2–4 {2}, 4–6 {4}, 6–8 {8 (right edge)}; −1 and 9 outside.
  assert.deepEqual(histogram([1, 2, 4, 8, -1, 9], { bins: 4, range: [0, 8] }), {
    edges: [0, 2, 4, 6, 8],
    counts: [1, 1, 1, 1],
    outside: 2,
  });

  const { groups, unknown } = groupByHarmCategory(
    [{ c: ["self_harm", "animal_abuse"] }, { c: [] }, { c: ["made_up"] }, { c: ["self_harm", "self_harm"] }],
    (x) => x.c,
  );
  assert.deepEqual(
    [...groups.entries()].map(([k, g]) => [k, g.length]),
    [
      ["animal_abuse", 1],
      ["self_harm", 2],
      ["none", 1],
      ["made_up", 1],
    ],
  );
  assert.deepEqual(unknown, ["made_up"]);
});

test("checkStoredDistances uses a tolerance and reports the largest difference", () => {
  const base = { prompt: "p", safety_issues: [], answer: "a", reward: 0, line: 1 };
  const v = [0, 0, 0, 0, 0, 1, 0, 1, 1, 0]; // distance to ideal: e = 1, h = 1
  const c = checkStoredDistances([{ ...base, value_reward: v, e_distance: 1 + 1e-12, h_distance: 1.001 }]);
  assert.equal(c.e_distance_disagreements, 0);
  assert.equal(c.h_distance_disagreements, 1);
  close(c.h_distance_max_abs_diff, 0.001, "max diff", 1e-12);
});

test("report helpers: released-file numbers match their references, category tables line up", async () => {
  const { loadReleasedScoredOutputs, summarizeModels, releasedFileNumbers, modelComparisonTable, categoryTable } = await import(
    "../src/metrics/report.js"
  );
  const { matchesReference } = await import("../src/report/numbers.js");
  const { models, missing } = loadReleasedScoredOutputs();
  assert.deepEqual(
    models.map((m) => m.model),
    ["gpt-4", "gpt-35-turbo"],
  );
  assert.deepEqual(missing, ["harmless_test_mistral-large"]);
  const summaries = summarizeModels(models);
  const numbers = releasedFileNumbers(summaries);
  assert.equal(numbers.length, 2 * 16);
  for (const n of numbers) assert.equal(matchesReference(n), true, `${n.name}: ${n.value} vs ${n.reference}`);
  const table = modelComparisonTable(summaries);
  assert.equal(table[1].reward_mean, summaries[1].summary.reward_mean);
  assert.equal(table[0].security, summaries[0].summary.value_mean[5]);
  const cats = categoryTable(summaries, "reward_mean");
  assert.equal(cats.length, 15);
  const selfHarm = cats.find((r) => r.category === "Self-harm")!;
  close(selfHarm["gpt-4"] as number, REFERENCE["harmless_test_gpt-4"].self_harm.reward_mean, "self-harm gpt-4");
  close(selfHarm["gpt-35-turbo"] as number, REFERENCE["harmless_test_gpt-35-turbo"].self_harm.reward_mean, "self-harm gpt-3.5");
});

test("pearson and spearman on hand-worked numbers", async () => {
  const { pearson, spearman } = await import("../src/runtime/stats.js");
  // x = 1,2,3; y = 2,4,7: means 2 and 13/3; Σdxdy = (−1)(−7/3) + 0 + (1)(8/3) = 5; Σdx² = 2; Σdy² = 49/9+1/9+64/9 = 114/9.
  close(pearson([1, 2, 3], [2, 4, 7]), 5 / Math.sqrt(2 * (114 / 9)), "pearson", 1e-15);
  // Monotone but not linear: rank correlation 1; one tie gets the average rank.
  assert.equal(spearman([1, 2, 3], [2, 4, 7]), 1);
  close(spearman([1, 1, 2], [1, 2, 3]), pearson([1.5, 1.5, 3], [1, 2, 3]), "spearman ties", 1e-15);
});
