/**
 * Sampling answers from the policy, and scoring given answers under it:
 * the two things PPO needs (rollouts, then log-probs in the update step).
 *
 * Layout of a rollout batch (B rows, L = P + R columns):
 *
 *   column   0 … P-1                       P … P+R-1
 *            [pad … pad BOS prompt SEP]    [response … EOS pad … pad]
 *
 * Prompts are left-padded so that every row's response starts at column P;
 * positions count real tokens only, so padding does not change the model's
 * view. Everything aligned to "the next token" has L − 1 columns: entry j
 * is about the token in column j + 1 given columns 0…j (`actionMask`,
 * `alignedLogProbs`, `alignedValues`, and what `logProbsOf` returns).
 *
 * The draws come from `seededRandom` in JavaScript (float64 arithmetic on
 * the model's logits), one generator per prompt seeded from (seed, prompt
 * index), so a seed gives the same answers on a backend whatever the batching.
 */
import * as tf from "@tensorflow/tfjs";
import { seededRandom } from "../runtime/random.js";
import { Progress } from "../runtime/progress.js";
import { rowEntropy, tokenLogProbs, type CausalLm, type KvCache } from "./model.js";
import type { Tokenizer } from "./tokenizer.js";

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

export interface Rollout {
  prompts: string[];
  /** Prompt ids as fed (template included, cut to maxPromptTokens), unpadded. */
  promptIds: number[][];
  /** Generated ids, EOS included when the answer ended by itself. */
  responseIds: number[][];
  /** Decoded answers (special tokens dropped). */
  texts: string[];
  /** The answer ended with EOS (rather than reaching maxNewTokens). */
  finished: boolean[];
  /**
   * log π(token) for each generated token, under the model's distribution at
   * `temperature` (1 when greedy), before top-k/top-p truncation; this is
   * what `logProbsOf` recomputes and what PPO's ratio uses.
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

/**
 * Generates one answer per prompt. Deterministic for a seed on a backend.
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
  const parts: Rollout[] = [];
  const bar = new Progress({ label: "generate", total: prompts.length, quiet: !o.progress });
  for (let start = 0; start < prompts.length; start += o.batchSize) {
    const chunk = prompts.slice(start, start + o.batchSize);
    const randoms = chunk.map((_, i) => seededRandom(rowSeed(o.seed, start + i)));
    parts.push(generateBatch(model, tokenizer, chunk, o, maxPromptTokens, randoms));
    bar.tick(chunk.length);
  }
  bar.finish();
  return parts.length === 1 ? parts[0] : mergeRollouts(parts, tokenizer.specials.pad);
}

/** The seed of prompt `index`'s generator: the run's seed and the index, mixed (so neighbouring seeds do not share streams). */
export function rowSeed(seed: number, index: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

function generateBatch(
  model: CausalLm,
  tokenizer: Tokenizer,
  prompts: readonly string[],
  o: SamplingOptions,
  maxPromptTokens: number,
  randoms: (() => number)[],
): Rollout {
  const B = prompts.length;
  const V = model.config.vocabSize;
  const pad = tokenizer.specials.pad;
  const eos = new Set(tokenizer.template.responseSuffix);
  const promptIds = prompts.map((p) => tokenizer.formatPrompt(p, maxPromptTokens));
  const P = Math.max(...promptIds.map((p) => p.length));
  // Left-pad the prompts so every answer starts at column P.
  const rows = promptIds.map((p) => [...new Array<number>(P - p.length).fill(pad), ...p]);
  const mask = promptIds.map((p) => [...new Array<number>(P - p.length).fill(0), ...new Array<number>(p.length).fill(1)]);

  const responseIds: number[][] = prompts.map(() => []);
  const logProbs: number[][] = prompts.map(() => []);
  const samplingLogProbs: number[][] = prompts.map(() => []);
  const values: number[][] = prompts.map(() => []);
  const finished = new Array<boolean>(B).fill(false);

  let cache: KvCache | undefined;
  // Logits and values of the last column read, per row.
  let next = readLast(model, rows, mask, undefined, P, o.useCache);
  cache = next.cache;
  for (let t = 0; t < o.maxNewTokens; t++) {
    const column: number[] = [];
    for (let b = 0; b < B; b++) {
      if (finished[b]) {
        column.push(pad);
        continue;
      }
      const pick = sampleToken(next.logits.subarray(b * V, (b + 1) * V), o, randoms[b]);
      responseIds[b].push(pick.token);
      logProbs[b].push(pick.logProb);
      samplingLogProbs[b].push(pick.samplingLogProb);
      values[b].push(next.values[b]);
      if (eos.has(pick.token)) finished[b] = true;
      column.push(pick.token);
    }
    const active = column.map((_, b) => (responseIds[b].length === t + 1 ? 1 : 0));
    rows.forEach((r, b) => r.push(column[b]));
    mask.forEach((m, b) => m.push(active[b]));
    if (finished.every(Boolean) || t === o.maxNewTokens - 1) break;
    const stepped = readLast(model, rows, mask, cache, 1, o.useCache);
    disposeCache(cache);
    cache = stepped.cache;
    next = stepped;
  }
  disposeCache(cache);

  // Trim trailing all-padding columns and build the [B, L-1] aligned views.
  const R = Math.max(...responseIds.map((r) => r.length));
  const L = P + R;
  const sequences = rows.map((r) => r.slice(0, L));
  const attentionMask = mask.map((m) => m.slice(0, L));
  const actionMask = responseIds.map((r) => Array.from({ length: L - 1 }, (_, j) => (j + 1 >= P && j + 1 - P < r.length ? 1 : 0)));
  const place = (perToken: number[][]) =>
    perToken.map((v) => Array.from({ length: L - 1 }, (_, j) => (j + 1 >= P && j + 1 - P < v.length ? v[j + 1 - P] : 0)));
  return {
    prompts: [...prompts],
    promptIds,
    responseIds,
    texts: responseIds.map((r) => tokenizer.decode(r)),
    finished,
    logProbs,
    samplingLogProbs,
    values,
    sequences,
    attentionMask,
    actionMask,
    alignedLogProbs: place(logProbs),
    alignedValues: place(values),
    promptLength: P,
    temperature: o.temperature,
  };
}

/**
 * Runs the model on the newest `count` columns (with the cache) or on the
 * whole sequence (without), and returns the last column's logits and values.
 */
function readLast(model: CausalLm, rows: number[][], mask: number[][], cache: KvCache | undefined, count: number, useCache: boolean) {
  const B = rows.length;
  const L = rows[0].length;
  const V = model.config.vocabSize;
  let lastLogits = new Float32Array(0);
  let lastValues: number[] = [];
  let newCache: KvCache | undefined;
  // Results leave the tidy through these variables: returning plain arrays from tf.tidy makes it walk every element.
  tf.tidy(() => {
    const maskT = tf.tensor2d(mask, [B, L], "int32");
    let logits: tf.Tensor3D;
    let values: tf.Tensor2D;
    if (useCache) {
      const ids = tf.tensor2d(
        rows.map((r) => r.slice(L - count)),
        [B, count],
        "int32",
      );
      const r = model.step(ids, maskT, cache);
      ({ logits, values } = r);
      newCache = r.cache;
      newCache.keys.forEach((k) => tf.keep(k));
      newCache.values.forEach((v) => tf.keep(v));
    } else {
      ({ logits, values } = model.forward(tf.tensor2d(rows, [B, L], "int32"), { attentionMask: maskT }));
    }
    const S = logits.shape[1];
    lastLogits = Float32Array.from(logits.slice([0, S - 1, 0], [B, 1, V]).dataSync() as Float32Array);
    lastValues = Array.from(values.slice([0, S - 1], [B, 1]).dataSync());
  });
  return { logits: lastLogits, values: lastValues, cache: newCache };
}

function disposeCache(cache: KvCache | undefined): void {
  if (!cache) return;
  cache.keys.forEach((k) => k.dispose());
  cache.values.forEach((v) => v.dispose());
}

/**
 * One draw from a row of logits: temperature, then top-k, then top-p, then
 * a seeded draw over the kept tokens (taken in order of probability, ties by id).
 */
export function sampleToken(
  logits: Float32Array,
  o: Pick<SamplingOptions, "temperature" | "topK" | "topP">,
  random: () => number,
): { token: number; logProb: number; samplingLogProb: number } {
  const V = logits.length;
  const temperature = o.temperature > 0 ? o.temperature : 1;
  // log-softmax at the temperature, in float64
  let max = -Infinity;
  for (let v = 0; v < V; v++) if (logits[v] > max) max = logits[v];
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp((logits[v] - max) / temperature);
  const logZ = Math.log(sum);
  const logProbOf = (v: number) => (logits[v] - max) / temperature - logZ;

  if (o.temperature === 0) {
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[v] > logits[best]) best = v;
    return { token: best, logProb: logProbOf(best), samplingLogProb: 0 };
  }
  let kept: number[];
  if (o.topK > 0 || o.topP < 1) {
    const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => logits[b] - logits[a] || a - b);
    kept = o.topK > 0 ? order.slice(0, Math.min(o.topK, V)) : order;
    if (o.topP < 1) {
      let mass = 0;
      let total = 0;
      for (const v of kept) total += Math.exp(logProbOf(v));
      let cut = kept.length;
      for (let i = 0; i < kept.length; i++) {
        mass += Math.exp(logProbOf(kept[i])) / total;
        if (mass >= o.topP) {
          cut = i + 1;
          break;
        }
      }
      kept = kept.slice(0, cut);
    }
  } else {
    kept = Array.from({ length: V }, (_, v) => v);
  }
  let keptMass = 0;
  for (const v of kept) keptMass += Math.exp(logProbOf(v));
  const u = random() * keptMass;
  let acc = 0;
  let token = kept[kept.length - 1];
  for (const v of kept) {
    acc += Math.exp(logProbOf(v));
    if (u < acc) {
      token = v;
      break;
    }
  }
  return { token, logProb: logProbOf(token), samplingLogProb: logProbOf(token) - Math.log(keptMass) };
}

export interface LogProbsResult {
  /** [B, L-1]: log π(sequences[b, j+1] | sequences[b, ≤j]) at the temperature. */
  logProbs: tf.Tensor2D;
  /** [B, L-1]: value of the state after column j. */
  values: tf.Tensor2D;
  /** [B, L-1]: entropy of the next-token distribution (only when asked). */
  entropy?: tf.Tensor2D;
}

/**
 * Log-probabilities of the given tokens under `model`, differentiable (for
 * the PPO update inside tf.variableGrads). `sequences` int32 [B, L],
 * `attentionMask` [B, L] (1 real, 0 pad). Columns that are not generated
 * tokens hold numbers too; mask them with the rollout's `actionMask`.
 */
export function logProbsOf(
  model: CausalLm,
  sequences: tf.Tensor2D,
  attentionMask: tf.Tensor2D,
  options: { temperature?: number; withEntropy?: boolean; detachValue?: boolean } = {},
): LogProbsResult {
  return tf.tidy(() => {
    const [B, L] = sequences.shape;
    const V = model.config.vocabSize;
    const temperature = options.temperature && options.temperature > 0 ? options.temperature : 1;
    const { logits, values } = model.forward(sequences, { attentionMask, detachValue: options.detachValue });
    let scaled = logits.slice([0, 0, 0], [B, L - 1, V]).reshape([B * (L - 1), V]) as tf.Tensor2D;
    if (temperature !== 1) scaled = tf.div(scaled, temperature);
    const targets = sequences.slice([0, 1], [B, L - 1]).reshape([-1]) as tf.Tensor1D;
    const out: LogProbsResult = {
      logProbs: tokenLogProbs(scaled, targets).reshape([B, L - 1]) as tf.Tensor2D,
      values: values.slice([0, 0], [B, L - 1]) as tf.Tensor2D,
    };
    if (options.withEntropy) out.entropy = rowEntropy(scaled).reshape([B, L - 1]) as tf.Tensor2D;
    return out as unknown as tf.TensorContainerObject;
  }) as unknown as LogProbsResult;
}

/** The rollout's padded arrays as tensors (int32 ids, float masks); the caller disposes them. */
export function rolloutTensors(r: Rollout): {
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

function mergeRollouts(parts: Rollout[], pad: number): Rollout {
  // Re-pad every part to the widest prompt block and the longest answer.
  const P = Math.max(...parts.map((p) => p.promptLength));
  const R = Math.max(...parts.map((p) => p.sequences[0].length - p.promptLength));
  const L = P + R;
  const out: Rollout = {
    prompts: [],
    promptIds: [],
    responseIds: [],
    texts: [],
    finished: [],
    logProbs: [],
    samplingLogProbs: [],
    values: [],
    sequences: [],
    attentionMask: [],
    actionMask: [],
    alignedLogProbs: [],
    alignedValues: [],
    promptLength: P,
    temperature: parts[0].temperature,
  };
  for (const part of parts) {
    const left = P - part.promptLength;
    for (let b = 0; b < part.prompts.length; b++) {
      const right = L - left - part.sequences[b].length;
      out.prompts.push(part.prompts[b]);
      out.promptIds.push(part.promptIds[b]);
      out.responseIds.push(part.responseIds[b]);
      out.texts.push(part.texts[b]);
      out.finished.push(part.finished[b]);
      out.logProbs.push(part.logProbs[b]);
      out.samplingLogProbs.push(part.samplingLogProbs[b]);
      out.values.push(part.values[b]);
      out.sequences.push([...new Array<number>(left).fill(pad), ...part.sequences[b], ...new Array<number>(right).fill(pad)]);
      out.attentionMask.push([...new Array<number>(left).fill(0), ...part.attentionMask[b], ...new Array<number>(right).fill(0)]);
      const widen = (row: number[]) => [...new Array<number>(left).fill(0), ...row, ...new Array<number>(right).fill(0)];
      out.actionMask.push(widen(part.actionMask[b]));
      out.alignedLogProbs.push(widen(part.alignedLogProbs[b]));
      out.alignedValues.push(widen(part.alignedValues[b]));
    }
  }
  return out;
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
