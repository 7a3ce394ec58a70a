/**
 * The two optimizers the evaluator can train with. Each updates two kinds of
 * weights: dense tfjs variables, and the rows of the embedding table that a
 * batch used (a row is untouched by batches that do not use it).
 *
 * SGD, with decoupled weight decay, as fastText trains its bags:
 *   θ ← θ − lr · (g + decay · θ)
 *
 * Adam (Kingma & Ba, 2015), "lazy" on the table (a row's moments decay only
 * on the steps that touch it), with decoupled weight decay (AdamW):
 *   m ← β1 m + (1 − β1) g
 *   v ← β2 v + (1 − β2) g²
 *   θ ← θ − lr · decay · θ − lr · √(1 − β2^t) / (1 − β1^t) · m / (√v + ε)
 *
 * The whole state can be saved and restored, so training resumes exactly
 * where a checkpoint left it.
 */
import * as tf from "@tensorflow/tfjs";

export interface Optimizer {
  /** Updates done so far. */
  readonly step: number;
  /** Starts an update with these learning rates (dense layers, embedding table). */
  begin(denseRate: number, embeddingRate: number): void;
  updateDense(name: string, param: tf.Variable, grad: tf.Tensor): void;
  /** Updates `rows` of a row-major table of width `dim`; `grad` holds one row per entry of `rows`. */
  updateSparse(table: Float32Array, dim: number, rows: Int32Array, grad: Float32Array): void;
  /** The state as named tensors (for a checkpoint); the caller disposes them. */
  stateTensors(): { name: string; tensor: tf.Tensor }[];
  restore(named: tf.NamedTensorMap): void;
  dispose(): void;
}

export type OptimizerName = "sgd" | "adam";

export function makeOptimizer(name: OptimizerName, weightDecay: number, tableSize: number): Optimizer {
  return name === "adam" ? new Adam({ ...ADAM_DEFAULTS, weightDecay }, tableSize) : new Sgd(weightDecay);
}

function restoreStep(named: tf.NamedTensorMap, prefix: string): number {
  const step = named[`${prefix}/step`];
  if (!step) throw new Error(`checkpoint has no ${prefix} optimizer state (${prefix}/step missing); it was written with another optimizer`);
  return step.dataSync()[0];
}

export class Sgd implements Optimizer {
  step = 0;
  private denseRate = 0;
  private embeddingRate = 0;

  constructor(readonly weightDecay: number) {}

  begin(denseRate: number, embeddingRate: number): void {
    this.step++;
    this.denseRate = denseRate;
    this.embeddingRate = embeddingRate;
  }

  updateDense(_name: string, param: tf.Variable, grad: tf.Tensor): void {
    const lr = this.denseRate;
    tf.tidy(() => param.assign(tf.sub(tf.mul(param, 1 - lr * this.weightDecay), tf.mul(grad, lr))));
  }

  updateSparse(table: Float32Array, dim: number, rows: Int32Array, grad: Float32Array): void {
    const lr = this.embeddingRate;
    const keep = 1 - lr * this.weightDecay;
    for (let i = 0; i < rows.length; i++) {
      const o = rows[i] * dim;
      for (let k = 0; k < dim; k++) table[o + k] = keep * table[o + k] - lr * grad[i * dim + k];
    }
  }

  stateTensors(): { name: string; tensor: tf.Tensor }[] {
    return [{ name: "sgd/step", tensor: tf.scalar(this.step, "int32") }];
  }

  restore(named: tf.NamedTensorMap): void {
    this.step = restoreStep(named, "sgd");
  }

  dispose(): void {}
}

export interface AdamSettings {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
}

export const ADAM_DEFAULTS: AdamSettings = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };

export class Adam implements Optimizer {
  step = 0;
  private readonly dense = new Map<string, { m: tf.Variable; v: tf.Variable }>();
  readonly sparseM: Float32Array;
  readonly sparseV: Float32Array;
  private denseRate = 0;
  private embeddingRate = 0;
  /** √(1 − β2^t) / (1 − β1^t) */
  private correction = 1;

  constructor(
    readonly settings: AdamSettings,
    tableSize: number,
  ) {
    this.sparseM = new Float32Array(tableSize);
    this.sparseV = new Float32Array(tableSize);
  }

  begin(denseRate: number, embeddingRate: number): void {
    this.step++;
    this.denseRate = denseRate;
    this.embeddingRate = embeddingRate;
    const { beta1, beta2 } = this.settings;
    this.correction = Math.sqrt(1 - beta2 ** this.step) / (1 - beta1 ** this.step);
  }

  updateDense(name: string, param: tf.Variable, grad: tf.Tensor): void {
    const { beta1, beta2, epsilon, weightDecay } = this.settings;
    let s = this.dense.get(name);
    if (!s) {
      s = { m: tf.variable(tf.zerosLike(param), false), v: tf.variable(tf.zerosLike(param), false) };
      this.dense.set(name, s);
    }
    const { m, v } = s;
    const lr = this.denseRate;
    tf.tidy(() => {
      m.assign(tf.add(tf.mul(m, beta1), tf.mul(grad, 1 - beta1)));
      v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(grad), 1 - beta2)));
      const decayed = weightDecay === 0 ? param : tf.mul(param, 1 - lr * weightDecay);
      param.assign(tf.sub(decayed, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsilon)), lr * this.correction)));
    });
  }

  updateSparse(table: Float32Array, dim: number, rows: Int32Array, grad: Float32Array): void {
    const { beta1, beta2, epsilon, weightDecay } = this.settings;
    const lr = this.embeddingRate;
    const keep = 1 - lr * weightDecay;
    const stepSize = lr * this.correction;
    const m = this.sparseM;
    const v = this.sparseV;
    for (let i = 0; i < rows.length; i++) {
      const o = rows[i] * dim;
      const g0 = i * dim;
      for (let k = 0; k < dim; k++) {
        const g = grad[g0 + k];
        const j = o + k;
        m[j] = beta1 * m[j] + (1 - beta1) * g;
        v[j] = beta2 * v[j] + (1 - beta2) * g * g;
        table[j] = keep * table[j] - (stepSize * m[j]) / (Math.sqrt(v[j]) + epsilon);
      }
    }
  }

  stateTensors(): { name: string; tensor: tf.Tensor }[] {
    const out: { name: string; tensor: tf.Tensor }[] = [{ name: "adam/step", tensor: tf.scalar(this.step, "int32") }];
    for (const [name, { m, v }] of this.dense) {
      out.push({ name: `adam/m/${name}`, tensor: m.clone() }, { name: `adam/v/${name}`, tensor: v.clone() });
    }
    out.push(
      { name: "adam/m/embedding", tensor: tf.tensor1d(this.sparseM) },
      { name: "adam/v/embedding", tensor: tf.tensor1d(this.sparseV) },
    );
    return out;
  }

  restore(named: tf.NamedTensorMap): void {
    this.step = restoreStep(named, "adam");
    for (const key of Object.keys(named)) {
      const m = /^adam\/m\/(.+)$/.exec(key);
      if (!m || m[1] === "embedding") continue;
      const v = named[`adam/v/${m[1]}`];
      if (!v) throw new Error(`checkpoint optimizer state for ${m[1]} is incomplete`);
      this.dense.get(m[1])?.m.dispose();
      this.dense.get(m[1])?.v.dispose();
      this.dense.set(m[1], { m: tf.variable(named[key], false), v: tf.variable(v, false) });
    }
    const sm = named["adam/m/embedding"]?.dataSync();
    const sv = named["adam/v/embedding"]?.dataSync();
    if (!sm || !sv || sm.length !== this.sparseM.length)
      throw new Error("checkpoint embedding optimizer state does not match the embedding table");
    this.sparseM.set(sm);
    this.sparseV.set(sv);
  }

  dispose(): void {
    for (const { m, v } of this.dense.values()) {
      m.dispose();
      v.dispose();
    }
    this.dense.clear();
  }
}
