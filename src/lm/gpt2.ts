/**
 * Loading GPT-2-family weights (for users who have them locally) into the
 * kit's CausalLm, through an explicit name mapping with shape checks.
 *
 * GPT-2's checkpoint (Hugging Face safetensors layout) names:
 *   wte, wpe                      token and position embeddings
 *   h.N.ln_1, h.N.ln_2, ln_f      LayerNorms (weight = gain, bias)
 *   h.N.attn.c_attn               fused q|k|v projection, Conv1D layout [in, 3·width]
 *   h.N.attn.c_proj               attention output projection [width, width]
 *   h.N.mlp.c_fc, h.N.mlp.c_proj  MLP up [width, 4·width] and down [4·width, width]
 * possibly prefixed with "transformer.", plus causal-mask buffers
 * (h.N.attn.bias, h.N.attn.masked_bias) that hold no weights, and an
 * lm_head.weight equal to wte when the head is tied.
 *
 * Conv1D stores weights as [in, out], the layout of our x·W, so nothing is
 * transposed; the fused q|k|v columns are in the order our attention splits them.
 * The value head is new (zeros): GPT-2 has none.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { CausalLm, parameterShapes, type LmConfig } from "./model.js";
import { readSafetensors, type StoredTensor } from "./safetensors.js";
import { loadGpt2Tokenizer, type Tokenizer } from "./tokenizer.js";

/** Our parameter name → GPT-2's, for one block ("{i}" is the block number). */
export const GPT2_BLOCK_NAMES: Record<string, string> = {
  "attnNorm.gain": "ln_1.weight",
  "attnNorm.bias": "ln_1.bias",
  "attn.qkv.weight": "attn.c_attn.weight",
  "attn.qkv.bias": "attn.c_attn.bias",
  "attn.out.weight": "attn.c_proj.weight",
  "attn.out.bias": "attn.c_proj.bias",
  "mlpNorm.gain": "ln_2.weight",
  "mlpNorm.bias": "ln_2.bias",
  "mlp.up.weight": "mlp.c_fc.weight",
  "mlp.up.bias": "mlp.c_fc.bias",
  "mlp.down.weight": "mlp.c_proj.weight",
  "mlp.down.bias": "mlp.c_proj.bias",
};

/** Our parameter name → GPT-2's, outside the blocks. */
export const GPT2_TOP_NAMES: Record<string, string> = {
  tokenEmbedding: "wte.weight",
  positionEmbedding: "wpe.weight",
  "finalNorm.gain": "ln_f.weight",
  "finalNorm.bias": "ln_f.bias",
};

/** Tensors in GPT-2 files that are not weights (attention-mask buffers). */
const BUFFERS = /^h\.\d+\.attn\.(bias|masked_bias)$/;

export interface Gpt2LoadOptions {
  /** Attention heads (GPT-2 small: 12). Read from config.json ("n_head") next to the file when not given. */
  heads?: number;
  /** LayerNorm epsilon (GPT-2: 1e-5); config.json's "layer_norm_epsilon" when present. */
  layerNormEpsilon?: number;
}

export interface Gpt2Loaded {
  model: CausalLm;
  config: LmConfig;
  /** GPT-2's tokenizer, when vocab.json and merges.txt sit next to the weights. */
  tokenizer?: Tokenizer;
  /** Tensors of the file that were not used, and why (buffers, a tied lm_head). */
  ignored: { name: string; reason: string }[];
}

/**
 * Loads a GPT-2-family checkpoint from a safetensors file (or a folder with
 * model.safetensors, and optionally config.json, vocab.json, merges.txt).
 */
export function loadGpt2(path: string, options: Gpt2LoadOptions = {}): Gpt2Loaded {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, "model.safetensors") : path;
  const folder = dirname(file);
  const { tensors: raw } = readSafetensors(file);

  // Drop the "transformer." prefix of GPT2LMHeadModel checkpoints.
  const tensors = new Map<string, StoredTensor>();
  for (const [name, t] of raw) tensors.set(name.startsWith("transformer.") ? name.slice("transformer.".length) : name, t);

  const hf = readHfConfig(join(folder, "config.json"));
  const wte = need(tensors, "wte.weight", file);
  const wpe = need(tensors, "wpe.weight", file);
  let layers = 0;
  while (tensors.has(`h.${layers}.ln_1.weight`)) layers++;
  if (layers === 0) throw new Error(`${file}: no block found (expected tensors named h.0.ln_1.weight, h.1.…); is this a GPT-2 checkpoint?`);
  const heads = options.heads ?? hf.n_head;
  if (heads === undefined)
    throw new Error(
      `${file}: the number of attention heads is not stored in the weights; pass { heads } (GPT-2 small: 12) or put GPT-2's config.json next to the file`,
    );
  const lmHead = tensors.get("lm_head.weight");
  const tied = !lmHead || sameValues(lmHead.data, wte.data);
  const config: LmConfig = {
    vocabSize: wte.shape[0],
    contextLength: wpe.shape[0],
    layers,
    heads,
    width: wte.shape[1],
    mlpWidth: need(tensors, "h.0.mlp.c_fc.weight", file).shape[1],
    tiedEmbeddings: tied,
    layerNormEpsilon: options.layerNormEpsilon ?? hf.layer_norm_epsilon ?? 1e-5,
    initStd: hf.initializer_range ?? 0.02,
  };
  if (hf.n_layer !== undefined && hf.n_layer !== layers)
    throw new Error(`${file}: config.json says n_layer ${hf.n_layer} but the file holds ${layers} blocks`);
  // The kit's decoder computes GPT-2's default variant only; src/hub/gpt2.ts reads every setting.
  const unsupported = [
    hf.activation_function !== undefined &&
      !["gelu_new", "gelu_pytorch_tanh", "gelu_fast"].includes(hf.activation_function) &&
      `activation_function "${hf.activation_function}"`,
    hf.scale_attn_by_inverse_layer_idx === true && "scale_attn_by_inverse_layer_idx",
    hf.scale_attn_weights === false && "scale_attn_weights false",
  ].filter(Boolean);
  if (unsupported.length)
    throw new Error(
      `${folder}/config.json: ${unsupported.join(", ")} is not computed by the kit's decoder; load the folder with loadGpt2FromHub (src/hub/gpt2.ts)`,
    );

  // Our name → GPT-2 name, written out for every parameter.
  const mapping = new Map<string, string>(Object.entries(GPT2_TOP_NAMES));
  for (let l = 0; l < layers; l++)
    for (const [ours, theirs] of Object.entries(GPT2_BLOCK_NAMES)) mapping.set(`blocks.${l}.${ours}`, `h.${l}.${theirs}`);

  const initial = new Map<string, Float32Array>();
  const used = new Set<string>();
  for (const [ours, shape] of parameterShapes(config)) {
    if (ours === "lmHead.weight") {
      // Untied head: GPT-2 stores it as [vocab, width]; ours is [width, vocab].
      initial.set(ours, transpose(lmHead!.data, config.vocabSize, config.width));
      used.add("lm_head.weight");
      continue;
    }
    if (ours.startsWith("valueHead.")) {
      initial.set(ours, new Float32Array(shape.reduce((a, b) => a * b, 1)));
      continue;
    }
    const theirs = mapping.get(ours);
    if (!theirs) throw new Error(`loadGpt2: no GPT-2 name for our parameter "${ours}" (mapping incomplete)`);
    const t = need(tensors, theirs, file);
    if (t.shape.join(",") !== shape.join(",")) {
      throw new Error(
        `${file}: "${theirs}" (→ our "${ours}") has shape [${t.shape}], expected [${shape}] for width ${config.width}, ${config.heads} heads, MLP ${config.mlpWidth}`,
      );
    }
    initial.set(ours, t.data);
    used.add(theirs);
  }

  const ignored: Gpt2Loaded["ignored"] = [];
  for (const name of tensors.keys()) {
    if (used.has(name)) continue;
    if (BUFFERS.test(name)) ignored.push({ name, reason: "attention-mask buffer, not a weight" });
    else if (name === "lm_head.weight" && tied) ignored.push({ name, reason: "equal to wte (tied head)" });
    else throw new Error(`${file}: tensor "${name}" has no place in the model (not a GPT-2 weight this loader knows); nothing was loaded`);
  }

  const model = new CausalLm(config, initial);
  const vocab = join(folder, "vocab.json");
  const merges = join(folder, "merges.txt");
  const tokenizer = existsSync(vocab) && existsSync(merges) ? loadGpt2Tokenizer(vocab, merges) : undefined;
  if (tokenizer && tokenizer.vocabSize > config.vocabSize) {
    throw new Error(`${folder}: vocab.json has ${tokenizer.vocabSize} tokens but the weights have ${config.vocabSize} rows`);
  }
  return { model, config, tokenizer, ignored };
}

interface HfConfig {
  activation_function?: string;
  scale_attn_by_inverse_layer_idx?: boolean;
  scale_attn_weights?: boolean;
  n_head?: number;
  n_layer?: number;
  layer_norm_epsilon?: number;
  initializer_range?: number;
}

function readHfConfig(file: string): HfConfig {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, "utf8")) as HfConfig;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

function need(tensors: Map<string, StoredTensor>, name: string, file: string): StoredTensor {
  const t = tensors.get(name);
  if (!t) {
    const near = [...tensors.keys()].filter((k) => k.split(".").slice(-2).join(".") === name.split(".").slice(-2).join(".")).slice(0, 3);
    throw new Error(`${file}: tensor "${name}" is missing${near.length ? ` (similar names present: ${near.join(", ")})` : ""}`);
  }
  return t;
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}
