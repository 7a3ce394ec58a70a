/**
 * A pre-norm transformer block (GPT-2's):
 *
 *   x = x + Attention(LayerNorm_attn(x))
 *   x = x + MLP(LayerNorm_mlp(x))
 *
 * and the LayerNorm it uses (also the model's final norm).
 */
import * as tf from "@tensorflow/tfjs";
import { type AttentionOptions, type AttentionWeights, attentionParameterShapes, causalSelfAttention, type LayerKv } from "./attention.js";
import { type MlpWeights, mlp, mlpParameterShapes } from "./mlp.js";

export interface LayerNormWeights {
  /** [C] (GPT-2 names it "weight"). */
  gain: tf.Tensor1D;
  /** [C]. */
  bias: tf.Tensor1D;
}

/** LayerNorm over the last axis of rows x [N, C] (biased variance, as PyTorch). */
export function layerNorm(x: tf.Tensor2D, w: LayerNormWeights, epsilon: number): tf.Tensor2D {
  const mean = tf.mean(x, -1, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), -1, true);
  const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, epsilon)));
  return tf.add(tf.mul(normed, w.gain), w.bias) as tf.Tensor2D;
}

export interface BlockWeights {
  attnNorm: LayerNormWeights;
  attn: AttentionWeights;
  mlpNorm: LayerNormWeights;
  mlp: MlpWeights;
}

/** Parameter names (relative to the block) and shapes, in the order save files hold them. */
export function blockParameterShapes(C: number, F: number): [string, number[]][] {
  return [
    ["attnNorm.gain", [C]],
    ["attnNorm.bias", [C]],
    ...attentionParameterShapes(C).map(([n, s]): [string, number[]] => ["attn." + n, s]),
    ["mlpNorm.gain", [C]],
    ["mlpNorm.bias", [C]],
    ...mlpParameterShapes(C, F).map(([n, s]): [string, number[]] => ["mlp." + n, s]),
  ];
}

/** A block's weights looked up by the names of `blockParameterShapes` (`get` adds any prefix or renaming). */
export function blockWeights(get: (name: string) => tf.Tensor): BlockWeights {
  const norm = (p: string): LayerNormWeights => ({ gain: get(p + ".gain") as tf.Tensor1D, bias: get(p + ".bias") as tf.Tensor1D });
  const linear = (p: string) => ({ weight: get(p + ".weight") as tf.Tensor2D, bias: get(p + ".bias") as tf.Tensor1D });
  return {
    attnNorm: norm("attnNorm"),
    attn: { qkv: linear("attn.qkv"), out: linear("attn.out") },
    mlpNorm: norm("mlpNorm"),
    mlp: { up: linear("mlp.up"), down: linear("mlp.down") },
  };
}

export interface BlockOptions extends AttentionOptions {
  /** LayerNorm epsilon. */
  epsilon: number;
  /** The MLP's activation (default GELU, tanh form). */
  activation?: (x: tf.Tensor2D) => tf.Tensor2D;
}

/** Rows x [B·S, C] of the new positions → [B·S, C], with this layer's keys and values over all positions. */
export function preNormBlock(x: tf.Tensor2D, w: BlockWeights, options: BlockOptions, past?: LayerKv): { x: tf.Tensor2D; kv: LayerKv } {
  const attended = causalSelfAttention(layerNorm(x, w.attnNorm, options.epsilon), w.attn, options, past);
  const h = tf.add(x, attended.y) as tf.Tensor2D;
  const y = tf.add(h, mlp(layerNorm(h, w.mlpNorm, options.epsilon), w.mlp, options.activation)) as tf.Tensor2D;
  return { x: y, kv: attended.kv };
}
