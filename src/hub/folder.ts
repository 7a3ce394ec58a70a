/**
 * A model folder in Hugging Face hub format as one input: config.json (which
 * architecture, which sizes), the weights (model.safetensors) and the
 * tokenizer files. `loadHubModel(dir)` reads the architecture and hands the
 * folder to that architecture's loader.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { StoredTensor } from "../lm/safetensors.js";
import { loadDeberta, type DebertaV2 } from "./deberta.js";
import { loadGpt2FromHub, type Gpt2LMHeadModel } from "./gpt2.js";
import { loadHubBpeTokenizer, type HubBpeTokenizer } from "./bpe.js";
import { INDEX_FILE, readHubWeights as readWeights, readShardedWeights } from "./weights.js";
import { loadUnigramTokenizer, type UnigramTokenizer } from "./unigram.js";

/** Architectures this build loads (config.json "architectures"[0]). */
export const SUPPORTED_ARCHITECTURES = [
  "DebertaV2ForSequenceClassification",
  "DebertaV2Model",
  "DebertaV2ForMaskedLM",
  "GPT2LMHeadModel",
] as const;
export type HubArchitecture = (typeof SUPPORTED_ARCHITECTURES)[number];

export interface HubConfig {
  file: string;
  raw: Record<string, unknown>;
  architecture: HubArchitecture;
}

/** Reads DIR/config.json and checks that its architecture is one the kit runs. */
export function readHubConfig(dir: string): HubConfig {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: no such model folder`);
  const file = join(dir, "config.json");
  if (!existsSync(file)) throw new Error(`${file}: missing (a hub model folder needs config.json beside the weights)`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  const list = raw.architectures;
  let name = Array.isArray(list) && typeof list[0] === "string" ? list[0] : undefined;
  // Pretrained DeBERTa-v3 backbones (microsoft/deberta-v3-*) name no architecture, only the model type.
  if (!name && raw.model_type === "deberta-v2") name = "DebertaV2Model";
  if (!name) throw new Error(`${file}: field "architectures" is missing or empty; supported: ${SUPPORTED_ARCHITECTURES.join(", ")}`);
  if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(name)) {
    throw new Error(`${file}: architecture "${name}" is not supported; supported: ${SUPPORTED_ARCHITECTURES.join(", ")}`);
  }
  return { file, raw, architecture: name as HubArchitecture };
}

/**
 * The folder's tensors and the file to name in errors: model.safetensors, the
 * sharded model.safetensors.index.json, or pytorch_model.bin (src/hub/weights.ts).
 */
export function readHubWeights(dir: string): { tensors: Map<string, StoredTensor>; source: string } {
  const { tensors, files } = readWeights(dir);
  return { tensors, source: files.length === 1 ? files[0] : join(dir, INDEX_FILE) };
}

/** Reads every shard named by a model.safetensors.index.json ("weight_map": tensor → shard file), checked both ways. */
export function readShardedSafetensors(indexFile: string): Map<string, StoredTensor> {
  return readShardedWeights(indexFile).tensors;
}

/** A loaded sequence-classification (or encoder) model with its tokenizer. */
export interface HubEncoderModel {
  kind: "sequence-classification" | "encoder";
  architecture: "DebertaV2ForSequenceClassification" | "DebertaV2Model";
  dir: string;
  model: DebertaV2;
  tokenizer: UnigramTokenizer;
  /** Longest input in tokens (special tokens included). */
  maxLength: number;
  /** Label names by index (config.json id2label), for classification. */
  labels: string[];
  /** Checkpoint tensors the model does not use. */
  unused: string[];
}

/** A loaded causal language model (GPT-2) with its byte-level BPE tokenizer. */
export interface HubCausalLmModel {
  kind: "causal-lm";
  architecture: "GPT2LMHeadModel";
  dir: string;
  model: Gpt2LMHeadModel;
  tokenizer: HubBpeTokenizer;
  /** Longest input in tokens (config.json n_positions). */
  maxLength: number;
  /** Checkpoint tensors the model does not use (attention-mask buffers, a tied lm_head). */
  unused: string[];
}

export type HubModel = HubEncoderModel | HubCausalLmModel;

/** Like `loadHubModel`, for callers that need an encoder or classifier (DeBERTa): a GPT-2 folder is refused by name. */
export function loadHubEncoder(dir: string): HubEncoderModel {
  const hub = loadHubModel(dir);
  if (hub.kind === "causal-lm") {
    hub.model.dispose();
    throw new Error(
      `${join(dir, "config.json")}: architecture ${hub.architecture} is a causal language model; this needs DebertaV2ForSequenceClassification or DebertaV2Model`,
    );
  }
  return hub;
}

/** Loads a hub model folder: config.json's architecture decides the model class and tokenizer. */
export function loadHubModel(dir: string): HubModel {
  const config = readHubConfig(dir);
  switch (config.architecture) {
    case "DebertaV2ForSequenceClassification":
    case "DebertaV2Model":
    case "DebertaV2ForMaskedLM": {
      const tokenizer = loadUnigramTokenizer(dir);
      const { tensors, source } = readHubWeights(dir);
      // A masked-LM checkpoint is used as its encoder (the LM head is not run).
      const architecture =
        config.architecture === "DebertaV2ForSequenceClassification" ? "DebertaV2ForSequenceClassification" : "DebertaV2Model";
      const { model, unused } = loadDeberta(config.raw, tensors, { architecture, source, configSource: config.file });
      checkVocabulary(tokenizer.vocabSize, model.config.vocab_size, tokenizer.parts.source, config.file);
      const c = model.config;
      const limits = [c.max_position_embeddings, tokenizer.parts.modelMaxLength].filter((x): x is number => x !== undefined);
      const id2label = (config.raw.id2label ?? {}) as Record<string, string>;
      const labels = Array.from({ length: c.num_labels }, (_, i) => String(id2label[String(i)] ?? `LABEL_${i}`));
      return {
        kind: architecture === "DebertaV2Model" ? "encoder" : "sequence-classification",
        architecture,
        dir,
        model,
        tokenizer,
        maxLength: Math.min(...limits),
        labels,
        unused,
      };
    }
    case "GPT2LMHeadModel": {
      // The tokenizer and the vocabulary check come before the weights are read (a large file).
      const tokenizer = loadHubBpeTokenizer(dir);
      const vocabSize = config.raw.vocab_size;
      if (typeof vocabSize === "number") checkVocabulary(tokenizer.vocabSize, vocabSize, tokenizer.source, config.file);
      const { model, ignored } = loadGpt2FromHub(dir);
      checkVocabulary(tokenizer.vocabSize, model.config.vocab_size, tokenizer.source, config.file);
      return {
        kind: "causal-lm",
        architecture: "GPT2LMHeadModel",
        dir,
        model,
        tokenizer,
        maxLength: model.config.n_positions,
        unused: ignored.map((i) => i.name),
      };
    }
  }
}

/** A tokenizer that can produce ids the embedding table lacks would index past it. */
export function checkVocabulary(tokenizerSize: number, modelSize: number, tokenizerFile: string, configFile: string): void {
  if (tokenizerSize > modelSize) {
    throw new Error(
      `tokenizer/model vocabulary mismatch: ${tokenizerFile} has ${tokenizerSize} ids but ${configFile} says vocab_size ${modelSize}; the tokenizer does not belong to these weights`,
    );
  }
}
