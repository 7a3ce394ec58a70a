import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { align, type AlignComponents } from "../src/align/run.js";
import { checkRewardHacking, compareDistances } from "../src/align/guard.js";
import { ToyPolicy, WordTokenizer } from "../src/align/toy.js";
import { initBackend } from "../src/runtime/backend.js";
import { tempDir } from "./helpers.js";

const WORDS = ["<eos>", "yes", "no", "maybe", "ok", "sure", "fine", "well"];

/** A scripted evaluator: security = 2 · (share of "yes" in the answer) − 1. */
const yesEvaluator = {
  score: (dialogues: string[]) =>
    dialogues.map((d) => {
      const words = d.split("\nBob: ")[1].split(" ").filter(Boolean);
      const share = words.length ? words.filter((w) => w === "yes").length / words.length : 0;
      return [0, 0, 0, 0, 0, 2 * share - 1, 0, 0, 0, 0];
    }),
};
/** An evaluator that sees every answer as opposed to security (blind to the gain). */
const blindEvaluator = { score: (d: string[]) => d.map(() => [0, 0, 0, 0, 0, -0.9, 0, 0, 0, 0]) };

function toyComponents(heldout = yesEvaluator): AlignComponents {
  const tokenizer = new WordTokenizer(WORDS);
  return {
    policy: new ToyPolicy(WORDS.length, 16, 1),
    tokenizer,
    formatPrompt: (p) => tokenizer.encode(p),
    evaluator: yesEvaluator,
    heldoutEvaluator: heldout,
    rewardModel: { score: (texts: string[]) => texts.map((t) => t.length) },
    trainPrompts: ["ok", "no", "well", "sure", "fine", "maybe"],
    testPrompts: ["ok", "no", "well", "sure", "fine", "maybe", "ok no", "well well"],
    dataFiles: [],
    sources: { policy: "toy" },
    seconds: { load: 0 },
    cache: new Map(),
  };
}

const PPO = { steps: 12, batch_size: 16, mini_batch_size: 8, response_length: 6, learning_rate: 0.03, save_every: 0 };

test("guard: a gain only the optimised evaluator sees is flagged", () => {
  const ok = checkRewardHacking(compareDistances(2, 1), compareDistances(1.8, 1.1));
  assert.equal(ok.flagged, false);
  assert.match(ok.message, /confirms/);
  const hacked = checkRewardHacking(compareDistances(2, 1), compareDistances(1.8, 1.75));
  assert.equal(hacked.flagged, true);
  assert.match(hacked.message, /50\.0%.*2\.8%/);
  assert.equal(compareDistances(2, 1.5).relativeReduction, 0.25);
});

test("align(ppo) on the toy task: distance falls by both evaluators, files are written, the start policy is untouched", async () => {
  await initBackend({ quiet: true });
  const dir = tempDir();
  const components = toyComponents();
  const startWeights = components.policy.trainableVariables()[0].dataSync().slice();
  const r = await align(components, { method: "ppo", target: "ideal", outDir: dir, seed: 3, ppo: PPO, testPrompts: 8, quiet: true });
  const s = r.summary;
  assert.equal(s.steps, 12);
  assert.equal(s.test_prompts, 8);
  // Before: about one word in eight is "yes", so security is near −0.75 and the distance near 1.75.
  assert.ok(s.distance_before > 1.2, `before ${s.distance_before}`);
  assert.ok(s.distance_after < 0.7 * s.distance_before, `after ${s.distance_after} vs before ${s.distance_before}`);
  assert.equal(s.heldout_distance_after, s.distance_after); // same scripted evaluator here
  assert.equal(s.reward_hacking_flag, false);
  assert.ok(s.kl_mean > 0);
  assert.ok(s.values_after[5] > s.values_before[5]);
  assert.ok(s.reward_model_before !== null);
  assert.deepEqual(Array.from(components.policy.trainableVariables()[0].dataSync()), Array.from(startWeights));
  const written = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
  for (const k of [
    "distance_before",
    "distance_after",
    "heldout_distance_before",
    "heldout_distance_after",
    "kl_mean",
    "steps",
    "seconds",
    "backend",
  ]) {
    assert.ok(k in written, `summary.json lacks ${k}`);
  }
  assert.equal(readFileSync(join(dir, "train_log.jsonl"), "utf8").trim().split("\n").length, 12);
  assert.ok(existsSync(join(dir, "examples.jsonl")));
});

test("align flags the gain when the held-out evaluator does not see it; best-of-N picks closer answers", async () => {
  await initBackend({ quiet: true });
  const hacked = await align(toyComponents(blindEvaluator), {
    method: "ppo",
    target: "ideal",
    seed: 3,
    ppo: PPO,
    testPrompts: 8,
    quiet: true,
  });
  assert.equal(hacked.summary.reward_hacking_flag, true);
  const bon = await align(toyComponents(), {
    method: "bon",
    target: "ideal",
    seed: 3,
    n: 4,
    ppo: { response_length: 6 },
    testPrompts: 8,
    quiet: true,
  });
  assert.equal(bon.summary.steps, 0);
  // The best of four samples is closer on average than one sample (seeded: 1.75 → well below).
  assert.ok(
    bon.summary.distance_after < bon.summary.distance_before - 0.2,
    `${bon.summary.distance_before} → ${bon.summary.distance_after}`,
  );
  assert.ok(Math.abs(bon.summary.kl_mean - (Math.log(4) - 3 / 4)) < 1e-12);
});

test("alignOrLoad reuses a stored run of the same configuration; crossTargetDistances by hand", async () => {
  await initBackend({ quiet: true });
  const { alignOrLoad, crossTargetDistances } = await import("../src/align/experiments.js");
  const dir = tempDir();
  let loads = 0;
  const load = async () => (loads++, toyComponents());
  const options = {
    method: "bon" as const,
    target: "ideal",
    seed: 3,
    n: 2,
    ppo: { response_length: 4 },
    testPrompts: 4,
    quiet: true,
    outDir: dir,
  };
  const first = await alignOrLoad(load, options);
  assert.equal(first.reused, false);
  assert.equal(first.answers.length, 4);
  const again = await alignOrLoad(load, options);
  assert.equal(again.reused, true);
  assert.equal(loads, 1, "the stored run is reused without loading models");
  assert.deepEqual(again.summary.distance_after, first.summary.distance_after);
  const changed = await alignOrLoad(load, { ...options, n: 3 });
  assert.equal(changed.reused, false);
  assert.equal(loads, 2);
  // Other models (another identity of the loaded parts) mean the stored run is not reused.
  const { lazyComponents } = await import("../src/align/experiments.js");
  let id = "models-A";
  const withId = lazyComponents(
    async () => (loads++, { ...toyComponents(), identity: id }),
    () => id,
  );
  const dir2 = tempDir();
  assert.equal((await alignOrLoad(withId, { ...options, outDir: dir2 })).reused, false);
  assert.equal((await alignOrLoad(withId, { ...options, outDir: dir2 })).reused, true);
  id = "models-B";
  const withOther = lazyComponents(
    async () => (loads++, { ...toyComponents(), identity: id }),
    () => id,
  );
  assert.equal((await alignOrLoad(withOther, { ...options, outDir: dir2 })).reused, false);

  // Hand fixture: reference answers at security −0.5, run "x" at security +0.8.
  const row = (ref: number, al: number) => {
    const v = (x: number) => [0, 0, 0, 0, 0, x, 0, 0, 0, 0];
    return {
      prompt: "",
      reference: "",
      aligned: "",
      values_reference: v(ref),
      values_aligned: v(al),
      heldout_values_reference: v(0),
      heldout_values_aligned: v(0),
      reward_model_reference: null,
      reward_model_aligned: null,
    };
  };
  const run = { ...first, answers: [row(-0.5, 0.8), row(-0.5, 0.8)] };
  const m = crossTargetDistances({ x: run }, ["ideal", "uk"]);
  assert.deepEqual(m.rows, ["reference", "x"]);
  // ideal (security 1): reference |−0.5 − 1| = 1.5, aligned 0.2. uk (security 0.4362): 0.9362·0.4362 and 0.3638·0.4362.
  assert.ok(Math.abs(m.distances[0][0] - 1.5) < 1e-9 && Math.abs(m.distances[1][0] - 0.2) < 1e-9);
  assert.ok(Math.abs(m.distances[0][1] - 0.9362 * 0.4362) < 1e-9 && Math.abs(m.distances[1][1] - 0.3638 * 0.4362) < 1e-9);
  assert.equal(crossTargetDistances({ x: run }, ["ideal"], { evaluator: "heldout" }).distances[1][0], 0);
});

test("targetMovement: toward the own target, away from the others, by hand", async () => {
  const { targetMovement } = await import("../src/align/experiments.js");
  const m = {
    rows: ["reference", "uk", "france"],
    columns: ["uk", "france"],
    distances: [
      [1.0, 0.8],
      [0.6, 0.9],
      [1.1, 0.5],
    ],
  };
  assert.deepEqual(targetMovement(m), [
    { run: "uk", own_before: 1.0, own_after: 0.6, toward_own: 1.0 - 0.6, away_from_others: 0.9 - 0.8 },
    { run: "france", own_before: 0.8, own_after: 0.5, toward_own: 0.8 - 0.5, away_from_others: 1.1 - 1.0 },
  ]);
});
