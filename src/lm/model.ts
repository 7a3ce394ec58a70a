/**
 * A GPT-style causal language model with a value head, written with plain
 * tfjs ops and variables so that a custom loop (SFT, PPO) can take
 * gradients with `tf.variableGrads` and apply any optimizer.
 *
 *   ids ─► token embedding + position embedding
 *       ─► L × pre-norm Block: x + Attention(LayerNorm(x)) ; x + MLP(LayerNorm(x))
 *       ─► final LayerNorm = h
 *       ─► logits = h · W_headᵀ   (W_head is the token embedding when tied)
 *       ─► values = h · w_v + b_v (one scalar per position, for PPO's critic)
 *
 * The units: attention.ts (causal self-attention), mlp.ts, block.ts
 * (pre-norm block, LayerNorm); ops.ts holds the products, the embedding
 * lookup and the log-probabilities with hand-written gradients (fast on the
 * wasm backend). The loss is `tokenLogProbs` of the logits (sft.ts, PPO).
 *
 * Weights are laid out as x·W (input dimension first), the layout of
 * GPT-2's Conv1D, so published GPT-2 weights load without transposes
 * (see gpt2.ts for the name mapping).
 */
import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { normal, seededRandom } from "../runtime/random.js";
import { attentionBias, causalMasks } from "./attention.js";
import { type BlockWeights, blockParameterShapes, blockWeights, layerNorm, preNormBlock } from "./block.js";
import { dense, embed, matmul, stopGradient } from "./ops.js";
import { readSafetensors, writeSafetensors } from "./safetensors.js";

// The ops used to live in this file; their callers may import them from here.
export { bmm, dense, embed, logSumExpRows, matmul, pickColumns, rowEntropy, stopGradient, tokenLogProbs } from "./ops.js";
export { gelu } from "./mlp.js";

export interface LmConfig {
  /** Number of token ids (from the tokenizer). */
  vocabSize: number;
  /** Longest sequence the model reads (number of learned positions). */
  contextLength: number;
  /** Number of transformer blocks. */
  layers: number;
  /** Attention heads per block; must divide `width`. */
  heads: number;
  /** Width of the residual stream (embedding size). */
  width: number;
  /** Hidden width of each block's MLP (GPT-2: 4 × width). */
  mlpWidth: number;
  /** Output layer shares the token embedding matrix (GPT-2 does). */
  tiedEmbeddings: boolean;
  /** LayerNorm epsilon (GPT-2: 1e-5). */
  layerNormEpsilon: number;
  /** Standard deviation of the initial weights (GPT-2: 0.02). */
  initStd: number;
}

/**
 * The CPU default: sized so that a whole BaseAlign run (rollouts, updates,
 * evaluation) fits in minutes on the wasm backend; with the kit's 2048-id
 * tokenizer it has 0.66M parameters. Measured in scripts/bench-lm.ts: a
 * 64-token context costs about 0.6× a 96-token one per training step (the
 * wasm backend's batched matmul in attention is slow) and reached a lower
 * SFT validation loss for the same CPU time.
 */
export const DEFAULT_LM_CONFIG: Omit<LmConfig, "vocabSize"> = {
  contextLength: 64,
  layers: 2,
  heads: 4,
  width: 128,
  mlpWidth: 512,
  tiedEmbeddings: true,
  layerNormEpsilon: 1e-5,
  initStd: 0.02,
};

/**
 * A larger configuration for a GPU backend (gpu: tfjs-node-gpu, or webgpu):
 * about 14M parameters with an 8192-id vocabulary (see SFT_GPU_PRESET); too slow for the CPU backends.
 */
export const GPU_LM_CONFIG: Omit<LmConfig, "vocabSize"> = {
  contextLength: 256,
  layers: 6,
  heads: 8,
  width: 384,
  mlpWidth: 1536,
  tiedEmbeddings: true,
  layerNormEpsilon: 1e-5,
  initStd: 0.02,
};

export interface ForwardOptions {
  /**
   * 1 for real tokens, 0 for padding, shape [batch, time]. Padding keys are
   * not attended to, and positions count real tokens only, so a left-padded
   * prompt sees the same positions as an unpadded one.
   */
  attentionMask?: tf.Tensor2D;
  /** Values are computed from hidden states with the gradient stopped (the critic then does not move the policy). */
  detachValue?: boolean;
}

export interface ForwardResult {
  /** Next-token logits, [batch, time, vocab]: logits[b, t] scores the token at t + 1. */
  logits: tf.Tensor3D;
  /** Value estimates, [batch, time]: values[b, t] is the value of the state after reading token t. */
  values: tf.Tensor2D;
}

/** Keys and values of the tokens read so far, one pair per layer, [batch, heads, time, headWidth]. */
export interface KvCache {
  keys: tf.Tensor4D[];
  values: tf.Tensor4D[];
  /** Number of positions held. */
  length: number;
}

export interface StepResult extends ForwardResult {
  /** The cache extended with the new tokens (the caller disposes the old one). */
  cache: KvCache;
}

/** Names of the model's parameters, in a fixed order (what save files hold). */
export function parameterShapes(config: LmConfig): [string, number[]][] {
  const { vocabSize: V, contextLength: T, width: C, mlpWidth: F } = config;
  const out: [string, number[]][] = [
    ["tokenEmbedding", [V, C]],
    ["positionEmbedding", [T, C]],
  ];
  for (let l = 0; l < config.layers; l++) {
    for (const [name, shape] of blockParameterShapes(C, F)) out.push([`blocks.${l}.${name}`, shape]);
  }
  out.push(["finalNorm.gain", [C]], ["finalNorm.bias", [C]]);
  if (!config.tiedEmbeddings) out.push(["lmHead.weight", [C, V]]);
  out.push(["valueHead.weight", [C, 1]], ["valueHead.bias", [1]]);
  return out;
}

export const VALUE_HEAD_PARAMETERS = ["valueHead.weight", "valueHead.bias"] as const;

let modelCounter = 0;

export class CausalLm {
  readonly config: LmConfig;
  /** The parameters by name (see `parameterShapes`). */
  readonly params: Map<string, tf.Variable>;
  /** Prefix that makes this model's tfjs variable names unique. */
  readonly scope: string;
  /** Each block's parameters, as the block unit takes them. */
  private readonly blocks: BlockWeights[] = [];
  private readonly causalMaskCache = new Map<string, [tf.Tensor2D, tf.Tensor2D]>();

  /** Builds a model around given initial values (one Float32Array per parameter, in `parameterShapes` order or by name). */
  constructor(config: LmConfig, initial: Map<string, Float32Array | tf.Tensor>) {
    validateConfig(config);
    this.config = { ...config };
    this.scope = `fulcra-lm-${++modelCounter}`;
    this.params = new Map();
    for (const [name, shape] of parameterShapes(config)) {
      const value = initial.get(name);
      if (value === undefined) throw new Error(`CausalLm: no initial value for parameter "${name}"`);
      const size = shape.reduce((a, b) => a * b, 1);
      const given = value instanceof tf.Tensor ? value.size : value.length;
      if (given !== size) throw new Error(`CausalLm: parameter "${name}" needs shape [${shape}] (${size} values), got ${given} values`);
      const t = value instanceof tf.Tensor ? value.reshape(shape) : tf.tensor(value, shape, "float32");
      this.params.set(name, tf.variable(t, true, `${this.scope}/${name}`));
      t.dispose();
    }
    for (let l = 0; l < config.layers; l++) this.blocks.push(blockWeights((name) => this.p(`blocks.${l}.${name}`)));
  }

  /** Every parameter (policy and value head). */
  get trainableVariables(): tf.Variable[] {
    return [...this.params.values()];
  }

  /** Parameters that define the token distribution (everything but the value head). */
  get policyVariables(): tf.Variable[] {
    return [...this.params].filter(([n]) => !(VALUE_HEAD_PARAMETERS as readonly string[]).includes(n)).map(([, v]) => v);
  }

  /** The value head's weight and bias. */
  get valueHeadVariables(): tf.Variable[] {
    return VALUE_HEAD_PARAMETERS.map((n) => this.params.get(n)!);
  }

  parameterCount(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  /**
   * Reads whole sequences (training, log-probs for PPO). `ids` is int32
   * [batch, time] with time ≤ contextLength. Call inside tf.tidy or dispose
   * the results.
   */
  forward(ids: tf.Tensor2D, options: ForwardOptions = {}): ForwardResult {
    return tf.tidy(() => {
      // The cache tensors built on the way are intermediate results: tidy frees them.
      const r = this.run(ids, options.attentionMask, undefined, options.detachValue ?? false);
      return { logits: r.logits, values: r.values };
    });
  }

  /**
   * Reads `ids` [batch, new] after the tokens held in `cache` (none: start
   * fresh). `keyMask` [batch, cached + new] marks real tokens (1) and padding
   * (0) over all positions so far. Returns logits and values for the new
   * tokens and the extended cache. Used by generation; gives the same
   * numbers as `forward` on the whole sequence.
   */
  step(ids: tf.Tensor2D, keyMask: tf.Tensor2D, cache?: KvCache): StepResult {
    const kept = tf.tidy(() => {
      const r = this.run(ids, keyMask, cache, false);
      return { logits: r.logits, values: r.values, keys: r.cache.keys, cacheValues: r.cache.values };
    });
    return {
      logits: kept.logits,
      values: kept.values,
      cache: { keys: kept.keys, values: kept.cacheValues, length: (cache?.length ?? 0) + ids.shape[1] },
    };
  }

  /** A copy with its own variables (for example the frozen reference policy in PPO). */
  clone(): CausalLm {
    return new CausalLm(this.config, this.getWeights());
  }

  /** Copies of the parameter values, by name. The caller disposes them. */
  getWeights(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [n, v] of this.params) out.set(n, v.clone());
    return out;
  }

  /** Assigns parameter values by name; every name must be known and every shape must match. */
  setWeights(weights: Map<string, tf.Tensor | Float32Array> | Record<string, tf.Tensor | Float32Array>): void {
    const entries = weights instanceof Map ? [...weights] : Object.entries(weights);
    for (const [name, value] of entries) {
      const v = this.params.get(name);
      if (!v)
        throw new Error(
          `setWeights: "${name}" is not a parameter of this model (known: ${[...this.params.keys()].slice(0, 6).join(", ")}, …)`,
        );
      const given = value instanceof tf.Tensor ? value.size : value.length;
      if (given !== v.size) throw new Error(`setWeights: "${name}" needs shape [${v.shape}] (${v.size} values), got ${given}`);
      tf.tidy(() => v.assign(value instanceof tf.Tensor ? value.reshape(v.shape) : tf.tensor(value, v.shape, "float32")));
    }
  }

  /** Writes config.json and model.safetensors into `dir`. */
  save(dir: string, extra: Record<string, unknown> = {}): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.json"), JSON.stringify({ format: "fulcra-lm-1", config: this.config, ...extra }, null, 2));
    writeSafetensors(
      join(dir, "model.safetensors"),
      [...this.params].map(
        ([n, v]) => [n, { shape: v.shape, data: v.dataSync() as Float32Array }] as [string, { shape: number[]; data: Float32Array }],
      ),
      { format: "fulcra-lm-1" },
    );
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    for (const t of this.causalMaskCache.values()) tf.dispose(t);
    this.causalMaskCache.clear();
  }

  // ------------------------------------------------------------- the network

  private p<T extends tf.Tensor = tf.Tensor2D>(name: string): T {
    const v = this.params.get(name);
    if (!v) throw new Error(`CausalLm: missing parameter "${name}"`);
    return v as unknown as T;
  }

  private run(ids: tf.Tensor2D, keyMask: tf.Tensor2D | undefined, past: KvCache | undefined, detachValue: boolean) {
    const [B, S] = ids.shape;
    const P = past?.length ?? 0;
    const { width: C, heads: H, contextLength } = this.config;
    if (P + S > contextLength) {
      throw new RangeError(
        `CausalLm: ${P + S} positions requested but the model's context is ${contextLength} (cut the prompt or the number of new tokens)`,
      );
    }
    if (ids.dtype !== "int32") throw new TypeError(`CausalLm: ids must be int32, got ${ids.dtype}`);
    if (keyMask && (keyMask.shape[0] !== B || keyMask.shape[1] !== P + S)) {
      throw new RangeError(`CausalLm: mask shape [${keyMask.shape}] should be [${B}, ${P + S}] (batch, cached + new positions)`);
    }

    const positions = tokenPositions(B, S, P, keyMask);
    let x = tf.add(embed(this.p("tokenEmbedding"), ids), embed(this.p("positionEmbedding"), positions)).reshape([B * S, C]) as tf.Tensor2D;

    const [causal, self] = this.causalMasks(S, P);
    const options = {
      batch: B,
      heads: H,
      scale: 1 / Math.sqrt(C / H),
      bias: attentionBias(causal, self, keyMask),
      epsilon: this.config.layerNormEpsilon,
    };
    const newKeys: tf.Tensor4D[] = [];
    const newValues: tf.Tensor4D[] = [];
    for (let l = 0; l < this.config.layers; l++) {
      const r = preNormBlock(x, this.blocks[l], options, past && { keys: past.keys[l], values: past.values[l] });
      x = r.x;
      newKeys.push(r.kv.keys);
      newValues.push(r.kv.values);
    }
    const h = layerNorm(x, { gain: this.p("finalNorm.gain"), bias: this.p("finalNorm.bias") }, this.config.layerNormEpsilon);
    const head = this.config.tiedEmbeddings ? (this.p("tokenEmbedding").transpose() as tf.Tensor2D) : this.p("lmHead.weight");
    const logits = matmul(h, head).reshape([B, S, this.config.vocabSize]) as tf.Tensor3D;
    const hv = detachValue ? stopGradient(h) : h;
    const values = dense(hv, this.p("valueHead.weight"), this.p<tf.Tensor1D>("valueHead.bias")).reshape([B, S]) as tf.Tensor2D;
    return { logits, values, cache: { keys: newKeys, values: newValues, length: P + S } as KvCache };
  }

  /** `causalMasks(S, P)`, kept across calls (the shapes repeat); past the cap they are left to the caller's tidy. */
  private causalMasks(S: number, P: number): [tf.Tensor2D, tf.Tensor2D] {
    const key = `${S}:${P}`;
    let masks = this.causalMaskCache.get(key);
    if (!masks) {
      masks = causalMasks(S, P);
      if (this.causalMaskCache.size < 256) this.causalMaskCache.set(key, [tf.keep(masks[0]), tf.keep(masks[1])]);
    }
    return masks;
  }
}

/**
 * Position ids [B, S] of S new tokens after P cached ones: P, P+1, … or,
 * with `keyMask` [B, P+S], the number of real tokens before each one, so
 * that left padding does not shift positions (a padding token gets 0).
 */
export function tokenPositions(B: number, S: number, P: number, keyMask?: tf.Tensor2D): tf.Tensor2D {
  if (!keyMask) return tf.tile(tf.range(P, P + S, 1, "int32").reshape([1, S]), [B, 1]) as tf.Tensor2D;
  const counted = tf.sub(tf.cumsum(tf.cast(keyMask, "int32"), 1), tf.scalar(1, "int32")) as tf.Tensor2D;
  return tf.maximum(tf.slice(counted, [0, P], [B, S]), tf.scalar(0, "int32")) as tf.Tensor2D;
}

/** A freshly initialised model (GPT-2's scheme: N(0, initStd), residual projections scaled by 1/√(2·layers), zero value head). Seeded, backend-independent. */
export function createModel(config: LmConfig, seed: number): CausalLm {
  validateConfig(config);
  const random = seededRandom(seed);
  const initial = new Map<string, Float32Array>();
  for (const [name, shape] of parameterShapes(config)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (name.endsWith(".gain")) data.fill(1);
    else if (name.endsWith(".bias") || name.startsWith("valueHead")) {
      // zeros
    } else {
      const residual = name.endsWith("attn.out.weight") || name.endsWith("mlp.down.weight");
      const std = config.initStd * (residual ? 1 / Math.sqrt(2 * config.layers) : 1);
      for (let i = 0; i < size; i++) data[i] = std * normal(random);
    }
    initial.set(name, data);
  }
  return new CausalLm(config, initial);
}

/** Loads a model written by `CausalLm.save`. */
export function loadModel(dir: string): CausalLm {
  const configFile = join(dir, "config.json");
  const weightsFile = join(dir, "model.safetensors");
  for (const f of [configFile, weightsFile])
    if (!existsSync(f)) throw new Error(`loadModel: ${f} is missing (a saved model folder holds config.json and model.safetensors)`);
  const saved = JSON.parse(readFileSync(configFile, "utf8")) as { format?: string; config?: LmConfig };
  if (saved.format !== "fulcra-lm-1" || !saved.config) throw new Error(`loadModel: ${configFile} is not a fulcra-lm-1 model config`);
  const { tensors } = readSafetensors(weightsFile);
  const initial = new Map<string, Float32Array>();
  for (const [name, shape] of parameterShapes(saved.config)) {
    const t = tensors.get(name);
    if (!t) throw new Error(`loadModel: ${weightsFile} has no tensor "${name}"`);
    if (t.shape.join(",") !== shape.join(","))
      throw new Error(`loadModel: ${weightsFile}: "${name}" has shape [${t.shape}], config.json implies [${shape}]`);
    initial.set(name, t.data);
  }
  return new CausalLm(saved.config, initial);
}

export function validateConfig(c: LmConfig): void {
  const positive = ["vocabSize", "contextLength", "layers", "heads", "width", "mlpWidth"] as const;
  for (const f of positive) {
    if (!Number.isInteger(c[f]) || c[f] <= 0) throw new RangeError(`LmConfig.${f} must be a positive integer, got ${c[f]}`);
  }
  if (c.width % c.heads !== 0) throw new RangeError(`LmConfig.width (${c.width}) must be divisible by heads (${c.heads})`);
  if (!(c.layerNormEpsilon > 0)) throw new RangeError(`LmConfig.layerNormEpsilon must be positive, got ${c.layerNormEpsilon}`);
}
