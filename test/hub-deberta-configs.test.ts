/**
 * DeBERTa settings the fixtures do not use (separate position projections,
 * c2p or p2c alone, "p2c|c2p" strings, no buckets with a short
 * max_relative_positions, absolute positions, token types, a factorised
 * embedding, no relative attention, other activations), each checked against
 * a plain float64 loop over the same random weights, written from
 * transformers' DebertaV2 equations, padded batch included.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/runtime/backend.js";
import {
  DebertaV2,
  debertaParameterShapes,
  logBucketPosition,
  parseDebertaConfig,
  relativeSpan,
  type DebertaV2Config,
} from "../src/hub/deberta.js";
import { normal, seededRandom } from "../src/runtime/random.js";

type W = Map<string, { shape: number[]; data: Float32Array }>;

function randomWeights(c: DebertaV2Config, seed: number): W {
  const random = seededRandom(seed);
  const out: W = new Map();
  for (const [name, shape] of debertaParameterShapes(c, true)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const isNormGain = name.endsWith("LayerNorm.weight");
    for (let i = 0; i < n; i++) data[i] = isNormGain ? 1 + 0.1 * normal(random) : 0.3 * normal(random);
    out.set(name, { shape, data });
  }
  return out;
}

const act = (name: string, x: number): number => {
  if (name === "gelu") return 0.5 * x * (1 + erf(x / Math.SQRT2));
  if (name === "gelu_new") return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  if (name === "relu") return Math.max(0, x);
  throw new Error(name);
};
// erf through the Chebyshev-fitted erfc of Numerical Recipes (|error| < 1.2e-7), independent of the library's approximation.
function erf(x: number): number {
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y =
    1 -
    t *
      Math.exp(
        -x * x -
          1.26551223 +
          t *
            (1.00002368 +
              t *
                (0.37409196 +
                  t *
                    (0.09678418 +
                      t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
      );
  return x >= 0 ? y : -y;
}

/** Reference forward of one sequence: [hidden states per position, logits]. */
function reference(c: DebertaV2Config, w: W, ids: number[], mask: number[], types: number[]): { hidden: number[][]; logits: number[] } {
  const get = (n: string) => w.get(n)!;
  const lin = (n: string, x: number[], bias = true) => {
    const t = get(`${n}.weight`);
    const [o, i] = t.shape;
    return Array.from({ length: o }, (_, r) => {
      let s = bias ? get(`${n}.bias`).data[r] : 0;
      for (let k = 0; k < i; k++) s += t.data[r * i + k] * x[k];
      return s;
    });
  };
  const ln = (n: string, x: number[]) => {
    const m = x.reduce((a, b) => a + b, 0) / x.length;
    const v = x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length;
    return x.map((y, k) => ((y - m) / Math.sqrt(v + c.layer_norm_eps)) * get(`${n}.weight`).data[k] + get(`${n}.bias`).data[k]);
  };
  const row = (n: string, r: number) => Array.from(get(n).data.subarray(r * get(n).shape[1], (r + 1) * get(n).shape[1]));
  const L = ids.length;
  const H = c.hidden_size;
  const heads = c.num_attention_heads;
  const d = H / heads;
  let x = ids.map((id, i) => {
    let e = row("deberta.embeddings.word_embeddings.weight", id);
    if (c.position_biased_input) e = e.map((v, k) => v + row("deberta.embeddings.position_embeddings.weight", i)[k]);
    if (c.type_vocab_size > 0) e = e.map((v, k) => v + row("deberta.embeddings.token_type_embeddings.weight", types[i])[k]);
    if (c.embedding_size !== H) e = lin("deberta.embeddings.embed_proj", e, false);
    return ln("deberta.embeddings.LayerNorm", e).map((v) => v * mask[i]);
  });
  const { span, maxRelative } = relativeSpan(c);
  let rel: number[][] = [];
  if (c.relative_attention) {
    rel = Array.from({ length: 2 * span }, (_, r) => row("deberta.encoder.rel_embeddings.weight", r));
    if (c.norm_rel_ebd.includes("layer_norm")) rel = rel.map((r) => ln("deberta.encoder.LayerNorm", r));
  }
  const idx = (i: number, j: number) => {
    const r = c.position_buckets > 0 ? logBucketPosition(i - j, c.position_buckets, maxRelative) : i - j;
    return Math.min(Math.max(r + span, 0), 2 * span - 1);
  };
  const scale = Math.sqrt(d * (1 + c.pos_att_type.length));
  for (let layer = 0; layer < c.num_hidden_layers; layer++) {
    const p = `deberta.encoder.layer.${layer}.`;
    const q = x.map((h) => lin(`${p}attention.self.query_proj`, h));
    const k = x.map((h) => lin(`${p}attention.self.key_proj`, h));
    const v = x.map((h) => lin(`${p}attention.self.value_proj`, h));
    const kr =
      c.relative_attention && c.pos_att_type.includes("c2p")
        ? rel.map((r) => lin(`${p}attention.self.${c.share_att_key ? "key_proj" : "pos_key_proj"}`, r))
        : [];
    const qr =
      c.relative_attention && c.pos_att_type.includes("p2c")
        ? rel.map((r) => lin(`${p}attention.self.${c.share_att_key ? "query_proj" : "pos_query_proj"}`, r))
        : [];
    const ctx = x.map(() => new Array<number>(H).fill(0));
    for (let h = 0; h < heads; h++) {
      const dot = (a: number[], b: number[]) => a.slice(h * d, (h + 1) * d).reduce((s, y, t) => s + y * b[h * d + t], 0);
      for (let i = 0; i < L; i++) {
        if (!mask[i]) continue;
        const s = Array.from({ length: L }, (_, j) => {
          if (!mask[j]) return -Infinity;
          let a = dot(q[i], k[j]) / scale;
          if (kr.length) a += dot(q[i], kr[idx(i, j)]) / scale;
          if (qr.length) a += dot(k[j], qr[idx(i, j)]) / scale;
          return a;
        });
        const m = Math.max(...s);
        const e = s.map((y) => Math.exp(y - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j < L; j++) for (let t = 0; t < d; t++) ctx[i][h * d + t] += (e[j] / z) * v[j][h * d + t];
      }
    }
    x = x.map((h, i) => {
      const a = ln(
        `${p}attention.output.LayerNorm`,
        lin(`${p}attention.output.dense`, ctx[i]).map((y, t) => y + h[t]),
      );
      const inner = lin(`${p}intermediate.dense`, a).map((y) => act(c.hidden_act, y));
      return ln(
        `${p}output.LayerNorm`,
        lin(`${p}output.dense`, inner).map((y, t) => y + a[t]),
      );
    });
  }
  const pooled = lin("pooler.dense", x[0]).map((y) => act(c.pooler_hidden_act, y));
  return { hidden: x, logits: lin("classifier", pooled) };
}

const BASE = {
  vocab_size: 11,
  hidden_size: 12,
  num_hidden_layers: 2,
  num_attention_heads: 3,
  intermediate_size: 20,
  max_position_embeddings: 16,
  layer_norm_eps: 1e-7,
  num_labels: 2,
  type_vocab_size: 0,
  position_biased_input: false,
  relative_attention: true,
};
const SETTINGS: [string, Record<string, unknown>][] = [
  [
    "separate projections, c2p and p2c as a string, buckets 8",
    { pos_att_type: "p2c|c2p", share_att_key: false, position_buckets: 8, norm_rel_ebd: "layer_norm" },
  ],
  [
    "c2p only, no buckets, max_relative_positions 3 (clamped)",
    { pos_att_type: ["c2p"], share_att_key: false, max_relative_positions: 3, norm_rel_ebd: "none" },
  ],
  [
    "p2c only, shared keys, max_relative_positions from max_position_embeddings",
    { pos_att_type: ["p2c"], share_att_key: true, max_relative_positions: -1 },
  ],
  [
    "absolute positions, token types, factorised embedding, gelu_new / relu",
    {
      pos_att_type: ["c2p", "p2c"],
      share_att_key: true,
      position_buckets: 6,
      position_biased_input: true,
      type_vocab_size: 2,
      embedding_size: 8,
      hidden_act: "gelu_new",
      pooler_hidden_act: "relu",
      pooler_hidden_size: 7,
    },
  ],
  ["no relative attention (scale still counts pos_att_type)", { relative_attention: false, pos_att_type: ["c2p", "p2c"] }],
];

for (const backend of ["cpu", "wasm"] as const) {
  test(`DeBERTa settings beyond the fixtures equal the float64 reference on ${backend}`, async (t) => {
    await initBackend({ prefer: backend, quiet: true });
    let worst = 0;
    for (const [k, [label, extra]] of SETTINGS.entries()) {
      const c = parseDebertaConfig({ ...BASE, ...extra }, label);
      const w = randomWeights(c, 100 + k);
      const model = new DebertaV2(c, true, w, label);
      const ids = [
        [2, 5, 7, 1, 9, 3, 4, 10, 6, 8, 5, 2, 3],
        [2, 4, 6, 8, 3, 0, 0, 0, 0, 0, 0, 0, 0],
      ];
      const mask = [ids[0].map(() => 1), ids[1].map((_, i) => (i < 5 ? 1 : 0))];
      const types = [ids[0].map((_, i) => (i < 6 ? 0 : 1)), ids[1].map((_, i) => (i < 3 ? 0 : 1))];
      const [hidden, logits] = tf.tidy(() => {
        const o = model.forward({ inputIds: ids, attentionMask: mask, tokenTypeIds: types });
        return [o.lastHiddenState.arraySync(), o.logits!.arraySync()];
      });
      for (let b = 0; b < 2; b++) {
        const ref = reference(c, w, ids[b], mask[b], types[b]);
        ref.logits.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - logits[b][j]))));
        ref.hidden.forEach((h, i) => mask[b][i] && h.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - hidden[b][i][j])))));
      }
      assert.ok(worst <= 1e-4, `${label}: max |Δ| ${worst}`);
      model.dispose();
    }
    t.diagnostic(`${backend}: max |Δ| over ${SETTINGS.length} settings ${worst.toExponential(2)}`);
  });
}

test("config errors name the file and the field", () => {
  assert.throws(
    () => parseDebertaConfig({ ...BASE, pos_att_type: ["p2p"] }, "x/config.json"),
    /x\/config\.json: pos_att_type "p2p" is not supported/,
  );
  assert.throws(
    () => parseDebertaConfig({ ...BASE, hidden_size: "big" }, "x/config.json"),
    /x\/config\.json: field "hidden_size" should be an integer/,
  );
  assert.throws(() => parseDebertaConfig({ ...BASE, hidden_act: "mish" }, "x/config.json"), /field "hidden_act" is "mish"; supported/);
  assert.deepEqual(parseDebertaConfig({ ...BASE, pos_att_type: "p2c|c2p" }).pos_att_type, ["p2c", "c2p"]);
  const defaults = parseDebertaConfig({ ...BASE });
  assert.deepEqual(
    [defaults.pooler_hidden_size, defaults.pooler_hidden_act, defaults.pooler_dropout, defaults.embedding_size],
    [12, "gelu", 0, 12],
  );
});
