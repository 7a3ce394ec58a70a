/**
 * The language model's units (attention, MLP, block, LayerNorm, positions)
 * on inputs small enough to work out by hand, and the parameter names and
 * order that saved checkpoints depend on.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/runtime/backend.js";
import {
  attentionBias,
  causalMasks,
  causalSelfAttention,
  layerNorm,
  mlp,
  parameterShapes,
  preNormBlock,
  tokenPositions,
  type AttentionWeights,
} from "../src/lm/index.js";

before(async () => {
  await initBackend({ quiet: true });
});

function close(actual: number[], expected: number[], tol = 1e-5): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) < tol, `index ${i}: ${a} vs ${expected[i]}`));
}

/** One head of width 2 whose q, k and v are the input itself, and an identity output projection. */
function identityAttention(): AttentionWeights {
  const eye = [1, 0, 0, 1];
  // qkv columns: q | k | v, each the identity.
  const qkv = tf.tensor2d([1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1], [2, 6]);
  return {
    qkv: { weight: qkv, bias: tf.zeros([6]) as tf.Tensor1D },
    out: { weight: tf.tensor2d(eye, [2, 2]), bias: tf.zeros([2]) as tf.Tensor1D },
  };
}

test("saved checkpoints keep their parameter names and order", () => {
  const names = parameterShapes({
    vocabSize: 5,
    contextLength: 4,
    layers: 1,
    heads: 1,
    width: 2,
    mlpWidth: 3,
    tiedEmbeddings: false,
    layerNormEpsilon: 1e-5,
    initStd: 0.02,
  }).map(([n, s]) => `${n}[${s}]`);
  assert.deepEqual(names, [
    "tokenEmbedding[5,2]",
    "positionEmbedding[4,2]",
    "blocks.0.attnNorm.gain[2]",
    "blocks.0.attnNorm.bias[2]",
    "blocks.0.attn.qkv.weight[2,6]",
    "blocks.0.attn.qkv.bias[6]",
    "blocks.0.attn.out.weight[2,2]",
    "blocks.0.attn.out.bias[2]",
    "blocks.0.mlpNorm.gain[2]",
    "blocks.0.mlpNorm.bias[2]",
    "blocks.0.mlp.up.weight[2,3]",
    "blocks.0.mlp.up.bias[3]",
    "blocks.0.mlp.down.weight[3,2]",
    "blocks.0.mlp.down.bias[2]",
    "finalNorm.gain[2]",
    "finalNorm.bias[2]",
    "lmHead.weight[2,5]",
    "valueHead.weight[2,1]",
    "valueHead.bias[1]",
  ]);
});

test("causal self-attention, worked out by hand, and the same rows through the KV cache", () => {
  tf.tidy(() => {
    const w = identityAttention();
    const x = tf.tensor2d([1, 0, 0, 1], [2, 2]); // one sequence of two tokens
    const [causal, self] = causalMasks(2, 0);
    const scale = 1 / Math.sqrt(2);
    const { y, kv } = causalSelfAttention(x, w, { batch: 1, heads: 1, scale, bias: attentionBias(causal, self) });
    // Token 0 reads only itself: y0 = x0. Token 1 reads scores [x1·x0, x1·x1]·scale = [0, 1/√2].
    const p = Math.exp(scale) / (1 + Math.exp(scale));
    close([...y.dataSync()], [1, 0, 1 - p, p]);
    assert.deepEqual(kv.keys.shape, [1, 1, 2, 2]);

    // Token 1 alone after the cached token 0 gives the same row.
    const first = causalSelfAttention(x.slice([0, 0], [1, 2]), w, {
      batch: 1,
      heads: 1,
      scale,
      bias: attentionBias(...causalMasks(1, 0)),
    });
    const second = causalSelfAttention(
      x.slice([1, 0], [1, 2]),
      w,
      { batch: 1, heads: 1, scale, bias: attentionBias(...causalMasks(1, 1)) },
      first.kv,
    );
    close([...second.y.dataSync()], [1 - p, p]);
    assert.deepEqual(second.kv.values.shape, [1, 1, 2, 2]);
  });
});

test("attention bias: no future keys, no padding keys, a padding query still reads itself", () => {
  tf.tidy(() => {
    const [causal, self] = causalMasks(3, 0);
    const bias = attentionBias(causal, self, tf.tensor2d([[0, 1, 1]]));
    const allowed = [...bias.dataSync()].map((b) => (b === 0 ? 1 : 0));
    assert.deepEqual(bias.shape, [1, 1, 3, 3]);
    // rows: queries 0 (padding), 1, 2; columns: keys 0, 1, 2
    assert.deepEqual(allowed, [1, 0, 0, 0, 1, 0, 0, 1, 1]);
  });
});

test("positions count real tokens only, after the cached ones", () => {
  tf.tidy(() => {
    assert.deepEqual(tokenPositions(2, 3, 0).arraySync(), [
      [0, 1, 2],
      [0, 1, 2],
    ]);
    assert.deepEqual(tokenPositions(1, 2, 3).arraySync(), [[3, 4]]);
    const mask = tf.tensor2d([[0, 0, 1, 1, 1]]);
    assert.deepEqual(tokenPositions(1, 5, 0, mask).arraySync(), [[0, 0, 0, 1, 2]]);
    assert.deepEqual(tokenPositions(1, 2, 3, mask).arraySync(), [[1, 2]]);
  });
});

test("LayerNorm, MLP and a pre-norm block, worked out by hand", () => {
  tf.tidy(() => {
    const norm = { gain: tf.tensor1d([1, 2, 1]), bias: tf.tensor1d([0, 0, 1]) };
    // [1, 2, 3]: mean 2, variance 2/3, normalised [−√1.5, 0, √1.5].
    const s = Math.sqrt(1.5);
    close([...layerNorm(tf.tensor2d([[1, 2, 3]]), norm, 0).dataSync()], [-s, 0, s + 1]);

    // up = relu([1, −2]·W_up + b_up) with W_up = I, b_up = [0.5, 0.5] → [1.5, 0]; down = up·[[2], [3]] + 1 → 4.
    const w = {
      up: { weight: tf.tensor2d([1, 0, 0, 1], [2, 2]), bias: tf.tensor1d([0.5, 0.5]) },
      down: { weight: tf.tensor2d([2, 3], [2, 1]), bias: tf.tensor1d([1]) },
    };
    close([...mlp(tf.tensor2d([[1, -2]]), w, tf.relu).dataSync()], [4]);

    // Zero weights: attention adds its output bias [1, 0], the MLP its output bias [0, 2] (residual connections).
    const zeroDense = (i: number, o: number, bias = new Array<number>(o).fill(0)) => ({
      weight: tf.zeros([i, o]) as tf.Tensor2D,
      bias: tf.tensor1d(bias),
    });
    const unit = { gain: tf.ones([2]) as tf.Tensor1D, bias: tf.zeros([2]) as tf.Tensor1D };
    const block = {
      attnNorm: unit,
      attn: { qkv: zeroDense(2, 6), out: zeroDense(2, 2, [1, 0]) },
      mlpNorm: unit,
      mlp: { up: zeroDense(2, 4), down: zeroDense(4, 2, [0, 2]) },
    };
    const x = tf.tensor2d([0.3, -0.7, 1.1, 2.2], [2, 2]);
    const [causal, self] = causalMasks(2, 0);
    const out = preNormBlock(x, block, { batch: 1, heads: 1, scale: 1, bias: attentionBias(causal, self), epsilon: 1e-5 });
    close([...out.x.dataSync()], [1.3, 1.3, 2.1, 4.2]);
  });
});
