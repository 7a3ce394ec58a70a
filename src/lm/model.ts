/**
 * A GPT-style causal language model with a value head, written with plain
 * tfjs ops and variables so that a custom loop (SFT, PPO) can take
 * gradients with `tf.variableGrads` and apply any optimizer.
 *
 *   ids ─► token embedding + position embedding
 *       ─► L × [ x + Attention(LayerNorm(x)) ; x + MLP(LayerNorm(x)) ]   (pre-LN blocks)
 *       ─► final LayerNorm = h
 *       ─► logits = h · W_headᵀ   (W_head is the token embedding when tied)
 *       ─► values = h · w_v + b_v (one scalar per position, for PPO's critic)
 *
 * Weights are laid out as x·W (input dimension first), the layout of
 * GPT-2's Conv1D, so published GPT-2 weights load without transposes
 * (see gpt2.ts for the name mapping).
 *
 * Speed note (measured on the wasm backend, see scripts/bench-lm.ts):
 * tfjs' wasm matmul is fast (XNNPACK) only for a plain 2-D product without
 * the transpose flags, and tfjs' own gradient of matMul uses those flags,
 * and the gradient of gather needs a kernel the wasm backend lacks. So the
 * dense layers, the attention products and the embedding lookup below
 * carry their own gradients (`tf.customGrad`), written with explicit
 * transposes, which are cheap.
 */
import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { normal, seededRandom } from "../runtime/random.js";
import { readSafetensors, writeSafetensors } from "./safetensors.js";

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
    const p = `blocks.${l}.`;
    out.push(
      [p + "attnNorm.gain", [C]],
      [p + "attnNorm.bias", [C]],
      [p + "attn.qkv.weight", [C, 3 * C]],
      [p + "attn.qkv.bias", [3 * C]],
      [p + "attn.out.weight", [C, C]],
      [p + "attn.out.bias", [C]],
      [p + "mlpNorm.gain", [C]],
      [p + "mlpNorm.bias", [C]],
      [p + "mlp.up.weight", [C, F]],
      [p + "mlp.up.bias", [F]],
      [p + "mlp.down.weight", [F, C]],
      [p + "mlp.down.bias", [C]],
    );
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
    const D = C / H;
    if (P + S > contextLength) {
      throw new RangeError(
        `CausalLm: ${P + S} positions requested but the model's context is ${contextLength} (cut the prompt or the number of new tokens)`,
      );
    }
    if (ids.dtype !== "int32") throw new TypeError(`CausalLm: ids must be int32, got ${ids.dtype}`);
    if (keyMask && (keyMask.shape[0] !== B || keyMask.shape[1] !== P + S)) {
      throw new RangeError(`CausalLm: mask shape [${keyMask.shape}] should be [${B}, ${P + S}] (batch, cached + new positions)`);
    }

    // Positions: count real tokens only, so left padding does not shift them.
    let positions: tf.Tensor2D;
    if (keyMask) {
      const counted = tf.sub(tf.cumsum(tf.cast(keyMask, "int32"), 1), tf.scalar(1, "int32")) as tf.Tensor2D;
      positions = tf.maximum(tf.slice(counted, [0, P], [B, S]), tf.scalar(0, "int32")) as tf.Tensor2D;
    } else {
      positions = tf.tile(tf.range(P, P + S, 1, "int32").reshape([1, S]), [B, 1]) as tf.Tensor2D;
    }
    let x = tf.add(embed(this.p("tokenEmbedding"), ids), embed(this.p("positionEmbedding"), positions)).reshape([B * S, C]) as tf.Tensor2D;

    // Additive attention bias [B, 1, S, P+S]: 0 where query i may read key j, −1e9 elsewhere.
    // Allowed: j not in the future, and j a real token or the query itself (so a padding
    // query still has one key and no row of the softmax is empty or ties with masked keys).
    const [causal, self] = this.causalMasks(S, P);
    let allowed: tf.Tensor = causal.reshape([1, 1, S, P + S]);
    if (keyMask)
      allowed = tf.mul(allowed, tf.maximum(tf.cast(keyMask, "float32").reshape([B, 1, 1, P + S]), self.reshape([1, 1, S, P + S])));
    const bias = tf.mul(tf.sub(1, allowed), -1e9);

    const newKeys: tf.Tensor4D[] = [];
    const newValues: tf.Tensor4D[] = [];
    for (let l = 0; l < this.config.layers; l++) {
      const pre = `blocks.${l}.`;
      // --- causal self-attention
      const a = this.layerNorm(x, pre + "attnNorm");
      const qkv = dense(a, this.p(pre + "attn.qkv.weight"), this.p<tf.Tensor1D>(pre + "attn.qkv.bias"));
      const [q, k, v] = tf.split(qkv, 3, 1).map((t) => t.reshape([B, S, H, D]).transpose([0, 2, 1, 3]) as tf.Tensor4D);
      const keys = past ? (tf.concat([past.keys[l], k], 2) as tf.Tensor4D) : k;
      const vals = past ? (tf.concat([past.values[l], v], 2) as tf.Tensor4D) : v;
      newKeys.push(keys);
      newValues.push(vals);
      const T = P + S;
      // scores = q kᵀ / √D  (Vaswani et al., scaled dot-product attention)
      const kT = keys.transpose([0, 1, 3, 2]).reshape([B * H, D, T]) as tf.Tensor3D;
      const scores = tf.add(tf.mul(bmm(q.reshape([B * H, S, D]) as tf.Tensor3D, kT).reshape([B, H, S, T]), 1 / Math.sqrt(D)), bias);
      const weights = tf.softmax(scores, -1).reshape([B * H, S, T]) as tf.Tensor3D;
      const mixed = bmm(weights, vals.reshape([B * H, T, D]) as tf.Tensor3D)
        .reshape([B, H, S, D])
        .transpose([0, 2, 1, 3])
        .reshape([B * S, C]);
      x = tf.add(x, dense(mixed as tf.Tensor2D, this.p(pre + "attn.out.weight"), this.p<tf.Tensor1D>(pre + "attn.out.bias")));
      // --- MLP
      const m = this.layerNorm(x, pre + "mlpNorm");
      const up = gelu(dense(m, this.p(pre + "mlp.up.weight"), this.p<tf.Tensor1D>(pre + "mlp.up.bias")));
      x = tf.add(x, dense(up, this.p(pre + "mlp.down.weight"), this.p<tf.Tensor1D>(pre + "mlp.down.bias")));
    }
    const h = this.layerNorm(x, "finalNorm");
    const head = this.config.tiedEmbeddings ? (this.p("tokenEmbedding").transpose() as tf.Tensor2D) : this.p("lmHead.weight");
    const logits = matmul(h, head).reshape([B, S, this.config.vocabSize]) as tf.Tensor3D;
    const hv = detachValue ? stopGradient(h) : h;
    const values = dense(hv, this.p("valueHead.weight"), this.p<tf.Tensor1D>("valueHead.bias")).reshape([B, S]) as tf.Tensor2D;
    return { logits, values, cache: { keys: newKeys, values: newValues, length: P + S } as KvCache };
  }

  private layerNorm(x: tf.Tensor2D, name: string): tf.Tensor2D {
    const mean = tf.mean(x, -1, true);
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), -1, true);
    const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, this.config.layerNormEpsilon)));
    return tf.add(tf.mul(normed, this.p<tf.Tensor1D>(name + ".gain")), this.p<tf.Tensor1D>(name + ".bias")) as tf.Tensor2D;
  }

  /** [S, P+S] 0/1 masks: key j is not in query i's future (j ≤ P+i); key j is query i itself (j = P+i). */
  private causalMasks(S: number, P: number): [tf.Tensor2D, tf.Tensor2D] {
    const key = `${S}:${P}`;
    let masks = this.causalMaskCache.get(key);
    if (!masks) {
      const causal = new Float32Array(S * (P + S));
      const self = new Float32Array(S * (P + S));
      for (let i = 0; i < S; i++) {
        for (let j = 0; j <= P + i; j++) causal[i * (P + S) + j] = 1;
        self[i * (P + S) + P + i] = 1;
      }
      masks = [tf.tensor2d(causal, [S, P + S]), tf.tensor2d(self, [S, P + S])];
      // Kept across calls (the shapes repeat); past the cap they are left to the caller's tidy.
      if (this.causalMaskCache.size < 256) this.causalMaskCache.set(key, [tf.keep(masks[0]), tf.keep(masks[1])]);
    }
    return masks;
  }
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

// ------------------------------------------------------------------ ops with hand-written gradients

/** x [N, K] · w [K, M], gradients through explicit transposes (fast on wasm). */
export function matmul(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return matmulOp(x, w) as tf.Tensor2D;
}

const matmulOp = customOp(([x, w], save) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      return [tf.matMul(dy as tf.Tensor2D, ws.transpose()), tf.matMul(xs.transpose(), dy as tf.Tensor2D)];
    },
  };
});

/** Batched a [B, M, K] · b [B, K, N] with transposes made explicit in the gradient. */
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  return bmmOp(a, b) as tf.Tensor3D;
}

const bmmOp = customOp(([a, b], save) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [as, bs] = saved as tf.Tensor3D[];
      return [tf.matMul(dy as tf.Tensor3D, bs.transpose([0, 2, 1])), tf.matMul(as.transpose([0, 2, 1]), dy as tf.Tensor3D)];
    },
  };
});

/** x · w + b. */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.add(matmul(x, w), b);
}

/** Rows of `table` [V, C] picked by int32 `ids` (any shape) → [...ids.shape, C]; gradient by scatter-add. */
export function embed(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  const flat = ids.reshape([-1]);
  const rows = embedOp(table, flat) as tf.Tensor2D;
  return rows.reshape([...ids.shape, table.shape[1]]);
}

const embedOp = customOp(([table, ids], save) => {
  save([ids]);
  const shape = table.shape as [number, number];
  return {
    value: tf.gather(table, ids as tf.Tensor1D),
    // Rows picked more than once receive the sum of their gradients (scatterND adds duplicates).
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.scatterND(saved[0].reshape([-1, 1]), dy, shape), tf.zerosLike(saved[0])],
  };
});

/**
 * GELU, tanh form (the one GPT-2 was trained with), computed through the
 * identity ½(1 + tanh z) = sigmoid(2z): same function, and the wasm
 * backend's sigmoid is several times faster than its tanh.
 */
export function gelu(x: tf.Tensor2D): tf.Tensor2D {
  const inner = tf.add(x, tf.mul(0.044715, tf.mul(x, tf.mul(x, x))));
  return tf.mul(x, tf.sigmoid(tf.mul(2 * Math.sqrt(2 / Math.PI), inner)));
}

/**
 * log p(target) under softmax(logits) for every row: logits [N, V],
 * targets int32 [N] → [N]. Equal to logSoftmax(logits)[target] but without
 * materialising the [N, V] log-softmax, and with cheap gradients on wasm.
 */
export function tokenLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  return tf.sub(pickColumns(logits, targets), logSumExpRows(logits)) as tf.Tensor1D;
}

/** Entropy of softmax(logits) per row: logits [N, V] → [N] (log-sum-exp minus the expected logit). */
export function rowEntropy(logits: tf.Tensor2D): tf.Tensor1D {
  const lse = logSumExpRows(logits);
  const probs = tf.exp(tf.sub(logits, lse.reshape([-1, 1])));
  return tf.sub(lse, tf.sum(tf.mul(probs, logits), -1)) as tf.Tensor1D;
}

/** log Σ_v exp(x[n, v]) per row, with the gradient softmax(x) (the max shift is a constant). */
export function logSumExpRows(x: tf.Tensor2D): tf.Tensor1D {
  return logSumExpOp(x) as tf.Tensor1D;
}

const logSumExpOp = customOp(([x], save) => {
  const m = tf.max(x, -1, true);
  const lse = tf.add(tf.log(tf.sum(tf.exp(tf.sub(x, m)), -1, true)), m);
  save([x, lse]);
  return {
    value: lse.reshape([-1]),
    gradFunc: (dy: tf.Tensor, [xs, l]: tf.Tensor[]) => [tf.mul(tf.exp(tf.sub(xs, l)), dy.reshape([-1, 1]))],
  };
});

/** x[n, targets[n]] per row; gradient scattered back into the picked columns. */
export function pickColumns(x: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  return pickOp(x, targets) as tf.Tensor1D;
}

const pickOp = customOp(([x, targets], save) => {
  const N = x.shape[0];
  const index = tf.stack([tf.range(0, N, 1, "int32"), targets.toInt()], 1);
  save([index, targets]);
  return {
    value: tf.gatherND(x, index),
    gradFunc: (dy: tf.Tensor, [ix, t]: tf.Tensor[]) => [tf.scatterND(ix, dy, x.shape), tf.zerosLike(t)],
  };
});

/** Identity forward, zero gradient backward. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stopOp(x) as T;
}

const stopOp = customOp(([x]) => ({ value: x.clone(), gradFunc: (dy: tf.Tensor) => [tf.zerosLike(dy)] }));

/** tf.customGrad with the inputs as an array and the save function apart (tfjs passes it last). */
function customOp(
  f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] },
) {
  const wrapped = (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return f(args.slice(0, -1) as tf.Tensor[], save);
  };
  return tf.customGrad(wrapped as unknown as Parameters<typeof tf.customGrad>[0]);
}
