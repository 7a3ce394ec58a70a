/**
 * GPT-2 from a hub folder against transformers' own outputs
 * (../shared/fixtures/hf/gpt2-tiny: ids and logits for every position,
 * computed by transformers 5.17 on the same files), on the cpu and wasm
 * backends; the tokenizer read both ways; other on-disk layouts (no
 * "transformer." prefix, sharded weights); padding; the KV cache; gradients.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { initBackend, type BackendName } from "../src/runtime/backend.js";
import { loadGpt2FromHub, parseGpt2Config, scoreCausalLm, type Gpt2LMHeadModel } from "../src/hub/gpt2.js";
import { loadHubBpeTokenizer } from "../src/hub/bpe.js";
import { readHubWeights } from "../src/hub/weights.js";
import { encodeSafetensors, readSafetensors } from "../src/lm/safetensors.js";
import { loadGpt2 } from "../src/lm/gpt2.js";
import { tempDir } from "./helpers.js";

const FIXTURES = process.env.FULCRA_HF_FIXTURES ?? fileURLToPath(new URL("../../../shared/fixtures/hf", import.meta.url));
const DIR = join(FIXTURES, "gpt2-tiny");
const BACKENDS: BackendName[] = ["cpu", "wasm"];

interface Probe {
  text: string;
  input_ids: number[];
  logits: number[][];
}
const expected = (): Probe[] => JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8")) as Probe[];

/** Largest |a − b| over rows [t][v] of `got` against `want`, for the first `want.length` positions. */
function maxDiff(got: number[][], want: number[][]): number {
  let worst = 0;
  assert.ok(got.length >= want.length, `${got.length} positions computed, ${want.length} expected`);
  want.forEach((row, t) => {
    assert.equal(got[t].length, row.length);
    row.forEach((x, v) => (worst = Math.max(worst, Math.abs(got[t][v] - x))));
  });
  return worst;
}

function logitsOf(model: Gpt2LMHeadModel, rows: number[][], mask?: number[][], positionsFromMask = false): number[][][] {
  return tf.tidy(() => {
    const ids = tf.tensor2d(rows, undefined, "int32");
    const m = mask ? tf.tensor2d(mask, undefined, "float32") : undefined;
    return model.forward(ids, { attentionMask: m, positionsFromMask }).arraySync();
  });
}

/** A copy of the fixture folder in which the weights are replaced by `tensors` (written by the kit's encoder). */
function variantFolder(tensors: [string, { shape: number[]; data: Float32Array }][], file = "model.safetensors"): string {
  const dir = tempDir("fulcra-gpt2-");
  for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(DIR, f), join(dir, f));
  writeFileSync(join(dir, file), encodeSafetensors(tensors));
  return dir;
}

test("gpt2-tiny: tokenizer.json gives transformers' ids exactly, and vocab.json + merges.txt give the same", {
  skip: !existsSync(DIR) && `no fixtures at ${FIXTURES}`,
}, () => {
  const fromJson = loadHubBpeTokenizer(DIR);
  const bare = tempDir("fulcra-bpe-");
  for (const f of ["vocab.json", "merges.txt", "tokenizer_config.json"]) copyFileSync(join(DIR, f), join(bare, f));
  const fromFiles = loadHubBpeTokenizer(bare);
  assert.equal(fromJson.vocabSize, 400);
  assert.equal(fromFiles.vocabSize, 400);
  assert.equal(fromJson.eosId, 0);
  for (const e of expected()) {
    assert.deepEqual(fromJson.encode(e.text), e.input_ids, `ids of ${JSON.stringify(e.text.slice(0, 30))}`);
    assert.deepEqual(fromFiles.encode(e.text), e.input_ids);
    assert.equal(fromJson.decode(e.input_ids), e.text);
  }
  // An added token written in the text is one id, as in transformers; other text around it is unchanged.
  const ids = fromJson.encode("Hello<|endoftext|>Hello");
  assert.deepEqual(ids, [40, 371, 76, 79, 0, 40, 371, 76, 79]);
  assert.deepEqual(fromFiles.encode("Hello<|endoftext|>Hello"), ids);
  // Batches: right padding with EOS, mask, truncation.
  const batch = fromJson.encodeBatch(["Hello", "Hello Hello"]);
  assert.deepEqual(batch.attentionMask[0], [1, 1, 1, 1, 0, 0, 0, 0, 0]);
  assert.equal(batch.inputIds[0][4], 0);
  assert.throws(() => fromJson.encodeBatch(["Hello Hello"], { maxLength: 4 }), /longer than the 4 allowed/);
  assert.deepEqual(fromJson.encodeBatch(["Hello Hello"], { maxLength: 4, truncation: true }).inputIds[0], [40, 371, 76, 79]);
});

for (const backend of BACKENDS) {
  test(`gpt2-tiny on ${backend}: logits for every position match transformers within 1e-4, single and padded`, {
    skip: !existsSync(DIR) && `no fixtures at ${FIXTURES}`,
  }, async () => {
    await initBackend({ prefer: backend, quiet: true });
    const { model, ignored } = loadGpt2FromHub(DIR);
    const tok = loadHubBpeTokenizer(DIR);
    assert.deepEqual(ignored, []);
    const probes = expected();
    let single = 0;
    for (const e of probes) single = Math.max(single, maxDiff(logitsOf(model, [tok.encode(e.text)])[0], e.logits));

    // All probes in one right-padded batch: the real positions must not change.
    const batch = tok.encodeBatch(probes.map((e) => e.text));
    const right = logitsOf(model, batch.inputIds, batch.attentionMask);
    let padded = 0;
    probes.forEach((e, i) => (padded = Math.max(padded, maxDiff(right[i], e.logits))));

    // Left padding with positions counted from the mask (how generation batches prompts).
    const T = batch.inputIds[0].length;
    const leftIds = probes.map((e) => [...new Array<number>(T - e.input_ids.length).fill(tok.padId), ...e.input_ids]);
    const leftMask = probes.map((e) => [
      ...new Array<number>(T - e.input_ids.length).fill(0),
      ...new Array<number>(e.input_ids.length).fill(1),
    ]);
    const left = logitsOf(model, leftIds, leftMask, true);
    let leftPadded = 0;
    probes.forEach((e, i) => (leftPadded = Math.max(leftPadded, maxDiff(left[i].slice(T - e.input_ids.length), e.logits))));
    console.log(
      `# gpt2-tiny ${backend}: max |Δlogit| single ${single.toExponential(2)}, right-padded batch ${padded.toExponential(2)}, left-padded batch ${leftPadded.toExponential(2)}`,
    );
    assert.ok(single <= 1e-4, `single: ${single}`);
    assert.ok(padded <= 1e-4, `right-padded: ${padded}`);
    assert.ok(leftPadded <= 1e-4, `left-padded: ${leftPadded}`);

    // The scoring helper behind `fulcra models score` (batches of 3: one full batch, one partial).
    const scored = scoreCausalLm(
      model,
      tok,
      probes.map((e) => e.text),
      { batchSize: 3 },
    );
    let scoredDiff = 0;
    scored.forEach((r, i) => {
      assert.deepEqual(r.input_ids, probes[i].input_ids);
      assert.equal(r.logits.length, probes[i].input_ids.length);
      scoredDiff = Math.max(scoredDiff, maxDiff(r.logits, probes[i].logits));
    });
    assert.ok(scoredDiff <= 1e-4, `scoreCausalLm: ${scoredDiff}`);
    assert.throws(
      () => scoreCausalLm(model, tok, ["ok", "x ".repeat(300)]),
      /text 1: \d+ tokens, longer than the 256 positions the model allows/,
    );
    assert.throws(
      () =>
        scoreCausalLm(model, { ...tok, encode: (t: string) => tok.encode(t), vocabSize: 401, padId: 0, source: "other/tokenizer.json" }, [
          "a",
        ]),
      /other\/tokenizer\.json: the tokenizer has 401 ids but the model's vocab_size is 400/,
    );

    // The KV cache: a prefix, then the rest one chunk at a time, gives the same logits.
    const ids = probes[0].input_ids;
    const first = model.step(tf.tensor2d([ids.slice(0, 10)], undefined, "int32"), undefined);
    const second = model.step(tf.tensor2d([ids.slice(10)], undefined, "int32"), undefined, first.cache);
    const cached = tf.tidy(() => tf.concat([model.logits(first.hidden), model.logits(second.hidden)], 1).arraySync()[0]);
    tf.dispose([first.hidden, second.hidden, first.cache.keys, first.cache.values, second.cache.keys, second.cache.values]);
    assert.ok(maxDiff(cached, probes[0].logits) <= 1e-4);
    // Sampling keeps the transposed head between calls; it must follow new weights (as after a training step).
    const wte = model.params.get("wte.weight")!;
    const h = model.hiddenStates(tf.tensor2d([ids.slice(0, 3)], undefined, "int32"));
    const beforeChange = tf.tidy(() => model.logits(h, true).arraySync()[0][2][7]);
    tf.tidy(() => wte.assign(tf.mul(wte, 2)));
    const afterChange = tf.tidy(() => model.logits(h, true).arraySync()[0][2][7]);
    assert.ok(Math.abs(afterChange - 2 * beforeChange) < 1e-4, `${afterChange} vs 2 × ${beforeChange}`);
    h.dispose();
    model.dispose();
  });
}

test("gpt2-tiny: names without the transformer. prefix, an untied head, sharded weights load the same model", {
  skip: !existsSync(DIR) && `no fixtures at ${FIXTURES}`,
}, async () => {
  await initBackend({ prefer: "cpu", quiet: true });
  const stored = readSafetensors(join(DIR, "model.safetensors")).tensors;
  assert.ok([...stored.keys()].every((n) => n.startsWith("transformer.") || n === "lm_head.weight"));
  const probe = expected()[2];
  const reference = loadGpt2FromHub(DIR).model;
  const want = logitsOf(reference, [probe.input_ids])[0];

  // As `gpt2` itself stores them: no prefix, no lm_head, and the old mask buffers.
  const bare = [...stored]
    .filter(([n]) => n !== "lm_head.weight")
    .map(([n, t]) => [n.replace(/^transformer\./, ""), t] as [string, { shape: number[]; data: Float32Array }]);
  bare.push(["h.0.attn.bias", { shape: [1, 1, 2, 2], data: new Float32Array([1, 0, 1, 1]) }]);
  const plain = loadGpt2FromHub(variantFolder(bare));
  assert.deepEqual(
    plain.ignored.map((i) => i.name),
    ["h.0.attn.bias"],
  );
  assert.equal(maxDiff(logitsOf(plain.model, [probe.input_ids])[0], want), 0);

  // Sharded: two files and an index.
  const all = [...stored] as [string, { shape: number[]; data: Float32Array }][];
  const dir = variantFolder(all.slice(0, 5), "model-00001-of-00002.safetensors");
  writeFileSync(join(dir, "model-00002-of-00002.safetensors"), encodeSafetensors(all.slice(5)));
  const weightMap = Object.fromEntries(
    all.map(([n], i) => [n, i < 5 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors"]),
  );
  writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  const sharded = loadGpt2FromHub(dir);
  assert.equal(sharded.files.length, 2);
  assert.equal(maxDiff(logitsOf(sharded.model, [probe.input_ids])[0], want), 0);
  // The index is checked both ways.
  writeFileSync(
    join(dir, "model.safetensors.index.json"),
    JSON.stringify({ weight_map: { ...weightMap, "transformer.h.9.ln_1.weight": "model-00002-of-00002.safetensors" } }),
  );
  assert.throws(
    () => readHubWeights(dir),
    /weight_map puts "transformer\.h\.9\.ln_1\.weight" in model-00002-of-00002\.safetensors, but .* has no such tensor/,
  );
  const { "transformer.wte.weight": _dropped, ...fewer } = weightMap;
  writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ weight_map: fewer }));
  assert.throws(() => readHubWeights(dir), /holds 1 tensor\(s\) that .* does not list/);

  // An untied head is used when the config says so.
  const wte = stored.get("transformer.wte.weight")!;
  const untiedDir = variantFolder([
    ...all.filter(([n]) => n !== "lm_head.weight"),
    ["lm_head.weight", { shape: wte.shape, data: wte.data.map((x) => x * 2) }],
  ]);
  const cfg = JSON.parse(readFileSync(join(DIR, "config.json"), "utf8"));
  writeFileSync(join(untiedDir, "config.json"), JSON.stringify({ ...cfg, tie_word_embeddings: false }));
  const untied = logitsOf(loadGpt2FromHub(untiedDir).model, [probe.input_ids])[0];
  assert.ok(Math.abs(untied[0][5] - 2 * want[0][5]) < 1e-4);

  // Errors name the file and the field.
  assert.throws(
    () => loadGpt2FromHub(variantFolder([...bare, ["h.0.attn.extra", { shape: [1], data: new Float32Array(1) }]])),
    /model\.safetensors: tensor "h\.0\.attn\.extra" is not a GPT2LMHeadModel weight/,
  );
  const wrongDir = variantFolder(bare);
  writeFileSync(join(wrongDir, "config.json"), JSON.stringify({ ...cfg, n_embd: 64 }));
  assert.throws(() => loadGpt2FromHub(wrongDir), /tensor "wte\.weight" has shape \[400,32\], but config\.json .* implies \[400,64\]/);
  assert.throws(
    () => parseGpt2Config({ ...cfg, activation_function: "mish" }, "x/config.json"),
    /x\/config\.json: field "activation_function" is "mish"; supported: gelu_new/,
  );
  assert.throws(() => parseGpt2Config({ ...cfg, architectures: ["BertModel"] }, "x/config.json"), /this loader reads GPT2LMHeadModel/);
});

test("gpt2-tiny: the kit's own GPT-2 loader (src/lm) reproduces the same logits without padding", {
  skip: !existsSync(DIR) && `no fixtures at ${FIXTURES}`,
}, async () => {
  await initBackend({ prefer: "cpu", quiet: true });
  const { model } = loadGpt2(DIR);
  const e = expected()[0];
  const got = tf.tidy(() => model.forward(tf.tensor2d([e.input_ids], undefined, "int32")).logits.arraySync()[0]);
  assert.ok(maxDiff(got, e.logits) <= 1e-4);
  model.dispose();
  // Settings the kit's decoder does not compute are refused there, not silently ignored.
  const dir = tempDir("fulcra-gpt2-variant-");
  for (const f of ["model.safetensors", "vocab.json", "merges.txt"]) copyFileSync(join(DIR, f), join(dir, f));
  const cfg = JSON.parse(readFileSync(join(DIR, "config.json"), "utf8"));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...cfg, scale_attn_by_inverse_layer_idx: true }));
  assert.throws(
    () => loadGpt2(dir),
    /scale_attn_by_inverse_layer_idx is not computed by the kit's decoder; load the folder with loadGpt2FromHub/,
  );
});

for (const backend of BACKENDS) {
  test(`gpt2-tiny on ${backend}: gradients through the whole model agree with finite differences`, {
    skip: !existsSync(DIR) && `no fixtures at ${FIXTURES}`,
  }, async () => {
    await initBackend({ prefer: backend, quiet: true });
    const { model } = loadGpt2FromHub(DIR);
    const ids = [expected()[2].input_ids, [40, 371, 76, 79]];
    const mask = [
      [1, 1, 1, 1],
      [1, 1, 1, 0],
    ];
    // L = mean over real positions of the next-token cross-entropy (a causal-LM training loss).
    const loss = () =>
      tf.tidy(() => {
        const x = tf.tensor2d(ids, undefined, "int32");
        const m = tf.tensor2d(mask, undefined, "float32");
        const logits = model.forward(x, { attentionMask: m }).slice([0, 0, 0], [2, 3, -1]);
        const targets = tf.oneHot(x.slice([0, 1], [2, 3]).reshape([-1]), 400).reshape([2, 3, 400]);
        const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), targets), -1));
        const w = m.slice([0, 1], [2, 3]);
        return tf.div(tf.sum(tf.mul(nll, w)), tf.sum(w)) as tf.Scalar;
      });
    const { value, grads } = tf.variableGrads(loss, model.trainableVariables);
    value.dispose();
    // Every parameter receives a gradient (wpe only in its first rows).
    for (const v of model.trainableVariables) {
      const g = grads[v.name];
      assert.ok(g, `no gradient for ${v.name}`);
      assert.ok(tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]) > 0, `zero gradient for ${v.name}`);
    }
    // Central differences on a few entries, across the network.
    let worst = 0;
    for (const [name, index] of [
      ["h.0.attn.c_attn.weight", 37],
      ["h.1.mlp.c_fc.bias", 5],
      ["ln_f.weight", 3],
      ["wte.weight", 40 * 32 + 7],
      ["wpe.weight", 2 * 32 + 1],
      ["h.1.ln_1.bias", 9],
    ] as const) {
      const v = model.params.get(name)!;
      const base = v.dataSync().slice() as Float32Array;
      const h = 1e-2;
      const at = (delta: number) => {
        const d = base.slice();
        d[index] += delta;
        v.assign(tf.tensor(d, v.shape));
        const l = loss();
        const r = l.dataSync()[0];
        l.dispose();
        return r;
      };
      const numeric = (at(h) - at(-h)) / (2 * h);
      v.assign(tf.tensor(base, v.shape));
      const analytic = grads[v.name].dataSync()[index];
      worst = Math.max(worst, Math.abs(numeric - analytic));
      assert.ok(
        Math.abs(numeric - analytic) <= 2e-3 + 0.02 * Math.abs(numeric),
        `${name}[${index}]: analytic ${analytic}, numeric ${numeric}`,
      );
    }
    console.log(`# gpt2-tiny ${backend}: largest |gradient − finite difference| ${worst.toExponential(2)}`);
    tf.dispose(Object.values(grads));
    model.dispose();
  });
}
