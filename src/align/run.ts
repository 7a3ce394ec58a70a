/**
 * `align(options)`: one call from a starting policy to an aligned one and its
 * held-out report.
 *
 *   method ppo  — BaseAlign: PPO on the SafeRLHF training prompts with the
 *                 value-distance reward of the optimised evaluator
 *   method rlhf — the baseline: the same PPO with the helpfulness reward model
 *   method bon  — best-of-N at inference time: N samples of the starting
 *                 policy per prompt, the one closest to the target kept
 *
 * Every method is judged the same way: answers of the reference (starting)
 * policy and of the aligned one to held-out SafeRLHF test prompts, scored by
 * the optimised evaluator and by a second one the policy never optimised
 * against; KL of the aligned policy to the reference on its own answers.
 * Results go to OUT/summary.json, OUT/examples.jsonl and (PPO) OUT/train_log.jsonl.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rawPath } from "../data/paths.js";
import { euclideanToTarget, l1ToTarget } from "../values/distance.js";
import { resolveTarget, TARGETS } from "../values/targets.js";
import { VALUE_THRESHOLD } from "../values/threshold.js";
import { currentBackend } from "../runtime/backend.js";
import { provenance } from "../runtime/provenance.js";
import { seededRandom, shuffled } from "../runtime/random.js";
import { meanVector, type ValueVector } from "../values/vectors.js";
import { toDialogue } from "../data/readers.js";
import { bestOfNFromCandidates, sampleCandidates } from "./best-of-n.js";
import { checkRewardHacking, compareDistances } from "./guard.js";
import { generate, sequenceKl, type PolicyTokenizer, type PromptFormatter, type ValueHeadPolicy } from "./policy.js";
import { resolvePPOConfig, trainPPO, type PPOConfig, type StepStats } from "./ppo.js";
import {
  helpfulnessReward,
  maskedDistance,
  toTranscript,
  valueReward,
  type MaskOptions,
  type RewardFunction,
  type TextScorer,
  type ValueScorer,
} from "./reward.js";
import { mean } from "../runtime/stats.js";

export type AlignMethod = "ppo" | "rlhf" | "bon";
/**
 * Held-out SafeRLHF test prompts a run is evaluated on unless told otherwise:
 * all 720 of the evaluation half (see alignEvaluationPrompts). One answer per
 * prompt; with 128 prompts the standard error of a relative reduction was
 * about 10 points (per-answer distances spread about as much as their mean),
 * so seeds of one configuration could differ by 20 points by chance alone.
 */
export const DEFAULT_TEST_PROMPTS = 720;
export const ALIGN_METHODS: readonly AlignMethod[] = ["ppo", "rlhf", "bon"];

/** What an alignment run stands on. Loaded once (see components.ts) and shared between runs. */
export interface AlignComponents {
  /** The starting (SFT) policy. Never changed: each run trains a clone. */
  policy: ValueHeadPolicy;
  tokenizer: PolicyTokenizer;
  formatPrompt: PromptFormatter;
  /** The evaluator the reward uses. */
  evaluator: ValueScorer;
  /** A second evaluator the policy never optimises against. */
  heldoutEvaluator: ValueScorer;
  /** Helpfulness reward model (required for rlhf; reported for all methods when present). */
  rewardModel?: TextScorer;
  trainPrompts: string[];
  testPrompts: string[];
  /** Data files the prompts came from (for provenance). */
  dataFiles: string[];
  /** Where each part came from (cache path, or "trained in N s"). */
  sources: Record<string, string>;
  /** Seconds spent loading or training each part. */
  seconds: Record<string, number>;
  /** Reference answers and their scores, reused by runs that share the components. */
  cache?: Map<string, EvaluatedAnswers>;
  /** A hash of the models' files (see componentIdentity); part of a stored run's configuration key. */
  identity?: string;
}

export interface AlignOptions extends MaskOptions {
  method: AlignMethod;
  /** Target name (`basealign-ideal`, `uk`, `netherlands`, `france`, `ideal`) or 10 numbers. */
  target?: string | readonly number[];
  /** Output folder; nothing is written without it. */
  outDir?: string;
  seed?: number;
  /** PPO hyperparameters (ppo and rlhf). */
  ppo?: Partial<PPOConfig>;
  /** Candidates per prompt for best-of-N. */
  n?: number;
  /** Held-out test prompts scored (the first ones of the test file). */
  testPrompts?: number;
  /** Sampling of the held-out answers (default: the PPO config's temperature/top_k/top_p/response_length). */
  evalTemperature?: number;
  resume?: boolean;
  quiet?: boolean;
  /** Examples written to examples.jsonl. */
  examples?: number;
  onStep?: (s: StepStats) => void;
  /** A reward to use instead of the method's (checks, e.g. that a zero reward gives no effect); evaluation is unchanged. */
  reward?: RewardFunction;
  /** Stored in summary.json so that a later call can tell the run is the same (see experiments.ts). */
  configKey?: string;
  /** PPO trains on this share (0 < s ≤ 1) of the training prompts, a seeded subset (see trainingPromptSubset); default all of them. */
  trainPromptShare?: number;
}

/** Answers to the held-out prompts with their scores. */
export interface EvaluatedAnswers {
  answers: string[];
  /** Value vectors by the optimised evaluator / the held-out one. */
  vectors: number[][];
  heldoutVectors: number[][];
  distances: number[];
  heldoutDistances: number[];
  rewardModelScores: number[] | null;
}

export interface AlignSummary {
  method: AlignMethod;
  target_name: string;
  target: ValueVector;
  test_prompts: number;
  /** Training prompts PPO drew its rollouts from (all, or the seeded share asked for); null for best-of-N. */
  train_prompts: number | null;
  /** Mean masked distance to the target over held-out test prompts, by the optimised evaluator. */
  distance_before: number;
  distance_after: number;
  relative_reduction: number;
  /** The same by the second evaluator, which the policy never optimised against. */
  heldout_distance_before: number;
  heldout_distance_after: number;
  heldout_relative_reduction: number;
  reward_hacking_flag: boolean;
  reward_hacking_message: string;
  /** Mean sequence KL(aligned ‖ reference) on the aligned policy's held-out answers (best-of-N: the analytic bound log N − (N−1)/N). */
  kl_mean: number;
  /** Mean rollout KL over the PPO steps. */
  train_kl_mean: number | null;
  steps: number;
  seconds: number;
  /** Wall-clock seconds of the whole process up to writing the summary (for `fulcra align`: the whole command, training every part included). */
  wall_seconds: number;
  /** CPU seconds (user + system) of the whole process up to then; on a shared machine this is the steadier figure. */
  cpu_seconds: number;
  backend: string | null;
  seed: number;
  /** Mean value vectors (optimised evaluator, then held-out one). */
  values_before: ValueVector;
  values_after: ValueVector;
  heldout_values_before: ValueVector;
  heldout_values_after: ValueVector;
  /** Mean Euclidean / L1 distance to `ideal` over its non-zero dimensions (the paper's e- and h-distance), optimised evaluator. */
  e_distance_before: number;
  e_distance_after: number;
  h_distance_before: number;
  h_distance_after: number;
  /** Mean helpfulness reward-model score of the answers (null without a reward model). */
  reward_model_before: number | null;
  reward_model_after: number | null;
  /** Share of answers that are empty (a cheap way to look neutral under the masked distance). */
  empty_answers_before: number;
  empty_answers_after: number;
  /** Seconds per phase: loading/training the parts, alignment, held-out evaluation. */
  time_split: Record<string, number>;
  sources: Record<string, string>;
  ppo_config: (PPOConfig & { num_mini_batches: number }) | null;
  n: number | null;
  threshold: number;
  config_key: string | null;
}

export interface AlignResult {
  summary: AlignSummary;
  /** The aligned policy (best-of-N: the starting policy, unchanged). */
  policy: ValueHeadPolicy;
  trainLog: StepStats[];
  before: EvaluatedAnswers;
  after: EvaluatedAnswers;
  prompts: string[];
}

/** Scores answers to prompts with both evaluators (and the reward model if present). */
export async function evaluateAnswers(
  components: AlignComponents,
  prompts: readonly string[],
  answers: readonly string[],
  target: readonly number[],
  mask: MaskOptions,
): Promise<EvaluatedAnswers> {
  const dialogues = prompts.map((p, i) => toDialogue(p, answers[i]));
  const vectors = await components.evaluator.score(dialogues);
  const heldoutVectors = await components.heldoutEvaluator.score(dialogues);
  const rewardModelScores = components.rewardModel
    ? [...(await components.rewardModel.score(prompts.map((p, i) => toTranscript(p, answers[i]))))]
    : null;
  return {
    answers: [...answers],
    vectors,
    heldoutVectors,
    distances: vectors.map((v) => maskedDistance(v, target, mask)),
    heldoutDistances: heldoutVectors.map((v) => maskedDistance(v, target, mask)),
    rewardModelScores,
  };
}

export async function align(components: AlignComponents, options: AlignOptions): Promise<AlignResult> {
  const started = Date.now();
  if (!ALIGN_METHODS.includes(options.method)) throw new Error(`unknown method "${options.method}": use ${ALIGN_METHODS.join(", ")}`);
  const seed = options.seed ?? 1;
  const targetSpec = options.target ?? "basealign-ideal";
  const target = resolveTarget(targetSpec as string | number[]);
  const mask: MaskOptions = { threshold: options.threshold, dimensions: options.dimensions };
  const ppoConfig = options.method === "bon" ? null : resolvePPOConfig({ seed, ...options.ppo });
  const sampling = {
    temperature: options.evalTemperature ?? ppoConfig?.temperature ?? 1,
    top_k: ppoConfig?.top_k ?? 0,
    top_p: ppoConfig?.top_p ?? 1,
    response_length: ppoConfig?.response_length ?? options.ppo?.response_length ?? resolvePPOConfig().response_length,
  };
  if (options.testPrompts !== undefined && options.testPrompts > components.testPrompts.length) {
    throw new Error(
      `${options.testPrompts} test prompts asked for, but only ${components.testPrompts.length} held-out prompts are available`,
    );
  }
  const prompts = components.testPrompts.slice(0, options.testPrompts ?? DEFAULT_TEST_PROMPTS);
  if (prompts.length === 0) throw new Error("no held-out test prompts to evaluate on");
  if (options.outDir) mkdirSync(options.outDir, { recursive: true });

  // Reference answers: the starting policy, sampled with a fixed seed (shared between runs).
  const evalSeed = seed + 1000;
  const cacheKey = JSON.stringify([evalSeed, prompts.length, sampling, target, mask]);
  const evalStart = Date.now();
  let before = components.cache?.get(cacheKey);
  if (!before) {
    const ref = generate(components.policy, components.tokenizer, components.formatPrompt, prompts, { ...sampling, seed: evalSeed });
    before = await evaluateAnswers(components, prompts, ref.answers, target, mask);
    components.cache?.set(cacheKey, before);
  }
  let evalSeconds = (Date.now() - evalStart) / 1000;

  const trainStart = Date.now();
  let policy = components.policy;
  let trainLog: StepStats[] = [];
  let after: EvaluatedAnswers;
  let klMean: number;
  let alignSeconds = 0;
  let trainPrompts: readonly string[] | null = null;
  const n = options.n ?? 8;
  if (options.method === "bon") {
    // Best-of-N: N seeded samples per prompt from the starting policy, keep the closest by the optimised evaluator.
    const candidates = sampleCandidates(components, prompts, { ...sampling, n, seed: evalSeed + 1 });
    const chosen = await bestOfNFromCandidates(prompts, candidates, components.evaluator, target, mask);
    alignSeconds = (Date.now() - trainStart) / 1000;
    const evalAfter = Date.now();
    after = await evaluateAnswers(components, prompts, chosen.answers, target, mask);
    evalSeconds += (Date.now() - evalAfter) / 1000;
    // KL of the best-of-N distribution to its base policy is at most log N − (N − 1)/N (Stiennon et al. 2020).
    klMean = Math.log(n) - (n - 1) / n;
  } else {
    let reward: RewardFunction;
    if (options.reward) reward = options.reward;
    else if (options.method === "ppo") reward = valueReward(components.evaluator, { target: target, ...mask });
    else {
      if (!components.rewardModel) throw new Error("method rlhf needs a helpfulness reward model, and none was loaded");
      reward = helpfulnessReward(components.rewardModel);
    }
    policy = components.policy.clone();
    trainPrompts = trainingPromptSubset(components.trainPrompts, options.trainPromptShare ?? 1, seed);
    const result = await trainPPO(
      {
        policy,
        reference: components.policy,
        tokenizer: components.tokenizer,
        formatPrompt: components.formatPrompt,
        prompts: trainPrompts,
        reward,
        outDir: options.outDir,
        resume: options.resume,
        quiet: options.quiet,
        onStep: options.onStep,
      },
      { ...options.ppo, seed },
    );
    trainLog = result.stats;
    alignSeconds = (Date.now() - trainStart) / 1000;
    const evalAfter = Date.now();
    const g = generate(policy, components.tokenizer, components.formatPrompt, prompts, { ...sampling, seed: evalSeed });
    after = await evaluateAnswers(components, prompts, g.answers, target, mask);
    klMean = mean(
      sequenceKl(
        policy,
        components.policy,
        g.rollouts.map((r) => r.rollout),
        sampling.temperature,
      ),
    );
    evalSeconds += (Date.now() - evalAfter) / 1000;
  }

  const optimised = compareDistances(mean(before.distances), mean(after.distances));
  const heldout = compareDistances(mean(before.heldoutDistances), mean(after.heldoutDistances));
  const check = checkRewardHacking(optimised, heldout);
  const ideal = TARGETS.ideal;
  const backend = currentBackend();
  const summary: AlignSummary = {
    method: options.method,
    target_name: typeof targetSpec === "string" ? targetSpec : "custom",
    target,
    test_prompts: prompts.length,
    train_prompts: trainPrompts ? trainPrompts.length : null,
    distance_before: optimised.before,
    distance_after: optimised.after,
    relative_reduction: optimised.relativeReduction,
    heldout_distance_before: heldout.before,
    heldout_distance_after: heldout.after,
    heldout_relative_reduction: heldout.relativeReduction,
    reward_hacking_flag: check.flagged,
    reward_hacking_message: check.message,
    kl_mean: klMean,
    train_kl_mean: trainLog.length ? mean(trainLog.map((s) => s.kl)) : null,
    steps: trainLog.length,
    seconds: 0,
    wall_seconds: 0,
    cpu_seconds: 0,
    backend: backend ? backend.name : null,
    seed,
    values_before: meanVector(before.vectors),
    values_after: meanVector(after.vectors),
    heldout_values_before: meanVector(before.heldoutVectors),
    heldout_values_after: meanVector(after.heldoutVectors),
    e_distance_before: mean(before.vectors.map((v) => euclideanToTarget(v, ideal))),
    e_distance_after: mean(after.vectors.map((v) => euclideanToTarget(v, ideal))),
    h_distance_before: mean(before.vectors.map((v) => l1ToTarget(v, ideal))),
    h_distance_after: mean(after.vectors.map((v) => l1ToTarget(v, ideal))),
    reward_model_before: before.rewardModelScores ? mean(before.rewardModelScores) : null,
    reward_model_after: after.rewardModelScores ? mean(after.rewardModelScores) : null,
    empty_answers_before: mean(before.answers.map((a) => (a.trim() === "" ? 1 : 0))),
    empty_answers_after: mean(after.answers.map((a) => (a.trim() === "" ? 1 : 0))),
    time_split: { ...components.seconds, align: alignSeconds, evaluate: evalSeconds },
    sources: components.sources,
    ppo_config: ppoConfig,
    n: options.method === "bon" ? n : null,
    threshold: options.threshold ?? VALUE_THRESHOLD,
    config_key: options.configKey ?? null,
  };
  summary.seconds = (Date.now() - started) / 1000;
  summary.wall_seconds = process.uptime();
  const cpu = process.cpuUsage();
  summary.cpu_seconds = (cpu.user + cpu.system) / 1e6;
  if (options.outDir) writeOutputs(options.outDir, summary, prompts, before, after, options.examples ?? 20, components.dataFiles);
  return { summary, policy, trainLog, before, after, prompts };
}

function writeOutputs(
  dir: string,
  summary: AlignSummary,
  prompts: string[],
  before: EvaluatedAnswers,
  after: EvaluatedAnswers,
  examples: number,
  dataFiles: string[],
): void {
  const prov = provenance({ dataFiles, seed: summary.seed, extra: { method: summary.method, target: summary.target_name } });
  writeFileSync(join(dir, "summary.json"), JSON.stringify({ ...summary, provenance: prov }, null, 2) + "\n");
  const rows = prompts.slice(0, examples).map((prompt, i) => ({
    prompt,
    reference: before.answers[i],
    aligned: after.answers[i],
    distance_reference: before.distances[i],
    distance_aligned: after.distances[i],
    heldout_distance_reference: before.heldoutDistances[i],
    heldout_distance_aligned: after.heldoutDistances[i],
  }));
  writeFileSync(join(dir, "examples.jsonl"), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  const round = (v: number[]) => v.map((x) => Math.round(x * 1e6) / 1e6);
  const answers = prompts.map((prompt, i) => ({
    prompt,
    reference: before.answers[i],
    aligned: after.answers[i],
    values_reference: round(before.vectors[i]),
    values_aligned: round(after.vectors[i]),
    heldout_values_reference: round(before.heldoutVectors[i]),
    heldout_values_aligned: round(after.heldoutVectors[i]),
    reward_model_reference: before.rewardModelScores?.[i] ?? null,
    reward_model_aligned: after.rewardModelScores?.[i] ?? null,
  }));
  writeFileSync(join(dir, "answers.jsonl"), answers.map((r) => JSON.stringify(r)).join("\n") + "\n");
}

/**
 * A seeded share of the training prompts: one shuffle by `seed`, then the
 * first ⌈share · n⌉, so that a smaller share is always part of a larger one
 * (the data-size experiment compares nested subsets). Share 1 returns the
 * prompts unchanged, in their order.
 */
export function trainingPromptSubset(prompts: readonly string[], share: number, seed: number): readonly string[] {
  if (!(share > 0 && share <= 1)) throw new Error(`trainPromptShare should be a number in (0, 1], got ${share}`);
  if (share === 1) return prompts;
  return shuffled(prompts, seededRandom(seed)).slice(0, Math.max(1, Math.ceil(share * prompts.length)));
}

/** The data files an alignment run reads its prompts from. */
export function alignDataFiles(): string[] {
  return [rawPath("saferlhf_train_questions"), rawPath("saferlhf_test_questions")];
}
