/**
 * Reading safetensors files and GPT-2-family checkpoints. The files are
 * written here byte by byte (not with the library's writer), and the loaded
 * model's logits are checked against a plain-JavaScript GPT-2 forward pass
 * on the same tiny weights.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/runtime/backend.js";
import { seededRandom } from "../src/runtime/random.js";
import { parseSafetensors, encodeSafetensors, loadGpt2, loadGpt2Tokenizer, gpt2ByteAlphabet } from "../src/lm/index.js";
import { tempDir } from "./helpers.js";

before(async () => {
  await initBackend({ quiet: true });
});

type Entry = { name: string; dtype: string; shape: number[]; bytes: Uint8Array };

/** A safetensors file from raw parts: u64 LE header length, JSON header, data. */
function safetensorsBytes(entries: Entry[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.length] };
    offset += e.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const e of entries) {
    out.set(e.bytes, at);
    at += e.bytes.length;
  }
  return out;
}

function f32(values: number[] | Float32Array): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  const dv = new DataView(b.buffer);
  Array.from(values).forEach((v, i) => dv.setFloat32(i * 4, v, true));
  return b;
}

function u16(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 2);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setUint16(i * 2, v, true));
  return b;
}

test("safetensors: header, dtypes (F32, F16, BF16, I64) and metadata", () => {
  const buf = safetensorsBytes(
    [
      { name: "a", dtype: "F32", shape: [2, 2], bytes: f32([1.5, -2, 0.25, 8]) },
      // half: 0x3C00 = 1, 0xC000 = −2, 0x3555 ≈ 0.333, 0x0001 = 2^-24 (smallest subnormal)
      { name: "h", dtype: "F16", shape: [4], bytes: u16([0x3c00, 0xc000, 0x3555, 0x0001]) },
      // bfloat16: 0x3F80 = 1, 0xC0A0 = −5
      { name: "b", dtype: "BF16", shape: [2], bytes: u16([0x3f80, 0xc0a0]) },
      {
        name: "i",
        dtype: "I64",
        shape: [2],
        bytes: new Uint8Array([7, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      },
    ],
    { format: "pt" },
  );
  const { tensors, metadata } = parseSafetensors(buf);
  assert.deepEqual(metadata, { format: "pt" });
  assert.deepEqual(tensors.get("a")!.shape, [2, 2]);
  assert.deepEqual(Array.from(tensors.get("a")!.data), [1.5, -2, 0.25, 8]);
  const h = Array.from(tensors.get("h")!.data);
  assert.equal(h[0], 1);
  assert.equal(h[1], -2);
  assert.ok(Math.abs(h[2] - 0.33325195) < 1e-7);
  assert.equal(h[3], 2 ** -24);
  assert.deepEqual(Array.from(tensors.get("b")!.data), [1, -5]);
  assert.deepEqual(Array.from(tensors.get("i")!.data), [7, -2]);
  // The library's writer produces what this reader reads, data 8-byte aligned.
  const again = encodeSafetensors([["x", { shape: [3], data: Float32Array.from([1, 2, 3]) }]]);
  const headerLength = Number(new DataView(again.buffer).getBigUint64(0, true));
  assert.equal((8 + headerLength) % 8, 0);
  assert.deepEqual(Array.from(parseSafetensors(again).tensors.get("x")!.data), [1, 2, 3]);
});

test("safetensors: broken files are reported with the tensor and the reason", () => {
  assert.throws(() => parseSafetensors(new Uint8Array(4), "x.safetensors"), /x\.safetensors: only 4 bytes/);
  const good = safetensorsBytes([{ name: "w", dtype: "F32", shape: [2], bytes: f32([1, 2]) }]);
  assert.throws(() => parseSafetensors(good.slice(0, good.length - 4), "t.safetensors"), /tensor "w": data_offsets \[0, 8\] fall outside/);
  const wrongShape = safetensorsBytes([{ name: "w", dtype: "F32", shape: [3], bytes: f32([1, 2]) }]);
  assert.throws(() => parseSafetensors(wrongShape), /"w": 8 bytes stored but shape \[3\] of F32 needs 12/);
  const badDtype = safetensorsBytes([{ name: "w", dtype: "C64", shape: [1], bytes: new Uint8Array(8) }]);
  assert.throws(() => parseSafetensors(badDtype), /"w": dtype "C64" is not supported/);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 1000n, true);
  assert.throws(() => parseSafetensors(huge), /header length 1000 is larger than the file/);
});

// ------------------------------------------------------------------ a tiny GPT-2

const V = 23;
const T = 7;
const C = 8;
const H = 2;
const F = 16;
const L = 2;

function gpt2Weights(seed: number): Map<string, { shape: number[]; data: Float32Array }> {
  const random = seededRandom(seed);
  const w = new Map<string, { shape: number[]; data: Float32Array }>();
  const put = (name: string, shape: number[], around = 0, scale = 0.4) => {
    const n = shape.reduce((a, b) => a * b, 1);
    w.set(name, { shape, data: Float32Array.from({ length: n }, () => around + scale * (random() - 0.5)) });
  };
  put("wte.weight", [V, C], 0, 1);
  put("wpe.weight", [T, C], 0, 0.5);
  for (let l = 0; l < L; l++) {
    put(`h.${l}.ln_1.weight`, [C], 1);
    put(`h.${l}.ln_1.bias`, [C]);
    put(`h.${l}.attn.c_attn.weight`, [C, 3 * C], 0, 1);
    put(`h.${l}.attn.c_attn.bias`, [3 * C]);
    put(`h.${l}.attn.c_proj.weight`, [C, C]);
    put(`h.${l}.attn.c_proj.bias`, [C]);
    put(`h.${l}.ln_2.weight`, [C], 1);
    put(`h.${l}.ln_2.bias`, [C]);
    put(`h.${l}.mlp.c_fc.weight`, [C, F]);
    put(`h.${l}.mlp.c_fc.bias`, [F]);
    put(`h.${l}.mlp.c_proj.weight`, [F, C]);
    put(`h.${l}.mlp.c_proj.bias`, [C]);
  }
  put("ln_f.weight", [C], 1);
  put("ln_f.bias", [C]);
  return w;
}

/** GPT-2's forward pass in float64 loops, written from its definition (second code path). */
function referenceLogits(w: Map<string, { data: Float32Array }>, ids: number[]): number[][] {
  const get = (n: string) => w.get(n)!.data;
  const D = C / H;
  const layerNorm = (x: number[], g: Float32Array, b: Float32Array) => {
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
    return x.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-5)) * g[i] + b[i]);
  };
  const linear = (x: number[], W: Float32Array, b: Float32Array, out: number) =>
    Array.from({ length: out }, (_, j) => x.reduce((s, v, i) => s + v * W[i * out + j], b[j]));
  const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  let xs = ids.map((id, t) => Array.from({ length: C }, (_, c) => get("wte.weight")[id * C + c] + get("wpe.weight")[t * C + c]));
  for (let l = 0; l < L; l++) {
    const p = `h.${l}.`;
    const qkv = xs.map((x) =>
      linear(layerNorm(x, get(p + "ln_1.weight"), get(p + "ln_1.bias")), get(p + "attn.c_attn.weight"), get(p + "attn.c_attn.bias"), 3 * C),
    );
    const attended = xs.map((_, t) => {
      const out = new Array<number>(C).fill(0);
      for (let h = 0; h < H; h++) {
        const q = qkv[t].slice(h * D, (h + 1) * D);
        const scores = Array.from({ length: t + 1 }, (_, s) => q.reduce((acc, v, d) => acc + v * qkv[s][C + h * D + d], 0) / Math.sqrt(D));
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const z = e.reduce((a, b) => a + b, 0);
        for (let s = 0; s <= t; s++) for (let d = 0; d < D; d++) out[h * D + d] += (e[s] / z) * qkv[s][2 * C + h * D + d];
      }
      return out;
    });
    xs = xs.map((x, t) => {
      const a = linear(attended[t], get(p + "attn.c_proj.weight"), get(p + "attn.c_proj.bias"), C);
      return x.map((v, i) => v + a[i]);
    });
    xs = xs.map((x) => {
      const up = linear(
        layerNorm(x, get(p + "ln_2.weight"), get(p + "ln_2.bias")),
        get(p + "mlp.c_fc.weight"),
        get(p + "mlp.c_fc.bias"),
        F,
      ).map(gelu);
      const down = linear(up, get(p + "mlp.c_proj.weight"), get(p + "mlp.c_proj.bias"), C);
      return x.map((v, i) => v + down[i]);
    });
  }
  return xs.map((x) => {
    const h = layerNorm(x, get("ln_f.weight"), get("ln_f.bias"));
    return Array.from({ length: V }, (_, v) => h.reduce((s, hv, c) => s + hv * get("wte.weight")[v * C + c], 0));
  });
}

function writeGpt2(
  dir: string,
  weights: Map<string, { shape: number[]; data: Float32Array }>,
  options: { prefix?: string; buffers?: boolean; extra?: Entry[] } = {},
): string {
  const entries: Entry[] = [];
  for (const [name, t] of weights) entries.push({ name: (options.prefix ?? "") + name, dtype: "F32", shape: t.shape, bytes: f32(t.data) });
  if (options.buffers)
    for (let l = 0; l < L; l++)
      entries.push({
        name: `${options.prefix ?? ""}h.${l}.attn.bias`,
        dtype: "F32",
        shape: [1, 1, T, T],
        bytes: f32(new Array(T * T).fill(1)),
      });
  entries.push(...(options.extra ?? []));
  const file = join(dir, "model.safetensors");
  writeFileSync(file, safetensorsBytes(entries, { format: "pt" }));
  return file;
}

test("GPT-2 weights load through the name mapping and give GPT-2's logits", () => {
  const dir = tempDir();
  const weights = gpt2Weights(3);
  writeGpt2(dir, weights, { prefix: "transformer.", buffers: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ n_head: H, n_layer: L, layer_norm_epsilon: 1e-5 }));
  const { model, config, ignored, tokenizer } = loadGpt2(dir);
  assert.deepEqual(
    {
      vocabSize: config.vocabSize,
      contextLength: config.contextLength,
      layers: config.layers,
      heads: config.heads,
      width: config.width,
      mlpWidth: config.mlpWidth,
      tied: config.tiedEmbeddings,
    },
    { vocabSize: V, contextLength: T, layers: L, heads: H, width: C, mlpWidth: F, tied: true },
  );
  assert.deepEqual(
    ignored.map((i) => i.name),
    ["h.0.attn.bias", "h.1.attn.bias"],
  );
  assert.equal(tokenizer, undefined);
  const ids = [4, 19, 0, 7, 7, 22, 11];
  const expected = referenceLogits(weights, ids);
  const got = tf.tidy(() => model.forward(tf.tensor2d([ids], [1, T], "int32")).logits.arraySync()[0]);
  let worst = 0;
  for (let t = 0; t < T; t++) for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(got[t][v] - expected[t][v]));
  assert.ok(worst < 1e-4, `largest logit difference ${worst}`);
  // The value head is new and starts at zero.
  assert.deepEqual(Array.from(model.params.get("valueHead.weight")!.dataSync()), new Array(C).fill(0));
  model.dispose();
});

test("GPT-2 loading fails clearly on a wrong shape, a missing tensor, an unknown tensor or unknown heads", () => {
  const weights = gpt2Weights(4);
  const bad = new Map(weights);
  bad.set("h.1.mlp.c_fc.weight", { shape: [C, F + 1], data: new Float32Array(C * (F + 1)) });
  let dir = tempDir();
  writeGpt2(dir, bad);
  assert.throws(
    () => loadGpt2(dir, { heads: H }),
    /"h\.1\.mlp\.c_fc\.weight" \(→ our "blocks\.1\.mlp\.up\.weight"\) has shape \[8,17\], expected \[8,16\]/,
  );

  const missing = new Map(weights);
  missing.delete("h.0.attn.c_proj.bias");
  dir = tempDir();
  writeGpt2(dir, missing);
  assert.throws(() => loadGpt2(dir, { heads: H }), /tensor "h\.0\.attn\.c_proj\.bias" is missing/);

  dir = tempDir();
  writeGpt2(dir, weights, { extra: [{ name: "h.0.attn.rotary", dtype: "F32", shape: [1], bytes: f32([0]) }] });
  assert.throws(() => loadGpt2(dir, { heads: H }), /tensor "h\.0\.attn\.rotary" has no place in the model/);

  dir = tempDir();
  const file = writeGpt2(dir, weights);
  assert.throws(() => loadGpt2(file), /number of attention heads is not stored/);
  const ok = loadGpt2(file, { heads: H });
  assert.equal(ok.config.heads, H);
  ok.model.dispose();
});

test("an untied lm_head is loaded transposed into our [width, vocab] layout", () => {
  const weights = gpt2Weights(5);
  const head = Float32Array.from({ length: V * C }, (_, i) => ((i * 37) % 11) / 10 - 0.5);
  const dir = tempDir();
  writeGpt2(dir, weights, { extra: [{ name: "lm_head.weight", dtype: "F32", shape: [V, C], bytes: f32(head) }] });
  const { model, config } = loadGpt2(dir, { heads: H });
  assert.equal(config.tiedEmbeddings, false);
  const ours = model.params.get("lmHead.weight")!.dataSync();
  // our [c, v] = theirs [v, c]
  assert.equal(ours[3 * V + 5], head[5 * C + 3]);
  assert.equal(ours[7 * V + 22], head[22 * C + 7]);
  model.dispose();
});

test("GPT-2 style tokenizer files (vocab.json + merges.txt), merges applied by rank", () => {
  const alphabet = gpt2ByteAlphabet();
  assert.equal(alphabet[32], "Ġ", "space is written Ġ");
  assert.equal(alphabet[10], "Ċ", "newline is written Ċ");
  assert.equal(alphabet[65], "A");
  // Byte tokens in a shuffled order (ids need not follow byte values), then three merges.
  const vocab: Record<string, number> = {};
  alphabet.forEach((ch, b) => (vocab[ch] = (b * 7) % 256));
  Object.assign(vocab, { Ġt: 256, he: 257, Ġthe: 258, "<|endoftext|>": 259 });
  const dir = tempDir();
  writeFileSync(join(dir, "vocab.json"), JSON.stringify(vocab));
  writeFileSync(join(dir, "merges.txt"), "#version: 0.2\nĠ t\nh e\nĠt he\n");
  const tok = loadGpt2Tokenizer(join(dir, "vocab.json"), join(dir, "merges.txt"));
  // "the the": "the" → t,h,e → (h e) → t,he (no "t he" merge); " the" → Ġt,he → Ġthe
  assert.deepEqual(tok.encode("the the"), [(116 * 7) % 256, 257, 258]);
  assert.equal(tok.decode(tok.encode("the the\n")), "the the\n");
  assert.equal(tok.specials.eos, 259);
  assert.equal(tok.decode([259, 258]), " the");
  assert.throws(() => {
    writeFileSync(join(dir, "merges2.txt"), "Ġ t\nq z\n");
    loadGpt2Tokenizer(join(dir, "vocab.json"), join(dir, "merges2.txt"));
  }, /merges2\.txt:2: merge "q z" uses a token missing/);
});
