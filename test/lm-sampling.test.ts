/**
 * The sampling stack's contracts, on scripted models and scripted draws
 * small enough to work out by hand: which number of which generator picks
 * which token, the padded layout, the log-probs of a continuation, and the
 * two gradient-clipping formulas.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/runtime/backend.js";
import { clipByGlobalNorm, drawToken, logProbsOf, pickToken, sampleBatch, type SamplingModel } from "../src/lm/index.js";

before(async () => {
  await initBackend({ quiet: true });
});

/** A model over 4 tokens whose logits at column t are [slope · t, 0, 0, 0] whatever the ids, with value t. */
function scripted(slope: number): SamplingModel {
  return {
    forward: (ids) =>
      tf.tidy(() => {
        const [B, T] = ids.shape;
        const t = tf.range(0, T).reshape([1, T, 1]);
        const first = tf.tile(t.mul(slope), [B, 1, 1]);
        return {
          logits: tf.concat([first, tf.zeros([B, T, 3])], 2) as tf.Tensor3D,
          values: tf.tile(tf.range(0, T).reshape([1, T]), [B, 1]) as tf.Tensor2D,
        };
      }),
  };
}

/** A generator that returns the given numbers in order and counts the calls. */
function script(numbers: number[]) {
  const f = () => {
    if (f.calls >= numbers.length) throw new Error("more draws than scripted");
    return numbers[f.calls++];
  };
  f.calls = 0;
  return f;
}

const UNIFORM = { maxNewTokens: 4, temperature: 1, topK: 0, topP: 1, useCache: true, stop: new Set([3]), pad: 0 };

test("sampleBatch: one generator for all rows is read token by token, row by row; the layout by hand", () => {
  // Uniform over 4 tokens: u in [0.25k, 0.25(k+1)) picks token k; token 3 ends an answer.
  // step 0: row 0 u=0.1 → 0, row 1 u=0.6 → 2;  step 1: row 0 u=0.9 → 3 (ends), row 1 u=0.3 → 1;
  // step 2: row 1 u=0.55 → 2;  step 3: row 1 u=0.8 → 3 (ends).
  const random = script([0.1, 0.6, 0.9, 0.3, 0.55, 0.8]);
  const r = sampleBatch(scripted(0), [[1, 2], [2]], UNIFORM, [random, random]);
  assert.equal(random.calls, 6);
  assert.deepEqual(r.responseIds, [
    [0, 3],
    [2, 1, 2, 3],
  ]);
  assert.deepEqual(r.finished, [true, true]);
  assert.equal(r.promptLength, 2);
  // The shorter prompt is left-padded; the shorter answer right-padded (pad id 0).
  assert.deepEqual(r.sequences, [
    [1, 2, 0, 3, 0, 0],
    [0, 2, 2, 1, 2, 3],
  ]);
  assert.deepEqual(r.attentionMask, [
    [1, 1, 1, 1, 0, 0],
    [0, 1, 1, 1, 1, 1],
  ]);
  assert.deepEqual(r.actionMask, [
    [0, 1, 1, 0, 0],
    [0, 1, 1, 1, 1],
  ]);
  // The value recorded with each token is the model's value at the last column read (its index here).
  assert.deepEqual(r.values, [
    [1, 2],
    [1, 2, 3, 4],
  ]);
  assert.deepEqual(r.alignedValues[0], [0, 1, 2, 0, 0]);
  r.logProbs.flat().forEach((x) => assert.ok(Math.abs(x - Math.log(0.25)) < 1e-7));
  assert.deepEqual(r.samplingLogProbs, r.logProbs);

  // One generator per row, fed the same numbers each row saw above, draws the same tokens.
  const perRow = sampleBatch(scripted(0), [[1, 2], [2]], UNIFORM, [script([0.1, 0.9]), script([0.6, 0.3, 0.55, 0.8])]);
  assert.deepEqual(perRow.sequences, r.sequences);

  // Fixed width: every row keeps maxNewTokens response columns, padded after the end.
  const wide = sampleBatch(scripted(0), [[1, 2]], { ...UNIFORM, maxNewTokens: 5, fullWidth: true }, [script([0.1, 0.9])]);
  assert.deepEqual(wide.sequences, [[1, 2, 0, 3, 0, 0, 0]]);
});

test("top-p counts probability within the top-k tokens; the draw walks the kept tokens likeliest first", () => {
  const p = [0.5, 0.3, 0.15, 0.05];
  // top-2 renormalised: 0.5/0.8 = 0.625 ≥ 0.6, so top-p 0.6 keeps token 0 alone.
  assert.equal(
    drawToken(p, () => 0.99, 2, 0.6),
    0,
  );
  const s = pickToken(p, { temperature: 1, topK: 2, topP: 0.6 }, () => 0.99);
  assert.ok(Math.abs(s.logProb - Math.log(0.5)) < 1e-12 && Math.abs(s.samplingLogProb) < 1e-12);
  // top-p 0.6 alone keeps {0, 1} (0.5 < 0.6 ≤ 0.8): u = 0.99 · 0.8 = 0.792 lies past 0.5, in token 1's share.
  assert.equal(
    drawToken(p, () => 0.99, 0, 0.6),
    1,
  );
  // top-k 3 alone: u = 0.9 · 0.95 = 0.855 lies past 0.5 + 0.3, in token 2's share.
  assert.equal(
    drawToken(p, () => 0.9, 3, 1),
    2,
  );
});

test("logProbsOf scores the continuation from promptLength on, at the temperature", () => {
  // Column c predicts the token in column c + 1 from logits [c, 0, 0, 0] / T.
  const model = scripted(1);
  const ids = tf.tensor2d([[1, 0, 2, 0]], [1, 4], "int32");
  const T = 2;
  const z = (c: number) => Math.exp(c / T) + 3;
  const expected = [Math.log(1 / z(0)), Math.log(1 / z(1)), Math.log(Math.exp(2 / T) / z(2))];
  const all = logProbsOf(model, ids, undefined, { temperature: T, withEntropy: true });
  const tail = logProbsOf(model, ids, undefined, { temperature: T, promptLength: 2 });
  const near = (a: number[], b: number[]) => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-6, `${a} vs ${b}`));
  near(all.logProbs.arraySync()[0], expected);
  near(tail.logProbs.arraySync()[0], expected.slice(1));
  assert.deepEqual(tail.values.arraySync(), [[1, 2]]);
  // Column 0 is uniform: entropy ln 4.
  assert.ok(Math.abs(all.entropy!.arraySync()[0][0] - Math.log(4)) < 1e-6);
  assert.equal(tail.entropy, undefined);
  assert.throws(() => logProbsOf(model, ids, undefined, { promptLength: 4 }), /promptLength must be an integer in \[1, 3\]/);
  tf.dispose([ids, all.logProbs, all.values, all.entropy!, tail.logProbs, tail.values]);
});

test("gradient clipping: TensorFlow's formula leaves a norm at the limit alone, PyTorch's (with ε) scales it by a hair", () => {
  // ‖g‖ = √(3² + 4²) = 5.
  const grads = () => ({ a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) });
  const values = (g: tf.NamedTensorMap) => [...g.a.dataSync(), ...g.b.dataSync()];
  const tfStyle = clipByGlobalNorm(grads(), 5);
  assert.equal(tfStyle.norm, 5);
  assert.deepEqual(values(tfStyle.grads), [3, 0, 0, 4]);
  // min(1, 5 / (5 + 1e-6)) = 0.9999998 in float32.
  const torchStyle = clipByGlobalNorm(grads(), 5, { epsilon: 1e-6 });
  assert.ok(Math.abs(torchStyle.norm - 5) < 1e-6);
  const [a0, , , b1] = values(torchStyle.grads);
  assert.ok(a0 < 3 && Math.abs(a0 - 3 * (5 / 5.000001)) < 1e-6, `${a0}`);
  assert.ok(b1 < 4 && Math.abs(b1 - 4 * (5 / 5.000001)) < 1e-6, `${b1}`);
  // Both clip a larger norm to the limit: 3 · 1/5 = 0.6 (PyTorch's a hair below).
  assert.ok(Math.abs(clipByGlobalNorm(grads(), 1).grads.a.dataSync()[0] - 0.6) < 1e-7);
  const t1 = clipByGlobalNorm(grads(), 1, { epsilon: 1e-6 }).grads.a.dataSync()[0];
  assert.ok(t1 < Math.fround(0.6) && Math.abs(t1 - 3 / 5.000001) < 1e-7, `${t1}`);
  // With ε, a limit of 0 means no clipping.
  assert.deepEqual(values(clipByGlobalNorm(grads(), 0, { epsilon: 1e-6 }).grads), [3, 0, 0, 4]);
});
