/**
 * SFT files: the resumable checkpoint written during training (weights,
 * tokenizer, optimizer moments, loop state) and the saved policy
 * (tokenizer.json, config.json + model.safetensors, sft.json).
 * See sft.ts for the method.
 */
import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { provenance } from "../runtime/provenance.js";
import { loadModel, type CausalLm } from "./model.js";
import type { AdamW } from "./optim.js";
import { readSafetensors, writeSafetensors } from "./safetensors.js";
import type { SftConfig } from "./sft-config.js";
import { Tokenizer } from "./tokenizer.js";

// ------------------------------------------------------------------ the saved policy

export interface SftSummary {
  format: "fulcra-sft-1";
  config: SftConfig;
  trainingKey: string;
  /** Hash of the training examples (see dataFingerprint). */
  dataFingerprint: string;
  /** Hash of the code that trained it (see sftCodeHash). */
  codeHash: string;
  steps: number;
  /** Training loss (nats per response token), mean over each logging window. */
  lossHistory: { step: number; loss: number }[];
  validHistory: { step: number; loss: number }[];
  finalTrainLoss: number;
  finalValidLoss: number | null;
  skippedSteps: number;
  examples: { train: number; valid: number; bySource: Record<string, number>; dropped: Record<string, number> };
  tokensSeen: number;
  seconds: number;
  parameters: number;
  samples: { prompt: string; answer: string }[];
  provenance: ReturnType<typeof provenance>;
}

export interface SftResult {
  model: CausalLm;
  tokenizer: Tokenizer;
  summary: SftSummary;
}

// ------------------------------------------------------------------ checkpoints

export interface CheckpointState {
  trainingKey: string;
  step: number;
  lossHistory: { step: number; loss: number }[];
  validHistory: { step: number; loss: number }[];
  tokensSeen: number;
  skippedSteps: number;
  windowLoss: number;
  windowSteps: number;
}

/** The loop state of the checkpoint in `dir`; undefined when there is none (or it cannot be read). */
export function readCheckpointState(dir: string): CheckpointState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as CheckpointState;
  } catch {
    return undefined;
  }
}

/** The checkpoint's model, with its optimizer moments put back into `optimizer`. */
export function restoreCheckpoint(dir: string, state: CheckpointState, optimizer: AdamW): CausalLm {
  const model = loadModel(dir);
  optimizer.setState(readSafetensors(join(dir, "optimizer.safetensors")).tensors, state.step, model.params);
  return model;
}

export function writeCheckpoint(dir: string, model: CausalLm, tokenizer: Tokenizer, optimizer: AdamW, state: CheckpointState): void {
  // Written to a side folder, then swapped in, so an interrupted write never leaves a half checkpoint.
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  model.save(tmp);
  tokenizer.save(join(tmp, "tokenizer.json"));
  const moments = optimizer.getState();
  writeSafetensors(
    join(tmp, "optimizer.safetensors"),
    [...moments].map(
      ([n, t]) => [n, { shape: t.shape, data: t.dataSync() as Float32Array }] as [string, { shape: number[]; data: Float32Array }],
    ),
  );
  tf.dispose([...moments.values()]);
  writeFileSync(join(tmp, "state.json"), JSON.stringify(state));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

/** Writes tokenizer.json, config.json, model.safetensors and sft.json into `dir`. */
export function saveSftPolicy(dir: string, model: CausalLm, tokenizer: Tokenizer, summary: SftSummary): void {
  mkdirSync(dir, { recursive: true });
  tokenizer.save(join(dir, "tokenizer.json"));
  model.save(dir, { trainedBy: "sft", trainingKey: summary.trainingKey });
  writeFileSync(join(dir, "sft.json"), JSON.stringify(summary, null, 2));
}

/** Loads a policy saved by `saveSftPolicy` (or any folder with tokenizer.json + a saved model). */
export function loadSftPolicy(dir: string): SftResult {
  const tokenizer = Tokenizer.load(join(dir, "tokenizer.json"));
  const model = loadModel(dir);
  if (model.config.vocabSize !== tokenizer.vocabSize) {
    model.dispose();
    throw new Error(
      `${dir}: the model has ${model.config.vocabSize} token ids but tokenizer.json has ${tokenizer.vocabSize}; the two files do not belong together`,
    );
  }
  const summaryFile = join(dir, "sft.json");
  const summary = existsSync(summaryFile)
    ? (JSON.parse(readFileSync(summaryFile, "utf8")) as SftSummary)
    : (undefined as unknown as SftSummary);
  return { model, tokenizer, summary };
}

/** The sft.json of a saved policy whose weights and tokenizer are there too; undefined otherwise. */
export function readSftSummary(dir: string): SftSummary | undefined {
  if (!existsSync(join(dir, "model.safetensors")) || !existsSync(join(dir, "tokenizer.json"))) return undefined;
  try {
    return JSON.parse(readFileSync(join(dir, "sft.json"), "utf8")) as SftSummary;
  } catch {
    return undefined;
  }
}
