/**
 * The kit's language model: tokenizer, network, sampling and log-probs.
 * Models here are tiny (a few thousand weights) so that every check is fast
 * and some can be checked against numbers worked out by hand.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/runtime/backend.js";
import { seededRandom } from "../src/runtime/random.js";
import { readRecords } from "../src/data/readers.js";
import {
  Tokenizer,
  trainTokenizer,
  encodeUtf8,
  decodeUtf8,
  createModel,
  loadModel,
  tokenLogProbs,
  generate,
  logProbsOf,
  rolloutTensors,
  sampleToken,
  AdamW,
  clipByGlobalNorm,
  type LmConfig,
  type CausalLm,
} from "../src/lm/index.js";
import { dataFile, tempDir } from "./helpers.js";

const TINY: Omit<LmConfig, "vocabSize"> = {
  contextLength: 24,
  layers: 2,
  heads: 2,
  width: 16,
  mlpWidth: 32,
  tiedEmbeddings: true,
  layerNormEpsilon: 1e-5,
  initStd: 0.3,
};

before(async () => {
  await initBackend({ quiet: true });
});

/** Adds seeded noise to every weight, so biases and the value head are not zero. */
function perturb(model: CausalLm, seed: number, scale = 0.1): void {
  const random = seededRandom(seed);
  for (const v of model.params.values()) {
    const d = Float32Array.from(v.dataSync());
    for (let i = 0; i < d.length; i++) d[i] += scale * (random() - 0.5);
    model.setWeights({ [[...model.params].find(([, x]) => x === v)![0]]: d });
  }
}

// ------------------------------------------------------------------ tokenizer

test("BPE merges on a tiny corpus, worked out by hand", () => {
  // Chunks: "ab", " ab", " ab", " abc". Pair counts: (a,b) 4, (" ",a) 3, (b,c) 1.
  // 1st merge a+b → 256; then (" ",ab) 3 → 257 " ab"; then (" ab",c) 1 → 258 " abc"; nothing left.
  const tok = trainTokenizer(["ab ab ab abc"], 300);
  assert.deepEqual(tok.json.merges, [
    [97, 98, 256],
    [32, 256, 257],
    [257, 99, 258],
  ]);
  assert.equal(tok.vocabSize, 263, "256 bytes + 3 merges + 4 special tokens (fewer merges than asked: the corpus ran out)");
  assert.deepEqual(tok.specials, { pad: 259, bos: 260, eos: 261, sep: 262 });
  assert.deepEqual(tok.encode("ab abc ab"), [256, 258, 257]);
  assert.equal(tok.tokenText(258), " abc");
  // Ties go to the pair with smaller ids: (x,y) = (120,121) before (z,w) = (122,119).
  const tie = trainTokenizer(["xy", "zw"], 261);
  assert.deepEqual(tie.json.merges[0], [120, 121, 256]);
});

test("encode/decode is lossless for any string and never emits special tokens", () => {
  const texts = readRecords("fulcra", dataFile("trustworthy_data"))
    .slice(0, 300)
    .map((r) => r.dialogue);
  const tok = trainTokenizer(texts, 600);
  assert.equal(tok.vocabSize, 600);
  const strings = [
    "",
    "Hello, world!  Two spaces,\ttab,\r\nCRLF and trailing space ",
    "Émigré naïve café — “quotes” 中文 日本語 한국어 😀👍🏽 🇳🇱",
    "lone surrogates \ud800 and \udfff in the middle",
    "literal <|eos|> and <|sep|> are plain text",
    "\u0000\u0001 control \u007f bytes",
    "numbers 1234567 3.14159 -42",
    ...texts.slice(0, 20),
  ];
  for (const s of strings) {
    const ids = tok.encode(s);
    assert.equal(tok.decode(ids), s, JSON.stringify(s.slice(0, 40)));
    for (const id of ids) assert.ok(!tok.isSpecial(id), `special id ${id} from plain text`);
  }
  // Merges pay off on the kit's text: fewer tokens than bytes.
  const sample = texts.slice(0, 50).join("\n");
  assert.ok(tok.encode(sample).length < encodeUtf8(sample).length / 2.2);
  // Invalid UTF-8 from a model decodes to U+FFFD rather than throwing.
  assert.equal(decodeUtf8(Uint8Array.of(0x61, 0xff, 0xe2, 0x82, 0x62)), "a\ufffd\ufffd\ufffdb");
  assert.equal(decodeUtf8(encodeUtf8("\ud83d\ude00")), "😀");
});

test("tokenizer training is deterministic and survives save/load", () => {
  const texts = readRecords("fulcra", dataFile("trustworthy_data"))
    .slice(0, 200)
    .map((r) => r.dialogue);
  const a = trainTokenizer(texts, 500);
  const b = trainTokenizer(texts, 500);
  assert.deepEqual(a.toJSON(), b.toJSON());
  const file = join(tempDir(), "tokenizer.json");
  a.save(file);
  const c = Tokenizer.load(file);
  const s = texts[7];
  assert.deepEqual(c.encode(s), a.encode(s));
  assert.throws(() => a.decode([500]), /outside the vocabulary/);
});

test("prompt and example formats: BOS prompt SEP response EOS, cut to the context", () => {
  const tok = trainTokenizer(["ab ab ab abc"], 300);
  const { bos, sep, eos } = tok.specials;
  assert.deepEqual(tok.formatPrompt("ab abc"), [bos, 256, 258, sep]);
  assert.deepEqual(tok.formatPrompt("ab abc ab", 2), [bos, 258, 257, sep], "keeps the last prompt tokens");
  const ex = tok.formatExample("ab", " abc", 10);
  assert.deepEqual(ex, { ids: [bos, 256, sep, 258, eos], responseStart: 3 });
  assert.deepEqual(tok.formatExample("ab", " abc ab ab ab", 6).ids, [bos, 256, sep, 258, 257, 257]);
  assert.equal(tok.decode([bos, 256, sep, 258, eos]), "ab abc");
  assert.equal(tok.decode([bos, 256, sep, 258, eos], { keepSpecial: true }), "<|bos|>ab<|sep|> abc<|eos|>");
});

// ------------------------------------------------------------------ model

function ids2d(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length, rows[0].length], "int32");
}

test("causal masking: a later token never changes earlier logits", () => {
  const model = createModel({ ...TINY, vocabSize: 40 }, 1);
  perturb(model, 2);
  const a = [3, 7, 1, 9, 22, 5, 14, 2];
  const b = a.slice();
  b[5] = 31;
  const [la, lb] = [a, b].map((row) => tf.tidy(() => model.forward(ids2d([row])).logits.arraySync()[0]));
  for (let t = 0; t < 5; t++) for (let v = 0; v < 40; v++) assert.equal(la[t][v], lb[t][v], `position ${t}`);
  const changed = la[5].some((x, v) => Math.abs(x - lb[5][v]) > 1e-4);
  assert.ok(changed, "the changed position's own logits move");
  model.dispose();
});

test("left padding with a mask gives the same logits as no padding", () => {
  const model = createModel({ ...TINY, vocabSize: 40 }, 3);
  perturb(model, 4);
  const row = [5, 6, 7, 8, 9];
  const plain = tf.tidy(() => model.forward(ids2d([row])).logits.arraySync()[0]);
  const padded = tf.tidy(
    () =>
      model
        .forward(ids2d([[0, 0, 0, ...row]]), { attentionMask: tf.tensor2d([[0, 0, 0, 1, 1, 1, 1, 1]], [1, 8], "int32") })
        .logits.arraySync()[0],
  );
  for (let t = 0; t < row.length; t++) for (let v = 0; v < 40; v++) assert.ok(Math.abs(plain[t][v] - padded[t + 3][v]) < 1e-5);
  model.dispose();
});

test("the KV-cache step gives the forward pass's logits and values", () => {
  const model = createModel({ ...TINY, vocabSize: 40 }, 5);
  perturb(model, 6);
  const rows = [
    [1, 2, 3, 4, 5, 6],
    [9, 8, 7, 6, 5, 4],
  ];
  const mask = tf.ones([2, 6], "int32") as tf.Tensor2D;
  const r = model.forward(ids2d(rows));
  const full = [r.logits.arraySync(), r.values.arraySync()] as const;
  tf.dispose([r.logits, r.values]);
  const first = model.step(ids2d(rows.map((r) => r.slice(0, 4))), mask.slice([0, 0], [2, 4]));
  const second = model.step(ids2d(rows.map((r) => r.slice(4, 5))), mask.slice([0, 0], [2, 5]), first.cache);
  const third = model.step(ids2d(rows.map((r) => r.slice(5, 6))), mask, second.cache);
  const l3 = third.logits.arraySync();
  const v3 = third.values.arraySync();
  for (let b = 0; b < 2; b++) {
    for (let v = 0; v < 40; v++) assert.ok(Math.abs(l3[b][0][v] - full[0][b][5][v]) < 1e-5);
    assert.ok(Math.abs(v3[b][0] - full[1][b][5]) < 1e-5);
  }
  assert.equal(third.cache.length, 6);
  tf.dispose([
    first.logits,
    first.values,
    second.logits,
    second.values,
    third.logits,
    third.values,
    mask,
    ...first.cache.keys,
    ...first.cache.values,
    ...second.cache.keys,
    ...second.cache.values,
    ...third.cache.keys,
    ...third.cache.values,
  ]);
  model.dispose();
});

test("gradients (hand-written for matmul, attention, embeddings, log-softmax) match finite differences", () => {
  const model = createModel({ ...TINY, vocabSize: 30, contextLength: 10 }, 7);
  perturb(model, 8);
  const B = 3;
  const T = 8;
  const ids = ids2d([
    [0, 0, 4, 9, 2, 17, 3, 8],
    [1, 5, 6, 7, 8, 9, 10, 11],
    [0, 21, 22, 2, 3, 29, 28, 4],
  ]);
  const mask = tf.tensor2d(
    [
      [0, 0, 1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1, 1, 1],
      [0, 1, 1, 1, 1, 1, 1, 1],
    ],
    [B, T],
    "int32",
  );
  const targets = tf.tensor1d(
    Array.from({ length: B * T }, (_, i) => (i * 7 + 1) % 30),
    "int32",
  );
  const loss = () =>
    tf.tidy(() => {
      const { logits, values } = model.forward(ids, { attentionMask: mask });
      return tf.add(
        tf.neg(tf.mean(tokenLogProbs(logits.reshape([B * T, 30]) as tf.Tensor2D, targets))),
        tf.mean(tf.square(values)),
      ) as tf.Scalar;
    });
  const { grads } = tf.variableGrads(loss, model.trainableVariables);
  let worst = 0;
  for (const [name, v] of model.params) {
    const g = grads[v.name].dataSync();
    const base = Float32Array.from(v.dataSync());
    for (const i of [0, Math.floor(base.length / 2), base.length - 1]) {
      const at = (d: number) => {
        const x = base.slice();
        x[i] += d;
        model.setWeights({ [name]: x });
        return loss().dataSync()[0];
      };
      const eps = 1e-2;
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      model.setWeights({ [name]: base });
      const err = Math.abs(numeric - g[i]) / Math.max(1e-2, Math.abs(numeric) + Math.abs(g[i]));
      worst = Math.max(worst, err);
      assert.ok(err < 0.03, `${name}[${i}]: analytic ${g[i]} vs numeric ${numeric}`);
    }
  }
  assert.ok(worst < 0.03);
  model.dispose();
});

test("save/load, clone and the variable groups", () => {
  const model = createModel({ ...TINY, vocabSize: 40 }, 9);
  perturb(model, 10);
  const dir = tempDir();
  model.save(dir);
  const loaded = loadModel(dir);
  const copy = model.clone();
  const row = ids2d([[1, 2, 3, 4]]);
  const ref = tf.tidy(() => model.forward(row).logits.arraySync());
  assert.deepEqual(
    tf.tidy(() => loaded.forward(row).logits.arraySync()),
    ref,
  );
  assert.deepEqual(
    tf.tidy(() => copy.forward(row).logits.arraySync()),
    ref,
  );
  // The clone has its own variables: changing it leaves the original alone.
  copy.setWeights({ "finalNorm.bias": new Float32Array(16).fill(1) });
  assert.deepEqual(
    tf.tidy(() => model.forward(row).logits.arraySync()),
    ref,
  );
  assert.equal(model.valueHeadVariables.length, 2);
  assert.equal(model.policyVariables.length + 2, model.trainableVariables.length);
  assert.ok(!model.policyVariables.includes(model.params.get("valueHead.weight")!));
  // 40·16 + 24·16 + 2·(4·16 + 16·48 + 48 + 16·16 + 16 + 16·32 + 32 + 32·16 + 16) + 2·16 + 16 + 1
  assert.equal(model.parameterCount(), 640 + 384 + 2 * (64 + 768 + 48 + 256 + 16 + 512 + 32 + 512 + 16) + 32 + 17);
  assert.throws(() => model.setWeights({ "finalNorm.bias": new Float32Array(3) }), /needs shape \[16\]/);
  assert.throws(() => model.setWeights({ nope: new Float32Array(3) }), /"nope" is not a parameter/);
  assert.throws(() => model.forward(ids2d([new Array(25).fill(1)])), /context is 24/);
  [model, loaded, copy].forEach((m) => m.dispose());
});

test("AdamW's first step moves each weight by lr·sign(g) (plus decay), and clipping scales to the norm", () => {
  const w = tf.variable(
    tf.tensor2d([
      [1, -2],
      [3, 0.5],
    ]),
    true,
    "adamw-test-w",
  );
  const params = new Map([["w", w]]);
  const opt = new AdamW({ learningRate: 0.1, weightDecay: 0.5 });
  opt.step(params, {
    [w.name]: tf.tensor2d([
      [2, -1],
      [0.5, -4],
    ]),
  });
  // m̂ = g, v̂ = g², so the update is g/|g| = sign(g); decay adds λ·θ.
  const expected = [1 - 0.1 * (1 + 0.5), -2 - 0.1 * (-1 - 1), 3 - 0.1 * (1 + 1.5), 0.5 - 0.1 * (-1 + 0.25)];
  Array.from(w.dataSync()).forEach((x, i) => assert.ok(Math.abs(x - expected[i]) < 1e-5));
  const { grads, norm } = clipByGlobalNorm({ a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) }, 1);
  assert.ok(Math.abs(norm - 5) < 1e-6);
  assert.deepEqual(
    Array.from(grads.a.dataSync()).map((x) => +x.toFixed(5)),
    [0.6, 0],
  );
  assert.deepEqual(
    Array.from(grads.b.dataSync()).map((x) => +x.toFixed(5)),
    [0, 0.8],
  );
  opt.dispose();
  w.dispose();
});

// ------------------------------------------------------------------ sampling

function tinyPolicy(seed: number) {
  const texts = readRecords("fulcra", dataFile("trustworthy_data"))
    .slice(0, 100)
    .map((r) => r.dialogue);
  const tokenizer = trainTokenizer(texts, 320);
  const model = createModel({ ...TINY, contextLength: 32, vocabSize: tokenizer.vocabSize }, seed);
  perturb(model, seed + 1);
  return { tokenizer, model };
}

const PROMPTS = ["How do I bake bread?", "Why is the sky blue and not green?", "Hi", "Tell me about honesty."];

test("sampling is deterministic for a seed, and the KV cache does not change the draws", () => {
  const { tokenizer, model } = tinyPolicy(11);
  const opts = { maxNewTokens: 10, seed: 42, temperature: 0.9, topK: 50, topP: 0.95 };
  const a = generate(model, tokenizer, PROMPTS, opts);
  const b = generate(model, tokenizer, PROMPTS, opts);
  const c = generate(model, tokenizer, PROMPTS, { ...opts, useCache: false });
  const d = generate(model, tokenizer, PROMPTS, { ...opts, seed: 43 });
  assert.deepEqual(a.responseIds, b.responseIds);
  assert.deepEqual(a.responseIds, c.responseIds);
  assert.notDeepEqual(a.responseIds, d.responseIds);
  assert.deepEqual(
    a.texts,
    a.responseIds.map((r) => tokenizer.decode(r)),
  );
  // Batching does not change the draws either: each prompt has its own generator, seeded from (seed, index).
  const e = generate(model, tokenizer, PROMPTS, { ...opts, batchSize: 3 });
  assert.deepEqual(e.responseIds, a.responseIds);
  assert.deepEqual(
    e.sequences.map((s) => s.length),
    a.sequences.map((s) => s.length),
  );
  model.dispose();
});

test("logProbsOf recomputes the log-probs and values recorded while sampling", () => {
  const { tokenizer, model } = tinyPolicy(12);
  const r = generate(model, tokenizer, PROMPTS, { maxNewTokens: 12, seed: 7, temperature: 0.7, topK: 20, batchSize: 3 });
  const t = rolloutTensors(r);
  const out = logProbsOf(model, t.sequences, t.attentionMask, { temperature: 0.7, withEntropy: true });
  const lp = out.logProbs.arraySync();
  const vals = out.values.arraySync();
  const ent = out.entropy!.arraySync();
  let checked = 0;
  for (let b = 0; b < PROMPTS.length; b++) {
    // The generated tokens sit at columns P … P+len-1; their log-probs at P-1 …
    assert.deepEqual(r.sequences[b].slice(r.promptLength, r.promptLength + r.responseIds[b].length), r.responseIds[b]);
    for (let j = 0; j < lp[b].length; j++) {
      if (!r.actionMask[b][j]) continue;
      assert.ok(Math.abs(lp[b][j] - r.alignedLogProbs[b][j]) < 1e-4, `row ${b} col ${j}: ${lp[b][j]} vs ${r.alignedLogProbs[b][j]}`);
      assert.ok(Math.abs(vals[b][j] - r.alignedValues[b][j]) < 1e-4);
      assert.ok(ent[b][j] > 0 && ent[b][j] <= Math.log(tokenizer.vocabSize) + 1e-4);
      checked++;
    }
    // Top-k renormalises over fewer tokens, so the sampled token is likelier under the truncated distribution.
    r.logProbs[b].forEach((x, i) => assert.ok(r.samplingLogProbs[b][i] >= x - 1e-12));
  }
  assert.equal(
    checked,
    r.responseIds.reduce((s, x) => s + x.length, 0),
  );
  tf.dispose([out.logProbs, out.values, out.entropy!, ...Object.values(t)]);
  model.dispose();
});

test("generation stops at EOS", () => {
  const { tokenizer, model } = tinyPolicy(13);
  // Make EOS overwhelmingly likely: the final LayerNorm outputs all ones, and only EOS's embedding row is non-zero.
  const V = tokenizer.vocabSize;
  const emb = new Float32Array(V * 16);
  emb.fill(1, tokenizer.specials.eos * 16, tokenizer.specials.eos * 16 + 16);
  model.setWeights({ tokenEmbedding: emb, "finalNorm.gain": new Float32Array(16), "finalNorm.bias": new Float32Array(16).fill(1) });
  const r = generate(model, tokenizer, PROMPTS.slice(0, 2), { maxNewTokens: 8, seed: 1 });
  assert.deepEqual(r.responseIds, [[tokenizer.specials.eos], [tokenizer.specials.eos]]);
  assert.deepEqual(r.finished, [true, true]);
  assert.deepEqual(r.texts, ["", ""]);
  model.dispose();
});

test("sampleToken: temperature, top-k and top-p by hand", () => {
  // probabilities 0.5, 0.3, 0.2 at temperature 1
  const logits = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.2)]);
  const fixed = (u: number) => () => u;
  const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
  // No truncation: u = 0.6 falls in token 1's share (0.5 … 0.8).
  let s = sampleToken(logits, { temperature: 1, topK: 0, topP: 1 }, fixed(0.6));
  assert.equal(s.token, 1);
  near(s.logProb, Math.log(0.3));
  near(s.samplingLogProb, Math.log(0.3));
  // top-p 0.6 keeps {0, 1} (0.5 < 0.6 ≤ 0.8); u = 0.7 of 0.8 → token 1, sampled with 0.3/0.8.
  s = sampleToken(logits, { temperature: 1, topK: 0, topP: 0.6 }, fixed(0.7));
  assert.equal(s.token, 1);
  near(s.samplingLogProb, Math.log(0.3 / 0.8));
  // top-k 1 is greedy whatever the draw.
  assert.equal(sampleToken(logits, { temperature: 1, topK: 1, topP: 1 }, fixed(0.99)).token, 0);
  // temperature 2: probabilities ∝ √p → 0.7071, 0.5477, 0.4472 (sum 1.7020); log-prob of token 2 = log(0.4472/1.7020)
  s = sampleToken(logits, { temperature: 2, topK: 0, topP: 1 }, fixed(0.99));
  assert.equal(s.token, 2);
  near(s.logProb, Math.log(Math.sqrt(0.2) / (Math.sqrt(0.5) + Math.sqrt(0.3) + Math.sqrt(0.2))));
  // temperature 0: argmax, log-prob under temperature 1.
  s = sampleToken(logits, { temperature: 0, topK: 0, topP: 1 }, fixed(0.5));
  assert.equal(s.token, 0);
  near(s.logProb, Math.log(0.5));
});
