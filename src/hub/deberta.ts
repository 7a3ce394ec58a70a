/**
 * DeBERTa-v2/v3 (`DebertaV2Model`, `DebertaV2ForSequenceClassification`) in
 * TensorFlow.js, defined by the checkpoint's config.json and named as the hub
 * names its tensors, so that loading is a walk of the names.
 *
 *   embeddings   word (+ position when position_biased_input, + token type
 *                when type_vocab_size > 0) → embed_proj when embedding_size ≠
 *                hidden_size → LayerNorm → × attention mask
 *   encoder      rel_embeddings (LayerNorm-ed when norm_rel_ebd has
 *                "layer_norm"), relative positions q − k, log-bucketed when
 *                position_buckets > 0, then num_hidden_layers layers of
 *                disentangled self-attention (content→content, plus c2p and/or
 *                p2c from pos_att_type, keys shared with the content
 *                projections when share_att_key) → output dense + residual
 *                LayerNorm → intermediate → output dense + residual LayerNorm
 *   pooler       the first token → dense → pooler_hidden_act (ContextPooler)
 *   classifier   dense to num_labels
 *
 * Attention scores, following DeBERTa's equations (scale s = √(d·(1 + #terms))):
 *   A[i,j] = Q_i·K_j / s + Q_i·Kr[δ(i,j)] / s + K_j·Qr[δ(i,j)] / s
 * where δ(i,j) = clamp(bucket(i − j) + span, 0, 2·span − 1), Kr/Qr are the
 * relative embeddings through the key/query projections and span is
 * position_buckets (or max_relative_positions when there are no buckets).
 *
 * Every op has a gradient on the cpu and wasm backends, so the model can be
 * fine-tuned (see src/hub/value-evaluator.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { bmm, embed, matmulTransposed } from "../lm/ops.js";
import type { StoredTensor } from "../lm/safetensors.js";
import { normal, seededRandom } from "../runtime/random.js";

// ------------------------------------------------------------------ config

export type DebertaActivation = "gelu" | "gelu_new" | "gelu_pytorch_tanh" | "relu" | "tanh" | "silu" | "swish";
const ACTIVATIONS: readonly DebertaActivation[] = ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "tanh", "silu", "swish"];

/** The fields of a DeBERTa-v2 config.json that change the computation (names as in the file). */
export interface DebertaV2Config {
  vocab_size: number;
  hidden_size: number;
  embedding_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: DebertaActivation;
  max_position_embeddings: number;
  type_vocab_size: number;
  layer_norm_eps: number;
  relative_attention: boolean;
  max_relative_positions: number;
  position_buckets: number;
  position_biased_input: boolean;
  pos_att_type: ("c2p" | "p2c")[];
  share_att_key: boolean;
  norm_rel_ebd: string;
  pooler_hidden_size: number;
  pooler_hidden_act: DebertaActivation;
  pad_token_id: number;
  num_labels: number;
  conv_kernel_size: number;
  /** Dropout rates, used only when training. */
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  pooler_dropout: number;
  /** Dropout before the classifier (cls_dropout, else hidden_dropout_prob). */
  cls_dropout: number;
  initializer_range: number;
}

/**
 * Reads a DeBERTa-v2 config.json object, with transformers' defaults for the
 * fields a checkpoint leaves out. `source` (the file name) is named in errors.
 */
export function parseDebertaConfig(raw: Record<string, unknown>, source = "config.json"): DebertaV2Config {
  const num = (field: string, fallback?: number, integer = true): number => {
    const v = raw[field] ?? fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
      throw new Error(`${source}: field "${field}" should be ${integer ? "an integer" : "a number"}, got ${JSON.stringify(raw[field])}`);
    }
    return v;
  };
  const bool = (field: string, fallback: boolean): boolean => {
    const v = raw[field] ?? fallback;
    if (typeof v !== "boolean") throw new Error(`${source}: field "${field}" should be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const act = (field: string, fallback: DebertaActivation): DebertaActivation => {
    const v = raw[field] ?? fallback;
    if (!ACTIVATIONS.includes(v as DebertaActivation))
      throw new Error(`${source}: field "${field}" is ${JSON.stringify(v)}; supported: ${ACTIVATIONS.join(", ")}`);
    return v as DebertaActivation;
  };
  // pos_att_type: a list (["p2c", "c2p"]) or a string ("p2c|c2p"); null means none.
  const rawTypes = raw.pos_att_type ?? [];
  const types = (
    typeof rawTypes === "string"
      ? rawTypes.toLowerCase().split("|")
      : Array.isArray(rawTypes)
        ? rawTypes.map((t) => String(t).toLowerCase())
        : null
  )
    ?.map((t) => t.trim())
    .filter(Boolean);
  if (!types) throw new Error(`${source}: field "pos_att_type" should be a list or a "p2c|c2p" string, got ${JSON.stringify(rawTypes)}`);
  for (const t of types)
    if (t !== "c2p" && t !== "p2c") throw new Error(`${source}: pos_att_type "${t}" is not supported (c2p and p2c are)`);
  const id2label = raw.id2label && typeof raw.id2label === "object" ? Object.keys(raw.id2label as object).length : undefined;
  const hidden = num("hidden_size");
  const heads = num("num_attention_heads");
  if (hidden % heads !== 0) throw new Error(`${source}: hidden_size ${hidden} is not divisible by num_attention_heads ${heads}`);
  const headSize = raw.attention_head_size ?? hidden / heads;
  if (headSize !== hidden / heads)
    throw new Error(
      `${source}: attention_head_size ${JSON.stringify(headSize)} × num_attention_heads ${heads} ≠ hidden_size ${hidden}; only attention_head_size = hidden_size / num_attention_heads is supported`,
    );
  const normRel = raw.norm_rel_ebd ?? "none";
  if (typeof normRel !== "string") throw new Error(`${source}: field "norm_rel_ebd" should be a string, got ${JSON.stringify(normRel)}`);
  const config: DebertaV2Config = {
    vocab_size: num("vocab_size"),
    hidden_size: hidden,
    embedding_size: num("embedding_size", hidden),
    num_hidden_layers: num("num_hidden_layers"),
    num_attention_heads: heads,
    intermediate_size: num("intermediate_size"),
    hidden_act: act("hidden_act", "gelu"),
    max_position_embeddings: num("max_position_embeddings", 512),
    type_vocab_size: num("type_vocab_size", 0),
    layer_norm_eps: num("layer_norm_eps", 1e-7, false),
    relative_attention: bool("relative_attention", false),
    max_relative_positions: num("max_relative_positions", -1),
    position_buckets: num("position_buckets", -1),
    position_biased_input: bool("position_biased_input", true),
    pos_att_type: [...new Set(types)] as ("c2p" | "p2c")[],
    share_att_key: bool("share_att_key", false),
    norm_rel_ebd: normRel.toLowerCase(),
    pooler_hidden_size: num("pooler_hidden_size", hidden),
    pooler_hidden_act: act("pooler_hidden_act", "gelu"),
    pad_token_id: num("pad_token_id", 0),
    num_labels: num("num_labels", id2label ?? 2),
    conv_kernel_size: num("conv_kernel_size", 0),
    hidden_dropout_prob: num("hidden_dropout_prob", 0.1, false),
    attention_probs_dropout_prob: num("attention_probs_dropout_prob", 0.1, false),
    pooler_dropout: num("pooler_dropout", 0, false),
    cls_dropout:
      raw.cls_dropout === undefined || raw.cls_dropout === null ? num("hidden_dropout_prob", 0.1, false) : num("cls_dropout", 0, false),
    initializer_range: num("initializer_range", 0.02, false),
  };
  if (config.conv_kernel_size > 0)
    throw new Error(
      `${source}: conv_kernel_size ${config.conv_kernel_size} (the DeBERTa-v2 convolution layer) is not supported; DeBERTa-v3 checkpoints have none`,
    );
  return config;
}

/** Relative-attention span (size of one half of rel_embeddings) and the largest distance bucketed. */
export function relativeSpan(c: DebertaV2Config): { span: number; maxRelative: number } {
  const maxRelative = c.max_relative_positions < 1 ? c.max_position_embeddings : c.max_relative_positions;
  return { span: c.position_buckets > 0 ? c.position_buckets : maxRelative, maxRelative };
}

/** The tensors a checkpoint of this config holds (classification names), with their shapes. */
export function debertaParameterShapes(c: DebertaV2Config, withHead: boolean): [string, number[]][] {
  const H = c.hidden_size;
  const E = c.embedding_size;
  const out: [string, number[]][] = [["deberta.embeddings.word_embeddings.weight", [c.vocab_size, E]]];
  if (c.position_biased_input) out.push(["deberta.embeddings.position_embeddings.weight", [c.max_position_embeddings, E]]);
  if (c.type_vocab_size > 0) out.push(["deberta.embeddings.token_type_embeddings.weight", [c.type_vocab_size, E]]);
  if (E !== H) out.push(["deberta.embeddings.embed_proj.weight", [H, E]]);
  out.push(["deberta.embeddings.LayerNorm.weight", [H]], ["deberta.embeddings.LayerNorm.bias", [H]]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `deberta.encoder.layer.${i}.`;
    const lin = (name: string, o: number, n: number) => out.push([`${p}${name}.weight`, [o, n]], [`${p}${name}.bias`, [o]]);
    lin("attention.self.query_proj", H, H);
    lin("attention.self.key_proj", H, H);
    lin("attention.self.value_proj", H, H);
    if (c.relative_attention && !c.share_att_key) {
      if (c.pos_att_type.includes("c2p")) lin("attention.self.pos_key_proj", H, H);
      if (c.pos_att_type.includes("p2c")) lin("attention.self.pos_query_proj", H, H);
    }
    lin("attention.output.dense", H, H);
    out.push([`${p}attention.output.LayerNorm.weight`, [H]], [`${p}attention.output.LayerNorm.bias`, [H]]);
    lin("intermediate.dense", c.intermediate_size, H);
    lin("output.dense", H, c.intermediate_size);
    out.push([`${p}output.LayerNorm.weight`, [H]], [`${p}output.LayerNorm.bias`, [H]]);
  }
  if (c.relative_attention) {
    out.push(["deberta.encoder.rel_embeddings.weight", [2 * relativeSpan(c).span, H]]);
    if (c.norm_rel_ebd.includes("layer_norm")) out.push(["deberta.encoder.LayerNorm.weight", [H]], ["deberta.encoder.LayerNorm.bias", [H]]);
  }
  if (withHead) {
    out.push(["pooler.dense.weight", [c.pooler_hidden_size, H]], ["pooler.dense.bias", [c.pooler_hidden_size]]);
    out.push(["classifier.weight", [c.num_labels, c.pooler_hidden_size]], ["classifier.bias", [c.num_labels]]);
  }
  return out;
}

// ------------------------------------------------------------------ relative positions

/**
 * DeBERTa's log-bucketed relative position: distances inside ±bucketSize/2
 * are kept, longer ones are mapped logarithmically up to maxPosition. The
 * arithmetic is rounded to float32 step by step, as PyTorch computes it, so
 * the bucket boundaries fall where transformers puts them.
 */
export function logBucketPosition(relative: number, bucketSize: number, maxPosition: number): number {
  const f = Math.fround;
  const mid = Math.floor(bucketSize / 2);
  const absPos = relative < mid && relative > -mid ? mid - 1 : Math.abs(relative);
  if (absPos <= mid) return relative;
  const ratio = f(f(Math.log(f(absPos / mid))) / f(Math.log(f((maxPosition - 1) / mid))));
  const logPos = Math.ceil(f(ratio * (mid - 1))) + mid;
  return logPos * Math.sign(relative);
}

/** δ(i, j) for a length-L sequence, as int32 [L·L] (row-major over query i, key j). */
export function relativeIndex(length: number, c: DebertaV2Config): Int32Array {
  const { span, maxRelative } = relativeSpan(c);
  const out = new Int32Array(length * length);
  for (let i = 0; i < length; i++) {
    for (let j = 0; j < length; j++) {
      let r = i - j;
      if (c.position_buckets > 0 && maxRelative > 0) r = logBucketPosition(r, c.position_buckets, maxRelative);
      out[i * length + j] = Math.min(Math.max(r + span, 0), 2 * span - 1);
    }
  }
  return out;
}

// ------------------------------------------------------------------ ops

/** LayerNorm over the last axis (biased variance, as PyTorch). */
export function layerNorm(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), -1, true);
  return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, eps))), gain), bias);
}

/**
 * torch.nn.Linear on [N, in] rows: x · Wᵀ + b, with W stored [out, in]. The
 * product keeps no transposed copy of W for the backward pass and returns
 * W's gradient in W's own layout (src/lm/ops.ts), which is what lets a
 * training step of a large checkpoint fit in the wasm backend's memory.
 */
function linear(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor): tf.Tensor2D {
  const y = matmulTransposed(x, w);
  return b ? tf.add(y, b) : y;
}

/**
 * Exact GELU, x·Φ(x), with erf from Abramowitz & Stegun 7.1.26 (|error| <
 * 1.5e-7, below float32 rounding at the sizes that matter) and the exact
 * derivative Φ(x) + x·φ(x) as gradient. tfjs's own erf has no wasm kernel.
 */
export function geluExact(x: tf.Tensor): tf.Tensor {
  return geluOp(x);
}

const geluOp = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  const z = tf.mul(tf.abs(x), Math.SQRT1_2);
  const t = tf.div(1, tf.add(1, tf.mul(z, 0.3275911)));
  let poly = tf.scalar(1.061405429) as tf.Tensor;
  for (const a of [-1.453152027, 1.421413741, -0.284496736, 0.254829592]) poly = tf.add(tf.mul(poly, t), a);
  poly = tf.mul(poly, t);
  const erfAbs = tf.sub(1, tf.mul(poly, tf.exp(tf.neg(tf.square(z)))));
  const erf = tf.mul(erfAbs, tf.sign(x));
  return {
    value: tf.mul(tf.mul(x, 0.5), tf.add(1, erf)),
    gradFunc: (dy: tf.Tensor, [xs]: tf.Tensor[]) => {
      const z2 = tf.mul(tf.abs(xs), Math.SQRT1_2);
      const t2 = tf.div(1, tf.add(1, tf.mul(z2, 0.3275911)));
      let p = tf.scalar(1.061405429) as tf.Tensor;
      for (const a of [-1.453152027, 1.421413741, -0.284496736, 0.254829592]) p = tf.add(tf.mul(p, t2), a);
      p = tf.mul(p, t2);
      const e = tf.mul(tf.sub(1, tf.mul(p, tf.exp(tf.neg(tf.square(z2))))), tf.sign(xs));
      const cdf = tf.mul(0.5, tf.add(1, e));
      const pdf = tf.mul(1 / Math.sqrt(2 * Math.PI), tf.exp(tf.mul(-0.5, tf.square(xs))));
      return tf.mul(dy, tf.add(cdf, tf.mul(xs, pdf)));
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

export function activation(name: DebertaActivation, x: tf.Tensor): tf.Tensor {
  switch (name) {
    case "gelu":
      return geluExact(x);
    case "gelu_new":
    case "gelu_pytorch_tanh": {
      const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
      return tf.mul(x, tf.sigmoid(tf.mul(2, inner)));
    }
    case "relu":
      return tf.relu(x);
    case "tanh":
      return tf.tanh(x);
    case "silu":
    case "swish":
      return tf.mul(x, tf.sigmoid(x));
  }
}

/**
 * out[b, i, j] = table[b, rowOf(i, j), index[i, j]] for table [B, R, C]:
 * `flat` holds rowOf·C + index for every (i, j). Done as a row gather on the
 * transposed table, whose gradient (a scatter-add) runs on every backend.
 */
function gatherRelative(table: tf.Tensor3D, flat: tf.Tensor1D, L: number): tf.Tensor3D {
  const [B, R, C] = table.shape;
  const columns = tf.transpose(tf.reshape(table, [B, R * C])) as tf.Tensor2D; // [R·C, B]
  const picked = embed(columns, flat) as tf.Tensor2D; // [L·L, B]
  return tf.reshape(tf.transpose(picked), [B, L, L]);
}

// ------------------------------------------------------------------ model

export interface DebertaInputs {
  /** Token ids per sequence, all of one length (pad with the pad id). */
  inputIds: number[][];
  /** 1 for real tokens, 0 for padding; all ones when absent. */
  attentionMask?: number[][];
  /** Segment ids (0 for text, 1 for text_pair); used only when type_vocab_size > 0. */
  tokenTypeIds?: number[][];
  /** Training mode: dropout at the config's rates, seeded from this number (model.train() in PyTorch). */
  dropoutSeed?: number;
}

export interface DebertaOutputs {
  /** [B, L, hidden_size]. */
  lastHiddenState: tf.Tensor3D;
  /** [B, num_labels] (classification checkpoints only). */
  logits?: tf.Tensor2D;
}

/** A DeBERTa-v2/v3 model whose weights are tf.Variables named as in a DebertaV2ForSequenceClassification checkpoint. */
export class DebertaV2 {
  readonly weights = new Map<string, tf.Variable>();
  /** Gather indices of the c2p and p2c terms, per sequence length. */
  private readonly indexCache = new Map<number, { c2p: tf.Tensor1D; p2c: tf.Tensor1D }>();

  constructor(
    readonly config: DebertaV2Config,
    /** True when the checkpoint has the pooler and classifier head. */
    readonly withHead: boolean,
    tensors: Map<string, { shape: number[]; data: Float32Array }>,
    source = "checkpoint",
  ) {
    for (const [name, shape] of debertaParameterShapes(config, withHead)) {
      const t = tensors.get(name);
      if (!t) throw new Error(`${source}: tensor "${name}" is missing (expected shape [${shape}] from config.json)`);
      if (t.shape.length !== shape.length || t.shape.some((d, k) => d !== shape[k])) {
        throw new Error(`${source}: tensor "${name}" has shape [${t.shape}] but config.json implies [${shape}]`);
      }
      const initial = tf.tensor(t.data, shape);
      this.weights.set(name, tf.variable(initial, true, `${name}_${Math.random().toString(36).slice(2)}`));
      initial.dispose(); // the variable holds its own copy
    }
  }

  /** The weights in checkpoint order (for optimisers and saving). */
  variables(): tf.Variable[] {
    return [...this.weights.values()];
  }

  private w(name: string): tf.Variable {
    const v = this.weights.get(name);
    if (!v) throw new Error(`DeBERTa: no weight "${name}"`);
    return v;
  }

  private linear(x: tf.Tensor2D, name: string): tf.Tensor2D {
    return linear(x, this.w(`${name}.weight`) as unknown as tf.Tensor2D, this.weights.get(`${name}.bias`));
  }

  private relativeIndices(L: number): { c2p: tf.Tensor1D; p2c: tf.Tensor1D } {
    let cached = this.indexCache.get(L);
    if (!cached) {
      const delta = relativeIndex(L, this.config);
      const C = 2 * relativeSpan(this.config).span;
      const c2p = new Int32Array(L * L);
      const p2c = new Int32Array(L * L);
      for (let i = 0; i < L; i++) {
        for (let j = 0; j < L; j++) {
          c2p[i * L + j] = i * C + delta[i * L + j]; // Q_i · Kr[δ(i,j)]: row i of the c2p table
          p2c[i * L + j] = j * C + delta[i * L + j]; // K_j · Qr[δ(i,j)]: row j of the p2c table
        }
      }
      cached = { c2p: tf.keep(tf.tensor1d(c2p, "int32")), p2c: tf.keep(tf.tensor1d(p2c, "int32")) };
      this.indexCache.set(L, cached);
    }
    return cached;
  }

  /**
   * The forward pass: inference (no dropout, as model.eval()) unless
   * `dropoutSeed` is given. Call inside tf.tidy, or dispose the outputs.
   */
  forward(inputs: DebertaInputs): DebertaOutputs {
    const c = this.config;
    let dropCalls = 0;
    const drop = <T extends tf.Tensor>(t: T, rate: number): T =>
      inputs.dropoutSeed === undefined || rate <= 0 ? t : (tf.dropout(t, rate, undefined, inputs.dropoutSeed * 1000 + dropCalls++) as T);
    const B = inputs.inputIds.length;
    const L = inputs.inputIds[0]?.length ?? 0;
    if (B === 0 || L === 0) throw new Error("DeBERTa forward: empty batch");
    for (const row of inputs.inputIds) {
      if (row.length !== L) throw new Error(`DeBERTa forward: sequences of different lengths (${row.length} and ${L}); pad them first`);
      for (const id of row)
        if (!(Number.isInteger(id) && id >= 0 && id < c.vocab_size))
          throw new Error(`DeBERTa forward: token id ${id} is outside the model's vocabulary (vocab_size ${c.vocab_size})`);
    }
    if (c.position_biased_input && L > c.max_position_embeddings)
      throw new Error(`DeBERTa forward: ${L} tokens, the model allows at most ${c.max_position_embeddings}`);
    const H = c.hidden_size;
    const heads = c.num_attention_heads;
    const d = H / heads;
    const maskRows = inputs.attentionMask ?? inputs.inputIds.map((r) => r.map(() => 1));
    const mask = tf.tensor2d(maskRows, [B, L], "float32");

    // ---- embeddings
    const ids = tf.tensor2d(inputs.inputIds, [B, L], "int32");
    let x = embed(this.w("deberta.embeddings.word_embeddings.weight") as tf.Tensor2D, ids) as tf.Tensor; // [B, L, E]
    if (c.position_biased_input) {
      const pos = tf.tile(tf.range(0, L, 1, "int32").reshape([1, L]), [B, 1]);
      x = tf.add(x, embed(this.w("deberta.embeddings.position_embeddings.weight") as tf.Tensor2D, pos));
    }
    if (c.type_vocab_size > 0) {
      const types = tf.tensor2d(inputs.tokenTypeIds ?? inputs.inputIds.map((r) => r.map(() => 0)), [B, L], "int32");
      x = tf.add(x, embed(this.w("deberta.embeddings.token_type_embeddings.weight") as tf.Tensor2D, types));
    }
    let h = tf.reshape(x, [B * L, c.embedding_size]) as tf.Tensor2D;
    if (c.embedding_size !== H) h = this.linear(h, "deberta.embeddings.embed_proj");
    h = layerNorm(
      h,
      this.w("deberta.embeddings.LayerNorm.weight"),
      this.w("deberta.embeddings.LayerNorm.bias"),
      c.layer_norm_eps,
    ) as tf.Tensor2D;
    h = drop(tf.mul(h, tf.reshape(mask, [B * L, 1])), c.hidden_dropout_prob);

    // ---- encoder: pairwise mask, relative embeddings, relative positions
    // Query i may attend to key j when both are real tokens: 0 there, −1e30 elsewhere ([B, 1, L, L], broadcast over
    // heads). Masked keys get probability exactly 0; a padded query row comes out uniform, as in transformers.
    const maskBias = tf.mul(tf.sub(1, tf.mul(tf.reshape(mask, [B, 1, L, 1]), tf.reshape(mask, [B, 1, 1, L]))), -1e30);
    let rel: tf.Tensor2D | undefined;
    if (c.relative_attention) {
      rel = this.w("deberta.encoder.rel_embeddings.weight") as tf.Tensor2D;
      if (c.norm_rel_ebd.includes("layer_norm"))
        rel = layerNorm(
          rel,
          this.w("deberta.encoder.LayerNorm.weight"),
          this.w("deberta.encoder.LayerNorm.bias"),
          c.layer_norm_eps,
        ) as tf.Tensor2D;
    }
    const index = c.relative_attention ? this.relativeIndices(L) : undefined;
    // transformers counts the pos_att_type terms in the scale even when relative attention is off.
    const terms = 1 + c.pos_att_type.length;
    const scale = Math.fround(Math.sqrt(d * terms));
    const C = rel ? rel.shape[0] : 0;

    for (let layer = 0; layer < c.num_hidden_layers; layer++) {
      // One tidy per layer frees its transposed weights and scores before the next (what training needs is kept by the tape).
      const input = h;
      h = tf.tidy(() => this.layer(layer, input, { B, L, heads, d, scale, C, rel, index, maskBias, drop }));
    }
    return this.head(h, B, L, drop);
  }

  private layer(
    layer: number,
    h: tf.Tensor2D,
    s: {
      B: number;
      L: number;
      heads: number;
      d: number;
      scale: number;
      C: number;
      rel?: tf.Tensor2D;
      index?: { c2p: tf.Tensor1D; p2c: tf.Tensor1D };
      maskBias: tf.Tensor;
      drop: <T extends tf.Tensor>(t: T, rate: number) => T;
    },
  ): tf.Tensor2D {
    const c = this.config;
    const { B, L, heads, d, scale, C, rel, index, maskBias, drop } = s;
    const H = c.hidden_size;
    // [B·L, H] → [B·heads, L, d]
    const split = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [B, L, heads, d]), [0, 2, 1, 3]).reshape([B * heads, L, d]) as tf.Tensor3D;
    // rel [C, H] → [heads, C, d] → tiled over the batch [B·heads, C, d]
    const splitRel = (t: tf.Tensor2D) => tf.tile(tf.transpose(tf.reshape(t, [C, heads, d]), [1, 0, 2]), [B, 1, 1]) as tf.Tensor3D;
    {
      const p = `deberta.encoder.layer.${layer}.`;
      const q = split(this.linear(h, `${p}attention.self.query_proj`));
      const k = split(this.linear(h, `${p}attention.self.key_proj`));
      const v = split(this.linear(h, `${p}attention.self.value_proj`));
      const relLayer = rel ? drop(rel, c.hidden_dropout_prob) : undefined;
      let scores = bmm(q, tf.div(tf.transpose(k, [0, 2, 1]), scale) as tf.Tensor3D) as tf.Tensor;
      if (rel && index) {
        if (c.pos_att_type.includes("c2p")) {
          const posKey = splitRel(this.linear(relLayer!, `${p}attention.self.${c.share_att_key ? "key_proj" : "pos_key_proj"}`));
          const table = bmm(q, tf.transpose(posKey, [0, 2, 1]) as tf.Tensor3D); // [B·heads, L, C]
          scores = tf.add(scores, tf.div(gatherRelative(table, index.c2p, L), scale));
        }
        if (c.pos_att_type.includes("p2c")) {
          const posQuery = splitRel(this.linear(relLayer!, `${p}attention.self.${c.share_att_key ? "query_proj" : "pos_query_proj"}`));
          const table = bmm(k, tf.transpose(posQuery, [0, 2, 1]) as tf.Tensor3D); // [B·heads, L(keys), C]
          scores = tf.add(scores, tf.div(gatherRelative(table, index.p2c, L), scale));
        }
      }
      const masked = tf.reshape(tf.add(tf.reshape(scores, [B, heads, L, L]), maskBias), [B * heads, L, L]);
      const probs = drop(tf.softmax(masked, -1) as tf.Tensor3D, c.attention_probs_dropout_prob);
      const context = tf.reshape(tf.transpose(tf.reshape(bmm(probs, v), [B, heads, L, d]), [0, 2, 1, 3]), [B * L, H]) as tf.Tensor2D;
      const attended = layerNorm(
        tf.add(drop(this.linear(context, `${p}attention.output.dense`), c.hidden_dropout_prob), h),
        this.w(`${p}attention.output.LayerNorm.weight`),
        this.w(`${p}attention.output.LayerNorm.bias`),
        c.layer_norm_eps,
      ) as tf.Tensor2D;
      const inner = activation(c.hidden_act, this.linear(attended, `${p}intermediate.dense`)) as tf.Tensor2D;
      return layerNorm(
        tf.add(drop(this.linear(inner, `${p}output.dense`), c.hidden_dropout_prob), attended),
        this.w(`${p}output.LayerNorm.weight`),
        this.w(`${p}output.LayerNorm.bias`),
        c.layer_norm_eps,
      ) as tf.Tensor2D;
    }
  }

  private head(h: tf.Tensor2D, B: number, L: number, drop: <T extends tf.Tensor>(t: T, rate: number) => T): DebertaOutputs {
    const c = this.config;
    const H = c.hidden_size;
    const lastHiddenState = tf.reshape(h, [B, L, H]) as tf.Tensor3D;
    if (!this.withHead) return { lastHiddenState };

    // ---- ContextPooler on the first token, then the classifier
    const first = tf.reshape(tf.slice(lastHiddenState, [0, 0, 0], [B, 1, H]), [B, H]) as tf.Tensor2D;
    const pooled = activation(c.pooler_hidden_act, this.linear(drop(first, c.pooler_dropout), "pooler.dense")) as tf.Tensor2D;
    return { lastHiddenState, logits: this.linear(drop(pooled, c.cls_dropout), "classifier") };
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
    for (const t of this.indexCache.values()) tf.dispose([t.c2p, t.p2c]);
    this.indexCache.clear();
  }
}

/**
 * A model of this config with random weights (N(0, initializer_range²)
 * matrices, zero biases, unit LayerNorm gains), for benchmarks of real sizes
 * without the checkpoint.
 */
export function randomDeberta(config: DebertaV2Config, seed = 0, withHead = true): DebertaV2 {
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const random = seededRandom(seed);
  for (const [name, shape] of debertaParameterShapes(config, withHead)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith("LayerNorm.weight")) data.fill(1);
    else if (!name.endsWith(".bias")) for (let i = 0; i < n; i++) data[i] = normal(random) * config.initializer_range;
    tensors.set(name, { shape, data });
  }
  return new DebertaV2(config, withHead, tensors, "random weights");
}

/**
 * Builds a DeBERTa model from a config.json object and the checkpoint's
 * tensors. The architecture decides the head: DebertaV2ForSequenceClassification
 * has pooler and classifier, DebertaV2Model (tensors without the "deberta."
 * prefix) has none. Tensors of the file that the model does not use are returned.
 */
export function loadDeberta(
  rawConfig: Record<string, unknown>,
  tensors: Map<string, StoredTensor>,
  options: { architecture: "DebertaV2ForSequenceClassification" | "DebertaV2Model"; source?: string; configSource?: string },
): { model: DebertaV2; unused: string[] } {
  const config = parseDebertaConfig(rawConfig, options.configSource);
  const withHead = options.architecture === "DebertaV2ForSequenceClassification";
  // Base-model checkpoints name tensors without the "deberta." prefix; classification ones with it.
  const named = new Map<string, StoredTensor>();
  for (const [name, t] of tensors) {
    const key = name.startsWith("deberta.") || name.startsWith("pooler.") || name.startsWith("classifier.") ? name : `deberta.${name}`;
    named.set(key, t);
  }
  const model = new DebertaV2(config, withHead, named, options.source);
  const used = new Set(model.weights.keys());
  return { model, unused: [...named.keys()].filter((k) => !used.has(k)) };
}
