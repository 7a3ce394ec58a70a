/**
 * Training the value evaluator, in one file.
 *
 * The paper fine-tunes DeBERTa-v3-large on FULCRA's (dialogue, value vector)
 * pairs, once as a 3-class classifier per value and once as a tanh regressor
 * with MSE. No pretrained weights are available here, so the kit trains a
 * small network from scratch, on a CPU, in minutes: bags of hashed word and
 * bigram embeddings for the prompt and the answer (see network.ts), one
 * hidden layer, and both of the paper's heads on top, trained together.
 * Besides FULCRA's labels it can learn from the paper's evaluator itself:
 * its scores of GPT-4's and GPT-3.5's answers (`value_reward`), a
 * distillation target (see data.ts for the held-out protocols).
 *
 * Steps, in order: configuration → data and held-out split → vocabulary and
 * features → network → epochs of shuffled minibatches (forward, both losses,
 * backward, clipping, optimizer step) → per-epoch held-out metrics and checkpoint →
 * the trained evaluator.
 */
import * as tf from "@tensorflow/tfjs";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { requireDataFile } from "../data/paths.js";
import { codeHash, ensureArtifact, fileHashes, hashParts, type ArtifactKey } from "../runtime/artifacts.js";
import { writeFileAtomicSync } from "../runtime/atomic.js";
import { kitPaths } from "../runtime/env.js";
import { readRecords } from "../data/readers.js";
import { initBackend } from "../runtime/backend.js";
import { Progress } from "../runtime/progress.js";
import { provenance } from "../runtime/provenance.js";
import { seededRandom, shuffled } from "../runtime/random.js";
import { dialogueFeatures, type DialogueField, type DialogueFeatureOptions } from "../text/features.js";
import { fnv1a } from "../text/tokenize.js";
import { TfIdf } from "../text/tfidf.js";
import type { Polarity } from "../values/labels.js";
import { makeOptimizer, type Optimizer, type OptimizerName } from "./optimizers.js";
import {
  availableLabelledFiles,
  availableScoredFiles,
  distilledExamples,
  labelledExamples,
  splitForProtocol,
  selectTrainingExamples,
  alignEvaluationPrompts,
  type DataHalf,
  type EvaluatorExample,
  type Protocol,
  type ProtocolSplit,
} from "./data.js";
import {
  ANNOTATORS,
  fieldBags,
  loadEvaluator,
  loadEvaluatorParts,
  ValueEvaluator,
  type AnnotatorName,
  type FeatureSettings,
  type FieldPooling,
  type ValueScore,
  type VectorHead,
} from "./evaluator.js";
import { writeFileAtomic } from "./io.js";
import { agreementReport, classificationReport, regressionReport } from "./metrics.js";
import {
  LABEL_COUNT,
  VALUE_COUNT,
  ValueNetwork,
  weightBag,
  type DenseWeightName,
  type FieldBag,
  type Pooling,
  type WeightedBag,
} from "./network.js";

// ─── 1. Configuration ──────────────────────────────────────────────────────

export type SplitName = "none" | "fulcra-file-order" | "leave-model-out";

export interface EvaluatorConfig {
  // run
  seed: number;
  outDir: string | null;
  resume: boolean;
  quiet: boolean;
  // data
  labelledFiles: "auto" | string[];
  scoredFiles: "auto" | string[];
  split: SplitName;
  trainFraction: number;
  heldOutModel: string;
  promptFolds: number;
  promptFold: number;
  maxPerFile: number;
  distillWeight: number;
  separateAnnotators: boolean;
  excludePrompts: "none" | "align-eval";
  dataHalf: DataHalf;
  // features
  fields: DialogueField[];
  maxN: number;
  buckets: number;
  maxTokens: number;
  expandContractions: boolean;
  prefixLength: number;
  minDocuments: number;
  pooling: Pooling;
  fieldPooling: FieldPooling;
  featureDropout: number;
  // network
  embeddingDim: number;
  hiddenSize: number;
  dropout: number;
  // heads and loss
  vectorHead: VectorHead;
  classificationWeight: number;
  regressionWeight: number;
  classWeightPower: number;
  // optimisation
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  learningRate: number;
  embeddingLearningRate: number;
  weightDecay: number;
  maxGradNorm: number;
}

export const DEFAULT_EVALUATOR_CONFIG: EvaluatorConfig = {
  seed: 1,
  outDir: null,
  resume: true,
  quiet: false,
  labelledFiles: "auto",
  scoredFiles: "auto",
  split: "none",
  trainFraction: 0.9,
  heldOutModel: "gpt-35-turbo",
  promptFolds: 2,
  promptFold: 0,
  maxPerFile: 0,
  distillWeight: 1,
  separateAnnotators: true,
  excludePrompts: "none",
  dataHalf: "all",
  fields: ["prompt", "answer"],
  maxN: 2,
  buckets: 1 << 22,
  maxTokens: 1024,
  expandContractions: true,
  prefixLength: 5,
  minDocuments: 2,
  pooling: "tfidf",
  fieldPooling: "joint",
  featureDropout: 0.1,
  embeddingDim: 64,
  hiddenSize: 128,
  dropout: 0.1,
  vectorHead: "classification",
  classificationWeight: 1,
  regressionWeight: 1,
  classWeightPower: 0.5,
  epochs: 10,
  batchSize: 8,
  optimizer: "sgd",
  learningRate: 0.5,
  embeddingLearningRate: 5,
  weightDecay: 0,
  maxGradNorm: 5,
};

/** One line of help per field (shown by `fulcra evaluator train --help`). */
export const EVALUATOR_CONFIG_HELP: Record<keyof EvaluatorConfig, string> = {
  seed: "seed for the initial weights, the shuffling and both dropouts",
  outDir: "folder for the trained evaluator and its per-epoch checkpoint (null: keep it in memory)",
  resume: "continue from the checkpoint in outDir when its configuration matches",
  quiet: "no progress bar",
  labelledFiles: "FULCRA files with value labels; auto = those in data/raw (data_hybrid alone when present)",
  scoredFiles: "scored-output files to distil the paper's evaluator from; auto = those in data/raw; none = no distillation",
  split: "what to hold out: none, fulcra-file-order (last 10% of each labelled file) or leave-model-out",
  trainFraction: "share of each labelled file, in file order, that trains under fulcra-file-order",
  heldOutModel: "model whose scored answers are the test set under leave-model-out",
  promptFolds: "folds of the shared test prompts under leave-model-out (a test prompt never trains)",
  promptFold: "the prompt fold that is the test set under leave-model-out",
  maxPerFile: "use only the first N examples of each file (0 = all); for quick runs and tests",
  distillWeight: "loss weight of a distilled example relative to a labelled one",
  separateAnnotators:
    "learn FULCRA's labels and the paper's evaluator as two annotators (their conventions differ, e.g. on refusals); scores imitate the paper's evaluator",
  excludePrompts:
    "none, or align-eval: train on no example whose prompt is one of BaseAlign's evaluation prompts (half of the SafeRLHF test prompts, see data.ts)",
  dataHalf:
    "all, first or second: train on one of two disjoint halves of the examples, cut by a hash of the prompt (BaseAlign's reward and guard evaluators use different halves)",
  fields: "dialogue fields read, each hashed in its own namespace (prompt, answer)",
  maxN: "longest word n-gram (2 = words and bigrams)",
  buckets: "hash buckets an n-gram is hashed into before the vocabulary",
  maxTokens: "tokens read per field (the start of the text)",
  expandContractions: "write contractions out before tokenizing (can't → can not), so refusals spelt differently share features",
  prefixLength: "also use each longer word's first N letters as a feature, a crude stem (0 = off)",
  minDocuments: "an n-gram gets an embedding row if it occurs in at least this many training dialogues",
  pooling:
    "how a field's n-gram embeddings are pooled: mean, sqrt (sum / √count, keeps length) or tfidf (weights (1 + ln tf)·idf, unit length)",
  fieldPooling: "joint: prompt and answer n-grams in one bag (still in separate hash namespaces); separate: one bag each, side by side",
  featureDropout: "share of a dialogue's n-grams dropped at random in each training step",
  embeddingDim: "width of an n-gram embedding",
  hiddenSize: "width of the hidden layer (0 = heads on the pooled embeddings, like fastText)",
  dropout: "dropout on the hidden layer in training",
  vectorHead: "head that gives the value vector: regression (tanh) or classification (P(+1) − P(−1))",
  classificationWeight: "weight of the 3-class cross-entropy in the loss",
  regressionWeight: "weight of the tanh regressor's squared error in the loss",
  classWeightPower: "class weights ∝ (1 / class frequency)^power within each value (0 = unweighted)",
  epochs: "passes over the training data",
  batchSize: "dialogues per update",
  optimizer: "sgd (as fastText; generalised best here) or adam",
  learningRate: "step size of the dense layers, decayed linearly to 0 over training",
  embeddingLearningRate:
    "step size of the embedding table, decayed linearly to 0 (the table's gradients are small: each row gets a share of a pooled bag)",
  weightDecay: "decoupled weight decay on every weight an update touches",
  maxGradNorm: "clip the global gradient norm to this (0 = no clipping)",
};

/**
 * The evaluator BaseAlign checks its policy with, besides the one it trains
 * against: another seed and, when the reward's evaluator trains on one half
 * of the data (dataHalf), the other half, so that it shares no weights, no
 * training noise and no training example with the reward the policy
 * optimised. It reads its value vector from the same head: the two are two
 * instruments of one kind, as in the original, whose evaluation script
 * defaults to a single tanh regressor (value_alignment/eval.py:60), the
 * kind of model its reward ensemble is made of (main.py:48). With the other head the guard would also measure on another
 * scale (the regression head rarely reaches ±1, which leaves a floor under
 * its distances), and a change of scale would read as a gain not confirmed.
 */
export function secondEvaluatorConfig(config: Partial<EvaluatorConfig> = {}): Partial<EvaluatorConfig> {
  const base = { ...DEFAULT_EVALUATOR_CONFIG, ...config };
  const otherHalf: DataHalf = base.dataHalf === "first" ? "second" : base.dataHalf === "second" ? "first" : "all";
  return { ...config, seed: base.seed + 1, vectorHead: base.vectorHead, dataHalf: otherHalf };
}

/**
 * The members of the reward's evaluator when it is an ensemble of `size`
 * models: the same configuration with seeds seed, seed + 2, seed + 4, …
 * (odd offsets are left to secondEvaluatorConfig, whose seed is seed + 1,
 * so no member shares the guard's seed). The original's reward model is an
 * ensemble too (value_alignment/main.py:48, `deberta_tanh_ensemble`).
 */
export function ensembleMemberConfigs(config: Partial<EvaluatorConfig>, size: number): Partial<EvaluatorConfig>[] {
  if (!(Number.isInteger(size) && size >= 1)) throw new Error(`an evaluator ensemble needs a whole number ≥ 1 of members, got ${size}`);
  const seed = config.seed ?? DEFAULT_EVALUATOR_CONFIG.seed;
  return Array.from({ length: size }, (_, i) => ({ ...config, seed: seed + 2 * i }));
}

/**
 * The reward's evaluator of an alignment run: trained on no BaseAlign
 * evaluation prompt, and on the first half of the rest (the guard evaluator,
 * secondEvaluatorConfig of this, on the second half).
 */
export const ALIGN_EVALUATOR_CONFIG: Partial<EvaluatorConfig> = { excludePrompts: "align-eval", dataHalf: "first" };

export class ConfigError extends Error {
  constructor(field: keyof EvaluatorConfig, message: string) {
    super(`evaluator config field "${field}": ${message} (${EVALUATOR_CONFIG_HELP[field]})`);
    this.name = "ConfigError";
  }
}

/** Fills in defaults and checks every field; errors name the field and say what it takes. */
export function resolveConfig(partial: Partial<EvaluatorConfig> = {}): EvaluatorConfig {
  for (const key of Object.keys(partial)) {
    if (!(key in DEFAULT_EVALUATOR_CONFIG))
      throw new Error(`unknown evaluator config field "${key}"; known: ${Object.keys(DEFAULT_EVALUATOR_CONFIG).join(", ")}`);
  }
  const c: EvaluatorConfig = { ...DEFAULT_EVALUATOR_CONFIG, ...partial };
  const whole = (k: keyof EvaluatorConfig, min: number) => {
    const v = c[k] as number;
    if (!(Number.isInteger(v) && v >= min)) throw new ConfigError(k, `expected a whole number ≥ ${min}, got ${v}`);
  };
  const inRange = (k: keyof EvaluatorConfig, lo: number, hi: number) => {
    const v = c[k] as number;
    if (!(typeof v === "number" && v >= lo && v <= hi)) throw new ConfigError(k, `expected a number in [${lo}, ${hi}], got ${v}`);
  };
  const oneOf = (k: keyof EvaluatorConfig, options: readonly string[]) => {
    if (!options.includes(c[k] as string)) throw new ConfigError(k, `expected one of ${options.join(", ")}, got "${c[k]}"`);
  };
  whole("seed", 0);
  whole("promptFolds", 1);
  whole("promptFold", 0);
  if (c.promptFold >= c.promptFolds)
    throw new ConfigError("promptFold", `must be below promptFolds (${c.promptFolds}), got ${c.promptFold}`);
  whole("maxPerFile", 0);
  whole("maxN", 1);
  whole("buckets", 2);
  if (c.buckets > 2 ** 31) throw new ConfigError("buckets", `at most 2^31, got ${c.buckets}`);
  whole("maxTokens", 1);
  whole("prefixLength", 0);
  whole("minDocuments", 1);
  whole("embeddingDim", 1);
  whole("hiddenSize", 0);
  whole("epochs", 1);
  whole("batchSize", 1);
  inRange("trainFraction", 0.01, 0.99);
  inRange("distillWeight", 0, 1e6);
  inRange("featureDropout", 0, 0.95);
  inRange("dropout", 0, 0.95);
  inRange("classificationWeight", 0, 1e6);
  inRange("regressionWeight", 0, 1e6);
  inRange("classWeightPower", 0, 2);
  inRange("learningRate", 1e-9, 100);
  inRange("embeddingLearningRate", 0, 1000);
  inRange("maxGradNorm", 0, 1e9);
  inRange("weightDecay", 0, 1e3);
  oneOf("split", ["none", "fulcra-file-order", "leave-model-out"]);
  oneOf("pooling", ["mean", "sqrt", "tfidf"]);
  oneOf("fieldPooling", ["joint", "separate"]);
  oneOf("optimizer", ["sgd", "adam"]);
  oneOf("vectorHead", ["regression", "classification"]);
  oneOf("excludePrompts", ["none", "align-eval"]);
  oneOf("dataHalf", ["all", "first", "second"]);
  if (
    !Array.isArray(c.fields) ||
    c.fields.length === 0 ||
    c.fields.some((f) => f !== "prompt" && f !== "answer") ||
    new Set(c.fields).size !== c.fields.length
  ) {
    throw new ConfigError("fields", `expected prompt and/or answer, got ${JSON.stringify(c.fields)}`);
  }
  if (c.classificationWeight === 0 && c.regressionWeight === 0)
    throw new ConfigError("regressionWeight", "the classification and regression weights cannot both be 0");
  return c;
}

let evaluatorCode: string | undefined;

/**
 * A hash of the code that decides what training produces (this module's
 * training, network, optimizer, data and saving files, and the text
 * features), so that an evaluator or report saved by other code is not
 * mistaken for one this code would make.
 */
export function trainingCodeHash(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const files = ["train.js", "network.js", "optimizers.js", "data.js", "evaluator.js", "io.js"].map((f) => join(here, f));
  // Read once per process (the code running does not change when the files do). The text folder is
  // absent when the kit runs bundled into one file (scripts/device-check.sh): nothing to hash then.
  evaluatorCode ??= codeHash([...files, join(here, "..", "text")], here);
  return evaluatorCode;
}

/** The fields of `c` that change the trained weights (everything but where and how loudly it runs), in `c`'s order. */
export function evaluatorTrainingFields(c: EvaluatorConfig): Record<string, unknown> {
  return Object.fromEntries(Object.entries(c).filter(([k]) => k !== "outDir" && k !== "resume" && k !== "quiet"));
}

/** A hash of the fields that change the trained weights. */
export function configFingerprint(c: EvaluatorConfig): string {
  return createHash("sha256")
    .update(JSON.stringify(evaluatorTrainingFields(c)))
    .digest("hex")
    .slice(0, 16);
}

// ─── 2. Data and the held-out split ────────────────────────────────────────

export interface TrainingData {
  /** One list per labelled file, in file order. */
  labelled: EvaluatorExample[][];
  distilled: EvaluatorExample[];
  files: string[];
}

/** The files a training with `c` reads ("auto": the ones present). */
export function trainingDataFiles(c: Pick<EvaluatorConfig, "labelledFiles" | "scoredFiles">): {
  labelledFiles: string[];
  scoredFiles: string[];
} {
  return {
    labelledFiles: c.labelledFiles === "auto" ? availableLabelledFiles() : c.labelledFiles.map((f) => resolve(f)),
    scoredFiles: c.scoredFiles === "auto" ? availableScoredFiles() : c.scoredFiles.map((f) => resolve(f)),
  };
}

/** Reads the configured files (each cut to maxPerFile examples when set). */
export function loadTrainingData(c: Pick<EvaluatorConfig, "labelledFiles" | "scoredFiles" | "maxPerFile">): TrainingData {
  const { labelledFiles, scoredFiles } = trainingDataFiles(c);
  if (labelledFiles.length === 0 && scoredFiles.length === 0) {
    throw new Error(
      "no training data: no FULCRA or scored-output files found. Run `npx fulcra data fetch` first, or name files with --labelled-files / --scored-files.",
    );
  }
  for (const f of [...labelledFiles, ...scoredFiles]) if (!existsSync(f)) throw new Error(`training data file not found: ${f}`);
  const cut = <T>(xs: T[]) => (c.maxPerFile > 0 ? xs.slice(0, c.maxPerFile) : xs);
  return {
    labelled: labelledFiles.map((f) => cut(labelledExamples(f))),
    distilled: scoredFiles.flatMap((f) => cut(distilledExamples(f))),
    files: [...labelledFiles, ...scoredFiles],
  };
}

/**
 * The protocol's split, then the alignment selection (excludePrompts, dataHalf)
 * applied to its training side. The test side is left as the protocol made it.
 */
export function trainingSplit(
  data: Pick<TrainingData, "labelled" | "distilled">,
  c: Pick<EvaluatorConfig, "split" | "trainFraction" | "heldOutModel" | "promptFolds" | "promptFold" | "excludePrompts" | "dataHalf">,
  testPrompts?: readonly string[],
): ProtocolSplit {
  const split = splitForProtocol(data.labelled, data.distilled, protocolOf(c as EvaluatorConfig));
  if (c.excludePrompts === "none" && c.dataHalf === "all") return split;
  let excludedPrompts: string[] = [];
  if (c.excludePrompts === "align-eval") {
    const questions = testPrompts ?? readRecords("questions", requireDataFile("saferlhf_test_questions")).map((q) => q.prompt);
    excludedPrompts = alignEvaluationPrompts(questions);
  }
  const selected = selectTrainingExamples(split.train, excludedPrompts, c.dataHalf);
  return { train: selected.train, test: split.test, excluded: [...split.excluded, ...selected.excluded] };
}

export function protocolOf(c: EvaluatorConfig): Protocol {
  if (c.split === "fulcra-file-order") return { kind: "fulcra-file-order", trainFraction: c.trainFraction };
  if (c.split === "leave-model-out")
    return { kind: "leave-model-out", heldOutModel: c.heldOutModel, promptFolds: c.promptFolds, promptFold: c.promptFold };
  return { kind: "none" };
}

// ─── Training record ───────────────────────────────────────────────────────

export interface EpochRecord {
  epoch: number;
  /** Mean training loss over the epoch's updates. */
  trainLoss: number;
  seconds: number;
  /** Held-out metrics after the epoch (for curves only: nothing is selected on them). */
  test?: {
    items: number;
    macroF1: number;
    accuracy: number;
    mse: number;
    /** Against the paper's evaluator, when the test set is scored answers. */
    signAgreement?: number;
    pearson?: number;
  };
}

export interface TrainingRecord {
  config: EvaluatorConfig;
  history: EpochRecord[];
  split: ProtocolSplit;
  /** Examples that trained / tested, by kind. */
  counts: { trainLabelled: number; trainDistilled: number; test: number };
  seconds: number;
}

export class TrainingDivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrainingDivergedError";
  }
}

export interface TrainHooks {
  /** Data already read (the report trains several evaluators on the same files). */
  data?: TrainingData;
  /** Called after each epoch. */
  onEpoch?: (record: EpochRecord) => void;
  /** Stop after this many epochs of this call (tests use it to simulate an interruption). */
  stopAfterEpochs?: number;
}

const CHECKPOINT = "checkpoint";

interface CheckpointState {
  format: "fulcra-evaluator-checkpoint/1";
  fingerprint: string;
  epochsDone: number;
  history: EpochRecord[];
}

// ─── 3. Training ───────────────────────────────────────────────────────────

/**
 * Trains a value evaluator. With `outDir`, the evaluator is saved there at
 * the end and a checkpoint after every epoch; a run started again with the
 * same configuration continues from the last checkpoint and ends with the
 * same weights as an uninterrupted run (on the same backend).
 */
export async function trainEvaluator(
  partial: Partial<EvaluatorConfig> = {},
  hooks: TrainHooks = {},
): Promise<ValueEvaluator & { training: TrainingRecord }> {
  const started = Date.now();
  const c = resolveConfig(partial);
  const backend = await initBackend({ quiet: c.quiet });
  const fingerprint = configFingerprint(c);

  // Data and split.
  const data = hooks.data ?? loadTrainingData(c);
  const split = trainingSplit(data, c);
  const train = split.train;
  if (train.length === 0)
    throw new Error(`nothing to train on: the ${c.split} split left no training examples (files: ${data.files.join(", ")})`);

  // Vocabulary and features: only training dialogues decide which n-grams get rows.
  const featureOptions: DialogueFeatureOptions = {
    buckets: c.buckets,
    maxN: c.maxN,
    fields: c.fields,
    maxTokens: c.maxTokens,
    expandContractions: c.expandContractions,
    prefixLength: c.prefixLength,
  };
  const trainIds = train.map((e) => dialogueFeatures(e, featureOptions));
  const tfidf = TfIdf.fit(
    trainIds.map((fields) => fields.flat()),
    c.minDocuments,
  );
  const vocabulary = tfidf.vocabulary;
  if (vocabulary.size === 0) throw new Error(`no n-gram occurs in ${c.minDocuments} training dialogues; lower minDocuments or add data`);
  const trainBags: FieldBag[][] = trainIds.map((ids) => fieldBags(ids, vocabulary, c.fieldPooling));
  // Annotators: FULCRA's labellers and the paper's evaluator, told apart when both are present.
  const kinds = new Set(train.map((e) => e.kind));
  const annotators: AnnotatorName[] =
    c.separateAnnotators && kinds.size > 1 ? [ANNOTATORS.labelled, ANNOTATORS.distilled] : [ANNOTATORS[train[0].kind]];
  const annotatorOf = (e: EvaluatorExample) => Math.max(0, annotators.indexOf(ANNOTATORS[e.kind]));
  const trainAnnotator = Int32Array.from(train, annotatorOf);
  const features: FeatureSettings = {
    ...featureOptions,
    tokenizer:
      "lower-cased letter/digit runs (apostrophes kept inside words) and single punctuation marks; FNV-1a 32-bit hashes of 'p|' or 'a|' + n + ':' + n-gram",
    pooling: c.pooling,
    minDocuments: c.minDocuments,
    vocabularySize: vocabulary.size,
    annotators,
    fieldPooling: c.fieldPooling,
  };

  // Targets as flat arrays: labels + 1 (0..2) for the classifier, reals for the regressor.
  const labelIndex = Int32Array.from(train.flatMap((e) => e.labels.map((l) => l + 1)));
  const target = Float32Array.from(train.flatMap((e) => e.target));
  const exampleWeight = Float32Array.from(train, (e) => (e.kind === "distilled" ? c.distillWeight : 1));
  const classWeights = classWeightTable(
    train.map((e) => e.labels),
    c.classWeightPower,
  );

  // Network and optimizer, fresh or from the checkpoint.
  const shape = {
    vocabularySize: vocabulary.size,
    fields: c.fieldPooling === "joint" ? 1 : c.fields.length,
    embeddingDim: c.embeddingDim,
    hiddenSize: c.hiddenSize,
    annotators: annotators.length,
  };
  let network = ValueNetwork.init(shape, c.seed);
  const optimizer = makeOptimizer(c.optimizer, c.weightDecay, network.embedding.table.length);
  let history: EpochRecord[] = [];
  const checkpointDir = c.outDir ? join(resolve(c.outDir), CHECKPOINT) : null;
  if (checkpointDir && c.resume && existsSync(join(checkpointDir, "state.json"))) {
    const state = JSON.parse(readFileSync(join(checkpointDir, "state.json"), "utf8")) as CheckpointState;
    if (state.fingerprint !== fingerprint) {
      throw new Error(
        `${checkpointDir} holds a checkpoint of a different configuration (fingerprint ${state.fingerprint}, this run ${fingerprint}). ` +
          `Use another --out folder, or start over with --no-resume.`,
      );
    }
    const { evaluator: saved, extra } = await loadEvaluatorParts(checkpointDir);
    if (saved.vocabulary.size !== vocabulary.size || saved.vocabulary.ids.some((id, i) => id !== vocabulary.ids[i])) {
      throw new Error(
        `${checkpointDir}: the training data changed since the checkpoint was written (different vocabulary); start over with --no-resume`,
      );
    }
    network.dispose();
    network = saved.network;
    optimizer.restore(extra);
    for (const t of Object.values(extra)) t.dispose();
    history = state.history;
    if (!c.quiet) console.error(`evaluator: resuming from ${checkpointDir} after epoch ${state.epochsDone}`);
  }

  const stepsPerEpoch = Math.ceil(train.length / c.batchSize);
  const totalSteps = stepsPerEpoch * c.epochs;
  const denseNames = [...network.dense.keys()] as DenseWeightName[];
  const testBags = split.test.map((e) => fieldBags(dialogueFeatures(e, featureOptions), vocabulary, c.fieldPooling));
  const makeEvaluator = () =>
    new ValueEvaluator(network, vocabulary, tfidf.idf, features, c.vectorHead, {
      config: c as unknown as Record<string, unknown>,
      provenance: provenance({
        dataFiles: data.files,
        seed: c.seed,
        extra: {
          fingerprint,
          codeHash: trainingCodeHash(),
          split: protocolOf(c),
          excluded: split.excluded,
          counts: countsOf(split),
          history,
          trainingSeconds: (Date.now() - started) / 1000,
        },
      }),
    });

  let epochsThisCall = 0;
  for (let epoch = history.length; epoch < c.epochs; epoch++) {
    if (hooks.stopAfterEpochs !== undefined && epochsThisCall >= hooks.stopAfterEpochs) break;
    const epochStart = Date.now();
    // Each epoch's randomness comes from (seed, epoch) alone, so a resumed run replays it exactly.
    const order = shuffled(
      Array.from(train, (_, i) => i),
      seededRandom(fnv1a(`${c.seed}:shuffle:${epoch}`)),
    );
    const dropFeatures = seededRandom(fnv1a(`${c.seed}:features:${epoch}`));
    const bar = new Progress({ label: `evaluator epoch ${epoch + 1}/${c.epochs}`, total: stepsPerEpoch, quiet: c.quiet });
    let lossSum = 0;
    for (let s = 0; s < stepsPerEpoch; s++) {
      const step = epoch * stepsPerEpoch + s;
      const idx = order.slice(s * c.batchSize, (s + 1) * c.batchSize);
      const bags: WeightedBag[][] = idx.map((i) =>
        trainBags[i].map((bag) => weightBag(bag, c.pooling, tfidf.idf, c.featureDropout, dropFeatures)),
      );

      // Forward: pooled n-gram embeddings (sparse, in JS), then the heads and both losses (tfjs).
      const pooled = network.input(
        bags,
        Array.from(idx, (i) => trainAnnotator[i]),
      );
      const { loss, dPooled, denseGrads } = tf.tidy(() => {
        const x = tf.tensor2d(pooled, [idx.length, network.inputSize]);
        const labels = tf.oneHot(
          tf.tensor2d(
            Int32Array.from(idx.flatMap((i) => Array.from(labelIndex.subarray(i * VALUE_COUNT, (i + 1) * VALUE_COUNT)))),
            [idx.length, VALUE_COUNT],
            "int32",
          ),
          LABEL_COUNT,
        );
        const y = tf.tensor2d(Float32Array.from(idx.flatMap((i) => Array.from(target.subarray(i * VALUE_COUNT, (i + 1) * VALUE_COUNT)))), [
          idx.length,
          VALUE_COUNT,
        ]);
        const w = tf.tensor2d(
          Float32Array.from(idx, (i) => exampleWeight[i]),
          [idx.length, 1],
        );
        const classW = tf.tensor2d(classWeights, [VALUE_COUNT, LABEL_COUNT]);
        const lossOf = (xIn: tf.Tensor, ...dense: tf.Tensor[]) => {
          const weights = new Map(denseNames.map((n, k) => [n, dense[k]]));
          const { logits, scores } = network.heads(xIn as tf.Tensor2D, weights, {
            rate: c.dropout,
            seed: fnv1a(`${c.seed}:dropout:${step}`),
          });
          // Classification: class-weighted cross-entropy, −Σ_c w_vc y_vc log p_vc, per value.
          const ce = tf.neg(tf.sum(tf.mul(tf.mul(labels, classW), tf.logSoftmax(logits)), 2));
          // Regression: (tanh output − target)², per value.
          const se = tf.square(tf.sub(scores, y));
          const perItem = tf.add(tf.mul(ce, c.classificationWeight), tf.mul(se, c.regressionWeight));
          return tf.div(tf.sum(tf.mul(perItem, w)), idx.length * VALUE_COUNT) as tf.Scalar;
        };
        const { value, grads } = tf.valueAndGrads(lossOf)([x, ...denseNames.map((n) => network.dense.get(n)!)]);
        return { loss: value, dPooled: grads[0], denseGrads: grads.slice(1) };
      });
      // Read back asynchronously: the webgpu backend has no synchronous read under Node.
      const lossValue = (await loss.data())[0];
      if (!Number.isFinite(lossValue)) {
        tf.dispose([loss, dPooled, ...denseGrads]);
        bar.finish();
        throw new TrainingDivergedError(
          `training loss became ${lossValue} at epoch ${epoch + 1}, step ${s + 1} (update ${step + 1} of ${totalSteps}). ` +
            `Lower the learning rate (now ${c.learningRate}) or clip gradients (--max-grad-norm, now ${c.maxGradNorm}).` +
            (checkpointDir && history.length > 0 ? ` The last good checkpoint (epoch ${history.length}) is in ${checkpointDir}.` : ""),
        );
      }

      // Backward into the embedding rows the batch used.
      const sparse = network.embedding.backward(bags, (await dPooled.data()) as Float32Array, network.inputSize);

      // Clip the global gradient norm (dense and sparse parts together).
      let scale = 1;
      if (c.maxGradNorm > 0) {
        let sq = 0;
        for (const g of sparse.grad) sq += g * g;
        for (const g of denseGrads) {
          const gSquared = tf.tidy(() => tf.sum(tf.square(g)));
          sq += (await gSquared.data())[0];
          gSquared.dispose();
        }
        const norm = Math.sqrt(sq);
        if (norm > c.maxGradNorm) scale = c.maxGradNorm / norm;
      }
      if (scale !== 1) for (let k = 0; k < sparse.grad.length; k++) sparse.grad[k] *= scale;

      // The optimizer step, with both learning rates decayed linearly to 0 over all updates.
      const decay = 1 - step / totalSteps;
      optimizer.begin(c.learningRate * decay, c.embeddingLearningRate * decay);
      denseNames.forEach((n, k) => {
        const g = scale === 1 ? denseGrads[k] : tf.mul(denseGrads[k], scale);
        optimizer.updateDense(n, network.dense.get(n)!, g);
        if (g !== denseGrads[k]) g.dispose();
      });
      optimizer.updateSparse(network.embedding.table, network.embedding.dim, sparse.rows, sparse.grad);
      tf.dispose([loss, dPooled, ...denseGrads]);

      lossSum += lossValue;
      bar.tick(1, `loss ${(lossSum / (s + 1)).toFixed(4)}`);
    }
    bar.finish();

    const record: EpochRecord = { epoch: epoch + 1, trainLoss: lossSum / stepsPerEpoch, seconds: (Date.now() - epochStart) / 1000 };
    if (split.test.length > 0) record.test = testMetrics(makeEvaluator(), testBags, split.test);
    history.push(record);
    epochsThisCall++;
    hooks.onEpoch?.(record);
    if (checkpointDir)
      await writeCheckpoint(checkpointDir, makeEvaluator(), optimizer, {
        format: "fulcra-evaluator-checkpoint/1",
        fingerprint,
        epochsDone: epoch + 1,
        history,
      });
  }
  optimizer.dispose();

  const evaluator = makeEvaluator();
  if (c.outDir && history.length === c.epochs) await evaluator.save(c.outDir);
  const training: TrainingRecord = { config: c, history, split, counts: countsOf(split), seconds: (Date.now() - started) / 1000 };
  if (!c.quiet) {
    const last = history[history.length - 1];
    console.error(
      `evaluator: trained on ${train.length} dialogues (${vocabulary.size} n-grams) in ${training.seconds.toFixed(1)}s on ${backend.name}; final loss ${last?.trainLoss.toFixed(4)}${c.outDir ? `; saved to ${c.outDir}` : ""}`,
    );
  }
  return Object.assign(evaluator, { training });
}

function countsOf(split: ProtocolSplit): TrainingRecord["counts"] {
  return {
    trainLabelled: split.train.filter((e) => e.kind === "labelled").length,
    trainDistilled: split.train.filter((e) => e.kind === "distilled").length,
    test: split.test.length,
  };
}

/**
 * Per value, class weights ∝ (1 / frequency)^power, scaled so that the
 * average weight over the training items is 1 (the loss keeps its size).
 * Returned flat, [value][label].
 */
export function classWeightTable(labels: readonly (readonly Polarity[])[], power: number): Float32Array {
  const out = new Float32Array(VALUE_COUNT * LABEL_COUNT).fill(1);
  if (power === 0 || labels.length === 0) return out;
  for (let v = 0; v < VALUE_COUNT; v++) {
    const counts = [0, 0, 0];
    for (const l of labels) counts[l[v] + 1]++;
    // +1 smoothing: a label never seen gets a large but finite weight.
    const raw = counts.map((n) => ((labels.length + LABEL_COUNT) / (n + 1)) ** power);
    const average = counts.reduce((a, n, k) => a + n * raw[k], 0) / labels.length;
    for (let k = 0; k < LABEL_COUNT; k++) out[v * LABEL_COUNT + k] = raw[k] / average;
  }
  return out;
}

/** Each test item scored as its own annotator would (FULCRA labels or the paper's evaluator). */
export function scoreAsAnnotated(evaluator: ValueEvaluator, bags: readonly FieldBag[][], test: readonly EvaluatorExample[]): ValueScore[] {
  const out: ValueScore[] = new Array(test.length);
  for (const kind of ["labelled", "distilled"] as const) {
    const at = test
      .map((e, i) => [e, i] as const)
      .filter(([e]) => e.kind === kind)
      .map(([, i]) => i);
    if (at.length === 0) continue;
    const annotator = evaluator.features.annotators.includes(ANNOTATORS[kind]) ? ANNOTATORS[kind] : evaluator.defaultAnnotator;
    const scores = evaluator.scoreBags(
      at.map((i) => bags[i]),
      { annotator },
    );
    at.forEach((i, k) => (out[i] = scores[k]));
  }
  return out;
}

function testMetrics(evaluator: ValueEvaluator, bags: FieldBag[][], test: EvaluatorExample[]): NonNullable<EpochRecord["test"]> {
  const scores = scoreAsAnnotated(evaluator, bags, test);
  const cls = classificationReport(
    test.map((e) => e.labels),
    scores.map((s) => s.labels),
  );
  const reg = regressionReport(
    test.map((e) => e.target),
    scores.map((s) => s.vector),
  );
  const out: NonNullable<EpochRecord["test"]> = { items: test.length, macroF1: cls.macroF1, accuracy: cls.accuracy, mse: reg.meanMse };
  const distilled = test.map((e, i) => [e, i] as const).filter(([e]) => e.kind === "distilled");
  if (distilled.length > 0) {
    const agree = agreementReport(
      distilled.map(([e]) => e.target),
      distilled.map(([, i]) => scores[i].vector),
    );
    out.signAgreement = agree.meanSignAgreement;
    out.pearson = agree.meanPearson;
  }
  return out;
}

async function writeCheckpoint(dir: string, evaluator: ValueEvaluator, optimizer: Optimizer, state: CheckpointState): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await evaluator.save(dir, optimizer.stateTensors());
  // state.json last: it is what marks the checkpoint complete.
  writeFileAtomic(join(dir, "state.json"), JSON.stringify(state, null, 2) + "\n");
}

/** Removes a run's checkpoint (the saved evaluator stays). */
export function removeCheckpoint(outDir: string): void {
  rmSync(join(resolve(outDir), CHECKPOINT), { recursive: true, force: true });
}

/**
 * Where the kit keeps its default evaluator, the one the HH metrics score
 * with (metrics/score.ts). The aligner trains its own two (align/components.ts).
 */
export function defaultEvaluatorDir(): string {
  return join(kitPaths().runsDir, "evaluator", "default");
}

/** The artifact key of an evaluator trained with `c` by this code on the data files present now. */
export function evaluatorArtifactKey(c: EvaluatorConfig): ArtifactKey {
  const { labelledFiles, scoredFiles } = trainingDataFiles(c);
  return { config: evaluatorTrainingFields(c), data: hashParts(fileHashes([...labelledFiles, ...scoredFiles])), code: trainingCodeHash() };
}

/** The artifact key the evaluator saved in `folder` records (config.json, provenance.json); undefined when there is none. */
function recordedEvaluatorKey(folder: string): ArtifactKey | undefined {
  if (!existsSync(join(folder, "model.json"))) return undefined;
  const read = (file: string) => JSON.parse(readFileSync(join(folder, file), "utf8")) as Record<string, unknown>;
  const saved = resolveConfig({ ...(read("config.json") as Partial<EvaluatorConfig>), outDir: folder });
  const prov = read("provenance.json") as { codeHash?: string; dataFiles?: { sha256: string }[] };
  return {
    config: evaluatorTrainingFields(saved),
    data: hashParts((prov.dataFiles ?? []).map((f) => f.sha256)),
    code: prov.codeHash ?? "",
  };
}

/**
 * The evaluator for `config` (defaults otherwise; where and how loudly it
 * runs do not count), from the artifact store (runtime/artifacts): the one
 * saved in `dir` when trained with this configuration, on these data files,
 * by this code; else one trained now (in `dir.building`, resumable, then
 * moved into place) and saved there.
 */
export async function ensureEvaluator(dir: string = defaultEvaluatorDir(), config: Partial<EvaluatorConfig> = {}): Promise<ValueEvaluator> {
  const folder = resolve(dir);
  const wanted = resolveConfig({ ...config, outDir: folder });
  const artifact = await ensureArtifact<ValueEvaluator>({
    what: "evaluator",
    path: folder,
    key: evaluatorArtifactKey(wanted),
    recorded: recordedEvaluatorKey,
    build: async (target) => {
      const evaluator = await trainEvaluator({ ...wanted, outDir: target });
      removeCheckpoint(target);
      // The saved configuration names the folder the evaluator lives in, not the one it was built in.
      const configFile = join(target, "config.json");
      writeFileAtomicSync(configFile, JSON.stringify({ ...JSON.parse(readFileSync(configFile, "utf8")), outDir: folder }, null, 2) + "\n");
      return evaluator;
    },
    load: loadEvaluator,
    quiet: wanted.quiet,
  });
  return artifact.value;
}
