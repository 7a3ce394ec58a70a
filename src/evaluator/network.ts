/**
 * The value evaluator's network: a bag of n-gram embeddings per dialogue
 * field (fastText-style), a hidden layer, and the paper's two heads.
 *
 *   x      = [ Σ_t w_t E[t] over the prompt's n-grams ; same over the answer's ]
 *   h      = relu(x W_h + b_h)                  (skipped when hiddenSize = 0)
 *   logits = h W_c + b_c  → 10 values × 3 labels (opposed / no connection / important)
 *   score  = tanh(h W_r + b_r) → 10 values in [−1, 1]
 *
 * The embedding table is large and sparse in use (a batch touches a few
 * thousand of its rows), so its lookup and its gradient are written directly
 * over a Float32Array: gathering rows and scattering gradients back costs in
 * proportion to the rows touched, where a dense tfjs gradient would cost the
 * whole table every step (and the wasm backend has no kernel for the gradient
 * of tf.gather). Everything after the bag is tfjs.
 */
import * as tf from "@tensorflow/tfjs";
import { BASIC_VALUES } from "../values/taxonomy.js";
import { normal, seededRandom } from "../runtime/random.js";

export const VALUE_COUNT = BASIC_VALUES.length;
export const LABEL_COUNT = 3;

export interface NetworkShape {
  vocabularySize: number;
  /** Bags pooled side by side (1 when prompt and answer share a bag, 2 when each has its own). */
  fields: number;
  embeddingDim: number;
  /** Width of the hidden layer; 0 puts the heads straight on the pooled embeddings. */
  hiddenSize: number;
  /**
   * Annotators whose conventions the network learns side by side (FULCRA's
   * labellers, the paper's evaluator). With more than one, a one-hot
   * "which annotator" input follows the pooled fields, and scoring asks for
   * one of them.
   */
  annotators: number;
}

/** One field of one dialogue: distinct vocabulary rows and their counts. */
export interface FieldBag {
  rows: Int32Array;
  counts: Float32Array;
}

/** Rows and the weight each gets in the pooled sum, after pooling and feature dropout. */
export interface WeightedBag {
  rows: Int32Array;
  weights: Float32Array;
}

export type Pooling = "mean" | "sqrt" | "tfidf";

/**
 * Pooling weights of a field: "mean" averages over n-gram occurrences;
 * "sqrt" divides the sum by √(occurrences), which keeps a trace of length;
 * "tfidf" weighs each n-gram by (1 + ln count) · idf and scales the weights
 * to unit length, so rare, telling n-grams count for more than common ones.
 * In training, each distinct n-gram is dropped with probability `dropRate`.
 */
export function weightBag(
  bag: FieldBag,
  pooling: Pooling,
  idf: Float32Array | undefined,
  dropRate = 0,
  random?: () => number,
): WeightedBag {
  let rows = bag.rows;
  let counts = bag.counts;
  if (dropRate > 0 && random) {
    const keep: number[] = [];
    for (let i = 0; i < rows.length; i++) if (random() >= dropRate) keep.push(i);
    rows = Int32Array.from(keep, (i) => bag.rows[i]);
    counts = Float32Array.from(keep, (i) => bag.counts[i]);
  }
  if (pooling === "tfidf") {
    if (!idf) throw new Error("tfidf pooling needs the vocabulary's idf weights");
    const weights = Float32Array.from(counts, (c, i) => (1 + Math.log(c)) * idf[rows[i]]);
    let norm = 0;
    for (const w of weights) norm += w * w;
    if (norm > 0) for (let i = 0; i < weights.length; i++) weights[i] /= Math.sqrt(norm);
    return { rows, weights };
  }
  let total = 0;
  for (const c of counts) total += c;
  const scale = total === 0 ? 0 : pooling === "mean" ? 1 / total : 1 / Math.sqrt(total);
  return { rows, weights: Float32Array.from(counts, (c) => c * scale) };
}

/** The embedding table with its sparse lookup and gradient. */
export class EmbeddingBag {
  constructor(
    /** vocabularySize × dim, row-major. */
    readonly table: Float32Array,
    readonly dim: number,
  ) {}

  static init(vocabularySize: number, dim: number, random: () => number): EmbeddingBag {
    // Small rows, of the scale fastText starts from (about 1/dim): a fresh bag pools to nearly zero.
    const std = 1 / dim;
    return new EmbeddingBag(
      Float32Array.from({ length: vocabularySize * dim }, () => std * normal(random)),
      dim,
    );
  }

  get rows(): number {
    return this.table.length / this.dim;
  }

  /**
   * Pooled features of a batch, fields side by side: row b of `out` (width
   * `stride`, at least fields × dim) gets [pool(field 0), pool(field 1), …].
   */
  forward(batch: readonly (readonly WeightedBag[])[], stride?: number, out?: Float32Array): Float32Array {
    const d = this.dim;
    const width = stride ?? (batch.length ? batch[0].length : 0) * d;
    const pooled = out ?? new Float32Array(batch.length * width);
    const table = this.table;
    batch.forEach((bags, b) => {
      bags.forEach((bag, f) => {
        const o = b * width + f * d;
        for (let i = 0; i < bag.rows.length; i++) {
          const w = bag.weights[i];
          const e = bag.rows[i] * d;
          for (let k = 0; k < d; k++) pooled[o + k] += w * table[e + k];
        }
      });
    });
    return pooled;
  }

  /**
   * Gradient of the loss with respect to the rows the batch used, given the
   * gradient with respect to the pooled features: dE[t] = Σ w_t · dx.
   */
  backward(batch: readonly (readonly WeightedBag[])[], dPooled: Float32Array, stride?: number): { rows: Int32Array; grad: Float32Array } {
    const d = this.dim;
    const width = stride ?? (batch.length ? batch[0].length : 0) * d;
    const slot = new Map<number, number>();
    for (const bags of batch) for (const bag of bags) for (const r of bag.rows) if (!slot.has(r)) slot.set(r, slot.size);
    const grad = new Float32Array(slot.size * d);
    batch.forEach((bags, b) => {
      bags.forEach((bag, f) => {
        const o = b * width + f * d;
        for (let i = 0; i < bag.rows.length; i++) {
          const w = bag.weights[i];
          const g = slot.get(bag.rows[i])! * d;
          for (let k = 0; k < d; k++) grad[g + k] += w * dPooled[o + k];
        }
      });
    });
    return { rows: Int32Array.from(slot.keys()), grad };
  }
}

export function inputSize(shape: NetworkShape): number {
  return shape.fields * shape.embeddingDim + (shape.annotators > 1 ? shape.annotators : 0);
}

/** Names of the dense weights, in the order they are saved. */
export const DENSE_WEIGHT_NAMES = [
  "hidden/kernel",
  "hidden/bias",
  "classify/kernel",
  "classify/bias",
  "regress/kernel",
  "regress/bias",
] as const;
export type DenseWeightName = (typeof DENSE_WEIGHT_NAMES)[number];

export interface HeadOutputs {
  /** [batch, 10, 3] */
  logits: tf.Tensor3D;
  /** [batch, 10], in [−1, 1] */
  scores: tf.Tensor2D;
}

export class ValueNetwork {
  constructor(
    readonly shape: NetworkShape,
    readonly embedding: EmbeddingBag,
    /** The tfjs part; hidden/* are absent when hiddenSize is 0. */
    readonly dense: Map<DenseWeightName, tf.Variable>,
  ) {}

  /** Fresh weights from a seed: the same numbers on every backend (drawn in JS, then uploaded). */
  static init(shape: NetworkShape, seed: number): ValueNetwork {
    const random = seededRandom(seed);
    const embedding = EmbeddingBag.init(shape.vocabularySize, shape.embeddingDim, random);
    const input = inputSize(shape);
    const width = shape.hiddenSize > 0 ? shape.hiddenSize : input;
    const dense = new Map<DenseWeightName, tf.Variable>();
    // Glorot-uniform kernels, zero biases.
    const kernel = (rows: number, cols: number) => {
      const limit = Math.sqrt(6 / (rows + cols));
      return tf.tensor2d(
        Float32Array.from({ length: rows * cols }, () => (2 * random() - 1) * limit),
        [rows, cols],
      );
    };
    const variable = (t: tf.Tensor) => {
      const v = tf.variable(t);
      t.dispose();
      return v;
    };
    if (shape.hiddenSize > 0) {
      dense.set("hidden/kernel", variable(kernel(input, shape.hiddenSize)));
      dense.set("hidden/bias", variable(tf.zeros([shape.hiddenSize])));
    }
    dense.set("classify/kernel", variable(kernel(width, VALUE_COUNT * LABEL_COUNT)));
    dense.set("classify/bias", variable(tf.zeros([VALUE_COUNT * LABEL_COUNT])));
    dense.set("regress/kernel", variable(kernel(width, VALUE_COUNT)));
    dense.set("regress/bias", variable(tf.zeros([VALUE_COUNT])));
    return new ValueNetwork(shape, embedding, dense);
  }

  get inputSize(): number {
    return inputSize(this.shape);
  }

  /** The network's input for a batch: pooled fields, then the annotator one-hot (when there are several). */
  input(batch: readonly (readonly WeightedBag[])[], annotators: readonly number[]): Float32Array {
    const width = this.inputSize;
    const out = this.embedding.forward(batch, width);
    if (this.shape.annotators > 1) {
      const at = this.shape.fields * this.shape.embeddingDim;
      annotators.forEach((a, b) => {
        if (!(Number.isInteger(a) && a >= 0 && a < this.shape.annotators))
          throw new RangeError(`annotator ${a} is not one of 0..${this.shape.annotators - 1}`);
        out[b * width + at + a] = 1;
      });
    }
    return out;
  }

  /**
   * The heads on pooled features. `weights` lets the training loop pass the
   * same variables as differentiable inputs; `dropout` applies to h in training.
   */
  heads(x: tf.Tensor2D, weights: Map<DenseWeightName, tf.Tensor> = this.dense, dropout?: { rate: number; seed: number }): HeadOutputs {
    const w = (name: DenseWeightName) => weights.get(name)!;
    let h: tf.Tensor2D = x;
    if (this.shape.hiddenSize > 0) h = tf.relu(tf.add(tf.matMul(x, w("hidden/kernel")), w("hidden/bias"))) as tf.Tensor2D;
    if (dropout && dropout.rate > 0) h = tf.dropout(h, dropout.rate, undefined, dropout.seed) as tf.Tensor2D;
    const logits = tf.reshape(tf.add(tf.matMul(h, w("classify/kernel")), w("classify/bias")), [
      -1,
      VALUE_COUNT,
      LABEL_COUNT,
    ]) as tf.Tensor3D;
    const scores = tf.tanh(tf.add(tf.matMul(h, w("regress/kernel")), w("regress/bias"))) as tf.Tensor2D;
    return { logits, scores };
  }

  /** Label probabilities [batch × 10 × 3] and regression scores [batch × 10] for weighted bags, as `annotator` would give them. */
  predict(batch: readonly (readonly WeightedBag[])[], annotator = 0): { probabilities: Float32Array; scores: Float32Array } {
    if (batch.length === 0) return { probabilities: new Float32Array(0), scores: new Float32Array(0) };
    const pooled = this.input(
      batch,
      batch.map(() => annotator),
    );
    return tf.tidy(() => {
      const x = tf.tensor2d(pooled, [batch.length, this.inputSize]);
      const { logits, scores } = this.heads(x);
      return { probabilities: tf.softmax(logits).dataSync() as Float32Array, scores: scores.dataSync() as Float32Array };
    });
  }

  /** predict() with an asynchronous read-back, which every backend supports (webgpu under Node has no synchronous one). */
  async predictAsync(
    batch: readonly (readonly WeightedBag[])[],
    annotator = 0,
  ): Promise<{ probabilities: Float32Array; scores: Float32Array }> {
    if (batch.length === 0) return { probabilities: new Float32Array(0), scores: new Float32Array(0) };
    const pooled = this.input(
      batch,
      batch.map(() => annotator),
    );
    const [p, s] = tf.tidy(() => {
      const x = tf.tensor2d(pooled, [batch.length, this.inputSize]);
      const { logits, scores } = this.heads(x);
      return [tf.softmax(logits), scores];
    });
    const [probabilities, scores] = (await Promise.all([p.data(), s.data()])) as [Float32Array, Float32Array];
    tf.dispose([p, s]);
    return { probabilities, scores };
  }

  dispose(): void {
    for (const v of this.dense.values()) v.dispose();
  }
}
