/**
 * AdamW and global-norm gradient clipping (TensorFlow's or PyTorch's
 * formula), written out so that the update is visible and its state can be
 * checkpointed by parameter name.
 *
 * AdamW (Loshchilov & Hutter): m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;
 * θ ← θ − lr · ( m̂ / (√v̂ + ε) + λ θ ), with m̂, v̂ the bias-corrected moments
 * and the decay λ applied to matrices only (not to biases, gains or the value head's bias).
 */
import * as tf from "@tensorflow/tfjs";

export interface AdamWOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay λ, applied to parameters of rank ≥ 2. */
  weightDecay?: number;
}

export class AdamW {
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** Updates applied so far. */
  stepCount = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(options: AdamWOptions) {
    this.learningRate = options.learningRate;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.95;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
  }

  /**
   * One update. `params` maps parameter names to variables; `grads` is what
   * tf.variableGrads returns (keyed by the variables' tfjs names).
   * Parameters without a gradient are left alone.
   */
  step(params: Map<string, tf.Variable>, grads: tf.NamedTensorMap): void {
    this.stepCount++;
    const t = this.stepCount;
    const correction1 = 1 - this.beta1 ** t;
    const correction2 = 1 - this.beta2 ** t;
    tf.tidy(() => {
      for (const [name, variable] of params) {
        const g = grads[variable.name];
        if (!g) continue;
        const m = this.slot(this.m, name, variable);
        const v = this.slot(this.v, name, variable);
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const update = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), this.epsilon));
        const decay = this.weightDecay > 0 && variable.rank >= 2 ? tf.mul(variable, this.weightDecay) : undefined;
        variable.assign(tf.sub(variable, tf.mul(decay ? tf.add(update, decay) : update, this.learningRate)));
      }
    });
  }

  /** The moments by name ("m.<param>", "v.<param>"), for checkpoints. Copies; the caller disposes them. */
  getState(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [n, t] of this.m) out.set(`m.${n}`, t.clone());
    for (const [n, t] of this.v) out.set(`v.${n}`, t.clone());
    return out;
  }

  /** Restores moments written by `getState` and the step count. */
  setState(state: Map<string, { shape: number[]; data: Float32Array }>, stepCount: number, params: Map<string, tf.Variable>): void {
    for (const [key, t] of state) {
      const [slot, ...rest] = key.split(".");
      const name = rest.join(".");
      const variable = params.get(name);
      if (!variable || (slot !== "m" && slot !== "v"))
        throw new Error(`AdamW.setState: "${key}" does not name a moment of a known parameter`);
      if (t.data.length !== variable.size)
        throw new Error(`AdamW.setState: "${key}" has ${t.data.length} values, parameter "${name}" has ${variable.size}`);
      const store = slot === "m" ? this.m : this.v;
      store.get(name)?.dispose();
      store.set(name, tf.variable(tf.tensor(t.data, variable.shape), false));
    }
    this.stepCount = stepCount;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }

  private slot(store: Map<string, tf.Variable>, name: string, like: tf.Variable): tf.Variable {
    let s = store.get(name);
    if (!s) {
      s = tf.variable(tf.zerosLike(like), false);
      store.set(name, s);
    }
    return s;
  }
}

/**
 * Scales all gradients together so that their global norm ‖g‖ (over all of
 * them) is at most `maxNorm`, in one of the two usual ways:
 *
 * - without `epsilon` (TensorFlow's clip_by_global_norm): g · maxNorm / ‖g‖
 *   when ‖g‖ > maxNorm, else g unchanged; ‖g‖ in float64 from the float32
 *   sum of squares.
 * - with `epsilon` (PyTorch's clip_grad_norm_): g · min(1, maxNorm / (‖g‖ + ε))
 *   in float32 on the backend, so a gradient below the limit is still scaled
 *   by a hair; maxNorm ≤ 0 leaves the gradients as they are.
 *
 * Returns the clipped gradients (new tensors; the caller disposes them and
 * the inputs) and the norm before clipping (NaN/Infinity shows up here first).
 */
export function clipByGlobalNorm(
  grads: tf.NamedTensorMap,
  maxNorm: number,
  options: { epsilon?: number } = {},
): { grads: tf.NamedTensorMap; norm: number } {
  const names = Object.keys(grads);
  const out: tf.NamedTensorMap = {};
  const { epsilon } = options;
  if (epsilon !== undefined) {
    let norm = NaN;
    tf.tidy(() => {
      const normT = tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n])))));
      const scale = maxNorm > 0 ? tf.minimum(1, tf.div(maxNorm, normT.add(epsilon))) : tf.scalar(1);
      for (const n of names) out[n] = tf.keep(tf.mul(grads[n], scale));
      norm = normT.dataSync()[0];
    });
    return { grads: out, norm };
  }
  const norm = tf.tidy(() => Math.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n])))).dataSync()[0]));
  const scale = Number.isFinite(norm) && norm > maxNorm ? maxNorm / norm : 1;
  for (const n of names) out[n] = scale === 1 ? grads[n].clone() : tf.mul(grads[n], scale);
  return { grads: out, norm };
}
