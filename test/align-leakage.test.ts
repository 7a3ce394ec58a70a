import { test } from "node:test";
import { REWARD_ENSEMBLE_SIZE } from "../src/align/reward.js";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  alignEvaluationPrompts,
  dataHalfOf,
  isAlignEvaluationPrompt,
  selectTrainingExamples,
  type EvaluatorExample,
} from "../src/evaluator/data.js";
import {
  ALIGN_EVALUATOR_CONFIG,
  DEFAULT_EVALUATOR_CONFIG,
  loadTrainingData,
  resolveConfig,
  ensembleMemberConfigs,
  secondEvaluatorConfig,
  trainingSplit,
} from "../src/evaluator/train.js";
import { rawPath } from "../src/data/paths.js";
import { readRecords } from "../src/data/readers.js";
import { promptKey } from "../src/text/prompt-key.js";

const example = (prompt: string, answer: string, kind: "labelled" | "distilled" = "distilled"): EvaluatorExample => ({
  prompt,
  answer,
  target: Array(10).fill(0),
  labels: Array(10).fill(0),
  kind,
  model: kind === "labelled" ? "alpaca" : "gpt-4",
  file: "f",
  line: 1,
});

test("selection: evaluation prompts are dropped (compared after case and spaces), halves are disjoint and cover the rest", () => {
  const prompts = Array.from({ length: 40 }, (_, i) => `How do I do thing number ${i}?`);
  const evalPrompts = alignEvaluationPrompts(prompts);
  // The hash split is fixed: about half of the prompts, and the same ones every time.
  assert.ok(evalPrompts.length > 10 && evalPrompts.length < 30, `${evalPrompts.length} of 40`);
  assert.deepEqual(alignEvaluationPrompts(prompts), evalPrompts);
  const examples = prompts.flatMap((p) => [example(p, "a"), example(`  ${p.toUpperCase()} `, "b", "labelled")]);
  const first = selectTrainingExamples(examples, evalPrompts, "first");
  const second = selectTrainingExamples(examples, evalPrompts, "second");
  const all = selectTrainingExamples(examples, evalPrompts, "all");
  const evalKeys = new Set(evalPrompts.map((p) => promptKey(p)));
  for (const s of [first, second, all]) for (const e of s.train) assert.ok(!evalKeys.has(promptKey(e.prompt)), `leaked: ${e.prompt}`);
  assert.equal(all.train.length, 2 * (40 - evalPrompts.length));
  assert.equal(first.train.length + second.train.length, all.train.length);
  const firstKeys = new Set(first.train.map((e) => promptKey(e.prompt)));
  assert.ok(second.train.every((e) => !firstKeys.has(promptKey(e.prompt))));
  assert.ok(first.train.every((e) => dataHalfOf(e.prompt) === "first"));
  assert.deepEqual(all.excluded, [{ reason: "prompt is one of BaseAlign's evaluation prompts", count: 2 * evalPrompts.length }]);
});

test("BaseAlign's evaluators: neither trains on a prompt the run is evaluated on, and the guard shares no training prompt with the reward", {
  skip: !existsSync(rawPath("saferlhf_test_questions")) && "data not fetched",
}, () => {
  const questions = readRecords("questions", rawPath("saferlhf_test_questions")).map((q) => q.prompt);
  const evaluated = new Set(alignEvaluationPrompts(questions).map((p) => promptKey(p)));
  assert.ok(evaluated.size > 600 && evaluated.size < 900, `${evaluated.size} evaluation prompts of ${questions.length}`);
  const reward = resolveConfig(ALIGN_EVALUATOR_CONFIG);
  const guard = resolveConfig(secondEvaluatorConfig(ALIGN_EVALUATOR_CONFIG));
  assert.equal(guard.dataHalf, "second");
  assert.notEqual(guard.seed, reward.seed);
  // One instrument of one kind: the guard reads the reward's head.
  assert.equal(guard.vectorHead, reward.vectorHead);
  // Every member of the reward's ensemble: the reward's half and exclusions, and never the guard's seed.
  for (const member of ensembleMemberConfigs(ALIGN_EVALUATOR_CONFIG, REWARD_ENSEMBLE_SIZE).map((m) => resolveConfig(m))) {
    assert.equal(member.dataHalf, "first");
    assert.equal(member.excludePrompts, reward.excludePrompts);
    assert.notEqual(member.seed, guard.seed);
  }
  const data = loadTrainingData(reward);
  const rewardTrain = trainingSplit(data, reward, questions).train;
  const guardTrain = trainingSplit(data, guard, questions).train;
  const leaks = (xs: EvaluatorExample[]) => xs.filter((e) => evaluated.has(promptKey(e.prompt))).length;
  assert.equal(leaks(rewardTrain), 0);
  assert.equal(leaks(guardTrain), 0);
  const rewardPrompts = new Set(rewardTrain.map((e) => promptKey(e.prompt)));
  assert.equal(guardTrain.filter((e) => rewardPrompts.has(promptKey(e.prompt))).length, 0);
  assert.ok(rewardTrain.length > 1000 && guardTrain.length > 1000, `${rewardTrain.length} / ${guardTrain.length} training examples`);
  // The old selection (the evaluator's defaults: everything) trained on the evaluation prompts: the check above would fail on it.
  const old = trainingSplit(data, resolveConfig(DEFAULT_EVALUATOR_CONFIG), questions).train;
  assert.ok(leaks(old) > 1000, `old selection: ${leaks(old)} examples on evaluation prompts`);
  // Every prompt of the run's evaluation comes from that half.
  assert.ok(alignEvaluationPrompts(questions).slice(0, 128).every(isAlignEvaluationPrompt));
});
