/**
 * The kit's one sampling stack: drawing answers from a causal LM with a
 * value head, and scoring given answers under it. Every sampler of the kit
 * goes through here: `generate` (text in, text out, for the kit's decoder),
 * PPO's rollouts and the aligner's evaluation answers (`src/align/policy.ts`
 * packs `sampleBatch` for them), best-of-N's candidates.
 *
 * Layout of a batch (B rows, L = P + R columns):
 *
 *   column   0 … P-1                       P … P+R-1
 *            [pad … pad BOS prompt SEP]    [response … EOS pad … pad]
 *
 * Prompts are left-padded so that every row's response starts at column P;
 * positions count real tokens only, so padding does not change the model's
 * view (prompts of one length, as PPO's batches, have no padding at all).
 * Everything aligned to "the next token" has L − 1 columns: entry j is about
 * the token in column j + 1 given columns 0…j (`actionMask`,
 * `alignedLogProbs`, `alignedValues`, and what `logProbsOf` returns).
 *
 * One draw: the model's last logits divided by the temperature go through
 * tf.softmax (float32, on the backend), then top-k and top-p keep the
 * likeliest tokens and one number of a seeded generator picks among them
 * (`pickToken`, in JavaScript). Which generator drives which row is the
 * caller's choice: `generate` gives each prompt its own, seeded from (seed,
 * prompt index), so a seed gives the same answers whatever the batching; PPO
 * passes one generator for all rows (draws in token-major, row-minor order).
 */
import * as tf from "@tensorflow/tfjs";
import { seededRandom } from "../runtime/random.js";
import { Progress } from "../runtime/progress.js";
import type { CausalLm } from "./model.js";
import type { Tokenizer } from "./tokenizer.js";

/**
 * What sampling and log-probs need from a causal LM with a value head: the
 * kit's decoder (`CausalLm`), a GPT-2 hub checkpoint, a toy model. A model
 * that ignores `attentionMask` must be given prompts of one length
 * (`groupByLength`).
 */
export interface SamplingModel {
  /** Next-token logits [B, T, V] and value estimates [B, T] for every position of `ids` [B, T] (int32). */
  forward(ids: tf.Tensor2D, options?: { attentionMask?: tf.Tensor2D; detachValue?: boolean }): { logits: tf.Tensor3D; values: tf.Tensor2D };
  /**
   * Optional fast path: reads `ids` [B, S] after the positions held in
   * `cache` (none: start fresh), `keyMask` [B, cached + S] marking real
   * tokens, and returns their logits, values and the extended cache. Must
   * agree with `forward` up to rounding.
   */
  step?(ids: tf.Tensor2D, keyMask: tf.Tensor2D, cache?: unknown): { logits: tf.Tensor3D; values: tf.Tensor2D; cache: unknown };
}

export interface SamplingOptions {
  /** Most tokens generated per answer (EOS included). */
  maxNewTokens: number;
  /** Softmax temperature; 0 = greedy (argmax). */
  temperature: number;
  /** Keep only the k most likely tokens (0 = off). */
  topK: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 = off). */
  topP: number;
  /** Seed of the draws. */
  seed: number;
  /** Prompt text tokens kept (the last ones); default: what the context leaves after the answer. */
  maxPromptTokens?: number;
  /** Rows generated together (memory bound); all prompts are still drawn in order from one seed. */
  batchSize: number;
  /** Reuse keys/values of earlier tokens (much faster; off only to cross-check). */
  useCache: boolean;
  /** Show a progress bar. */
  progress?: boolean;
}

export const DEFAULT_SAMPLING: SamplingOptions = {
  maxNewTokens: 40,
  temperature: 1,
  topK: 0,
  topP: 1,
  seed: 1,
  batchSize: 64,
  useCache: true,
};

/** How one batch is sampled (`sampleBatch`): the draw settings plus the token conventions of the caller. */
export interface BatchSampling extends Pick<SamplingOptions, "maxNewTokens" | "temperature" | "topK" | "topP" | "useCache"> {
  /** Tokens that end an answer (kept as its last token). */
  stop: ReadonlySet<number>;
  /** Id left of short prompts and after an ended answer. */
  pad: number;
  /** Keep maxNewTokens response columns even when every answer ends sooner (fixed-width batches). */
  fullWidth?: boolean;
}

/** A sampled batch as token ids (layout above). */
export interface TokenRollout {
  /** Prompt ids as fed, unpadded. */
  promptIds: number[][];
  /** Generated ids, the stop token included when the answer ended by itself. */
  responseIds: number[][];
  /** The answer ended with a stop token (rather than reaching maxNewTokens). */
  finished: boolean[];
  /**
   * log π(token) for each generated token, under the model's distribution at
   * `temperature` (1 when greedy), before top-k/top-p truncation; this is
   * what `logProbsOf` recomputes.
   */
  logProbs: number[][];
  /** log-probability of each token under the truncated, renormalised distribution actually sampled from. */
  samplingLogProbs: number[][];
  /** Value head's estimate of the state before each generated token. */
  values: number[][];
  /** Padded ids [B, L] (layout above). */
  sequences: number[][];
  /** 1 for real tokens, 0 for padding, [B, L]. */
  attentionMask: number[][];
  /** [B, L-1]: 1 where column j+1 holds a generated token. */
  actionMask: number[][];
  /** [B, L-1]: `logProbs` placed at their columns, 0 elsewhere. */
  alignedLogProbs: number[][];
  /** [B, L-1]: `values` placed at their columns, 0 elsewhere. */
  alignedValues: number[][];
  /** P: width of the left-padded prompt block. */
  promptLength: number;
  temperature: number;
}

/** Answers to text prompts: the token rollout with the prompts and decoded answers. */
export interface Rollout extends TokenRollout {
  prompts: string[];
  /** Decoded answers (special tokens dropped). */
  texts: string[];
}

/**
 * Generates one answer per prompt with the kit's decoder and tokenizer.
 * Deterministic for a seed on a backend, whatever `batchSize`.
 */
export function generate(
  model: CausalLm,
  tokenizer: Tokenizer,
  prompts: readonly string[],
  options: Partial<SamplingOptions> = {},
): Rollout {
  const o: SamplingOptions = { ...DEFAULT_SAMPLING, ...options };
  checkSampling(o, model);
  const context = model.config.contextLength;
  const templateLength = tokenizer.template.promptPrefix.length + tokenizer.template.promptSuffix.length;
  const maxPromptTokens = o.maxPromptTokens ?? context - o.maxNewTokens - templateLength;
  if (maxPromptTokens < 1 || maxPromptTokens + templateLength + o.maxNewTokens > context) {
    throw new RangeError(
      `generate: prompt (${maxPromptTokens} tokens + ${templateLength} template) plus maxNewTokens (${o.maxNewTokens}) must fit the model's context of ${context}; lower maxNewTokens or maxPromptTokens`,
    );
  }
  const batch: BatchSampling = { ...o, stop: new Set(tokenizer.template.responseSuffix), pad: tokenizer.specials.pad };
  const rows: SampledRows = { promptIds: [], responseIds: [], finished: [], logProbs: [], samplingLogProbs: [], values: [] };
  const bar = new Progress({ label: "generate", total: prompts.length, quiet: !o.progress });
  for (let start = 0; start < prompts.length; start += o.batchSize) {
    const chunk = prompts.slice(start, start + o.batchSize);
    const randoms = chunk.map((_, i) => seededRandom(rowSeed(o.seed, start + i)));
    const r = sampleBatch(
      model,
      chunk.map((p) => tokenizer.formatPrompt(p, maxPromptTokens)),
      batch,
      randoms,
    );
    for (const key of Object.keys(rows) as (keyof SampledRows)[]) (rows[key] as unknown[]).push(...r[key]);
    bar.tick(chunk.length);
  }
  bar.finish();
  // One layout for all batches: the widest prompt block, the longest answer.
  const P = Math.max(0, ...rows.promptIds.map((p) => p.length));
  const R = Math.max(0, ...rows.responseIds.map((r) => r.length));
  return {
    prompts: [...prompts],
    texts: rows.responseIds.map((ids) => tokenizer.decode(ids)),
    ...layOut(rows, P, R, tokenizer.specials.pad, o.temperature),
  };
}

/** The seed of prompt `index`'s generator: the run's seed and the index, mixed (so neighbouring seeds do not share streams). */
export function rowSeed(seed: number, index: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

/** Item indices grouped by the length of their token ids (ascending length, then index): batches without padding. */
export function groupByLength(tokenIds: readonly (readonly number[])[]): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  tokenIds.forEach((ids, i) => {
    const g = groups.get(ids.length);
    if (g) g.push(i);
    else groups.set(ids.length, [i]);
  });
  return new Map([...groups.entries()].sort((a, b) => a[0] - b[0]));
}

/**
 * Samples a continuation of every prompt, one token per step for all rows
 * together. Row b's draws come from `randoms[b]` (the same function for
 * every row gives one stream, read in token-major, row-minor order). The
 * model reads the whole prompt block once, then one column per step (with
 * `useCache` and a model that has `step`) or the whole sequence each step.
 */
export function sampleBatch(
  model: SamplingModel,
  promptIds: readonly (readonly number[])[],
  o: BatchSampling,
  randoms: readonly (() => number)[],
): TokenRollout {
  const B = promptIds.length;
  if (B === 0 || randoms.length !== B)
    throw new RangeError(
      `sampleBatch: ${B} prompts and ${randoms.length} generators; need one or more prompts and one generator per prompt`,
    );
  const pad = o.pad;
  const P = Math.max(...promptIds.map((p) => p.length));
  // Left-pad the prompts so every answer starts at column P.
  const rows = promptIds.map((p) => [...new Array<number>(P - p.length).fill(pad), ...p]);
  const mask = promptIds.map((p) => [...new Array<number>(P - p.length).fill(0), ...new Array<number>(p.length).fill(1)]);

  const responseIds: number[][] = promptIds.map(() => []);
  const logProbs: number[][] = promptIds.map(() => []);
  const samplingLogProbs: number[][] = promptIds.map(() => []);
  const values: number[][] = promptIds.map(() => []);
  const finished = new Array<boolean>(B).fill(false);

  let next = readNext(model, rows, mask, undefined, P, o);
  for (let t = 0; t < o.maxNewTokens; t++) {
    const column: number[] = [];
    for (let b = 0; b < B; b++) {
      if (finished[b]) {
        column.push(pad);
        continue;
      }
      const pick = pickToken(next.probs.subarray(b * next.vocab, (b + 1) * next.vocab), o, randoms[b]);
      responseIds[b].push(pick.token);
      logProbs[b].push(pick.logProb);
      samplingLogProbs[b].push(pick.samplingLogProb);
      values[b].push(next.values[b]);
      if (o.stop.has(pick.token)) finished[b] = true;
      column.push(pick.token);
    }
    rows.forEach((r, b) => r.push(column[b]));
    mask.forEach((m, b) => m.push(responseIds[b].length === t + 1 ? 1 : 0));
    if (finished.every(Boolean) || t === o.maxNewTokens - 1) break;
    const stepped = readNext(model, rows, mask, next.cache, 1, o);
    if (next.cache) tf.dispose(next.cache as tf.TensorContainer);
    next = stepped;
  }
  if (next.cache) tf.dispose(next.cache as tf.TensorContainer);

  // Trim trailing all-padding columns, or pad to the full width.
  const R = o.fullWidth ? o.maxNewTokens : Math.max(...responseIds.map((r) => r.length));
  return layOut(
    { promptIds: promptIds.map((p) => [...p]), responseIds, finished, logProbs, samplingLogProbs, values },
    P,
    R,
    pad,
    o.temperature,
  );
}

/** What is sampled for each row; the padded views follow from it (`layOut`). */
type SampledRows = Pick<TokenRollout, "promptIds" | "responseIds" | "finished" | "logProbs" | "samplingLogProbs" | "values">;

/**
 * The padded views of sampled rows (layout above): prompts left-padded to P
 * columns, answers right-padded to R, and the [B, L-1] next-token views.
 */
function layOut(rows: SampledRows, P: number, R: number, pad: number, temperature: number): TokenRollout {
  const L = P + R;
  const fill = (n: number, x: number) => new Array<number>(n).fill(x);
  const sequences = rows.promptIds.map((p, b) => {
    const r = rows.responseIds[b];
    return [...fill(P - p.length, pad), ...p, ...r, ...fill(R - r.length, pad)];
  });
  const attentionMask = rows.promptIds.map((p, b) => {
    const r = rows.responseIds[b];
    return [...fill(P - p.length, 0), ...fill(p.length + r.length, 1), ...fill(R - r.length, 0)];
  });
  const place = (perToken: readonly (readonly number[])[], value: (v: readonly number[], t: number) => number) =>
    perToken.map((v) => Array.from({ length: L - 1 }, (_, j) => (j + 1 >= P && j + 1 - P < v.length ? value(v, j + 1 - P) : 0)));
  return {
    ...rows,
    sequences,
    attentionMask,
    actionMask: place(rows.responseIds, () => 1),
    alignedLogProbs: place(rows.logProbs, (v, t) => v[t]),
    alignedValues: place(rows.values, (v, t) => v[t]),
    promptLength: P,
    temperature,
  };
}

/**
 * Runs the model on the newest `count` columns (with the cache) or on the
 * whole sequence (without), and returns the next-token probabilities of the
 * last column at the temperature (temperature 1 when greedy), its values and the new cache.
 */
function readNext(
  model: SamplingModel,
  rows: number[][],
  mask: number[][],
  cache: unknown,
  count: number,
  o: Pick<BatchSampling, "temperature" | "useCache">,
): { probs: Float32Array; vocab: number; values: number[]; cache: unknown } {
  const B = rows.length;
  const L = rows[0].length;
  let out: { logits: tf.Tensor3D; values: tf.Tensor2D };
  let newCache: unknown;
  if (o.useCache && model.step) {
    const ids = tf.tensor2d(
      rows.map((r) => r.slice(L - count)),
      [B, count],
      "int32",
    );
    const keyMask = tf.tensor2d(mask, [B, L], "float32");
    const r = model.step(ids, keyMask, cache);
    tf.dispose([ids, keyMask]);
    out = r;
    newCache = r.cache;
  } else {
    out = tf.tidy(() => model.forward(tf.tensor2d(rows, [B, L], "int32"), { attentionMask: tf.tensor2d(mask, [B, L], "float32") }));
  }
  const S = out.logits.shape[1];
  const vocab = out.logits.shape[2];
  const probs = tf.tidy(() => {
    const last = out.logits.slice([0, S - 1, 0], [B, 1, vocab]).squeeze([1]) as tf.Tensor2D;
    return tf.softmax(o.temperature > 0 ? last.div(o.temperature) : last) as tf.Tensor2D;
  });
  const lastValues = tf.tidy(() => out.values.slice([0, S - 1], [B, 1]));
  const result = { probs: (probs.dataSync() as Float32Array).slice(), vocab, values: Array.from(lastValues.dataSync()), cache: newCache };
  tf.dispose([out.logits, out.values, probs, lastValues]);
  return result;
}

/**
 * One draw from a row of next-token probabilities `p` (the softmax at the
 * temperature): argmax when greedy (temperature 0), else top-k and top-p
 * truncation and a seeded draw over the kept tokens (`drawToken`). Returns
 * the token, its log-probability under `p` and under the truncated,
 * renormalised distribution it was drawn from.
 */
export function pickToken(
  p: ArrayLike<number>,
  o: Pick<SamplingOptions, "temperature" | "topK" | "topP">,
  random: () => number,
): { token: number; logProb: number; samplingLogProb: number } {
  if (o.temperature === 0) {
    let best = 0;
    for (let v = 1; v < p.length; v++) if (p[v] > p[best]) best = v;
    return { token: best, logProb: Math.log(p[best]), samplingLogProb: 0 };
  }
  const kept = keptTokens(p, o.topK, o.topP);
  const { token, mass } = drawFrom(p, kept, random);
  const logProb = Math.log(p[token]);
  return { token, logProb, samplingLogProb: kept ? logProb - Math.log(mass) : logProb };
}

/**
 * One draw from one row of logits, as `sampleBatch` draws it: softmax at the
 * temperature on the backend, then `pickToken`.
 */
export function sampleToken(
  logits: Float32Array,
  o: Pick<SamplingOptions, "temperature" | "topK" | "topP">,
  random: () => number,
): { token: number; logProb: number; samplingLogProb: number } {
  const p = tf.tidy(() => {
    const row = tf.tensor2d(logits, [1, logits.length]);
    return tf.softmax(o.temperature > 0 ? row.div(o.temperature) : row);
  });
  const probs = p.dataSync() as Float32Array;
  p.dispose();
  return pickToken(probs, o, random);
}

/** Draws one token id from probabilities `p` after top-k / top-p truncation. */
export function drawToken(p: ArrayLike<number>, random: () => number, topK: number, topP: number): number {
  return drawFrom(p, keptTokens(p, topK, topP), random).token;
}

/**
 * The tokens top-k and top-p keep, likeliest first (ties by id), or
 * undefined when neither truncates. Top-p counts probability within the
 * top-k tokens (renormalised, as transformers' warpers do) and keeps the
 * token that reaches p.
 */
function keptTokens(p: ArrayLike<number>, topK: number, topP: number): number[] | undefined {
  const V = p.length;
  const byK = topK > 0 && topK < V;
  if (!byK && !(topP < 1)) return undefined;
  let ids = Array.from({ length: V }, (_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
  if (byK) ids = ids.slice(0, topK);
  if (topP < 1) {
    let scale = 1;
    if (byK) {
      scale = 0;
      for (const i of ids) scale += p[i];
    }
    let mass = 0;
    let keep = 0;
    while (keep < ids.length && mass < topP) mass += p[ids[keep++]] / scale;
    ids = ids.slice(0, Math.max(1, keep));
  }
  return ids;
}

/** A seeded draw over `kept` (every token when undefined), in that order; returns the token and the kept mass. */
function drawFrom(p: ArrayLike<number>, kept: readonly number[] | undefined, random: () => number): { token: number; mass: number } {
  const ids = kept ?? Array.from({ length: p.length }, (_, i) => i);
  let mass = 0;
  for (const i of ids) mass += p[i];
  let u = random() * mass;
  for (const i of ids) {
    u -= p[i];
    if (u < 0) return { token: i, mass };
  }
  return { token: ids[ids.length - 1], mass };
}

export interface LogProbsResult {
  /** [B, L-P]: log π(sequences[b, j+P] | sequences[b, <j+P]) at the temperature (P = `promptLength`, 1 by default). */
  logProbs: tf.Tensor2D;
  /** [B, L-P]: value of the state before each of those tokens. */
  values: tf.Tensor2D;
  /** [B, L-P]: entropy of each of those next-token distributions (only when asked). */
  entropy?: tf.Tensor2D;
}

/**
 * Log-probabilities of the given tokens under `model`, differentiable (PPO
 * calls it inside tf.variableGrads). `sequences` int32 [B, L];
 * `attentionMask` [B, L] (1 real, 0 pad) for left-padded batches. With
 * `promptLength` P, only the tokens from column P on are scored (a sampled
 * continuation); by default every token after the first. Columns that are
 * not generated tokens hold numbers too: mask them (`actionMask`).
 */
export function logProbsOf(
  model: SamplingModel,
  sequences: tf.Tensor2D,
  attentionMask?: tf.Tensor2D,
  options: { temperature?: number; withEntropy?: boolean; detachValue?: boolean; promptLength?: number } = {},
): LogProbsResult {
  return tf.tidy(() => {
    const [B, L] = sequences.shape;
    const P = options.promptLength ?? 1;
    if (!(Number.isInteger(P) && P >= 1 && P < L))
      throw new RangeError(`logProbsOf: promptLength must be an integer in [1, ${L - 1}], got ${P}`);
    const R = L - P;
    const temperature = options.temperature && options.temperature > 0 ? options.temperature : 1;
    const { logits, values } = model.forward(sequences, { attentionMask, detachValue: options.detachValue });
    // Column P−1+t predicts the token in column P+t.
    const logp = tf.logSoftmax(logits.slice([0, P - 1, 0], [B, R, -1]).div(temperature)) as tf.Tensor3D;
    const oneHot = tf.oneHot(sequences.slice([0, P], [B, R]).reshape([-1]), logp.shape[2]).reshape(logp.shape);
    const out: LogProbsResult = { logProbs: logp.mul(oneHot).sum(2) as tf.Tensor2D, values: undefined as unknown as tf.Tensor2D };
    if (options.withEntropy) out.entropy = logp.exp().mul(logp).sum(2).neg() as tf.Tensor2D;
    out.values = values.slice([0, P - 1], [B, R]) as tf.Tensor2D;
    return out as unknown as tf.TensorContainerObject;
  }) as unknown as LogProbsResult;
}

/** The rollout's padded arrays as tensors (int32 ids, float masks); the caller disposes them. */
export function rolloutTensors(r: TokenRollout): {
  sequences: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  actionMask: tf.Tensor2D;
  oldLogProbs: tf.Tensor2D;
  oldValues: tf.Tensor2D;
} {
  const B = r.sequences.length;
  const L = r.sequences[0].length;
  return {
    sequences: tf.tensor2d(r.sequences, [B, L], "int32"),
    attentionMask: tf.tensor2d(r.attentionMask, [B, L], "float32"),
    actionMask: tf.tensor2d(r.actionMask, [B, L - 1], "float32"),
    oldLogProbs: tf.tensor2d(r.alignedLogProbs, [B, L - 1], "float32"),
    oldValues: tf.tensor2d(r.alignedValues, [B, L - 1], "float32"),
  };
}

function checkSampling(o: SamplingOptions, model: CausalLm): void {
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 1)
    throw new RangeError(`sampling: maxNewTokens must be a positive integer, got ${o.maxNewTokens}`);
  if (!(o.temperature >= 0)) throw new RangeError(`sampling: temperature must be ≥ 0, got ${o.temperature}`);
  if (!Number.isInteger(o.topK) || o.topK < 0) throw new RangeError(`sampling: topK must be a non-negative integer, got ${o.topK}`);
  if (!(o.topP > 0 && o.topP <= 1)) throw new RangeError(`sampling: topP must be in (0, 1], got ${o.topP}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1)
    throw new RangeError(`sampling: batchSize must be a positive integer, got ${o.batchSize}`);
  if (o.maxNewTokens >= model.config.contextLength)
    throw new RangeError(`sampling: maxNewTokens (${o.maxNewTokens}) must be below the context length (${model.config.contextLength})`);
}
