/**
 * The position-wise MLP of a transformer block (GPT-2: width C → 4C → C):
 *
 *   y = act(x · W_up + b_up) · W_down + b_down        act = GELU (tanh form)
 */
import * as tf from "@tensorflow/tfjs";
import { type DenseWeights, dense } from "./ops.js";

export interface MlpWeights {
  /** weight [C, F], bias [F]. */
  up: DenseWeights;
  /** weight [F, C], bias [C]. */
  down: DenseWeights;
}

/** Parameter names (relative to the MLP unit) and shapes for residual width C and hidden width F. */
export function mlpParameterShapes(C: number, F: number): [string, number[]][] {
  return [
    ["up.weight", [C, F]],
    ["up.bias", [F]],
    ["down.weight", [F, C]],
    ["down.bias", [C]],
  ];
}

/** Rows x [N, C] → [N, C]. `activation` defaults to `gelu` (hub GPT-2 checkpoints may name another). */
export function mlp(x: tf.Tensor2D, w: MlpWeights, activation: (x: tf.Tensor2D) => tf.Tensor2D = gelu): tf.Tensor2D {
  return dense(activation(dense(x, w.up.weight, w.up.bias)), w.down.weight, w.down.bias);
}

/**
 * GELU, tanh form (the one GPT-2 was trained with), computed through the
 * identity ½(1 + tanh z) = sigmoid(2z): same function, and the wasm
 * backend's sigmoid is several times faster than its tanh.
 */
export function gelu(x: tf.Tensor2D): tf.Tensor2D {
  const inner = tf.add(x, tf.mul(0.044715, tf.mul(x, tf.mul(x, x))));
  return tf.mul(x, tf.sigmoid(tf.mul(2 * Math.sqrt(2 / Math.PI), inner)));
}
