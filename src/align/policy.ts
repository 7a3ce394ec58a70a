/**
 * What the aligner needs from a language model, and seeded generation on top of it.
 *
 * Any causal LM with a value head fits: the kit's own decoder (src/lm), a
 * toy model in the tests, or a bigger model on a GPU. The aligner only calls
 * `forward` (next-token logits and value estimates at every position),
 * reads the trainable variables, and clones the model once to freeze the
 * reference.
 *
 * Generation avoids padding entirely: prompts are grouped by token length,
 * so every batch is rectangular and a causal model needs no attention mask
 * (tokens after a response's end cannot influence earlier positions; they
 * are masked out of every loss).
 */
import * as tf from "@tensorflow/tfjs";
import { seededRandom } from "../runtime/random.js";

export interface ValueHeadPolicy {
  /** Next-token logits [B, T, V] and value estimates [B, T] for every position of `ids` [B, T]. */
  forward(ids: tf.Tensor2D): { logits: tf.Tensor3D; values: tf.Tensor2D };
  /** The weights PPO trains (language model and value head). */
  trainableVariables(): tf.Variable[];
  /** An independent copy with the same weights (the frozen reference). */
  clone(): ValueHeadPolicy;
  /** Longest sequence the model accepts (prompt + response). */
  contextLength: number;
  /**
   * Optional fast path for generation: reads `ids` [B, S] after the tokens
   * held in `cache` (none: start fresh) and returns their logits and the
   * extended cache, so each new token costs one position instead of the
   * whole sequence. Must agree with `forward` up to rounding.
   */
  step?(ids: tf.Tensor2D, keyMask: tf.Tensor2D, cache?: unknown): { logits: tf.Tensor3D; values: tf.Tensor2D; cache: unknown };
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

export interface SamplingOptions {
  /** Divides the logits before sampling (1 = the model's own distribution). */
  temperature: number;
  /** Keep only the k likeliest tokens (0 = off). */
  top_k: number;
  /** Keep the smallest set of tokens whose probability reaches p (1 = off). */
  top_p: number;
  /** Response tokens to generate at most. */
  response_length: number;
}

/** Draws one token id from probabilities `p` (already normalised) after top-k / top-p truncation. */
export function sampleToken(p: Float32Array | number[], random: () => number, topK: number, topP: number): number {
  const v = p.length;
  let ids = Array.from({ length: v }, (_, i) => i);
  if ((topK > 0 && topK < v) || topP < 1) {
    // Sort by probability, ties by id, so that the truncation is deterministic.
    ids.sort((a, b) => p[b] - p[a] || a - b);
    if (topK > 0 && topK < v) ids = ids.slice(0, topK);
    if (topP < 1) {
      let mass = 0;
      let keep = 0;
      while (keep < ids.length && mass < topP) mass += p[ids[keep++]];
      ids = ids.slice(0, Math.max(1, keep));
    }
  }
  let total = 0;
  for (const i of ids) total += p[i];
  let u = random() * total;
  for (const i of ids) {
    u -= p[i];
    if (u < 0) return i;
  }
  return ids[ids.length - 1];
}

/** A batch of rollouts: every row is prompt + response, all prompts in a batch equally long. */
export interface Rollout {
  /** [B, P + R] token ids: prompt then response (padded with EOS after the end). */
  ids: number[][];
  promptLength: number;
  /** Response tokens that count, [B, R]: 1 up to and including the first EOS, then 0. */
  mask: number[][];
  /** The response token ids up to (not including) EOS. */
  responseIds: number[][];
}

/**
 * Samples responses for prompts of equal token length, one token at a time.
 * `random` drives every draw, so a seed fixes the result for a backend.
 */
export function sampleResponses(
  policy: ValueHeadPolicy,
  promptIds: number[][],
  eosId: number,
  options: SamplingOptions,
  random: () => number,
): Rollout {
  const b = promptIds.length;
  const promptLength = promptIds[0]?.length ?? 0;
  if (promptIds.some((p) => p.length !== promptLength))
    throw new Error("sampleResponses needs prompts of equal token length (group them first)");
  if (promptLength === 0) throw new Error("sampleResponses needs at least one prompt token (a start token)");
  const responseLength = Math.min(options.response_length, policy.contextLength - promptLength);
  if (responseLength <= 0)
    throw new Error(`prompt of ${promptLength} tokens leaves no room in the model's context of ${policy.contextLength}`);
  const seqs = promptIds.map((p) => [...p]);
  const done = new Array<boolean>(b).fill(false);
  const mask = Array.from({ length: b }, () => new Array<number>(responseLength).fill(0));
  let cache: unknown;
  const nextProbs = (t: number): tf.Tensor2D => {
    if (!policy.step) {
      return tf.tidy(() => {
        const ids = tf.tensor2d(seqs, [b, promptLength + t], "int32");
        const { logits } = policy.forward(ids);
        const last = logits.slice([0, promptLength + t - 1, 0], [b, 1, -1]).squeeze([1]) as tf.Tensor2D;
        return tf.softmax(last.div(options.temperature)) as tf.Tensor2D;
      });
    }
    // With a cache: the whole prompt first, then one new token per call.
    const fresh = t === 0 ? seqs.map((s) => s.slice()) : seqs.map((s) => [s[s.length - 1]]);
    const ids = tf.tensor2d(fresh, undefined, "int32");
    const keyMask = tf.ones([b, promptLength + t]) as tf.Tensor2D;
    const r = policy.step(ids, keyMask, cache);
    tf.dispose([ids, keyMask, r.values]);
    if (cache) tf.dispose(cache as tf.TensorContainer);
    cache = r.cache;
    const probs = tf.tidy(() => {
      const last = r.logits.slice([0, r.logits.shape[1] - 1, 0], [b, 1, -1]).squeeze([1]) as tf.Tensor2D;
      return tf.softmax(last.div(options.temperature)) as tf.Tensor2D;
    });
    r.logits.dispose();
    return probs;
  };
  for (let t = 0; t < responseLength; t++) {
    const probs = nextProbs(t);
    const p = probs.dataSync() as Float32Array;
    const vocab = probs.shape[1];
    probs.dispose();
    for (let i = 0; i < b; i++) {
      if (done[i]) {
        seqs[i].push(eosId);
        continue;
      }
      const token = sampleToken(p.subarray(i * vocab, (i + 1) * vocab), random, options.top_k, options.top_p);
      seqs[i].push(token);
      mask[i][t] = 1;
      if (token === eosId) done[i] = true;
    }
    if (done.every(Boolean)) {
      // Every response has ended: pad the rest with EOS (masked) without running the model.
      for (let u = t + 1; u < responseLength; u++) for (const s of seqs) s.push(eosId);
      break;
    }
  }
  if (cache) tf.dispose(cache as tf.TensorContainer);
  const responseIds = seqs.map((s) => {
    const r = s.slice(promptLength);
    const end = r.indexOf(eosId);
    return end < 0 ? r : r.slice(0, end);
  });
  return { ids: seqs, promptLength, mask, responseIds };
}

/**
 * Per-token log-probabilities of the response tokens, the value estimates
 * before each of them, and the entropy of each next-token distribution,
 * all [B, R]. Position t of the response is predicted from position P+t−1.
 */
export function responseLogProbs(
  policy: ValueHeadPolicy,
  ids: tf.Tensor2D,
  promptLength: number,
  temperature: number,
): { logprobs: tf.Tensor2D; values: tf.Tensor2D; entropy: tf.Tensor2D } {
  return tf.tidy(() => {
    const [b, total] = ids.shape;
    const r = total - promptLength;
    const { logits, values } = policy.forward(ids);
    const predicting = logits.slice([0, promptLength - 1, 0], [b, r, -1]).div(temperature) as tf.Tensor3D;
    const logp = tf.logSoftmax(predicting) as tf.Tensor3D;
    const targets = ids.slice([0, promptLength], [b, r]);
    const oneHot = tf.oneHot(targets.reshape([-1]), logp.shape[2]).reshape(logp.shape);
    const logprobs = logp.mul(oneHot).sum(2) as tf.Tensor2D;
    const entropy = logp.exp().mul(logp).sum(2).neg() as tf.Tensor2D;
    const v = values.slice([0, promptLength - 1], [b, r]) as tf.Tensor2D;
    return { logprobs, values: v, entropy };
  });
}

/** Groups item indices by the length of their token ids (ascending length, then index). */
export function groupByLength(tokenIds: readonly (readonly number[])[]): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  tokenIds.forEach((ids, i) => {
    const g = groups.get(ids.length);
    if (g) g.push(i);
    else groups.set(ids.length, [i]);
  });
  return new Map([...groups.entries()].sort((a, b) => a[0] - b[0]));
}

export interface GenerateOptions extends SamplingOptions {
  seed: number;
  /** Rows per forward pass. */
  batch_size?: number;
}

/**
 * Answers to any list of prompts (grouped by length internally, returned in
 * input order), with the token ids and mask of each answer for KL measurement.
 */
export function generate(
  policy: ValueHeadPolicy,
  tokenizer: PolicyTokenizer,
  formatPrompt: PromptFormatter,
  prompts: readonly string[],
  options: GenerateOptions,
): { answers: string[]; rollouts: { rollout: Rollout; indices: number[] }[] } {
  const random = seededRandom(options.seed);
  const encoded = prompts.map((p) => formatPrompt(p));
  const answers = new Array<string>(prompts.length).fill("");
  const rollouts: { rollout: Rollout; indices: number[] }[] = [];
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
 * Mean per-sequence KL(policy ‖ reference) on given rollouts, estimated as
 * Σ_t (log π(a_t) − log π_ref(a_t)) over response tokens, like the PPO penalty.
 */
export function sequenceKl(
  policy: ValueHeadPolicy,
  reference: ValueHeadPolicy,
  rollouts: readonly Rollout[],
  temperature: number,
): number[] {
  const out: number[] = [];
  for (const r of rollouts) {
    const ids = tf.tensor2d(r.ids, undefined, "int32");
    const a = responseLogProbs(policy, ids, r.promptLength, temperature);
    const b = responseLogProbs(reference, ids, r.promptLength, temperature);
    const la = a.logprobs.arraySync();
    const lb = b.logprobs.arraySync();
    tf.dispose([ids, a.logprobs, a.values, a.entropy, b.logprobs, b.values, b.entropy]);
    la.forEach((row, i) => out.push(row.reduce((s, x, t) => s + (x - lb[i][t]) * r.mask[i][t], 0)));
  }
  return out;
}
