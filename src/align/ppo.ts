/**
 * PPO for language models with a value head: the optimiser behind BaseAlign
 * (value-distance reward) and the RLHF baseline (helpfulness reward).
 *
 * One file, read top to bottom in the order of the method:
 *   1. config (every hyperparameter once, with its help) and derived sizes
 *   2. rollouts: sample responses to a batch of training prompts
 *   3. reward at the end of each response, KL penalty to the frozen reference at every token
 *   4. value bootstrap and GAE advantages
 *   5. epochs of shuffled minibatches: clipped policy loss, clipped value loss, entropy
 *   6. gradient clipping, Adam step, early stop on approximate KL
 *   7. adaptive KL controller update, logging, checkpoints
 *
 * The equations follow Schulman et al. (2017) for PPO and GAE (2016), and
 * Ziegler et al. (2019) for the per-token KL penalty and its adaptive
 * coefficient, which is the setup the Value FULCRA paper uses (initial KL
 * coefficient 0.1, adaptive, target 6).
 */
import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { Progress } from "../runtime/progress.js";
import { seededRandom } from "../runtime/random.js";
import { groupByLength, logProbsOf } from "../lm/generate.js";
import { clipByGlobalNorm } from "../lm/optim.js";
import { maskedDistance, type RewardFunction, type ValueRewardFunction } from "./reward.js";
import { sampleResponses, type PolicyTokenizer, type PromptFormatter, type ValueHeadPolicy } from "./policy.js";
import { mean } from "../runtime/stats.js";

// ─── 1. Config ────────────────────────────────────────────────────────────────
// Names follow the well-known PPO / RLHF configs so that numbers carry over.
// The defaults are the CPU configuration (a few minutes on 2 cores with the
// kit's tiny decoder); `PPO_GPU_CONFIG` below is the larger one.
export const PPO_OPTIONS = {
  seed: {
    default: 1,
    help: "seeds prompt choice, sampling and minibatch order (each step re-seeds from (seed, step), so resume is exact)",
  },
  steps: { default: 30, help: "PPO steps; each collects batch_size rollouts and then updates on them" },
  batch_size: { default: 128, help: "rollouts (prompt + sampled response) per PPO step (128 = 32 prompts × 4 responses per step)" },
  mini_batch_size: { default: 32, help: "rollouts per gradient step; must divide batch_size" },
  ppo_epochs: { default: 4, help: "passes over each batch of rollouts" },
  learning_rate: { default: 1.5e-4, help: "Adam learning rate" },
  adam_eps: { default: 1e-5, help: "Adam epsilon" },
  gamma: { default: 1, help: "discount between response tokens" },
  lam: { default: 0.95, help: "GAE lambda (bias/variance trade-off of the advantages)" },
  cliprange: { default: 0.2, help: "PPO clip range of the probability ratio" },
  cliprange_value: { default: 0.2, help: "clip range of the value prediction around its rollout value" },
  vf_coef: { default: 0.1, help: "weight of the value loss" },
  ent_coef: { default: 0, help: "weight of the entropy bonus" },
  max_grad_norm: { default: 1, help: "clip the gradients' global norm to this (0 = no clipping)" },
  init_kl_coef: { default: 0.1, help: "initial coefficient β of the per-token KL penalty to the reference (paper: 0.1)" },
  adaptive_kl: { default: true, help: "adapt β toward target_kl (Ziegler et al.); false keeps it fixed" },
  target_kl: { default: 6, help: "target sequence KL of the adaptive controller (paper: 6)" },
  horizon: { default: 10000, help: "adaptive controller horizon: larger = slower changes of β" },
  target_kl_early_stop: { default: 0, help: "stop a step's epochs when the minibatch approximate KL exceeds this (0 = never)" },
  samples_per_prompt: {
    default: 4,
    help: "responses sampled per training prompt in a step (must divide batch_size); > 1: each score minus the mean score of the other responses to the same prompt (leave-one-out baseline), so the signal is the answer's effect and not the prompt's",
  },
  reward_scaling: {
    default: "normalize",
    help: "scores before the KL penalty: none | scale (÷ running std) | normalize (− running mean, ÷ running std)",
  },
  reward_clip: { default: 0, help: "clip (scaled) scores to ±this (0 = no clipping)" },
  whiten_advantages: { default: true, help: "normalise advantages to mean 0, std 1 within each batch" },
  query_length: { default: 40, help: "training prompts longer than this many tokens are not used" },
  response_length: { default: 24, help: "response tokens generated at most" },
  temperature: { default: 1, help: "sampling temperature of the rollouts (also divides the logits in the loss)" },
  top_k: { default: 0, help: "rollouts keep only the k likeliest tokens (0 = off; anything else makes PPO slightly off-policy)" },
  top_p: { default: 1, help: "rollouts keep the top-p probability mass (1 = off; same caveat)" },
  save_every: { default: 10, help: "write a checkpoint every this many steps (0 = only at the end)" },
} as const;

type Widen<T> = T extends number ? number : T extends boolean ? boolean : T extends string ? string : T;
export type PPOConfig = { -readonly [K in keyof typeof PPO_OPTIONS]: Widen<(typeof PPO_OPTIONS)[K]["default"]> };

export const PPO_DEFAULTS: PPOConfig = Object.fromEntries(Object.entries(PPO_OPTIONS).map(([k, o]) => [k, o.default])) as PPOConfig;

/** A larger configuration for a GPU backend (gpu or webgpu) and a bigger decoder. */
export const PPO_GPU_CONFIG: Partial<PPOConfig> = {
  steps: 400,
  batch_size: 128,
  mini_batch_size: 32,
  learning_rate: 1e-4,
  response_length: 64,
  query_length: 96,
  save_every: 50,
};

/** Checks a config and computes the sizes derived from it, in the open. */
export function resolvePPOConfig(overrides: Partial<PPOConfig> = {}): PPOConfig & { num_mini_batches: number } {
  const config = { ...PPO_DEFAULTS, ...overrides };
  for (const key of Object.keys(overrides)) {
    if (!(key in PPO_OPTIONS)) throw new Error(`unknown PPO option "${key}"; known: ${Object.keys(PPO_OPTIONS).join(", ")}`);
  }
  if (
    !Number.isInteger(config.batch_size) ||
    !Number.isInteger(config.mini_batch_size) ||
    config.mini_batch_size <= 0 ||
    config.batch_size % config.mini_batch_size !== 0
  ) {
    throw new Error(`mini_batch_size (${config.mini_batch_size}) must be a positive integer dividing batch_size (${config.batch_size})`);
  }
  if (
    !Number.isInteger(config.samples_per_prompt) ||
    config.samples_per_prompt < 1 ||
    config.batch_size % config.samples_per_prompt !== 0
  ) {
    throw new Error(
      `samples_per_prompt (${config.samples_per_prompt}) must be a positive integer dividing batch_size (${config.batch_size})`,
    );
  }
  if (!["none", "scale", "normalize"].includes(config.reward_scaling)) {
    throw new Error(`reward_scaling must be none, scale or normalize, got "${config.reward_scaling}"`);
  }
  if (!(config.temperature > 0)) throw new Error(`temperature must be positive, got ${config.temperature}`);
  // Derived sizes.
  const num_mini_batches = config.batch_size / config.mini_batch_size;
  return { ...config, num_mini_batches };
}

// ─── Pieces of the method, exported so that each can be checked by hand ─────

/**
 * Generalised advantage estimation over response tokens (Schulman et al. 2016, eq. 16):
 *   δ_t = r_t + γ V_{t+1} − V_t,   A_t = δ_t + γλ A_{t+1},   returns R_t = A_t + V_t.
 * A response ends at its last masked token; the value after the end is 0 (terminal).
 */
export function gae(
  rewards: number[][],
  values: number[][],
  mask: number[][],
  gamma: number,
  lam: number,
): { advantages: number[][]; returns: number[][] } {
  const advantages = rewards.map((row) => row.map(() => 0));
  const returns = rewards.map((row) => row.map(() => 0));
  rewards.forEach((row, i) => {
    const length = mask[i].reduce((a, b) => a + b, 0);
    let next = 0;
    for (let t = length - 1; t >= 0; t--) {
      const nextValue = t + 1 < length ? values[i][t + 1] : 0;
      const delta = row[t] + gamma * nextValue - values[i][t];
      next = delta + gamma * lam * next;
      advantages[i][t] = next;
      returns[i][t] = next + values[i][t];
    }
  });
  return { advantages, returns };
}

/** Mean and standard deviation over the masked entries. */
export function maskedMoments(x: number[][], mask: number[][]): { mean: number; std: number; count: number } {
  let n = 0;
  let s = 0;
  x.forEach((row, i) => row.forEach((v, t) => mask[i][t] && (n++, (s += v))));
  const mean = n > 0 ? s / n : 0;
  let ss = 0;
  x.forEach((row, i) => row.forEach((v, t) => mask[i][t] && (ss += (v - mean) ** 2)));
  return { mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, count: n };
}

export interface LossInputs {
  logprobs: tf.Tensor2D;
  oldLogprobs: tf.Tensor2D;
  advantages: tf.Tensor2D;
  values: tf.Tensor2D;
  oldValues: tf.Tensor2D;
  returns: tf.Tensor2D;
  mask: tf.Tensor2D;
}

/**
 * PPO's clipped losses, averaged over response tokens (mask):
 *   ratio ρ = exp(log π − log π_old)
 *   policy loss  L_pg = mean max(−A ρ, −A clip(ρ, 1−ε, 1+ε))          (PPO eq. 7)
 *   value loss   L_vf = ½ mean max((V − R)², (V_old + clip(V − V_old, ±ε_v) − R)²)
 *   clip fraction = share of tokens where the clipped policy term is the larger
 *   approximate KL = mean((ρ − 1) − log ρ)   (a low-variance estimator of KL(π_old ‖ π))
 */
export function ppoLosses(
  x: LossInputs,
  cliprange: number,
  cliprangeValue: number,
): { pgLoss: tf.Scalar; vfLoss: tf.Scalar; clipfrac: tf.Scalar; approxKl: tf.Scalar } {
  return tf.tidy(() => {
    const n = x.mask.sum();
    const masked = (t: tf.Tensor) => t.mul(x.mask).sum().div(n) as tf.Scalar;
    const logRatio = x.logprobs.sub(x.oldLogprobs);
    const ratio = logRatio.exp();
    const pgLosses1 = x.advantages.neg().mul(ratio);
    const pgLosses2 = x.advantages.neg().mul(ratio.clipByValue(1 - cliprange, 1 + cliprange));
    const pgLoss = masked(tf.maximum(pgLosses1, pgLosses2));
    const clipfrac = masked(tf.greater(pgLosses2, pgLosses1).cast("float32"));
    const vClipped = x.oldValues.add(x.values.sub(x.oldValues).clipByValue(-cliprangeValue, cliprangeValue));
    const vfLosses1 = x.values.sub(x.returns).square();
    const vfLosses2 = vClipped.sub(x.returns).square();
    const vfLoss = masked(tf.maximum(vfLosses1, vfLosses2)).mul(0.5) as tf.Scalar;
    const approxKl = masked(ratio.sub(1).sub(logRatio));
    return { pgLoss, vfLoss, clipfrac, approxKl };
  });
}

/**
 * The adaptive KL controller of Ziegler et al. (2019):
 *   e = clip(KL / KL_target − 1, −0.2, 0.2),   β ← β (1 + e · n / horizon)
 * where n is the number of rollouts since the last update.
 */
export class AdaptiveKLController {
  constructor(
    public value: number,
    readonly target: number,
    readonly horizon: number,
  ) {}
  update(currentKl: number, nSteps: number): number {
    const error = Math.min(0.2, Math.max(-0.2, currentKl / this.target - 1));
    this.value *= 1 + (error * nSteps) / this.horizon;
    return this.value;
  }
}

/** β that never changes (adaptive_kl = false). */
export class FixedKLController {
  constructor(public value: number) {}
  update(): number {
    return this.value;
  }
}

/** Running mean/variance of the scores (Welford), for reward scaling. */
class RunningMoments {
  count = 0;
  mean = 0;
  m2 = 0;
  update(xs: number[]): void {
    for (const x of xs) {
      this.count++;
      const d = x - this.mean;
      this.mean += d / this.count;
      this.m2 += d * (x - this.mean);
    }
  }
  get std(): number {
    return this.count > 1 ? Math.sqrt(this.m2 / (this.count - 1)) : 1;
  }
}

/** A generator seeded from (seed, step): every step's randomness is fixed without carrying state. */
export function stepRandom(seed: number, step: number): () => number {
  return seededRandom((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b)) >>> 0);
}

// ─── Checkpoints: weights, Adam state and controller, so a run resumes exactly ──

interface CheckpointState {
  step: number;
  kl_coef: number;
  moments: { count: number; mean: number; m2: number };
  variables: { name: string; shape: number[] }[];
  optimizer: { name: string; shape: number[] }[];
}

async function saveCheckpoint(
  dir: string,
  state: Omit<CheckpointState, "variables" | "optimizer">,
  variables: tf.Variable[],
  optimizer: tf.Optimizer,
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const optWeights = await optimizer.getWeights();
  const tensors = [...variables, ...optWeights.map((w) => w.tensor)];
  const arrays = await Promise.all(tensors.map((t) => t.data() as Promise<Float32Array>));
  const bytes = new Float32Array(arrays.reduce((a, x) => a + x.length, 0));
  let offset = 0;
  for (const a of arrays) {
    bytes.set(a, offset);
    offset += a.length;
  }
  const full: CheckpointState = {
    ...state,
    variables: variables.map((v) => ({ name: v.name, shape: v.shape })),
    optimizer: optWeights.map((w) => ({ name: w.name, shape: w.tensor.shape })),
  };
  // Write beside, then rename: a run killed mid-write leaves the previous checkpoint intact.
  writeFileSync(join(dir, "weights.bin.tmp"), Buffer.from(bytes.buffer));
  writeFileSync(join(dir, "state.json.tmp"), JSON.stringify(full, null, 1));
  renameSync(join(dir, "weights.bin.tmp"), join(dir, "weights.bin"));
  renameSync(join(dir, "state.json.tmp"), join(dir, "state.json"));
}

async function loadCheckpoint(dir: string, variables: tf.Variable[], optimizer: tf.Optimizer): Promise<CheckpointState> {
  const state = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as CheckpointState;
  const buf = readFileSync(join(dir, "weights.bin"));
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  if (state.variables.length !== variables.length) {
    throw new Error(
      `${join(dir, "state.json")}: checkpoint holds ${state.variables.length} variables but the policy has ${variables.length}; it was made with another model configuration`,
    );
  }
  let offset = 0;
  const take = (shape: number[]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const t = tf.tensor(all.subarray(offset, offset + size), shape);
    offset += size;
    return t;
  };
  state.variables.forEach((s, i) => {
    if (s.shape.join("x") !== variables[i].shape.join("x")) {
      throw new Error(
        `${join(dir, "state.json")}: variable ${i} (${s.name}) has shape [${s.shape}] in the checkpoint but [${variables[i].shape}] in the policy`,
      );
    }
    const t = take(s.shape);
    variables[i].assign(t);
    t.dispose();
  });
  await optimizer.setWeights(state.optimizer.map((s) => ({ name: s.name, tensor: take(s.shape) })));
  return state;
}

// ─── The training loop ───────────────────────────────────────────────────────

export interface PPOSetup {
  /** Trained in place. */
  policy: ValueHeadPolicy;
  /** The frozen starting model of the KL penalty (default: a clone of `policy` before training). */
  reference?: ValueHeadPolicy;
  tokenizer: PolicyTokenizer;
  formatPrompt: PromptFormatter;
  /** Training prompts (BaseAlign: the SafeRLHF training questions). */
  prompts: readonly string[];
  reward: RewardFunction;
  /** Where the per-step log (train_log.jsonl) and checkpoints go; nothing is written without it. */
  outDir?: string;
  /** Continue from outDir/checkpoint if it exists. */
  resume?: boolean;
  quiet?: boolean;
  /** Called after each step with its statistics (notebooks plot live). */
  onStep?: (stats: StepStats) => void;
}

/** Everything logged for one PPO step. */
export interface StepStats {
  step: number;
  /** Mean score of the reward function (before KL penalty and scaling). */
  mean_reward: number;
  /** Mean masked value distance to the target (value rewards only). */
  mean_masked_distance: number | null;
  /** Mean sequence KL(π ‖ π_ref) of the rollouts: Σ_t log π − log π_ref. */
  kl: number;
  kl_coef: number;
  /** Mean per-token entropy of the policy on the rollouts. */
  entropy: number;
  clipfrac: number;
  approx_kl: number;
  pg_loss: number;
  vf_loss: number;
  explained_variance: number;
  mean_response_tokens: number;
  epochs_run: number;
  seconds: number;
  tokens_per_second: number;
  samples: { prompt: string; response: string; reward: number }[];
}

export interface PPOResult {
  stats: StepStats[];
  reference: ValueHeadPolicy;
  klCoef: number;
  seconds: number;
  /** Training prompts that fit query_length, out of all given. */
  promptsUsed: number;
}

export async function trainPPO(setup: PPOSetup, overrides: Partial<PPOConfig> = {}): Promise<PPOResult> {
  const config = resolvePPOConfig(overrides);
  const { policy, tokenizer, reward } = setup;
  const started = Date.now();

  // The reference is frozen before any update (on resume, before the checkpoint is loaded).
  const reference = setup.reference ?? policy.clone();
  const variables = policy.trainableVariables();
  const optimizer = tf.train.adam(config.learning_rate, 0.9, 0.999, config.adam_eps);
  const klController = config.adaptive_kl
    ? new AdaptiveKLController(config.init_kl_coef, config.target_kl, config.horizon)
    : new FixedKLController(config.init_kl_coef);
  const moments = new RunningMoments();

  // Training prompts grouped by token length, so that each batch is rectangular (no padding).
  const maxQuery = Math.min(config.query_length, policy.contextLength - 1);
  const encoded = setup.prompts.map((p) => setup.formatPrompt(p));
  // A bucket smaller than a batch is repeated (several samples per prompt), so no prompt is wasted.
  const buckets = [...groupByLength(encoded).entries()].filter(([len]) => len >= 1 && len <= maxQuery).map(([, idx]) => idx);
  const promptsUsed = buckets.reduce((a, b) => a + b.length, 0);
  if (buckets.length === 0) throw new Error(`no training prompt fits in query_length = ${maxQuery} tokens: raise query_length`);

  const logFile = setup.outDir ? join(setup.outDir, "train_log.jsonl") : undefined;
  const checkpointDir = setup.outDir ? join(setup.outDir, "checkpoint") : undefined;
  let firstStep = 0;
  if (setup.resume && checkpointDir && existsSync(join(checkpointDir, "state.json"))) {
    const state = await loadCheckpoint(checkpointDir, variables, optimizer);
    firstStep = state.step;
    klController.value = state.kl_coef;
    Object.assign(moments, state.moments);
  } else if (logFile) {
    mkdirSync(setup.outDir!, { recursive: true });
    writeFileSync(logFile, "");
  }
  const stats: StepStats[] = [];
  if (logFile && firstStep > 0 && existsSync(logFile)) {
    // Keep the log of the steps the checkpoint covers; later lines belong to the interrupted run.
    const kept = readFileSync(logFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as StepStats)
      .filter((s) => s.step < firstStep);
    stats.push(...kept);
    writeFileSync(logFile, kept.map((s) => JSON.stringify(s) + "\n").join(""));
  }

  const bar = new Progress({ label: "ppo", total: config.steps, quiet: setup.quiet });
  bar.tick(firstStep);
  for (let step = firstStep; step < config.steps; step++) {
    const stepStart = Date.now();
    const random = stepRandom(config.seed, step);

    // ── 2. Rollouts: a batch of training prompts of one token length, responses sampled from π.
    const bucket = pickWeighted(buckets, random);
    const k = config.samples_per_prompt;
    const distinct = config.batch_size / k;
    const pool = Array.from({ length: Math.ceil(distinct / bucket.length) }, () => bucket).flat();
    // k responses per prompt, side by side (k = 1: batch_size prompts).
    const chosen = pickDistinct(pool, distinct, random).flatMap((i) => Array.from({ length: k }, () => i));
    const prompts = chosen.map((i) => setup.prompts[i]);
    const rollout = sampleResponses(
      policy,
      chosen.map((i) => encoded[i]),
      tokenizer.eosId,
      config,
      random,
    );
    const responses = rollout.responseIds.map((ids) => tokenizer.decode(ids).trim());
    const mask = rollout.mask;
    const P = rollout.promptLength;
    const ids = tf.tensor2d(rollout.ids, undefined, "int32");

    // Log-probabilities and values of the sampled tokens under π (old) and π_ref.
    const scored = { promptLength: P, temperature: config.temperature, withEntropy: true };
    const old = logProbsOf(policy, ids, undefined, scored);
    const ref = logProbsOf(reference, ids, undefined, { promptLength: P, temperature: config.temperature });
    const oldLogprobs = old.logProbs.arraySync();
    const oldValues = old.values.arraySync();
    const refLogprobs = ref.logProbs.arraySync();
    const rolloutEntropy = maskedMoments(old.entropy!.arraySync(), mask).mean;
    tf.dispose([old.logProbs, old.values, old.entropy!, ref.logProbs, ref.values]);

    // ── 3. Reward: the score at the last response token, −β·KL at every token.
    const rawScores = await reward(prompts, responses);
    // Leave-one-out baseline over the k responses to the same prompt (k = 1: the scores as they are).
    const scores =
      k === 1
        ? rawScores
        : rawScores.map((x, i) => {
            const g = Math.floor(i / k) * k;
            let others = 0;
            for (let j = g; j < g + k; j++) if (j !== i) others += rawScores[j];
            return x - others / (k - 1);
          });
    moments.update(scores);
    let scaled = scores.slice();
    if (config.reward_scaling === "scale") scaled = scores.map((s) => s / (moments.std + 1e-8));
    if (config.reward_scaling === "normalize") scaled = scores.map((s) => (s - moments.mean) / (moments.std + 1e-8));
    if (config.reward_clip > 0) scaled = scaled.map((s) => Math.max(-config.reward_clip, Math.min(config.reward_clip, s)));
    const beta = klController.value;
    const kls = oldLogprobs.map((row, i) => row.map((lp, t) => (lp - refLogprobs[i][t]) * mask[i][t])); // log π − log π_ref
    const rewards = kls.map((row) => row.map((kl) => -beta * kl));
    mask.forEach((m, i) => {
      const last = m.lastIndexOf(1);
      rewards[i][last] += scaled[i];
    });
    const sequenceKl = kls.map((row) => row.reduce((a, b) => a + b, 0));

    // ── 4. Value bootstrap and GAE advantages (values of the tokens after the end are 0).
    const { advantages: rawAdvantages, returns } = gae(rewards, oldValues, mask, config.gamma, config.lam);
    let advantages = rawAdvantages;
    if (config.whiten_advantages) {
      const m = maskedMoments(rawAdvantages, mask);
      advantages = rawAdvantages.map((row, i) => row.map((a, t) => (mask[i][t] ? (a - m.mean) / (m.std + 1e-8) : 0)));
    }

    // ── 5–6. Epochs of shuffled minibatches; clipped losses; gradient clipping; early stop.
    const per: { pg: number[]; vf: number[]; clip: number[]; akl: number[]; ent: number[] } = {
      pg: [],
      vf: [],
      clip: [],
      akl: [],
      ent: [],
    };
    let epochsRun = 0;
    let stopEarly = false;
    for (let epoch = 0; epoch < config.ppo_epochs && !stopEarly; epoch++) {
      epochsRun++;
      const order = pickDistinct(
        Array.from({ length: config.batch_size }, (_, i) => i),
        config.batch_size,
        random,
      );
      for (let mb = 0; mb < config.num_mini_batches; mb++) {
        const rows = order.slice(mb * config.mini_batch_size, (mb + 1) * config.mini_batch_size);
        const pick = (x: number[][]) => tf.tensor2d(rows.map((r) => x[r]));
        const batch = {
          ids: tf.tensor2d(
            rows.map((r) => rollout.ids[r]),
            undefined,
            "int32",
          ),
          oldLogprobs: pick(oldLogprobs),
          oldValues: pick(oldValues),
          advantages: pick(advantages),
          returns: pick(returns),
          mask: pick(mask),
        };
        let parts: { pgLoss: tf.Scalar; vfLoss: tf.Scalar; clipfrac: tf.Scalar; approxKl: tf.Scalar; entropy: tf.Scalar } | undefined;
        const { value: loss, grads } = tf.variableGrads(() => {
          const now = logProbsOf(policy, batch.ids, undefined, scored);
          const l = ppoLosses({ ...batch, logprobs: now.logProbs, values: now.values }, config.cliprange, config.cliprange_value);
          const entropy = now.entropy!.mul(batch.mask).sum().div(batch.mask.sum()) as tf.Scalar;
          parts = { ...l, entropy };
          Object.values(parts).forEach((t) => tf.keep(t));
          // L = L_pg + c_vf · L_vf − c_ent · H
          return l.pgLoss.add(l.vfLoss.mul(config.vf_coef)).sub(entropy.mul(config.ent_coef)) as tf.Scalar;
        }, variables);
        // Clip the global gradient norm: g ← g · min(1, c / (‖g‖ + 1e-6)) (torch's clip_grad_norm_ formula; c = 0: no clipping).
        const clipped = clipByGlobalNorm(grads, config.max_grad_norm, { epsilon: 1e-6 }).grads;
        optimizer.applyGradients(Object.entries(clipped).map(([name, tensor]) => ({ name, tensor })));
        const p = parts!;
        per.pg.push(p.pgLoss.dataSync()[0]);
        per.vf.push(p.vfLoss.dataSync()[0]);
        per.clip.push(p.clipfrac.dataSync()[0]);
        per.akl.push(p.approxKl.dataSync()[0]);
        per.ent.push(p.entropy.dataSync()[0]);
        tf.dispose([loss, ...Object.values(grads), ...Object.values(clipped), ...Object.values(p), ...Object.values(batch)]);
        if (config.target_kl_early_stop > 0 && per.akl[per.akl.length - 1] > config.target_kl_early_stop) {
          stopEarly = true;
          break;
        }
      }
    }
    ids.dispose();

    // ── 7. Adaptive KL controller: move β so that the sequence KL approaches its target.
    const meanKl = mean(sequenceKl);
    klController.update(meanKl, config.batch_size);

    // Explained variance of the value head on this batch: 1 − Var(R − V) / Var(R).
    const residual = returns.map((row, i) => row.map((r, t) => r - oldValues[i][t]));
    const varReturns = maskedMoments(returns, mask).std ** 2;
    const explainedVariance = varReturns > 0 ? 1 - maskedMoments(residual, mask).std ** 2 / varReturns : NaN;
    const target = (reward as Partial<ValueRewardFunction>).target;
    const vectors = (reward as Partial<ValueRewardFunction>).lastVectors;
    const tokens = mask.reduce((a, m) => a + m.reduce((x, y) => x + y, 0), 0);
    const seconds = (Date.now() - stepStart) / 1000;
    const s: StepStats = {
      step,
      mean_reward: mean(rawScores),
      mean_masked_distance:
        target && vectors && vectors.length === scores.length
          ? mean(vectors.map((v) => maskedDistance(v, target, (reward as ValueRewardFunction).options)))
          : null,
      kl: meanKl,
      kl_coef: beta,
      entropy: rolloutEntropy,
      clipfrac: mean(per.clip),
      approx_kl: mean(per.akl),
      pg_loss: mean(per.pg),
      vf_loss: mean(per.vf),
      explained_variance: explainedVariance,
      mean_response_tokens: tokens / config.batch_size,
      epochs_run: epochsRun,
      seconds,
      tokens_per_second: tokens / Math.max(seconds, 1e-3),
      samples: prompts.slice(0, 2).map((p, i) => ({ prompt: p, response: responses[i], reward: rawScores[i] })),
    };
    stats.push(s);
    if (logFile) appendFileSync(logFile, JSON.stringify(s) + "\n");
    setup.onStep?.(s);
    bar.tick(1, `reward ${s.mean_reward.toFixed(3)} kl ${s.kl.toFixed(2)}`);

    const isLast = step + 1 === config.steps;
    if (checkpointDir && (isLast || (config.save_every > 0 && (step + 1) % config.save_every === 0))) {
      await saveCheckpoint(
        checkpointDir,
        { step: step + 1, kl_coef: klController.value, moments: { count: moments.count, mean: moments.mean, m2: moments.m2 } },
        variables,
        optimizer,
      );
    }
  }
  bar.finish();
  optimizer.dispose();
  return { stats, reference, klCoef: klController.value, seconds: (Date.now() - started) / 1000, promptsUsed };
}

/** One group, chosen with probability proportional to its size. */
function pickWeighted(groups: number[][], random: () => number): number[] {
  const total = groups.reduce((a, g) => a + g.length, 0);
  let u = random() * total;
  for (const g of groups) {
    u -= g.length;
    if (u < 0) return g;
  }
  return groups[groups.length - 1];
}

/** k distinct items in random order (a partial Fisher–Yates shuffle). */
function pickDistinct(items: readonly number[], k: number, random: () => number): number[] {
  const a = items.slice();
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (a.length - i));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, k);
}
