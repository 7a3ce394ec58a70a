/**
 * The SFT configuration: fields, defaults, the GPU preset, one line of help
 * per field, and what identifies a trained policy (the fields that change its
 * weights, the examples it learned from, the code that trained it).
 * See sft.ts for the method.
 */
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { codeHash } from "../runtime/artifacts.js";
import { DEFAULT_LM_CONFIG, GPU_LM_CONFIG, type LmConfig } from "./model.js";

export interface SftConfig {
  seed: number;
  vocabSize: number;
  tokenizerSampleChars: number;
  model: Omit<LmConfig, "vocabSize">;
  maxPromptTokens: number;
  steps: number;
  batchSize: number;
  learningRate: number;
  warmupSteps: number;
  minLearningRateFraction: number;
  weightDecay: number;
  gradClip: number;
  validFraction: number;
  evalEvery: number;
  evalExamples: number;
  checkpointEvery: number;
  useFulcra: boolean;
  useHelpful: boolean;
  maxExamples: number;
  maxBadSteps: number;
  sampleAnswers: number;
  quiet: boolean;
}

export const SFT_DEFAULTS: SftConfig = {
  seed: 1,
  vocabSize: 2048,
  tokenizerSampleChars: 6_000_000,
  model: DEFAULT_LM_CONFIG,
  maxPromptTokens: 24,
  steps: 200,
  batchSize: 16,
  learningRate: 3e-3,
  warmupSteps: 30,
  minLearningRateFraction: 0.1,
  weightDecay: 0.01,
  gradClip: 1,
  validFraction: 0.05,
  evalEvery: 100,
  evalExamples: 128,
  checkpointEvery: 100,
  useFulcra: true,
  useHelpful: true,
  maxExamples: 0,
  maxBadSteps: 5,
  sampleAnswers: 4,
  quiet: false,
};

/**
 * A larger SFT for a GPU backend (gpu with tfjs-node-gpu, or webgpu): the
 * GPU_LM_CONFIG network (≈ 14M parameters with 8192 ids), longer context and
 * more steps. Not measured here (no GPU on the kit's CI machine); on the
 * wasm backend it would take hours.
 */
export const SFT_GPU_PRESET: Partial<SftConfig> = {
  vocabSize: 8192,
  model: GPU_LM_CONFIG,
  maxPromptTokens: 96,
  steps: 6000,
  batchSize: 64,
  learningRate: 1e-3,
  warmupSteps: 200,
  evalEvery: 500,
  checkpointEvery: 500,
};

/** One line of help per field (printed by `sftHelp()`). */
export const SFT_HELP: Record<keyof SftConfig, string> = {
  seed: "seeds the model's initial weights, the split, the batch order and the sample answers",
  vocabSize: "tokenizer vocabulary: 256 bytes + merges + 4 special tokens",
  tokenizerSampleChars: "train the tokenizer on at most this many characters (a seeded sample)",
  model: "network shape (layers, heads, width, context, …); see LmConfig",
  maxPromptTokens: "prompt tokens kept (the last ones); the rest of the context is for the answer",
  steps: "optimizer updates",
  batchSize: "examples per update",
  learningRate: "peak AdamW learning rate",
  warmupSteps: "linear warm-up from 0 to the peak",
  minLearningRateFraction: "cosine decay ends at this fraction of the peak",
  weightDecay: "decoupled weight decay on matrices",
  gradClip: "clip the global gradient norm to this value",
  validFraction: "share of the examples held out for validation loss",
  evalEvery: "validate every this many steps (0 = only at the end)",
  evalExamples: "validation examples used each time",
  checkpointEvery: "write a resumable checkpoint every this many steps (0 = never)",
  useFulcra: "train on the FULCRA dialogues' responses (trustworthy_data and the larger splits when present)",
  useHelpful: "train on the chosen answers of the helpful preference pairs (first exchange of each)",
  maxExamples: "cap on training examples after shuffling (0 = all)",
  maxBadSteps: "stop after this many consecutive steps with a non-finite loss or gradient",
  sampleAnswers: "answers generated at the end to show what the policy says",
  quiet: "no progress bar",
};

export function sftHelp(): string {
  return (Object.keys(SFT_HELP) as (keyof SftConfig)[])
    .map((k) => `  ${k.padEnd(24)} ${SFT_HELP[k]} (default ${JSON.stringify(SFT_DEFAULTS[k])})`)
    .join("\n");
}

export function resolveSftConfig(partial: Partial<SftConfig> = {}): SftConfig {
  const c: SftConfig = { ...SFT_DEFAULTS, ...partial, model: { ...SFT_DEFAULTS.model, ...(partial.model ?? {}) } };
  for (const k of ["steps", "batchSize", "vocabSize", "maxPromptTokens", "evalExamples", "maxBadSteps"] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new RangeError(`SftConfig.${k} must be a positive integer, got ${c[k]}`);
  }
  if (!(c.learningRate > 0)) throw new RangeError(`SftConfig.learningRate must be positive, got ${c.learningRate}`);
  if (!(c.validFraction >= 0 && c.validFraction < 1))
    throw new RangeError(`SftConfig.validFraction must be in [0, 1), got ${c.validFraction}`);
  if (c.maxPromptTokens + 8 > c.model.contextLength) {
    throw new RangeError(
      `SftConfig.maxPromptTokens (${c.maxPromptTokens}) leaves almost no room for answers in a context of ${c.model.contextLength}`,
    );
  }
  return c;
}

/** Fields that do not change the trained weights (how loudly it runs, what it reports, how often it checkpoints). */
export const SFT_REPORTING_FIELDS = ["quiet", "sampleAnswers", "evalEvery", "evalExamples", "checkpointEvery"] as const;

/** The fields of `c` that change the trained weights, in `c`'s order. */
export function sftTrainingFields(c: Partial<SftConfig>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(c).filter(([k]) => !(SFT_REPORTING_FIELDS as readonly string[]).includes(k)));
}

/** Identifies a trained model: the fields that change it and the examples it learned from (`dataFingerprint`). */
export function sftTrainingKey(c: SftConfig, dataFingerprint: string): string {
  return createHash("sha256")
    .update(JSON.stringify(sftTrainingFields(c)))
    .update(dataFingerprint)
    .digest("hex")
    .slice(0, 16);
}

let sftCode: string | undefined;

/**
 * A hash of the code that decides what SFT produces: every module of src/lm
 * (data, loop, model, tokenizer, optimizer). Read once per process: the code
 * running does not change when the files do.
 */
export function sftCodeHash(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  sftCode ??= codeHash([here], here);
  return sftCode;
}
