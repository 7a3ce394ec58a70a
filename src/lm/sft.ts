/**
 * Supervised fine-tuning (SFT): the starting policy of BaseAlign.
 *
 * The paper aligns a model that already answers questions. Here the kit
 * trains one from scratch on the answers it has: the responses of the FULCRA
 * dialogues (several LLMs answering value-laden prompts) and the chosen
 * answers of the HH-RLHF helpfulness pairs. The answers to the SafeRLHF test
 * prompts are kept out: the scored-output files (`harmless_test_*`) are never
 * read, and any dialogue whose prompt is a SafeRLHF test prompt is dropped.
 *
 * Method, in order:
 *   1. collect (prompt, response) pairs from the data files present
 *   2. train a byte-level BPE tokenizer on them (and on the training prompts)
 *   3. tokenise: [BOS] prompt [SEP] response [EOS], cut to the context
 *   4. AdamW on the next-token cross-entropy of the response tokens only:
 *        L = − Σ_t m_t log p(x_t | x_<t) / Σ_t m_t,  m_t = 1 on response tokens
 *      with linear warm-up then cosine decay, global-norm clipping, a guard
 *      that skips non-finite steps, periodic validation, checkpoints, resume
 *   5. save tokenizer.json, config.json + model.safetensors, sft.json
 */
import * as tf from "@tensorflow/tfjs";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { availableDataFiles, rawPath } from "../data/paths.js";
import { kitPaths } from "../runtime/env.js";
import { readRecords } from "../data/readers.js";
import { initBackend } from "../runtime/backend.js";
import { Progress } from "../runtime/progress.js";
import { provenance } from "../runtime/provenance.js";
import { seededRandom, shuffled } from "../runtime/random.js";
import { splitPromptAnswer } from "../text/dialogue.js";
import { generate } from "./generate.js";
import { createModel, DEFAULT_LM_CONFIG, GPU_LM_CONFIG, loadModel, tokenLogProbs, type CausalLm, type LmConfig } from "./model.js";
import { AdamW, clipByGlobalNorm } from "./optim.js";
import { readSafetensors, writeSafetensors } from "./safetensors.js";
import { Tokenizer, trainTokenizer } from "./tokenizer.js";
import { promptKey } from "../text/prompt-key.js";

// ------------------------------------------------------------------ configuration

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

/** Identifies a trained model: the fields that change it (not quiet, not reporting) and the examples it learned from. */
function trainingKey(c: SftConfig, data: SftData): string {
  const { quiet: _q, sampleAnswers: _s, evalEvery: _e, evalExamples: _x, checkpointEvery: _k, ...rest } = c;
  return createHash("sha256").update(JSON.stringify(rest)).update(dataFingerprint(data)).digest("hex").slice(0, 16);
}

/** A short hash of the examples (order included). */
export function dataFingerprint(data: SftData): string {
  const h = createHash("sha256");
  for (const e of data.examples) h.update(e.prompt).update("\u0000").update(e.response).update("\u0001");
  return h.digest("hex").slice(0, 16);
}

// ------------------------------------------------------------------ 1. data

export interface SftExample {
  prompt: string;
  response: string;
  /** Data file name (manifest name) it came from. */
  source: string;
}

export interface SftData {
  examples: SftExample[];
  /** Files read (paths), for provenance. */
  files: string[];
  /** What was left out and why, by reason. */
  dropped: Record<string, number>;
}

/**
 * Collects (prompt, response) pairs from the data files present. Never reads
 * the scored-output files; drops dialogues whose prompt is a SafeRLHF test prompt.
 */
export function collectSftExamples(options: { useFulcra?: boolean; useHelpful?: boolean; rawDir?: string } = {}): SftData {
  const rawDir = options.rawDir ?? kitPaths().rawDir;
  const present = new Set(availableDataFiles(rawDir).map((e) => e.name));
  const files: string[] = [];
  const dropped: Record<string, number> = {};
  const drop = (why: string) => (dropped[why] = (dropped[why] ?? 0) + 1);

  const heldOut = new Set<string>();
  if (present.has("saferlhf_test_questions")) {
    const f = rawPath("saferlhf_test_questions", rawDir);
    files.push(f);
    for (const q of readRecords("questions", f)) heldOut.add(promptKey(q.prompt));
  }

  const examples: SftExample[] = [];
  const seen = new Set<string>();
  const add = (prompt: string, response: string, source: string) => {
    if (!response.trim()) return drop("empty response");
    if (heldOut.has(promptKey(prompt))) return drop("prompt is a SafeRLHF test prompt");
    const key = `${prompt}\u0000${response}`;
    if (seen.has(key)) return drop("duplicate");
    seen.add(key);
    examples.push({ prompt: prompt.trim(), response: response.trim(), source });
  };

  if (options.useFulcra ?? true) {
    // data_hybrid holds all FULCRA pairs; the smaller splits add nothing when it is there (duplicates are dropped anyway).
    for (const name of ["data_hybrid", "evaluator_data", "generated_data", "trustworthy_data"]) {
      if (!present.has(name)) continue;
      const f = rawPath(name, rawDir);
      files.push(f);
      for (const r of readRecords("fulcra", f)) {
        const { prompt, answer } = splitPromptAnswer(r.dialogue);
        add(prompt, answer, name);
      }
    }
  }
  if ((options.useHelpful ?? true) && present.has("helpful_test")) {
    const f = rawPath("helpful_test", rawDir);
    files.push(f);
    for (const pair of readRecords("preference_pairs", f)) {
      const first = firstExchange(pair.chosen);
      if (first) add(first.prompt, first.response, "helpful_test");
      else drop("no Human/Assistant exchange");
    }
  }
  if (examples.length === 0) {
    throw new Error(
      `SFT: no training examples found under ${rawDir}; run \`npx fulcra data fetch\` (trustworthy_data and helpful_test are enough)`,
    );
  }
  return { examples, files, dropped };
}

/** The first "\n\nHuman: …\n\nAssistant: …" exchange of an HH-RLHF transcript (the first answer depends on nothing later). */
export function firstExchange(transcript: string): { prompt: string; response: string } | undefined {
  const m = /^\s*Human:\s*([\s\S]*?)\n\nAssistant:\s?([\s\S]*?)(?:\n\nHuman:|$)/.exec(transcript);
  if (!m) return undefined;
  return { prompt: m[1].trim(), response: m[2].trim() };
}

// ------------------------------------------------------------------ 3. tokenised batches

interface Encoded {
  ids: number[];
  /** First response position (loss from here on). */
  responseStart: number;
}

function encodeExamples(tokenizer: Tokenizer, examples: readonly SftExample[], contextLength: number, maxPromptTokens: number): Encoded[] {
  return examples.map((e) => tokenizer.formatExample(e.prompt, e.response, contextLength, maxPromptTokens));
}

/**
 * A right-padded batch: ids [B, T], targets [B·(T−1)] (the next token) and
 * loss weights [B·(T−1)] (1 where the next token is a response token).
 */
function makeBatch(
  items: readonly Encoded[],
  pad: number,
): { ids: tf.Tensor2D; targets: tf.Tensor1D; weights: tf.Tensor1D; B: number; T: number } {
  const B = items.length;
  const T = Math.max(...items.map((e) => e.ids.length));
  const ids = new Int32Array(B * T).fill(pad);
  const targets = new Int32Array(B * (T - 1)).fill(pad);
  const weights = new Float32Array(B * (T - 1));
  items.forEach((e, b) => {
    ids.set(e.ids, b * T);
    for (let j = 0; j + 1 < e.ids.length; j++) {
      targets[b * (T - 1) + j] = e.ids[j + 1];
      if (j + 1 >= e.responseStart) weights[b * (T - 1) + j] = 1;
    }
  });
  return { ids: tf.tensor2d(ids, [B, T], "int32"), targets: tf.tensor1d(targets, "int32"), weights: tf.tensor1d(weights), B, T };
}

/** Mean next-token loss over response tokens (right padding needs no attention mask: padding comes after every real token). */
function responseLoss(model: CausalLm, batch: ReturnType<typeof makeBatch>): tf.Scalar {
  const { logits } = model.forward(batch.ids);
  const V = model.config.vocabSize;
  const next = logits.slice([0, 0, 0], [batch.B, batch.T - 1, V]).reshape([batch.B * (batch.T - 1), V]) as tf.Tensor2D;
  const nll = tf.neg(tokenLogProbs(next, batch.targets));
  return tf.div(tf.sum(tf.mul(nll, batch.weights)), tf.maximum(tf.sum(batch.weights), 1)) as tf.Scalar;
}

// ------------------------------------------------------------------ 4. training

export interface SftSummary {
  format: "fulcra-sft-1";
  config: SftConfig;
  trainingKey: string;
  /** Hash of the training examples (see dataFingerprint). */
  dataFingerprint: string;
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

export interface TrainSftOptions {
  /** Folder for the result and checkpoints (nothing written when absent). */
  outDir?: string;
  /** Examples to train on (default: `collectSftExamples`). */
  data?: SftData;
  /** A tokenizer to use instead of training one. */
  tokenizer?: Tokenizer;
  /** Prompts for the sample answers at the end (default: the first validation prompts). */
  samplePrompts?: string[];
  /**
   * Stop after this step, leaving a checkpoint in outDir to resume from
   * (time-boxed sessions; the tests use it to check that resuming gives the
   * same weights as an uninterrupted run).
   */
  stopAtStep?: number;
}

/** Learning rate at `step` (1-based): linear warm-up, then cosine down to minLearningRateFraction of the peak. */
export function learningRateAt(
  step: number,
  c: Pick<SftConfig, "learningRate" | "warmupSteps" | "steps" | "minLearningRateFraction">,
): number {
  if (step <= c.warmupSteps) return (c.learningRate * step) / Math.max(1, c.warmupSteps);
  const progress = Math.min(1, (step - c.warmupSteps) / Math.max(1, c.steps - c.warmupSteps));
  const floor = c.minLearningRateFraction;
  return c.learningRate * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** Runs SFT with `config` (see SFT_HELP). Resumes from `outDir/checkpoint` when one matches the configuration. */
export async function trainSft(partial: Partial<SftConfig> = {}, options: TrainSftOptions = {}): Promise<SftResult> {
  const c = resolveSftConfig(partial);
  await initBackend({ quiet: c.quiet });
  const started = Date.now();

  // 1. data, and a seeded train/valid split
  const data = options.data ?? collectSftExamples({ useFulcra: c.useFulcra, useHelpful: c.useHelpful });
  const key = trainingKey(c, data);
  const order = shuffled(data.examples, seededRandom(c.seed));
  const nValid = Math.floor(order.length * c.validFraction);
  const valid = order.slice(0, nValid);
  let train = order.slice(nValid);
  if (c.maxExamples > 0) train = train.slice(0, c.maxExamples);
  if (train.length === 0) throw new Error("SFT: no training examples left after the validation split");

  // 2. tokenizer (trained on the training side only, plus the PPO training prompts when present)
  const checkpointDir = options.outDir ? join(options.outDir, "checkpoint") : undefined;
  let tokenizer = options.tokenizer;
  if (!tokenizer && checkpointDir && existsSync(join(checkpointDir, "tokenizer.json")) && readCheckpointKey(checkpointDir) === key) {
    tokenizer = Tokenizer.load(join(checkpointDir, "tokenizer.json"));
  }
  if (!tokenizer) tokenizer = trainTokenizer(tokenizerCorpus(train, c), c.vocabSize);

  // 3. tokenise
  const config: LmConfig = { ...c.model, vocabSize: tokenizer.vocabSize };
  const encodedTrain = encodeExamples(tokenizer, train, config.contextLength, c.maxPromptTokens).filter(
    (e) => e.ids.length > e.responseStart,
  );
  const encodedValid = encodeExamples(tokenizer, valid.slice(0, c.evalExamples), config.contextLength, c.maxPromptTokens).filter(
    (e) => e.ids.length > e.responseStart,
  );

  // 4. model and optimizer, from a checkpoint when there is a matching one
  let model = createModel(config, c.seed);
  const optimizer = new AdamW({ learningRate: c.learningRate, weightDecay: c.weightDecay });
  let startStep = 0;
  let lossHistory: { step: number; loss: number }[] = [];
  let validHistory: { step: number; loss: number }[] = [];
  let tokensSeen = 0;
  let skippedSteps = 0;
  // Running sum of the losses since the last logged point (part of the checkpoint, so a resumed log is identical).
  let windowLoss = 0;
  let windowSteps = 0;
  if (checkpointDir && existsSync(join(checkpointDir, "state.json"))) {
    const state = JSON.parse(readFileSync(join(checkpointDir, "state.json"), "utf8")) as CheckpointState;
    if (state.trainingKey === key) {
      model.dispose();
      model = loadModel(checkpointDir);
      optimizer.setState(readSafetensors(join(checkpointDir, "optimizer.safetensors")).tensors, state.step, model.params);
      ({ step: startStep, lossHistory, validHistory, tokensSeen, skippedSteps, windowLoss, windowSteps } = state);
      if (!c.quiet) console.error(`sft: resuming from ${checkpointDir} at step ${startStep}`);
    } else if (!c.quiet) {
      console.error(`sft: ignoring ${checkpointDir} (trained with another configuration)`);
    }
  }

  const bar = new Progress({ label: "sft", total: c.steps, quiet: c.quiet });
  bar.tick(startStep);
  const pad = tokenizer.specials.pad;
  const batchesPerEpoch = Math.floor(encodedTrain.length / c.batchSize) || 1;
  let badRun = 0;
  const evaluate = () => (encodedValid.length ? meanLoss(model, encodedValid, c.batchSize, pad) : null);

  for (let step = startStep + 1; step <= c.steps; step++) {
    // Batch order: a fresh seeded shuffle each epoch, so a resumed run sees the same batches.
    const epoch = Math.floor((step - 1) / batchesPerEpoch);
    const within = (step - 1) % batchesPerEpoch;
    const perm = epochOrder(encodedTrain.length, c.seed, epoch);
    const items = perm.slice(within * c.batchSize, (within + 1) * c.batchSize).map((i) => encodedTrain[i]);
    const batch = makeBatch(items, pad);
    optimizer.learningRate = learningRateAt(step, c);

    const { value, grads } = tf.variableGrads(() => responseLoss(model, batch), model.trainableVariables);
    const loss = value.dataSync()[0];
    const clipped = clipByGlobalNorm(grads, c.gradClip);
    // NaN guard: a non-finite loss or gradient skips the update instead of poisoning the weights.
    if (Number.isFinite(loss) && Number.isFinite(clipped.norm)) {
      optimizer.step(model.params, clipped.grads);
      badRun = 0;
      windowLoss += loss;
      windowSteps++;
      tokensSeen += items.reduce((s, e) => s + e.ids.length, 0);
    } else {
      skippedSteps++;
      badRun++;
      if (badRun >= c.maxBadSteps) {
        tf.dispose([value, batch.ids, batch.targets, batch.weights, ...Object.values(grads), ...Object.values(clipped.grads)]);
        model.dispose();
        optimizer.dispose();
        throw new Error(
          `SFT: ${badRun} steps in a row gave a non-finite loss or gradient (last at step ${step}); lower learningRate (now ${c.learningRate}) or gradClip, or resume from the last checkpoint`,
        );
      }
    }
    tf.dispose([value, batch.ids, batch.targets, batch.weights, ...Object.values(grads), ...Object.values(clipped.grads)]);

    const logNow = step % 10 === 0 || step === c.steps;
    if (logNow && windowSteps > 0) {
      lossHistory.push({ step, loss: windowLoss / windowSteps });
      windowLoss = 0;
      windowSteps = 0;
    }
    if ((c.evalEvery > 0 && step % c.evalEvery === 0) || step === c.steps) {
      const v = evaluate();
      if (v !== null) validHistory.push({ step, loss: v });
    }
    const last = lossHistory[lossHistory.length - 1];
    const lastValid = validHistory[validHistory.length - 1];
    bar.tick(1, `loss ${last ? last.loss.toFixed(3) : "…"}${lastValid ? ` valid ${lastValid.loss.toFixed(3)}` : ""}`);
    const stopping = options.stopAtStep !== undefined && step >= options.stopAtStep && step < c.steps;
    if (checkpointDir && step < c.steps && ((c.checkpointEvery > 0 && step % c.checkpointEvery === 0) || stopping)) {
      writeCheckpoint(checkpointDir, model, tokenizer, optimizer, {
        trainingKey: key,
        step,
        lossHistory,
        validHistory,
        tokensSeen,
        skippedSteps,
        windowLoss,
        windowSteps,
      });
    }
    if (stopping) {
      if (!checkpointDir) throw new Error("trainSft: stopAtStep needs an outDir to leave the checkpoint in");
      bar.finish(`stopped at step ${step}; resume with the same configuration and folder`);
      optimizer.dispose();
      return {
        model,
        tokenizer,
        summary: partialSummary(c, key, step, lossHistory, validHistory, skippedSteps, tokensSeen, started, model, data),
      };
    }
  }
  bar.finish();
  optimizer.dispose();

  // 5. a few answers, the summary, the files
  const samplePrompts = options.samplePrompts ?? valid.slice(0, c.sampleAnswers).map((e) => e.prompt);
  const samples =
    c.sampleAnswers > 0 && samplePrompts.length
      ? sampleAnswers(model, tokenizer, samplePrompts.slice(0, c.sampleAnswers), c.seed, c.maxPromptTokens)
      : [];
  const bySource: Record<string, number> = {};
  for (const e of train) bySource[e.source] = (bySource[e.source] ?? 0) + 1;
  const finalValid = validHistory.length ? validHistory[validHistory.length - 1].loss : null;
  const summary: SftSummary = {
    format: "fulcra-sft-1",
    config: c,
    trainingKey: key,
    dataFingerprint: dataFingerprint(data),
    steps: c.steps,
    lossHistory,
    validHistory,
    finalTrainLoss: lossHistory.length ? lossHistory[lossHistory.length - 1].loss : NaN,
    finalValidLoss: finalValid,
    skippedSteps,
    examples: { train: train.length, valid: valid.length, bySource, dropped: data.dropped },
    tokensSeen,
    seconds: (Date.now() - started) / 1000,
    parameters: model.parameterCount(),
    samples,
    provenance: provenance({ dataFiles: data.files, seed: c.seed }),
  };
  if (options.outDir) {
    saveSftPolicy(options.outDir, model, tokenizer, summary);
    if (checkpointDir) rmSync(checkpointDir, { recursive: true, force: true });
  }
  return { model, tokenizer, summary };
}

function partialSummary(
  c: SftConfig,
  key: string,
  step: number,
  lossHistory: SftSummary["lossHistory"],
  validHistory: SftSummary["validHistory"],
  skippedSteps: number,
  tokensSeen: number,
  started: number,
  model: CausalLm,
  data: SftData,
): SftSummary {
  return {
    format: "fulcra-sft-1",
    config: c,
    trainingKey: key,
    dataFingerprint: dataFingerprint(data),
    steps: step,
    lossHistory,
    validHistory,
    finalTrainLoss: lossHistory.length ? lossHistory[lossHistory.length - 1].loss : NaN,
    finalValidLoss: validHistory.length ? validHistory[validHistory.length - 1].loss : null,
    skippedSteps,
    examples: { train: 0, valid: 0, bySource: {}, dropped: data.dropped },
    tokensSeen,
    seconds: (Date.now() - started) / 1000,
    parameters: model.parameterCount(),
    samples: [],
    provenance: provenance({ dataFiles: data.files, seed: c.seed }),
  };
}

/** Texts the tokenizer learns from: training prompts and answers, and the PPO training prompts; a seeded sample up to the character budget. */
function tokenizerCorpus(train: readonly SftExample[], c: SftConfig): string[] {
  const texts: string[] = [];
  for (const e of train) texts.push(e.prompt, e.response);
  const questions = availableDataFiles().find((e) => e.name === "saferlhf_train_questions");
  if (questions) for (const q of readRecords("questions", rawPath(questions))) texts.push(q.prompt);
  const sample = shuffled(texts, seededRandom(c.seed + 1));
  const out: string[] = [];
  let chars = 0;
  for (const t of sample) {
    if (chars >= c.tokenizerSampleChars) break;
    out.push(t);
    chars += t.length;
  }
  return out;
}

function epochOrder(n: number, seed: number, epoch: number): number[] {
  return shuffled(
    Array.from({ length: n }, (_, i) => i),
    seededRandom(seed * 1_000_003 + epoch + 17),
  );
}

/** Mean response-token loss over `items` (no gradients). */
function meanLoss(model: CausalLm, items: readonly Encoded[], batchSize: number, pad: number): number {
  let total = 0;
  let count = 0;
  for (let i = 0; i < items.length; i += batchSize) {
    const batch = makeBatch(items.slice(i, i + batchSize), pad);
    const n = batch.weights.sum().dataSync()[0];
    total += tf.tidy(() => responseLoss(model, batch).dataSync()[0]) * n;
    count += n;
    tf.dispose([batch.ids, batch.targets, batch.weights]);
  }
  return count ? total / count : NaN;
}

/** SFT loss of `model` on (prompt, response) pairs: mean nats per response token. */
export function sftLoss(
  model: CausalLm,
  tokenizer: Tokenizer,
  examples: readonly SftExample[],
  maxPromptTokens = SFT_DEFAULTS.maxPromptTokens,
  batchSize = 16,
): number {
  const items = encodeExamples(tokenizer, examples, model.config.contextLength, maxPromptTokens).filter(
    (e) => e.ids.length > e.responseStart,
  );
  return meanLoss(model, items, batchSize, tokenizer.specials.pad);
}

function sampleAnswers(
  model: CausalLm,
  tokenizer: Tokenizer,
  prompts: string[],
  seed: number,
  maxPromptTokens: number,
): { prompt: string; answer: string }[] {
  const maxNewTokens = Math.min(48, model.config.contextLength - maxPromptTokens - 2);
  const r = generate(model, tokenizer, prompts, { seed, temperature: 0.7, topK: 40, maxNewTokens, maxPromptTokens });
  return prompts.map((p, i) => ({ prompt: p, answer: r.texts[i] }));
}

// ------------------------------------------------------------------ files

interface CheckpointState {
  trainingKey: string;
  step: number;
  lossHistory: { step: number; loss: number }[];
  validHistory: { step: number; loss: number }[];
  tokensSeen: number;
  skippedSteps: number;
  windowLoss: number;
  windowSteps: number;
}

function readCheckpointKey(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as CheckpointState).trainingKey;
  } catch {
    return undefined;
  }
}

function writeCheckpoint(dir: string, model: CausalLm, tokenizer: Tokenizer, optimizer: AdamW, state: CheckpointState): void {
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

/** The default place of the SFT policy: runs/lm/sft. */
export function defaultSftDir(): string {
  return join(kitPaths().runsDir, "lm", "sft");
}

/**
 * The starting policy: loaded from `dir` when a policy trained with the same
 * configuration and data is there; trained otherwise. Training happens in
 * `dir.training` (resumable) and the result is moved into place at the end,
 * so a reader never sees half a policy. A policy in `dir` trained with
 * another configuration (an older default, say) is not thrown away: it is
 * moved to `dir.stale-<its key>` and a note says why. `force: true` retrains
 * even when the configuration matches.
 */
export async function ensureSftPolicy(
  dir: string = defaultSftDir(),
  partial: Partial<SftConfig> & { force?: boolean } = {},
  options: TrainSftOptions = {},
): Promise<SftResult> {
  const { force, ...rest } = partial;
  const c = resolveSftConfig(rest);
  const data = options.data ?? collectSftExamples({ useFulcra: c.useFulcra, useHelpful: c.useHelpful });
  const key = trainingKey(c, data);
  const summaryFile = join(dir, "sft.json");
  let stale: string | undefined;
  if (existsSync(summaryFile) && existsSync(join(dir, "model.safetensors"))) {
    const saved = JSON.parse(readFileSync(summaryFile, "utf8")) as SftSummary;
    if (saved.trainingKey === key && !force) {
      await initBackend({ quiet: c.quiet });
      return loadSftPolicy(dir);
    }
    const differing: string[] = (Object.keys(c) as (keyof SftConfig)[]).filter(
      (k) =>
        JSON.stringify(c[k]) !== JSON.stringify(saved.config?.[k]) &&
        !["quiet", "sampleAnswers", "evalEvery", "evalExamples", "checkpointEvery"].includes(k),
    );
    if (saved.dataFingerprint !== undefined && saved.dataFingerprint !== dataFingerprint(data))
      differing.push("training examples (the data files present changed)");
    stale = `${dir}.stale-${saved.trainingKey}`;
    if (!c.quiet) {
      console.error(
        `sft: ${dir} holds a policy trained ${force ? "before (force: true)" : `with another configuration (differs in: ${differing.join(", ") || "unknown"})`}; training a new one, the old one goes to ${stale}`,
      );
    }
  }
  // One trainer per folder: another process (a notebook, the CLI) may be training it right now.
  if (!takeLock(dir)) {
    if (!c.quiet) console.error(`sft: another process is training ${dir} (see ${dir}.lock); waiting for it`);
    while (!takeLock(dir)) await new Promise((r) => setTimeout(r, 5000));
    releaseLock(dir);
    return ensureSftPolicy(dir, partial, options);
  }
  try {
    const staging = `${dir}.training`;
    const result = await trainSft(c, { ...options, data, outDir: staging });
    if (stale) {
      rmSync(stale, { recursive: true, force: true });
      renameSync(dir, stale);
    } else {
      rmSync(dir, { recursive: true, force: true });
    }
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(staging, dir);
    return result;
  } finally {
    releaseLock(dir);
  }
}

/** Creates `dir.lock` holding our pid; false when a live process holds it (a dead holder's lock is taken over). */
function takeLock(dir: string): boolean {
  const lock = `${dir}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      return true;
    } catch {
      let holder = NaN;
      try {
        holder = Number(readFileSync(lock, "utf8"));
      } catch {
        continue; // released between our two calls: try again
      }
      if (holder === process.pid) return false;
      let alive = false;
      try {
        process.kill(holder, 0);
        alive = true;
      } catch {
        alive = false;
      }
      if (alive && Number.isInteger(holder) && holder > 0) return false;
      rmSync(lock, { force: true });
    }
  }
  return false;
}

function releaseLock(dir: string): void {
  const lock = `${dir}.lock`;
  try {
    if (Number(readFileSync(lock, "utf8")) === process.pid) rmSync(lock, { force: true });
  } catch {
    // already gone
  }
}
