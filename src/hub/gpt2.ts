/**
 * GPT2LMHeadModel from a Hugging Face hub folder, computing what
 * transformers computes.
 *
 *   config.json        sizes and settings (n_embd, n_layer, n_head, n_positions, vocab_size,
 *                      n_inner, activation_function, layer_norm_epsilon, scale_attn_weights,
 *                      scale_attn_by_inverse_layer_idx, tie_word_embeddings)
 *   model.safetensors  (or the sharded index) with GPT-2's tensor names, with or without
 *                      the "transformer." prefix; lm_head.weight tied to wte when absent
 *
 *   h₀ = wte[ids] + wpe[positions]
 *   for each block:  h += c_proj(Attention(ln_1(h)))  ;  h += mlp.c_proj(act(mlp.c_fc(ln_2(h))))
 *   logits = ln_f(h) · wteᵀ        (or lm_head.weight when untied)
 *
 * Attention: q, k, v from the fused c_attn ([C, 3C], Conv1D layout x·W);
 * scores q·kᵀ / √d (if scale_attn_weights) / (layer + 1) (if
 * scale_attn_by_inverse_layer_idx); causal mask, and with an attention mask
 * padding keys are not read. Positions are 0, 1, … as in transformers'
 * forward, unless `positionIds` are given; `positionsFromMask` counts real
 * tokens only (what transformers' generate does for left-padded prompts).
 *
 * The network is the kit's own language model's (src/lm): its attention,
 * MLP and pre-norm block units (attention.ts, mlp.ts, block.ts) with GPT-2's
 * parameter names mapped onto the units' (GPT2_BLOCK_NAMES, src/lm/gpt2.ts),
 * and its ops with their own gradients (src/lm/ops.ts), so backward works
 * on the cpu and wasm backends, and a KV cache serves generation. What stays
 * here is what GPT-2's config can change: the attention scale, the
 * activation, positions given by the caller, and the head without a value head.
 */
import * as tf from "@tensorflow/tfjs";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { attentionBias, causalMasks } from "../lm/attention.js";
import { type BlockWeights, blockWeights, layerNorm, preNormBlock } from "../lm/block.js";
import { GPT2_BLOCK_NAMES } from "../lm/gpt2.js";
import { tokenPositions } from "../lm/model.js";
import { gelu } from "../lm/mlp.js";
import { embed, matmul, matmulTransposed } from "../lm/ops.js";
import type { StoredTensor } from "../lm/safetensors.js";
import { readHubWeights } from "./weights.js";

/** The GPT-2 settings the computation depends on, named as in config.json. */
export interface Gpt2Config {
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  /** MLP width; null means 4 × n_embd. */
  n_inner: number | null;
  activation_function: string;
  layer_norm_epsilon: number;
  scale_attn_weights: boolean;
  scale_attn_by_inverse_layer_idx: boolean;
  tie_word_embeddings: boolean;
}

/** transformers' GPT2Config defaults, used for fields a config.json leaves out. */
export const GPT2_CONFIG_DEFAULTS: Gpt2Config = {
  vocab_size: 50257,
  n_positions: 1024,
  n_embd: 768,
  n_layer: 12,
  n_head: 12,
  n_inner: null,
  activation_function: "gelu_new",
  layer_norm_epsilon: 1e-5,
  scale_attn_weights: true,
  scale_attn_by_inverse_layer_idx: false,
  tie_word_embeddings: true,
};

/** Activations transformers names in activation_function, and the ones computed here. */
export const GPT2_ACTIVATIONS = ["gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu", "relu", "silu", "swish", "quick_gelu"] as const;

/** The architectures this module loads (config.json "architectures"). */
export const GPT2_ARCHITECTURES = ["GPT2LMHeadModel", "GPT2Model"] as const;

/** Checks and completes a config.json object; `source` names the file in errors. */
export function parseGpt2Config(raw: Record<string, unknown>, source = "config.json"): Gpt2Config {
  if (raw.model_type !== undefined && raw.model_type !== "gpt2")
    throw new Error(`${source}: field "model_type" is ${JSON.stringify(raw.model_type)}, expected "gpt2"`);
  const archs = raw.architectures;
  if (Array.isArray(archs) && archs.length && !archs.some((a) => (GPT2_ARCHITECTURES as readonly string[]).includes(a as string))) {
    throw new Error(`${source}: field "architectures" is ${JSON.stringify(archs)}; this loader reads ${GPT2_ARCHITECTURES.join(", ")}`);
  }
  const c = { ...GPT2_CONFIG_DEFAULTS } as Record<string, unknown>;
  for (const key of Object.keys(GPT2_CONFIG_DEFAULTS)) if (raw[key] !== undefined) c[key] = raw[key];
  const config = c as unknown as Gpt2Config;
  for (const key of ["vocab_size", "n_positions", "n_embd", "n_layer", "n_head"] as const) {
    if (!Number.isInteger(config[key]) || config[key] <= 0)
      throw new Error(`${source}: field "${key}" must be a positive integer, got ${JSON.stringify(config[key])}`);
  }
  if (config.n_inner !== null && (!Number.isInteger(config.n_inner) || config.n_inner <= 0))
    throw new Error(`${source}: field "n_inner" must be null or a positive integer, got ${JSON.stringify(config.n_inner)}`);
  if (config.n_embd % config.n_head !== 0)
    throw new Error(`${source}: n_embd (${config.n_embd}) is not divisible by n_head (${config.n_head})`);
  if (!(GPT2_ACTIVATIONS as readonly string[]).includes(config.activation_function)) {
    throw new Error(
      `${source}: field "activation_function" is ${JSON.stringify(config.activation_function)}; supported: ${GPT2_ACTIVATIONS.join(", ")}`,
    );
  }
  if (!(config.layer_norm_epsilon > 0))
    throw new Error(`${source}: field "layer_norm_epsilon" must be positive, got ${config.layer_norm_epsilon}`);
  if (raw.add_cross_attention === true)
    throw new Error(`${source}: add_cross_attention is true (an encoder–decoder GPT-2); only the decoder-only model is supported`);
  return config;
}

/** Reads and checks DIR/config.json. */
export function readGpt2Config(dir: string): Gpt2Config {
  const file = join(dir, "config.json");
  if (!existsSync(file)) throw new Error(`${dir}: config.json is missing (a hub model folder holds config.json and the weights)`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseGpt2Config(raw, file);
}

/** Parameter names (transformers' names without "transformer.") and shapes for a config. */
export function gpt2ParameterShapes(config: Gpt2Config): [string, number[]][] {
  const { vocab_size: V, n_positions: T, n_embd: C } = config;
  const F = config.n_inner ?? 4 * C;
  const out: [string, number[]][] = [
    ["wte.weight", [V, C]],
    ["wpe.weight", [T, C]],
  ];
  for (let l = 0; l < config.n_layer; l++) {
    const p = `h.${l}.`;
    out.push(
      [p + "ln_1.weight", [C]],
      [p + "ln_1.bias", [C]],
      [p + "attn.c_attn.weight", [C, 3 * C]],
      [p + "attn.c_attn.bias", [3 * C]],
      [p + "attn.c_proj.weight", [C, C]],
      [p + "attn.c_proj.bias", [C]],
      [p + "ln_2.weight", [C]],
      [p + "ln_2.bias", [C]],
      [p + "mlp.c_fc.weight", [C, F]],
      [p + "mlp.c_fc.bias", [F]],
      [p + "mlp.c_proj.weight", [F, C]],
      [p + "mlp.c_proj.bias", [C]],
    );
  }
  out.push(["ln_f.weight", [C]], ["ln_f.bias", [C]]);
  if (!config.tie_word_embeddings) out.push(["lm_head.weight", [V, C]]);
  return out;
}

/** Tensors in GPT-2 files that hold no weights (old attention-mask buffers). */
const BUFFERS = /^h\.\d+\.attn\.(bias|masked_bias)$/;

export interface Gpt2ForwardOptions {
  /** [batch, time], 1 for real tokens and 0 for padding: padding keys are not attended to. */
  attentionMask?: tf.Tensor2D;
  /** [batch, time] int32 positions (default 0, 1, … after the cached ones). */
  positionIds?: tf.Tensor2D;
  /** Positions count real tokens only (cumsum of the mask − 1), so left padding does not shift them. */
  positionsFromMask?: boolean;
}

/** Keys and values of the positions read so far, per layer, [batch, heads, time, headWidth]. */
export interface Gpt2Cache {
  keys: tf.Tensor4D[];
  values: tf.Tensor4D[];
  length: number;
}

let modelCounter = 0;

export class Gpt2LMHeadModel {
  readonly config: Gpt2Config;
  readonly params: Map<string, tf.Variable>;
  readonly scope: string;
  /** Each block's parameters, as the block unit takes them. */
  private readonly blocks: BlockWeights[] = [];

  /** Builds the model around given weights by transformers name (without the "transformer." prefix). */
  constructor(config: Gpt2Config, weights: Map<string, Float32Array | tf.Tensor>, trainable = true) {
    this.config = { ...config };
    this.scope = `fulcra-gpt2-${++modelCounter}`;
    this.params = new Map();
    for (const [name, shape] of gpt2ParameterShapes(config)) {
      const value = weights.get(name);
      if (value === undefined) throw new Error(`Gpt2LMHeadModel: no value for "${name}"`);
      const size = shape.reduce((a, b) => a * b, 1);
      const given = value instanceof tf.Tensor ? value.size : value.length;
      if (given !== size) throw new Error(`Gpt2LMHeadModel: "${name}" needs shape [${shape}] (${size} values), got ${given}`);
      const t = value instanceof tf.Tensor ? value.reshape(shape) : tf.tensor(value, shape, "float32");
      this.params.set(name, tf.variable(t, trainable, `${this.scope}/${name}`));
      t.dispose();
    }
    // The kit's block unit names its parameters as the kit's model does; GPT2_BLOCK_NAMES maps them to GPT-2's.
    for (let l = 0; l < config.n_layer; l++) this.blocks.push(blockWeights((name) => this.p(`h.${l}.${GPT2_BLOCK_NAMES[name]}`)));
  }

  get contextLength(): number {
    return this.config.n_positions;
  }

  get trainableVariables(): tf.Variable[] {
    return [...this.params.values()];
  }

  parameterCount(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  /** Logits [B, T, V] for every position. Call inside tf.tidy or dispose the result. */
  forward(ids: tf.Tensor2D, options: Gpt2ForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const { hidden } = this.run(ids, options);
      return this.logits(hidden);
    });
  }

  /** Final hidden states (after ln_f), [B, T, C]. */
  hiddenStates(ids: tf.Tensor2D, options: Gpt2ForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => this.run(ids, options).hidden);
  }

  /**
   * The LM head on hidden states [B, T, C] → logits [B, T, V]. With
   * `noGradient` (sampling), the transposed head is kept between calls
   * until the weights change, instead of transposing [V, C] every token.
   */
  logits(hidden: tf.Tensor3D, noGradient = false): tf.Tensor3D {
    const [B, T, C] = hidden.shape;
    const head = this.config.tie_word_embeddings ? this.p("wte.weight") : this.p("lm_head.weight");
    // [V, C] stored; x · headᵀ through an explicit transpose (fast on wasm, see src/lm/ops.ts).
    const x = hidden.reshape([B * T, C]) as tf.Tensor2D;
    const logits = noGradient ? matmul(x, this.transposedHead(head)) : matmulTransposed(x, head);
    return logits.reshape([B, T, this.config.vocab_size]) as tf.Tensor3D;
  }

  private headCache?: { dataId: object; transposed: tf.Tensor2D };

  /** headᵀ, recomputed only when the variable was assigned new values (a new dataId). */
  private transposedHead(head: tf.Tensor2D): tf.Tensor2D {
    const dataId = (head as unknown as { dataId: object }).dataId;
    if (!this.headCache || this.headCache.dataId !== dataId) {
      this.headCache?.transposed.dispose();
      this.headCache = { dataId, transposed: tf.keep(head.transpose() as tf.Tensor2D) };
    }
    return this.headCache.transposed;
  }

  /**
   * Reads `ids` [B, S] after the positions in `cache` (none: start fresh);
   * `keyMask` [B, cached + S] marks real tokens. Returns hidden states of the
   * new positions and the extended cache (the caller disposes the old one).
   */
  step(
    ids: tf.Tensor2D,
    keyMask: tf.Tensor2D | undefined,
    cache?: Gpt2Cache,
    positionsFromMask = false,
  ): { hidden: tf.Tensor3D; cache: Gpt2Cache } {
    const kept = tf.tidy(() => {
      const r = this.run(ids, { attentionMask: keyMask, positionsFromMask }, cache);
      return { hidden: r.hidden, keys: r.cache.keys, values: r.cache.values };
    });
    return { hidden: kept.hidden, cache: { keys: kept.keys, values: kept.values, length: (cache?.length ?? 0) + ids.shape[1] } };
  }

  /** A copy with its own variables. */
  clone(): Gpt2LMHeadModel {
    const weights = new Map<string, tf.Tensor>();
    for (const [n, v] of this.params) weights.set(n, v);
    return new Gpt2LMHeadModel(this.config, weights);
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.headCache?.transposed.dispose();
    this.headCache = undefined;
  }

  private p<T extends tf.Tensor = tf.Tensor2D>(name: string): T {
    const v = this.params.get(name);
    if (!v) throw new Error(`Gpt2LMHeadModel: missing parameter "${name}"`);
    return v as unknown as T;
  }

  private run(ids: tf.Tensor2D, options: Gpt2ForwardOptions, past?: Gpt2Cache): { hidden: tf.Tensor3D; cache: Gpt2Cache } {
    const [B, S] = ids.shape;
    const P = past?.length ?? 0;
    const T = P + S;
    const { n_embd: C, n_head: H } = this.config;
    const D = C / H;
    if (ids.dtype !== "int32") throw new TypeError(`Gpt2LMHeadModel: ids must be int32, got ${ids.dtype}`);
    if (T > this.config.n_positions)
      throw new RangeError(
        `Gpt2LMHeadModel: ${T} positions requested but the model has ${this.config.n_positions} (config.json n_positions)`,
      );
    const mask = options.attentionMask;
    if (mask && (mask.shape[0] !== B || mask.shape[1] !== T))
      throw new RangeError(`Gpt2LMHeadModel: attention mask shape [${mask.shape}] should be [${B}, ${T}] (batch, cached + new positions)`);

    const positions = options.positionIds ?? tokenPositions(B, S, P, options.positionsFromMask ? mask : undefined);
    let x = tf.add(embed(this.p("wte.weight"), ids), embed(this.p("wpe.weight"), positions)).reshape([B * S, C]) as tf.Tensor2D;

    const [causal, self] = causalMasks(S, P);
    const bias = attentionBias(causal, self, mask);
    const keysOut: tf.Tensor4D[] = [];
    const valuesOut: tf.Tensor4D[] = [];
    for (let l = 0; l < this.config.n_layer; l++) {
      let scale = 1;
      if (this.config.scale_attn_weights) scale /= Math.sqrt(D);
      if (this.config.scale_attn_by_inverse_layer_idx) scale /= l + 1;
      const block = { batch: B, heads: H, scale, bias, epsilon: this.config.layer_norm_epsilon, activation: this.activation };
      const r = preNormBlock(x, this.blocks[l], block, past && { keys: past.keys[l], values: past.values[l] });
      x = r.x;
      keysOut.push(r.kv.keys);
      valuesOut.push(r.kv.values);
    }
    const finalNorm = { gain: this.p<tf.Tensor1D>("ln_f.weight"), bias: this.p<tf.Tensor1D>("ln_f.bias") };
    const hidden = layerNorm(x, finalNorm, this.config.layer_norm_epsilon).reshape([B, S, C]) as tf.Tensor3D;
    return { hidden, cache: { keys: keysOut, values: valuesOut, length: T } };
  }

  /** The MLP's activation named in config.json. */
  private readonly activation = (x: tf.Tensor2D): tf.Tensor2D => {
    switch (this.config.activation_function) {
      case "gelu_new":
      case "gelu_pytorch_tanh":
      case "gelu_fast":
        // gelu_fast is the same tanh formula written with 0.7978845608 ≈ √(2/π).
        return gelu(x);
      case "gelu":
        // Exact GELU: x · Φ(x) = ½ x (1 + erf(x / √2)).
        return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))) as tf.Tensor2D;
      case "relu":
        return tf.relu(x);
      case "silu":
      case "swish":
        return tf.mul(x, tf.sigmoid(x)) as tf.Tensor2D;
      case "quick_gelu":
        return tf.mul(x, tf.sigmoid(tf.mul(1.702, x))) as tf.Tensor2D;
      default:
        throw new Error(`Gpt2LMHeadModel: activation "${this.config.activation_function}" not supported (${GPT2_ACTIVATIONS.join(", ")})`);
    }
  };
}

export interface LoadedGpt2 {
  model: Gpt2LMHeadModel;
  config: Gpt2Config;
  /** Tensors of the files that were not used, and why (buffers, a tied lm_head). */
  ignored: { name: string; reason: string }[];
  /** The weight files read. */
  files: string[];
}

/**
 * Maps stored tensors (names with or without "transformer.") onto the
 * model's parameters, checking every shape against the config. `source`
 * names the files in errors. Unknown tensors are an error: nothing is dropped silently.
 */
export function gpt2WeightsFromTensors(
  config: Gpt2Config,
  stored: Map<string, StoredTensor>,
  source: string,
): { weights: Map<string, Float32Array>; ignored: LoadedGpt2["ignored"] } {
  const tensors = new Map<string, StoredTensor>();
  for (const [name, t] of stored) {
    const short = name.startsWith("transformer.") ? name.slice("transformer.".length) : name;
    if (tensors.has(short)) throw new Error(`${source}: tensor "${short}" is stored twice (with and without the "transformer." prefix)`);
    tensors.set(short, t);
  }
  const weights = new Map<string, Float32Array>();
  const used = new Set<string>();
  for (const [name, shape] of gpt2ParameterShapes(config)) {
    const t = tensors.get(name);
    if (!t) {
      const hint = name === "lm_head.weight" ? ' (config.json has "tie_word_embeddings": false, so an untied head must be stored)' : "";
      throw new Error(`${source}: tensor "${name}" (or "transformer.${name}") is missing${hint}`);
    }
    if (t.shape.join(",") !== shape.join(",")) {
      throw new Error(
        `${source}: tensor "${name}" has shape [${t.shape}], but config.json (n_embd ${config.n_embd}, n_inner ${config.n_inner ?? "4·n_embd"}, vocab_size ${config.vocab_size}, n_positions ${config.n_positions}) implies [${shape}]`,
      );
    }
    weights.set(name, t.data);
    used.add(name);
  }
  const ignored: LoadedGpt2["ignored"] = [];
  for (const name of tensors.keys()) {
    if (used.has(name)) continue;
    if (BUFFERS.test(name)) ignored.push({ name, reason: "attention-mask buffer, not a weight" });
    else if (name === "lm_head.weight" && config.tie_word_embeddings)
      ignored.push({ name, reason: "tied to wte (tie_word_embeddings), as in transformers" });
    else if (/^h\.(\d+)\./.test(name) && Number(name.split(".")[1]) >= config.n_layer)
      throw new Error(`${source}: tensor "${name}" belongs to block ${name.split(".")[1]}, but config.json says n_layer ${config.n_layer}`);
    else throw new Error(`${source}: tensor "${name}" is not a GPT2LMHeadModel weight; nothing was loaded`);
  }
  return { weights, ignored };
}

/** Loads GPT2LMHeadModel from a hub folder (config.json + model.safetensors or its sharded index). */
export function loadGpt2FromHub(dir: string, options: { trainable?: boolean } = {}): LoadedGpt2 {
  const config = readGpt2Config(dir);
  const { tensors, files } = readHubWeights(dir);
  const { weights, ignored } = gpt2WeightsFromTensors(
    config,
    tensors,
    files.length === 1 ? files[0] : join(dir, "model.safetensors.index.json"),
  );
  return { model: new Gpt2LMHeadModel(config, weights, options.trainable ?? true), config, ignored, files };
}

/** What `scoreCausalLm` needs from a tokenizer (src/hub/bpe.ts gives it). */
export interface CausalLmTokenizer {
  encode(text: string): number[];
  readonly vocabSize: number;
  readonly padId: number;
  readonly source?: string;
}

export interface CausalLmScore {
  /** As the tokenizer gives them (no special tokens added). */
  input_ids: number[];
  /** [positions][vocab]: logits[t] scores the token after position t. */
  logits: number[][];
}

export interface CausalLmScoreOptions {
  /** Texts per forward pass (default 8). */
  batchSize?: number;
  /** Called after each batch with the number of texts done so far. */
  onBatch?: (done: number) => void;
  /** Cut texts longer than n_positions to their first n_positions tokens instead of failing. */
  truncate?: boolean;
  /** Names text i in errors (default "text i"), e.g. "in.jsonl:3". */
  where?: (i: number) => string;
}

/**
 * Logits for every position of each text, in input order. Texts are sorted
 * by length into right-padded batches with an attention mask (padding never
 * changes a real position's logits). A text longer than n_positions, or a
 * tokenizer with ids beyond the model's vocabulary, is an error naming the text.
 */
export function scoreCausalLm(
  model: Gpt2LMHeadModel,
  tokenizer: CausalLmTokenizer,
  texts: readonly string[],
  options: CausalLmScoreOptions = {},
): CausalLmScore[] {
  const where = tokenizer.source ?? "tokenizer";
  const name = options.where ?? ((i: number) => `text ${i}`);
  if (tokenizer.vocabSize > model.config.vocab_size)
    throw new Error(
      `${where}: the tokenizer has ${tokenizer.vocabSize} ids but the model's vocab_size is ${model.config.vocab_size}; they do not belong together`,
    );
  const limit = model.config.n_positions;
  const encoded = texts.map((t, i) => {
    const ids = tokenizer.encode(t);
    if (ids.length === 0) throw new RangeError(`${name(i)}: empty (no tokens to score)`);
    if (ids.length > limit) {
      if (options.truncate) return ids.slice(0, limit);
      throw new RangeError(
        `${name(i)}: ${ids.length} tokens, longer than the ${limit} positions the model allows (config.json n_positions)`,
      );
    }
    return ids;
  });
  const batchSize = options.batchSize ?? 8;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`batch size must be a whole number > 0, got ${batchSize}`);
  const order = encoded.map((_, i) => i).sort((a, b) => encoded[a].length - encoded[b].length);
  const out: CausalLmScore[] = new Array(texts.length);
  let done = 0;
  for (let s = 0; s < order.length; s += batchSize) {
    const idx = order.slice(s, s + batchSize);
    const T = Math.max(...idx.map((i) => encoded[i].length));
    const ids = idx.map((i) => [...encoded[i], ...new Array<number>(T - encoded[i].length).fill(tokenizer.padId)]);
    const mask = idx.map((i) => [...new Array<number>(encoded[i].length).fill(1), ...new Array<number>(T - encoded[i].length).fill(0)]);
    const logits = tf.tidy(() =>
      model.forward(tf.tensor2d(ids, undefined, "int32"), { attentionMask: tf.tensor2d(mask, undefined, "float32") }).arraySync(),
    );
    idx.forEach((i, k) => (out[i] = { input_ids: encoded[i], logits: logits[k].slice(0, encoded[i].length) }));
    done += idx.length;
    options.onBatch?.(done);
  }
  return out;
}
