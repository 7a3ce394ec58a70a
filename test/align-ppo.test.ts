import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AdaptiveKLController, FixedKLController, gae, ppoLosses, resolvePPOConfig, trainPPO, type PPOConfig } from "../src/align/ppo.js";
import { generate, sampleToken, sequenceKl } from "../src/align/policy.js";
import { keywordReward } from "../src/align/reward.js";
import { ToyPolicy, WordTokenizer } from "../src/align/toy.js";
import { seededRandom } from "../src/runtime/random.js";
import { initBackend } from "../src/runtime/backend.js";
import { tempDir } from "./helpers.js";

const close = (a: number, b: number, eps = 1e-5) => Math.abs(a - b) < eps;

test("GAE on a hand-computed sequence, ending at the mask", () => {
  // One response of 3 tokens (a 4th, masked, must be ignored); γ = 0.9, λ = 0.5.
  // rewards r = [0, 0.5, 1, 99], values V = [0.2, 0.4, 0.6, 99]
  // δ_2 = 1 − 0.6 = 0.4                A_2 = 0.4
  // δ_1 = 0.5 + 0.9·0.6 − 0.4 = 0.64     A_1 = 0.64 + 0.45·0.4 = 0.82
  // δ_0 = 0 + 0.9·0.4 − 0.2 = 0.16       A_0 = 0.16 + 0.45·0.82 = 0.529
  const { advantages, returns } = gae([[0, 0.5, 1, 99]], [[0.2, 0.4, 0.6, 99]], [[1, 1, 1, 0]], 0.9, 0.5);
  [0.529, 0.82, 0.4, 0].forEach((a, t) => assert.ok(close(advantages[0][t], a), `A_${t} = ${advantages[0][t]}`));
  [0.729, 1.22, 1.0, 0].forEach((r, t) => assert.ok(close(returns[0][t], r), `R_${t} = ${returns[0][t]}`));
  // γ = λ = 1: the advantage is the sum of future rewards minus the value.
  const one = gae([[1, 2]], [[0.5, 0.25]], [[1, 1]], 1, 1);
  assert.deepEqual(one.advantages[0], [2.5, 1.75]);
});

test("clipped policy and value losses on hand numbers", async () => {
  await initBackend({ quiet: true });
  // Two tokens, ε = 0.2, ε_v = 0.5.
  // token 1: ratio e^{ln 1.5} = 1.5, A = 2 → max(−3, −2·1.2 = −2.4) = −2.4 (clipped)
  // token 2: ratio 0.5, A = −1 → max(0.5, 0.8) = 0.8 (clipped); a masked 3rd token must not count.
  // L_pg = (−2.4 + 0.8) / 2 = −0.8, clip fraction = 1
  // values: V = 1.0 vs V_old 0.2 → clipped to 0.7; R = 0.8: max(0.04, 0.01) = 0.04
  //         V = 0.0 vs V_old 0.1 → stays 0.0;     R = 1.0: max(1, 1) = 1
  // L_vf = ½ · (0.04 + 1) / 2 = 0.26
  // approx KL = mean((ρ−1) − ln ρ) = ((0.5 − ln 1.5) + (−0.5 − ln 0.5)) / 2
  const t = (x: number[]) => tf.tensor2d([x]);
  const out = ppoLosses(
    {
      logprobs: t([Math.log(1.5) - 1, Math.log(0.5) - 2, 5]),
      oldLogprobs: t([-1, -2, 0]),
      advantages: t([2, -1, 100]),
      values: t([1.0, 0.0, 9]),
      oldValues: t([0.2, 0.1, 0]),
      returns: t([0.8, 1.0, 0]),
      mask: t([1, 1, 0]),
    },
    0.2,
    0.5,
  );
  assert.ok(close(out.pgLoss.dataSync()[0], -0.8));
  assert.ok(close(out.clipfrac.dataSync()[0], 1));
  assert.ok(close(out.vfLoss.dataSync()[0], 0.26));
  assert.ok(close(out.approxKl.dataSync()[0], (0.5 - Math.log(1.5) + (-0.5 - Math.log(0.5))) / 2));
  // Inside the clip range nothing is clipped: ratio 1.1, A = 1 → L_pg = −1.1, clip fraction 0.
  const inside = ppoLosses(
    {
      logprobs: t([Math.log(1.1)]),
      oldLogprobs: t([0]),
      advantages: t([1]),
      values: t([0]),
      oldValues: t([0]),
      returns: t([0]),
      mask: t([1]),
    },
    0.2,
    0.2,
  );
  assert.ok(close(inside.pgLoss.dataSync()[0], -1.1));
  assert.equal(inside.clipfrac.dataSync()[0], 0);
});

test("adaptive KL controller on hand numbers", () => {
  // β = 0.1, target 6, horizon 10000, 32 rollouts.
  // KL 9: error clip(9/6 − 1) = 0.2 (clipped from 0.5) → β = 0.1 · (1 + 0.2·32/10000) = 0.100064
  const c = new AdaptiveKLController(0.1, 6, 10000);
  assert.ok(close(c.update(9, 32), 0.100064, 1e-12));
  // KL 4.5: error −0.25 → −0.2 clipped → β · (1 − 0.00064)
  assert.ok(close(c.update(4.5, 32), 0.100064 * (1 - 0.00064), 1e-12));
  // KL 5.4: error −0.1 (inside the clip), horizon 100, 10 rollouts → × (1 − 0.01)
  const d = new AdaptiveKLController(0.2, 6, 100);
  assert.ok(close(d.update(5.4, 10), 0.198, 1e-12));
  assert.equal(new FixedKLController(0.1).update(), 0.1);
});

test("config: unknown options and bad minibatch sizes are refused; derived sizes", () => {
  assert.equal(resolvePPOConfig({ batch_size: 32, mini_batch_size: 8 }).num_mini_batches, 4);
  assert.throws(() => resolvePPOConfig({ batch_size: 30, mini_batch_size: 8 }), /must be a positive integer dividing batch_size/);
  assert.throws(() => resolvePPOConfig({ learningrate: 1 } as unknown as Partial<PPOConfig>), /unknown PPO option "learningrate"/);
  assert.throws(() => resolvePPOConfig({ reward_scaling: "whiten" }), /reward_scaling/);
});

test("top-k / top-p sampling keeps only the allowed tokens", () => {
  const p = [0.5, 0.3, 0.15, 0.05];
  const random = seededRandom(3);
  const seenK = new Set<number>();
  const seenP = new Set<number>();
  for (let i = 0; i < 300; i++) {
    seenK.add(sampleToken(p, random, 2, 1));
    seenP.add(sampleToken(p, random, 0, 0.85));
  }
  assert.deepEqual([...seenK].sort(), [0, 1]);
  assert.deepEqual([...seenP].sort(), [0, 1, 2]); // 0.5 + 0.3 < 0.85 ≤ 0.95
});

const WORDS = ["<eos>", "yes", "no", "maybe", "ok", "sure", "fine", "well"];
const PROMPTS = ["ok", "no", "well", "sure", "fine", "maybe"];

async function toyRun(seed: number, outDir?: string, overrides: Partial<PPOConfig> = {}, resume = false) {
  await initBackend({ quiet: true });
  const tokenizer = new WordTokenizer(WORDS);
  const policy = new ToyPolicy(WORDS.length, 16, 1);
  const result = await trainPPO(
    {
      policy,
      tokenizer,
      formatPrompt: (p) => tokenizer.encode(p),
      prompts: PROMPTS,
      reward: keywordReward("yes"),
      quiet: true,
      outDir,
      resume,
    },
    { seed, steps: 12, batch_size: 16, mini_batch_size: 8, response_length: 6, learning_rate: 0.03, save_every: 4, ...overrides },
  );
  return { policy, tokenizer, result };
}

test("PPO on a toy task: the reward for saying 'yes' rises, KL stays measured", async () => {
  const { policy, tokenizer, result } = await toyRun(7);
  const r = result.stats.map((s) => s.mean_reward);
  const first = (r[0] + r[1]) / 2;
  const last = (r[r.length - 1] + r[r.length - 2]) / 2;
  // The untrained toy says "yes" in roughly one word of eight; after 12 steps in most.
  assert.ok(first < 0.35, `starting reward ${first}`);
  assert.ok(last - first > 0.3, `reward rose from ${first.toFixed(3)} to ${last.toFixed(3)}`);
  assert.ok(result.stats.every((s) => Number.isFinite(s.kl) && Number.isFinite(s.vf_loss) && s.clipfrac >= 0 && s.clipfrac <= 1));
  assert.ok(result.stats[result.stats.length - 1].kl > 0, "the policy moved away from the reference");
  // Held-out generation from the trained policy, and its KL to the frozen reference.
  const g = generate(policy, tokenizer, (p) => tokenizer.encode(p), ["ok", "no"], {
    seed: 1,
    temperature: 1,
    top_k: 0,
    top_p: 1,
    response_length: 6,
  });
  assert.equal(g.answers.length, 2);
  const kl = sequenceKl(
    policy,
    result.reference,
    g.rollouts.map((x) => x.rollout),
    1,
  );
  assert.ok(kl.every((x) => Number.isFinite(x)));
});

test("PPO is deterministic for a seed, and a resumed run equals an uninterrupted one", async () => {
  const dirA = tempDir();
  const a = await toyRun(11, dirA);
  const b = await toyRun(11);
  assert.deepEqual(
    a.result.stats.map((s) => s.mean_reward),
    b.result.stats.map((s) => s.mean_reward),
  );
  assert.deepEqual(
    a.result.stats.map((s) => s.kl),
    b.result.stats.map((s) => s.kl),
  );
  const c = await toyRun(12);
  assert.notDeepEqual(
    a.result.stats.map((s) => s.mean_reward),
    c.result.stats.map((s) => s.mean_reward),
  );
  assert.equal(readFileSync(join(dirA, "train_log.jsonl"), "utf8").trim().split("\n").length, 12);
  assert.ok(existsSync(join(dirA, "checkpoint", "state.json")));

  // Stop after 8 steps (checkpoint at 8), then resume to 12 in a fresh policy object.
  const dirB = tempDir();
  await toyRun(11, dirB, { steps: 8 });
  const tokenizer = new WordTokenizer(WORDS);
  const fresh = new ToyPolicy(WORDS.length, 16, 1);
  const reference = fresh.clone();
  const resumed = await trainPPO(
    {
      policy: fresh,
      reference,
      tokenizer,
      formatPrompt: (p) => tokenizer.encode(p),
      prompts: PROMPTS,
      reward: keywordReward("yes"),
      quiet: true,
      outDir: dirB,
      resume: true,
    },
    { seed: 11, steps: 12, batch_size: 16, mini_batch_size: 8, response_length: 6, learning_rate: 0.03, save_every: 4 },
  );
  assert.equal(resumed.stats.length, 12);
  const close5 = (x: number[], y: number[]) => x.every((v, i) => Math.abs(v - y[i]) < 1e-5);
  assert.ok(
    close5(
      resumed.stats.map((s) => s.mean_reward),
      a.result.stats.map((s) => s.mean_reward),
    ),
  );
  assert.ok(
    close5(
      resumed.stats.map((s) => s.kl),
      a.result.stats.map((s) => s.kl),
    ),
  );
});

test("generation through the kit's decoder: the KV-cache path draws the same tokens as full forward passes", async () => {
  await initBackend({ quiet: true });
  const { createModel } = await import("../src/lm/model.js");
  const { LmPolicy } = await import("../src/align/components.js");
  const { sampleResponses } = await import("../src/align/policy.js");
  const model = createModel(
    {
      vocabSize: 40,
      contextLength: 24,
      layers: 1,
      heads: 2,
      width: 16,
      mlpWidth: 32,
      tiedEmbeddings: true,
      layerNormEpsilon: 1e-5,
      initStd: 0.5,
    },
    3,
  );
  const fast = new LmPolicy(model);
  const slow = new LmPolicy(model);
  (slow as { step?: unknown }).step = undefined;
  const prompts = [
    [1, 2, 3],
    [4, 5, 6],
    [7, 8, 9],
  ];
  const options = { temperature: 1, top_k: 0, top_p: 1, response_length: 10 };
  const a = sampleResponses(fast, prompts, 0, options, seededRandom(5));
  const b = sampleResponses(slow, prompts, 0, options, seededRandom(5));
  assert.deepEqual(a.ids, b.ids);
  assert.deepEqual(a.mask, b.mask);
  // Masks end at the first EOS (id 0) and include it.
  a.ids.forEach((row, i) => {
    const response = row.slice(3);
    const end = response.indexOf(0);
    const expected = response.map((_, t) => (end < 0 || t <= end ? 1 : 0));
    assert.deepEqual(a.mask[i], expected);
  });
  model.dispose();
});
