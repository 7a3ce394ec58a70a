/**
 * BaseAlign's reward and the other rewards the aligner can optimise.
 *
 * The paper rewards a response by how close its value vector v (from the
 * value evaluator) is to a target t:
 *
 *     r = −Σ_d |v_d − t_d| · [|v_d| > τ] · |t_d|          (τ = 0.3)
 *
 * Dimensions the evaluator sees no connection to (|v_d| ≤ τ) and dimensions
 * the target ignores (t_d = 0) cost nothing. Every reward the PPO loop can
 * use is a `RewardFunction`: prompts and responses in, one number per
 * response out, so that BaseAlign, the RLHF baseline and the test toy share
 * one loop.
 */
import { toDialogue } from "../data/readers.js";
import { maskedValueDistance } from "../values/distance.js";
import { resolveTarget } from "../values/targets.js";
import { VALUE_THRESHOLD } from "../values/threshold.js";
import { BASIC_VALUES } from "../values/taxonomy.js";
import type { ValueVector } from "../values/vectors.js";

/** One scalar per (prompt, response) pair; higher is better. */
export type RewardFunction = (prompts: string[], responses: string[]) => Promise<number[]>;

/** Anything that scores FULCRA-style dialogues ("Human: …\nBob: …") with 10 values in [−1, 1]. */
export interface ValueScorer {
  score(dialogues: string[]): Promise<number[][]> | number[][];
}

/**
 * Members of the reward's evaluator by default. One n-gram evaluator has
 * quirks of its own (its seed's), which a policy optimised against it
 * learns to use; the mean of three seeds leaves fewer of them, so more of
 * the gain carries over to the held-out evaluator. The original's reward
 * model is an ensemble too (see ensembleMemberConfigs).
 */
export const REWARD_ENSEMBLE_SIZE = 3;

/**
 * An ensemble of value scorers seen as one: each dialogue's vector is the
 * mean of the members' vectors. A policy optimised against the mean cannot
 * profit from a quirk of one member alone.
 */
export function meanScorer(members: readonly ValueScorer[]): ValueScorer {
  if (members.length === 0) throw new Error("an evaluator ensemble needs at least one member");
  if (members.length === 1) return members[0];
  return {
    async score(dialogues: string[]) {
      const all = await Promise.all(members.map((m) => m.score(dialogues)));
      return dialogues.map((_, i) => all[0][i].map((_, d) => all.reduce((sum, vectors) => sum + vectors[i][d], 0) / all.length));
    },
  };
}

/** Anything that scores texts with one helpfulness number (a Bradley–Terry reward model). */
export interface TextScorer {
  score(texts: string[]): Promise<number[]> | number[];
}

export interface MaskOptions {
  /** |v_d| must exceed this for dimension d to count (the paper's 0.3). */
  threshold?: number;
  /**
   * Which dimensions may count at all (10 booleans, or value names); default
   * all. Lets a user align on a subset of values without changing the target.
   */
  dimensions?: readonly boolean[] | readonly string[];
}

/** The 10 on/off switches of a `dimensions` option, with a clear error for a bad one. */
export function dimensionMask(dimensions?: MaskOptions["dimensions"]): boolean[] {
  if (dimensions === undefined) return BASIC_VALUES.map(() => true);
  const list = dimensions as readonly (boolean | string)[];
  if (list.every((d) => typeof d === "boolean")) {
    if (list.length !== BASIC_VALUES.length) {
      throw new Error(`a dimension mask needs ${BASIC_VALUES.length} booleans (paper order), got ${list.length}`);
    }
    return [...(list as boolean[])];
  }
  const names = (dimensions as readonly string[]).map((d) => d.trim().toLowerCase());
  for (const n of names) {
    if (!(BASIC_VALUES as readonly string[]).includes(n)) {
      throw new Error(`unknown value "${n}" in the dimension mask; use names from: ${BASIC_VALUES.join(", ")}`);
    }
  }
  return BASIC_VALUES.map((v) => names.includes(v));
}

/**
 * Masked distance of one value vector to a target: Σ_d |v_d − t_d| · [|v_d| > τ] · |t_d|
 * over the dimensions the mask keeps. Reuses the metrics module's definition, so that
 * the reward and the reported metric can never drift apart.
 */
export function maskedDistance(v: readonly number[], target: readonly number[], options: MaskOptions = {}): number {
  const keep = dimensionMask(options.dimensions);
  // A dimension switched off behaves as if the target ignored it (t_d = 0).
  const t = target.map((x, i) => (keep[i] ? x : 0));
  return maskedValueDistance(v, t, options.threshold ?? VALUE_THRESHOLD);
}

/** The BaseAlign reward of one value vector: the negative masked distance. */
export function baseAlignReward(v: readonly number[], target: readonly number[], options: MaskOptions = {}): number {
  return -maskedDistance(v, target, options);
}

export interface ValueRewardOptions extends MaskOptions {
  /** A target name from the metrics module (`basealign-ideal`, `uk`, …) or 10 numbers. */
  target: string | readonly number[];
}

/** A value reward and the last value vectors it saw (the PPO loop logs their masked distance). */
export interface ValueRewardFunction extends RewardFunction {
  target: ValueVector;
  options: MaskOptions;
  /** The value vectors of the last call, in order. */
  lastVectors: number[][];
}

/** BaseAlign's reward, from a value evaluator. */
export function valueReward(evaluator: ValueScorer, options: ValueRewardOptions): ValueRewardFunction {
  const target = resolveTarget(options.target as string | number[]);
  const mask: MaskOptions = { threshold: options.threshold, dimensions: options.dimensions };
  dimensionMask(mask.dimensions); // fail now, not in the middle of training
  const fn = (async (prompts: string[], responses: string[]) => {
    checkPairs(prompts, responses);
    const vectors = await evaluator.score(prompts.map((p, i) => toDialogue(p, responses[i])));
    if (vectors.length !== responses.length) {
      throw new Error(`the value evaluator returned ${vectors.length} vectors for ${responses.length} responses`);
    }
    fn.lastVectors = vectors;
    return vectors.map((v) => baseAlignReward(v, target, mask));
  }) as ValueRewardFunction;
  fn.target = target;
  fn.options = mask;
  fn.lastVectors = [];
  return fn;
}

/**
 * The transcript format of the preference pairs ("\n\nHuman: …\n\nAssistant: …"),
 * which is what a reward model trained on them reads.
 */
export function toTranscript(prompt: string, response: string): string {
  return `\n\nHuman: ${prompt}\n\nAssistant: ${response}`;
}

/** The RLHF baseline's reward: a helpfulness reward model's score of the transcript. */
export function helpfulnessReward(rewardModel: TextScorer): RewardFunction {
  return async (prompts, responses) => {
    checkPairs(prompts, responses);
    const scores = await rewardModel.score(prompts.map((p, i) => toTranscript(p, responses[i])));
    if (scores.length !== responses.length) {
      throw new Error(`the reward model returned ${scores.length} scores for ${responses.length} responses`);
    }
    return [...scores];
  };
}

/**
 * A scripted reward for tests and demos: the share of the response's words
 * that are `word` (so 1 for a response made only of it, 0 without it).
 */
export function keywordReward(word: string): RewardFunction {
  const w = word.toLowerCase();
  return async (prompts, responses) => {
    checkPairs(prompts, responses);
    return responses.map((r) => {
      const words = r
        .toLowerCase()
        .split(/\s+/)
        .filter((x) => x.length > 0);
      return words.length === 0 ? 0 : words.filter((x) => x === w).length / words.length;
    });
  };
}

function checkPairs(prompts: string[], responses: string[]): void {
  if (prompts.length !== responses.length) {
    throw new Error(`a reward needs one prompt per response: got ${prompts.length} prompts and ${responses.length} responses`);
  }
}
