import { test } from "node:test";
import assert from "node:assert/strict";
import type { AnswerRow, StoredRun } from "../src/align/experiments.js";
import { answerRows, culturalComparison, culturalNumbers, methodNumbers, movementRows, runStatusTable } from "../src/align/present.js";
import type { AlignSummary } from "../src/align/run.js";

const NEG = [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1];
const POS = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
/** +1 on security, conformity, benevolence and universalism (the `ideal` target's values), −1 elsewhere. */
const IDEAL_ONLY = [-1, -1, -1, -1, -1, 1, -1, 1, 1, 1];

function answers(prompts: string[], aligned: number[], referenceAnswer = "ref"): AnswerRow[] {
  return prompts.map((prompt) => ({
    prompt,
    reference: referenceAnswer,
    aligned: `${prompt}!`,
    values_reference: NEG,
    values_aligned: aligned,
    heldout_values_reference: NEG,
    heldout_values_aligned: aligned,
    reward_model_reference: null,
    reward_model_aligned: null,
  }));
}

function run(summary: Partial<AlignSummary>, rows: AnswerRow[] = []): StoredRun {
  return {
    dir: "/runs/x",
    summary: { steps: 20, seconds: 12.4, backend: "cpu", train_prompts: 100, sources: {}, kl_mean: 1, ...summary } as StoredRun["summary"],
    trainLog: [],
    examples: [],
    answers: rows,
    reused: true,
  };
}

test("cultural comparison: distances to every target by hand, movement toward the own target and away from the others", () => {
  const prompts = ["a", "b"];
  const runs = {
    ideal: run({ kl_mean: 0.5 }, answers(prompts, IDEAL_ONLY)),
    "basealign-ideal": run({ kl_mean: 0.25 }, answers(prompts, POS)),
  };
  const c = culturalComparison(runs, ["ideal", "basealign-ideal"]);
  // Reference −1 everywhere: 4 dimensions × |−1 − 1| = 8 to ideal, 5 × 2 = 10 to basealign-ideal.
  assert.deepEqual(c.matrices.optimised.distances, [
    [8, 10],
    [0, 2],
    [0, 0],
  ]);
  assert.deepEqual(c.movement.heldout, [
    { run: "ideal", own_before: 8, own_after: 0, toward_own: 8, away_from_others: -8 },
    { run: "basealign-ideal", own_before: 10, own_after: 0, toward_own: 10, away_from_others: -8 },
  ]);
  assert.equal(movementRows(c).length, 4);
  const numbers = culturalNumbers(c, runs);
  assert.deepEqual(numbers.slice(0, 3), [
    { name: "aligned to ideal: distance to own target, before → after (optimised)", value: "8.000 → 0.000" },
    { name: "aligned to ideal: toward own target (optimised)", value: 8 },
    { name: "aligned to ideal: away from other targets (optimised)", value: -8 },
  ]);
  assert.deepEqual(numbers.slice(-2), [
    { name: "aligned to ideal: KL to reference", value: 0.5 },
    { name: "aligned to basealign-ideal: KL to reference", value: 0.25 },
  ]);
});

test("answer rows: one row per prompt with every run's answer; runs on other prompts are named", () => {
  const runs = { basealign: run({}, answers(["p", "q"], POS)), rlhf: run({}, answers(["p", "q"], NEG)) };
  assert.deepEqual(answerRows(runs), [
    { prompt: "p", reference: "ref", basealign: "p!", rlhf: "p!" },
    { prompt: "q", reference: "ref", basealign: "q!", rlhf: "q!" },
  ]);
  const other = { ...runs, bon: { ...run({}, answers(["p", "z"], POS)), dir: "/runs/bon" } };
  assert.throws(() => answerRows(other), /answer 2 of run "bon" \(\/runs\/bon\) has another prompt or reference answer than "basealign"/);
  assert.throws(() => answerRows({ ...runs, bon: run({}, answers(["p"], POS)) }), /run "bon" has 1 answers, "basealign" has 2/);
  assert.deepEqual(runStatusTable(runs)[0], { run: "basealign", reused: true, seconds: 12, steps: 20, train_prompts: 100, backend: "cpu" });
});

test("method numbers: both evaluators per method, KL and reward model where present, BaseAlign's goals", () => {
  const common = {
    distance_before: 2,
    heldout_distance_before: 3,
    e_distance_before: 1,
    reward_model_before: null,
    empty_answers_before: 0,
    e_distance_after: 1,
    reward_model_after: null,
    empty_answers_after: 0,
    reward_hacking_flag: false,
    relative_reduction: 0.5,
    heldout_relative_reduction: 0.25,
  };
  const runs = {
    basealign: run({ ...common, distance_after: 1, heldout_distance_after: 2.25, kl_mean: 1.5 }),
    rlhf: run({ ...common, distance_after: 1.8, heldout_distance_after: 2.9, kl_mean: 2, reward_model_after: 0.7 }),
    bon: run({ ...common, distance_after: 1.2, heldout_distance_after: 2.5, kl_mean: 1.2 }),
  };
  const numbers = methodNumbers(runs, undefined, { reduction: 0.3, kl: 6 });
  const byName = Object.fromEntries(numbers.map((n) => [n.name, n]));
  assert.equal(byName["reference (start policy): masked distance (optimised evaluator)"].value, 2);
  assert.equal(byName["reference (start policy): masked distance (held-out evaluator)"].value, 3);
  assert.equal(byName["reference (start policy): KL to reference"], undefined);
  assert.equal(byName["basealign: masked distance (held-out evaluator)"].value, 2.25);
  assert.equal(byName["rlhf: reward-model score"].value, 0.7);
  assert.equal(byName["basealign: reward-model score"], undefined);
  assert.equal(byName["bon: KL to reference"].value, 1.2);
  assert.deepEqual(byName["BaseAlign: relative distance reduction (held-out evaluator)"], {
    name: "BaseAlign: relative distance reduction (held-out evaluator)",
    value: 0.25,
    note: "goal (for the CLI default run): at least 0.3",
  });
  assert.equal(byName["BaseAlign: KL to reference on held-out answers"].note, "goal (for the CLI default run): under 6");
  assert.equal(numbers.length, 4 * 2 + 3 + 1 + 3);
});
