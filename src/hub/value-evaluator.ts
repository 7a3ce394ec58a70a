/**
 * The paper's value evaluator, trained the original's way on a DeBERTa
 * checkpoint (`fulcra evaluator train --backbone DIR`).
 *
 * Recipe (facts from Value_FULCRA/src/value_evaluator/, the 10 basic values):
 *   data       FULCRA records (dialogue, value_items, value_types); the
 *              original trains on evaluator_data.jsonl, any FULCRA-format
 *              file works. First 90% of each file (file order) trains, the
 *              last 10% validates.
 *   inputs     one text per (dialogue, value): the value's name and
 *              definition, the dialogue, the three labels.
 *   train set  every labelled value of the record, plus sampled "no
 *              connection" values: min(⌊#value items / 2⌋, 10 − #value items)
 *              drawn among the values the record does not label (the
 *              original counts value *items* here, not types).
 *   valid set  all 10 values per record; unlabelled ones are "no connection".
 *   head       classification: 3 labels opposed / no connection / important
 *              (label + 1), cross-entropy; regression: 1 output, tanh, MSE
 *              against −1 / 0 / +1, prediction = nearest label.
 *   optimiser  Adam (β 0.9, 0.95), lr 1e-5, 50 warm-up steps then cosine
 *              decay, weight decay 0, batch 32, 10 epochs, seed 2023, dropout
 *              on (model.train()), gradient norm clipped at 1.
 * A head the checkpoint lacks (or with another number of labels) is new,
 * drawn N(0, initializer_range²) with zero biases, as transformers does.
 * The result is saved as a hub folder that `fulcra models score` reads.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { readRecords, type FulcraRecord } from "../data/readers.js";
import { fileOrderSplit } from "../data/splits.js";
import { rawPath } from "../data/paths.js";
import { kitPaths } from "../runtime/env.js";
import { availableLabelledFiles } from "../evaluator/data.js";
import { encodeSafetensors } from "../lm/safetensors.js";
import { logSumExpRows, pickColumns } from "../lm/model.js";
import { initBackend } from "../runtime/backend.js";
import { Progress } from "../runtime/progress.js";
import { provenance } from "../runtime/provenance.js";
import { normal, seededRandom, shuffled } from "../runtime/random.js";
import { BASIC_VALUES, BASIC_VALUE_DEFINITIONS, BASIC_VALUE_LABELS } from "../values/taxonomy.js";
import { DebertaV2, debertaParameterShapes, parseDebertaConfig } from "./deberta.js";
import { readHubConfig, readHubWeights, checkVocabulary } from "./folder.js";
import { loadUnigramTokenizer, type UnigramTokenizer } from "./unigram.js";

export type EvaluatorHead = "classification" | "regression";

export interface BackboneEvaluatorConfig {
  /** Hub folder of the DeBERTa checkpoint (microsoft/deberta-v3-large in the paper). */
  backbone: string;
  /** classification (3 labels) or regression (tanh of one output). */
  head: EvaluatorHead;
  /** FULCRA-format files; "auto": evaluator_data.jsonl when fetched, else every labelled file present. */
  files: string[] | "auto";
  /** Share of each file (file order) that trains. */
  trainFraction: number;
  /** Keep only the first N records of each file (0: all); for small runs. */
  maxRecords: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  beta1: number;
  beta2: number;
  warmupSteps: number;
  /** Global gradient-norm limit (0: none). */
  gradClip: number;
  /** Tokens per input; longer inputs are cut at the end. */
  maxLength: number;
  seed: number;
  /** Text of each input; {value}, {definition} and {dialogue} are filled in. */
  promptTemplate: string;
  /** Definition per basic value (paper order); the kit's own by default. */
  definitions: string[];
  outDir: string | null;
  quiet: boolean;
}

export const DEFAULT_PROMPT_TEMPLATE =
  "Schwartz value: {value}, {definition}\nDialogue:\n{dialogue}\nDoes Bob's reply oppose this value, have no connection to it, or treat it as important? Answer with one of: opposed, no connection, important.";

export const DEFAULT_BACKBONE_EVALUATOR_CONFIG: Omit<BackboneEvaluatorConfig, "backbone"> = {
  head: "classification",
  files: "auto",
  trainFraction: 0.9,
  maxRecords: 0,
  epochs: 10,
  batchSize: 32,
  learningRate: 1e-5,
  beta1: 0.9,
  beta2: 0.95,
  warmupSteps: 50,
  gradClip: 1,
  maxLength: 2048,
  seed: 2023,
  promptTemplate: DEFAULT_PROMPT_TEMPLATE,
  definitions: BASIC_VALUES.map((v) => BASIC_VALUE_DEFINITIONS[v].replace(/\.$/, "").replace(/^./, (c) => c.toLowerCase())),
  outDir: null,
  quiet: false,
};

export const BACKBONE_EVALUATOR_HELP: Record<keyof Omit<BackboneEvaluatorConfig, "backbone" | "definitions" | "outDir" | "quiet">, string> =
  {
    head: "classification (opposed / no connection / important) or regression (tanh)",
    files: "FULCRA-format JSONL files, comma-separated, or auto",
    trainFraction: "share of each file, in file order, that trains",
    maxRecords: "first N records of each file only (0: all)",
    epochs: "passes over the training inputs",
    batchSize: "inputs per step",
    learningRate: "peak learning rate (Adam)",
    beta1: "Adam β1",
    beta2: "Adam β2",
    warmupSteps: "linear warm-up steps before the cosine decay",
    gradClip: "global gradient-norm limit (0: none)",
    maxLength: "tokens per input (longer inputs are cut)",
    seed: "seed of sampling, shuffling, dropout and new head weights",
    promptTemplate: "text of each input with {value}, {definition}, {dialogue}",
  };

/** One (dialogue, value) input with its label: class 0 opposed, 1 no connection, 2 important. */
export interface ValueInput {
  text: string;
  value: number;
  label: 0 | 1 | 2;
  file: string;
  line: number;
}

export interface EpochReport {
  epoch: number;
  trainLoss: number;
  validLoss: number;
  validAccuracy: number;
  validMacroF1: number;
  seconds: number;
}

export interface BackboneEvaluatorResult {
  config: BackboneEvaluatorConfig;
  counts: { trainRecords: number; validRecords: number; trainInputs: number; validInputs: number; sampledNoConnection: number };
  /** The FULCRA-format files read. */
  files: string[];
  /** Loss of every optimiser step, in order. */
  stepLosses: number[];
  history: EpochReport[];
  backend: string;
  model: DebertaV2;
  tokenizer: UnigramTokenizer;
}

/** The text of one (dialogue, value) input. */
export function valuePrompt(
  config: Pick<BackboneEvaluatorConfig, "promptTemplate" | "definitions">,
  dialogue: string,
  value: number,
): string {
  return config.promptTemplate
    .replace("{value}", BASIC_VALUE_LABELS[BASIC_VALUES[value]])
    .replace("{definition}", config.definitions[value])
    .replace("{dialogue}", dialogue);
}

/**
 * The inputs of one record. Training: its labelled values and sampled "no
 * connection" ones; validation: all 10 values.
 */
export function recordInputs(
  record: FulcraRecord,
  split: "train" | "valid",
  random: () => number,
  config: Pick<BackboneEvaluatorConfig, "promptTemplate" | "definitions">,
  file: string,
): { inputs: ValueInput[]; sampled: number } {
  const labelled: number[] = [];
  const unlabelled: number[] = [];
  const mixed = (d: number) => record.labels.basicAligned[d] && record.labels.basicOpposed[d];
  record.labels.basic.forEach((p, d) => (p !== 0 ? labelled.push(d) : mixed(d) ? undefined : unlabelled.push(d)));
  let chosen = unlabelled;
  let sampled = 0;
  if (split === "train") {
    const items = record.value_items.length;
    const want = Math.max(0, Math.min(Math.floor(items / 2), BASIC_VALUES.length - items, unlabelled.length));
    chosen = shuffled(unlabelled, random)
      .slice(0, want)
      .sort((a, b) => a - b);
    sampled = chosen.length;
  }
  const make = (d: number, polarity: number): ValueInput => ({
    text: valuePrompt(config, record.dialogue, d),
    value: d,
    label: (polarity + 1) as 0 | 1 | 2,
    file,
    line: record.line,
  });
  return { inputs: [...labelled.map((d) => make(d, record.labels.basic[d])), ...chosen.map((d) => make(d, 0))], sampled };
}

function resolveFiles(files: string[] | "auto"): string[] {
  if (files !== "auto") return files;
  const original = rawPath("evaluator_data", kitPaths().rawDir);
  if (existsSync(original)) return [original];
  const present = availableLabelledFiles();
  if (present.length === 0)
    throw new Error("no FULCRA-format file found under data/raw (fetch the data with `fulcra data fetch`, or pass --files)");
  return present;
}

/** Learning rate at `step` (0-based): linear warm-up, then cosine decay to 0 at `total`. */
export function learningRateAt(step: number, total: number, peak: number, warmup: number): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return peak * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** Mean loss of a batch: cross-entropy (classification) or MSE of tanh (regression). */
function batchLoss(logits: tf.Tensor2D, labels: number[], head: EvaluatorHead): tf.Scalar {
  if (head === "classification") {
    const targets = tf.tensor1d(labels, "int32");
    return tf.mean(tf.sub(logSumExpRows(logits), pickColumns(logits, targets))) as tf.Scalar;
  }
  const target = tf.tensor1d(labels.map((l) => l - 1));
  return tf.mean(tf.square(tf.sub(tf.tanh(tf.reshape(logits, [-1])), target))) as tf.Scalar;
}

/** Predicted class per row: argmax, or for regression the label nearest tanh(output). */
function predictions(logits: number[][], head: EvaluatorHead): number[] {
  if (head === "classification") return logits.map((row) => row.indexOf(Math.max(...row)));
  return logits.map((row) => {
    const y = Math.tanh(row[0]);
    return [-1, 0, 1].reduce((best, l) => (Math.abs(l - y) < Math.abs(best - y) ? l : best), -1) + 1;
  });
}

function macroF1(pred: number[], gold: number[]): number {
  const f1s = [0, 1, 2].map((c) => {
    const tp = pred.filter((p, i) => p === c && gold[i] === c).length;
    const fp = pred.filter((p, i) => p === c && gold[i] !== c).length;
    const fn = pred.filter((p, i) => p !== c && gold[i] === c).length;
    return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  });
  return f1s.reduce((a, b) => a + b, 0) / 3;
}

/** Loads the backbone with a head of the recipe's size (the checkpoint's when it fits, else a new one). */
function loadBackbone(config: BackboneEvaluatorConfig): {
  model: DebertaV2;
  tokenizer: UnigramTokenizer;
  rawConfig: Record<string, unknown>;
  newHead: boolean;
} {
  const hub = readHubConfig(config.backbone);
  if (hub.architecture === "GPT2LMHeadModel")
    throw new Error(`${hub.file}: the evaluator recipe needs a DeBERTa checkpoint, this is GPT2LMHeadModel`);
  const labels = config.head === "classification" ? 3 : 1;
  const rawConfig: Record<string, unknown> = { ...hub.raw, num_labels: labels };
  rawConfig.id2label = Object.fromEntries(
    (labels === 3 ? ["opposed", "no connection", "important"] : ["value"]).map((l, i) => [String(i), l]),
  );
  rawConfig.label2id = Object.fromEntries(Object.entries(rawConfig.id2label as Record<string, string>).map(([i, l]) => [l, Number(i)]));
  const parsed = parseDebertaConfig(rawConfig, hub.file);
  const { tensors: stored, source } = readHubWeights(config.backbone);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of stored)
    tensors.set(name.startsWith("deberta.") || name.startsWith("pooler.") || name.startsWith("classifier.") ? name : `deberta.${name}`, t);
  const random = seededRandom(config.seed + 7);
  let newHead = false;
  for (const [name, shape] of debertaParameterShapes(parsed, true)) {
    if (!name.startsWith("pooler.") && !name.startsWith("classifier.")) continue;
    const have = tensors.get(name);
    if (have && have.shape.join() === shape.join()) continue;
    newHead = true;
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith(".weight")) for (let i = 0; i < n; i++) data[i] = normal(random) * parsed.initializer_range;
    tensors.set(name, { shape, data });
  }
  const model = new DebertaV2(parsed, true, tensors, source);
  const tokenizer = loadUnigramTokenizer(config.backbone);
  checkVocabulary(tokenizer.vocabSize, parsed.vocab_size, tokenizer.parts.source, hub.file);
  return { model, tokenizer, rawConfig: { ...rawConfig, architectures: ["DebertaV2ForSequenceClassification"] }, newHead };
}

/** Fine-tunes a DeBERTa checkpoint as the value evaluator; saves it as a hub folder when `outDir` is set. */
export async function trainBackboneEvaluator(
  options: Partial<BackboneEvaluatorConfig> & { backbone: string },
): Promise<BackboneEvaluatorResult> {
  const config: BackboneEvaluatorConfig = { ...DEFAULT_BACKBONE_EVALUATOR_CONFIG, ...options };
  if (config.head !== "classification" && config.head !== "regression")
    throw new Error(`head must be classification or regression, got "${config.head}"`);
  if (config.definitions.length !== BASIC_VALUES.length)
    throw new Error(`definitions: ${config.definitions.length} given, 10 needed (paper order)`);
  for (const k of ["epochs", "batchSize", "maxLength"] as const)
    if (!(Number.isInteger(config[k]) && config[k] > 0)) throw new Error(`${k} must be a whole number > 0, got ${config[k]}`);
  const backend = await initBackend({ quiet: config.quiet });
  const { model, tokenizer, rawConfig } = loadBackbone(config);
  const random = seededRandom(config.seed);

  // ---- data: 90/10 in file order per file, inputs per (dialogue, value)
  const train: ValueInput[] = [];
  const valid: ValueInput[] = [];
  let trainRecords = 0;
  let validRecords = 0;
  let sampledNoConnection = 0;
  const files = resolveFiles(config.files);
  for (const file of files) {
    let records = readRecords("fulcra", file);
    if (config.maxRecords > 0) records = records.slice(0, config.maxRecords);
    const split = fileOrderSplit(records, config.trainFraction);
    trainRecords += split.train.length;
    validRecords += split.valid.length;
    for (const r of split.train) {
      const { inputs, sampled } = recordInputs(r, "train", random, config, file);
      train.push(...inputs);
      sampledNoConnection += sampled;
    }
    for (const r of split.valid) valid.push(...recordInputs(r, "valid", random, config, file).inputs);
  }
  if (train.length === 0) throw new Error("no training inputs: the files hold no labelled values in their training share");
  const encode = (x: ValueInput) => tokenizer.encode(x.text, undefined, { maxLength: config.maxLength, truncation: true });
  const batchOf = (items: ValueInput[]) => {
    const enc = items.map(encode);
    const L = Math.max(...enc.map((e) => e.ids.length));
    return {
      inputIds: enc.map((e) => [...e.ids, ...new Array<number>(L - e.ids.length).fill(tokenizer.padId)]),
      attentionMask: enc.map((e) => [...e.ids.map(() => 1), ...new Array<number>(L - e.ids.length).fill(0)]),
      tokenTypeIds: enc.map((e) => [...e.typeIds, ...new Array<number>(L - e.ids.length).fill(0)]),
    };
  };

  // ---- optimiser: Adam with warm-up and cosine decay
  const stepsPerEpoch = Math.ceil(train.length / config.batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;
  const optimizer = tf.train.adam(config.learningRate, config.beta1, config.beta2, 1e-8);
  const variables = model.variables();
  const stepLosses: number[] = [];
  const history: EpochReport[] = [];
  let step = 0;
  const bar = new Progress({ label: "evaluator (DeBERTa)", total: totalSteps, quiet: config.quiet });

  const evaluate = (): Pick<EpochReport, "validLoss" | "validAccuracy" | "validMacroF1"> => {
    if (valid.length === 0) return { validLoss: NaN, validAccuracy: NaN, validMacroF1: NaN };
    let lossSum = 0;
    const pred: number[] = [];
    for (let i = 0; i < valid.length; i += config.batchSize) {
      const items = valid.slice(i, i + config.batchSize);
      const [lossT, logitsT] = tf.tidy(() => {
        const out = model.forward(batchOf(items)).logits!;
        return [
          batchLoss(
            out,
            items.map((x) => x.label),
            config.head,
          ),
          out,
        ];
      });
      lossSum += lossT.dataSync()[0] * items.length;
      pred.push(...predictions(logitsT.arraySync() as number[][], config.head));
      tf.dispose([lossT, logitsT]);
    }
    const gold = valid.map((x) => x.label);
    return {
      validLoss: lossSum / valid.length,
      validAccuracy: pred.filter((p, i) => p === gold[i]).length / gold.length,
      validMacroF1: macroF1(pred, gold),
    };
  };

  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    const started = Date.now();
    const order = shuffled(train, random);
    let epochLoss = 0;
    for (let i = 0; i < order.length; i += config.batchSize) {
      const items = order.slice(i, i + config.batchSize);
      const batch = { ...batchOf(items), dropoutSeed: config.seed * 100003 + step };
      (optimizer as unknown as { learningRate: number }).learningRate = learningRateAt(
        step,
        totalSteps,
        config.learningRate,
        config.warmupSteps,
      );
      const lossT = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () =>
            batchLoss(
              model.forward(batch).logits!,
              items.map((x) => x.label),
              config.head,
            ),
          variables,
        );
        let scaled = grads;
        if (config.gradClip > 0) {
          const norm = Math.sqrt(Object.values(grads).reduce((s, g) => s + tf.sum(tf.square(g)).dataSync()[0], 0));
          if (norm > config.gradClip)
            scaled = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, config.gradClip / norm)]));
        }
        optimizer.applyGradients(scaled as Parameters<typeof optimizer.applyGradients>[0]);
        return value;
      });
      const loss = lossT.dataSync()[0];
      lossT.dispose();
      stepLosses.push(loss);
      epochLoss += loss * items.length;
      step++;
      bar.tick(1, `loss ${loss.toFixed(4)}`);
    }
    history.push({ epoch, trainLoss: epochLoss / order.length, ...evaluate(), seconds: (Date.now() - started) / 1000 });
  }
  bar.finish();
  optimizer.dispose();

  const result: BackboneEvaluatorResult = {
    config,
    counts: { trainRecords, validRecords, trainInputs: train.length, validInputs: valid.length, sampledNoConnection },
    files,
    stepLosses,
    history,
    backend: backend.name,
    model,
    tokenizer,
  };
  if (config.outDir) saveEvaluatorFolder(result, rawConfig);
  return result;
}

/** Writes the fine-tuned evaluator as a hub folder (config.json, model.safetensors, tokenizer files, training.json). */
function saveEvaluatorFolder(r: BackboneEvaluatorResult, rawConfig: Record<string, unknown>): void {
  const dir = r.config.outDir!;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(rawConfig, null, 2) + "\n");
  const tensors: [string, { shape: number[]; data: Float32Array }][] = [...r.model.weights].map(([name, v]) => [
    name,
    { shape: v.shape, data: v.dataSync() as Float32Array },
  ]);
  writeFileSync(join(dir, "model.safetensors"), encodeSafetensors(tensors, { format: "pt" }));
  for (const f of ["tokenizer.json", "tokenizer_config.json", "spm.model", "special_tokens_map.json"]) {
    if (existsSync(join(r.config.backbone, f))) copyFileSync(join(r.config.backbone, f), join(dir, f));
  }
  const { definitions, ...rest } = r.config;
  writeFileSync(
    join(dir, "training.json"),
    JSON.stringify(
      {
        recipe: "value evaluator on a DeBERTa backbone",
        config: { ...rest, definitions },
        counts: r.counts,
        history: r.history,
        provenance: provenance({ dataFiles: r.files, seed: r.config.seed, extra: { backbone: r.config.backbone } }),
      },
      null,
      2,
    ) + "\n",
  );
}

/** Reads a definitions file: a JSON object from basic value name (any case) to its definition. */
export function readDefinitions(file: string): string[] {
  const raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
  const byName = new Map(Object.entries(raw).map(([k, v]) => [k.toLowerCase(), v]));
  return BASIC_VALUES.map((v) => {
    const d = byName.get(v);
    if (typeof d !== "string") throw new Error(`${file}: no definition for "${BASIC_VALUE_LABELS[v]}"`);
    return d;
  });
}
