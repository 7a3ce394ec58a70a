/**
 * What the aligner needs from a language model, and the fixed-width
 * rollouts PPO trains on. The sampling itself is `src/lm/generate.ts`.
 *
 * Any causal LM with a value head fits: the kit's own decoder (src/lm), a
 * GPT-2 hub checkpoint, a toy model in the tests. The aligner calls
 * `forward` (next-token logits and value estimates at every position), reads
 * the trainable variables, and clones the model once to freeze the reference.
 *
 * A policy takes no attention mask, so its batches are built to need none:
 * prompts are grouped by token length, every batch is rectangular, and the
 * tokens after an answer's end (EOS repeated) are masked out of every loss.
 */
import * as tf from "@tensorflow/tfjs";
import { drawToken, groupByLength, logProbsOf, sampleBatch, type SamplingModel } from "../lm/generate.js";
import { seededRandom } from "../runtime/random.js";

export interface ValueHeadPolicy extends SamplingModel {
  /** Next-token logits [B, T, V] and value estimates [B, T] for every position of `ids` [B, T]. */
  forward(ids: tf.Tensor2D): { logits: tf.Tensor3D; values: tf.Tensor2D };
  /** The weights PPO trains (language model and value head). */
  trainableVariables(): tf.Variable[];
  /** An independent copy with the same weights (the frozen reference). */
  clone(): ValueHeadPolicy;
  /** Longest sequence the model accepts (prompt + response). */
  contextLength: number;
  dispose?(): void;
}

export interface PolicyTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** Token that ends a response. */
  eosId: number;
  vocabSize: number;
}

/** Turns a prompt into the token ids the policy continues (e.g. "Human: … Bob:"). */
export type PromptFormatter = (prompt: string) => number[];

/** PPO's sampling settings (names of its config table). */
export interface PolicySampling {
  /** Divides the logits before sampling (1 = the model's own distribution). */
  temperature: number;
  /** Keep only the k likeliest tokens (0 = off). */
  top_k: number;
  /** Keep the smallest set of tokens whose probability reaches p (1 = off). */
  top_p: number;
  /** Response tokens to generate at most. */
  response_length: number;
}

/** The draw of `src/lm/generate.ts`: one token id from probabilities after top-k / top-p truncation. */
export const sampleToken = drawToken;

/** A batch of rollouts: every row is prompt + response, all prompts in a batch equally long. */
export interface PolicyRollout {
  /** [B, P + R] token ids: prompt then response, EOS repeated after the end, R = the response length asked for. */
  ids: number[][];
  promptLength: number;
  /** Response tokens that count, [B, R]: 1 up to and including the first EOS, then 0. */
  mask: number[][];
  /** The response token ids up to (not including) EOS. */
  responseIds: number[][];
}

/**
 * Samples responses for prompts of equal token length (`sampleBatch`, all
 * rows drawing from `random`), as PPO's fixed-width batch.
 */
export function sampleResponses(
  policy: ValueHeadPolicy,
  promptIds: number[][],
  eosId: number,
  options: PolicySampling,
  random: () => number,
): PolicyRollout {
  const promptLength = promptIds[0]?.length ?? 0;
  if (promptIds.some((p) => p.length !== promptLength))
    throw new Error("sampleResponses needs prompts of equal token length (group them first)");
  if (promptLength === 0) throw new Error("sampleResponses needs at least one prompt token (a start token)");
  const responseLength = Math.min(options.response_length, policy.contextLength - promptLength);
  if (responseLength <= 0)
    throw new Error(`prompt of ${promptLength} tokens leaves no room in the model's context of ${policy.contextLength}`);
  const r = sampleBatch(
    policy,
    promptIds,
    {
      maxNewTokens: responseLength,
      temperature: options.temperature,
      topK: options.top_k,
      topP: options.top_p,
      useCache: true,
      stop: new Set([eosId]),
      pad: eosId,
      fullWidth: true,
    },
    promptIds.map(() => random),
  );
  return {
    ids: r.sequences,
    promptLength,
    mask: r.responseIds.map((ids) => Array.from({ length: responseLength }, (_, t) => (t < ids.length ? 1 : 0))),
    responseIds: r.responseIds.map((ids, i) => (r.finished[i] ? ids.slice(0, -1) : ids)),
  };
}

export interface GenerateOptions extends PolicySampling {
  seed: number;
  /** Rows per forward pass. */
  batch_size?: number;
}

/**
 * Answers to any list of prompts (grouped by length, in chunks of
 * `batch_size`, all drawn from one generator seeded by `seed`; returned in
 * input order), with the rollouts for KL measurement.
 */
export function generate(
  policy: ValueHeadPolicy,
  tokenizer: PolicyTokenizer,
  formatPrompt: PromptFormatter,
  prompts: readonly string[],
  options: GenerateOptions,
): { answers: string[]; rollouts: { rollout: PolicyRollout; indices: number[] }[] } {
  const random = seededRandom(options.seed);
  const encoded = prompts.map((p) => formatPrompt(p));
  const answers = new Array<string>(prompts.length).fill("");
  const rollouts: { rollout: PolicyRollout; indices: number[] }[] = [];
  const batch = options.batch_size ?? 32;
  for (const [, indices] of groupByLength(encoded)) {
    for (let s = 0; s < indices.length; s += batch) {
      const chunk = indices.slice(s, s + batch);
      const rollout = sampleResponses(
        policy,
        chunk.map((i) => encoded[i]),
        tokenizer.eosId,
        options,
        random,
      );
      chunk.forEach((i, k) => (answers[i] = tokenizer.decode(rollout.responseIds[k]).trim()));
      rollouts.push({ rollout, indices: chunk });
    }
  }
  return { answers, rollouts };
}

/**
 * Per-sequence KL(policy ‖ reference) on given rollouts, estimated as
 * Σ_t (log π(a_t) − log π_ref(a_t)) over response tokens, like the PPO penalty.
 */
export function sequenceKl(
  policy: ValueHeadPolicy,
  reference: ValueHeadPolicy,
  rollouts: readonly PolicyRollout[],
  temperature: number,
): number[] {
  const out: number[] = [];
  for (const r of rollouts) {
    const ids = tf.tensor2d(r.ids, undefined, "int32");
    const options = { promptLength: r.promptLength, temperature };
    const a = logProbsOf(policy, ids, undefined, options);
    const b = logProbsOf(reference, ids, undefined, options);
    const la = a.logProbs.arraySync();
    const lb = b.logProbs.arraySync();
    tf.dispose([ids, a.logProbs, a.values, b.logProbs, b.values]);
    la.forEach((row, i) => out.push(row.reduce((s, x, t) => s + (x - lb[i][t]) * r.mask[i][t], 0)));
  }
  return out;
}
