/**
 * Causal self-attention (Vaswani et al. 2017, scaled dot-product attention
 * with several heads), in GPT-2's layout: one fused q|k|v projection, the
 * heads side by side in the residual width, an output projection.
 *
 *   q, k, v = split(x · W_qkv + b_qkv)                  each [B, H, S, D], D = C / H
 *   k, v    = [cached k, v ; new k, v]                  [B, H, P + S, D]
 *   A       = softmax(q kᵀ · scale + bias)              scale = 1/√D in the kit's model
 *   y       = (A v, heads side by side) · W_out + b_out
 *
 * `bias` (from `attentionBias`) is 0 where query i may read key j and −1e9
 * elsewhere: no key from the future, no padding key. Rows are [B·S, C]
 * (batch and time flattened) as everywhere in the kit's models.
 */
import * as tf from "@tensorflow/tfjs";
import { bmm, type DenseWeights, dense } from "./ops.js";

export interface AttentionWeights {
  /** Fused query|key|value projection: weight [C, 3C], bias [3C]. */
  qkv: DenseWeights;
  /** Output projection: weight [C, C], bias [C]. */
  out: DenseWeights;
}

/** Parameter names (relative to the attention unit) and shapes for residual width C. */
export function attentionParameterShapes(C: number): [string, number[]][] {
  return [
    ["qkv.weight", [C, 3 * C]],
    ["qkv.bias", [3 * C]],
    ["out.weight", [C, C]],
    ["out.bias", [C]],
  ];
}

/** One layer's keys and values for every position read so far, each [batch, heads, positions, headWidth]. */
export interface LayerKv {
  keys: tf.Tensor4D;
  values: tf.Tensor4D;
}

export interface AttentionOptions {
  batch: number;
  heads: number;
  /** Factor on q·kᵀ (1/√headWidth; GPT-2 variants may also divide by the layer number or not scale at all). */
  scale: number;
  /** Additive bias [batch or 1, 1, new, cached + new] from `attentionBias`. */
  bias: tf.Tensor;
}

/**
 * Attention of the new rows `x` [B·S, C] over the cached positions `past`
 * (none: start fresh) and themselves. Returns the output [B·S, C] and the
 * keys and values over all positions (the next step's `past`).
 */
export function causalSelfAttention(
  x: tf.Tensor2D,
  w: AttentionWeights,
  options: AttentionOptions,
  past?: LayerKv,
): { y: tf.Tensor2D; kv: LayerKv } {
  const { batch: B, heads: H, scale, bias } = options;
  const C = x.shape[1];
  const S = x.shape[0] / B;
  const D = C / H;
  const qkv = dense(x, w.qkv.weight, w.qkv.bias);
  const [q, k, v] = tf.split(qkv, 3, 1).map((t) => t.reshape([B, S, H, D]).transpose([0, 2, 1, 3]) as tf.Tensor4D);
  const keys = past ? (tf.concat([past.keys, k], 2) as tf.Tensor4D) : k;
  const values = past ? (tf.concat([past.values, v], 2) as tf.Tensor4D) : v;
  const T = keys.shape[2];
  const kT = keys.transpose([0, 1, 3, 2]).reshape([B * H, D, T]) as tf.Tensor3D;
  const scores = tf.add(tf.mul(bmm(q.reshape([B * H, S, D]) as tf.Tensor3D, kT).reshape([B, H, S, T]), scale), bias);
  const weights = tf.softmax(scores, -1).reshape([B * H, S, T]) as tf.Tensor3D;
  const mixed = bmm(weights, values.reshape([B * H, T, D]) as tf.Tensor3D)
    .reshape([B, H, S, D])
    .transpose([0, 2, 1, 3])
    .reshape([B * S, C]) as tf.Tensor2D;
  return { y: dense(mixed, w.out.weight, w.out.bias), kv: { keys, values } };
}

/** [S, P+S] 0/1 masks for S new queries after P cached positions: key j is not in query i's future (j ≤ P+i); key j is query i itself (j = P+i). */
export function causalMasks(S: number, P: number): [tf.Tensor2D, tf.Tensor2D] {
  const causal = new Float32Array(S * (P + S));
  const self = new Float32Array(S * (P + S));
  for (let i = 0; i < S; i++) {
    for (let j = 0; j <= P + i; j++) causal[i * (P + S) + j] = 1;
    self[i * (P + S) + P + i] = 1;
  }
  return [tf.tensor2d(causal, [S, P + S]), tf.tensor2d(self, [S, P + S])];
}

/**
 * Additive attention bias [B, 1, S, P+S] (or [1, 1, S, P+S] without a mask)
 * from `causalMasks`' two masks and `keyMask` [B, P+S] (1 real token, 0
 * padding): 0 where query i may read key j, −1e9 elsewhere. Allowed: j not
 * in the future, and j a real token or the query itself (so a padding query
 * still has one key and no row of the softmax is empty or ties with masked keys).
 */
export function attentionBias(causal: tf.Tensor2D, self: tf.Tensor2D, keyMask?: tf.Tensor2D): tf.Tensor {
  const [S, T] = causal.shape;
  let allowed: tf.Tensor = causal.reshape([1, 1, S, T]);
  if (keyMask)
    allowed = tf.mul(allowed, tf.maximum(tf.cast(keyMask, "float32").reshape([keyMask.shape[0], 1, 1, T]), self.reshape([1, 1, S, T])));
  return tf.mul(tf.sub(1, allowed), -1e9);
}
