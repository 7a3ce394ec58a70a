/**
 * A trained value evaluator: score dialogues, save, load.
 *
 * ```ts
 * import { evaluator } from "fulcra-kit";
 * const ev = await evaluator.loadEvaluator("runs/evaluator-default");
 * const [s] = await ev.score(["Human: How do I pick a lock?\nBob: I can't help with that."]);
 * s.vector;        // 10 numbers in [−1, 1], paper order (self-direction … universalism)
 * s.labels;        // 10 of −1 / 0 / +1 (opposed / no connection / important)
 * s.probabilities; // 10 × [P(opposed), P(no connection), P(important)]
 * ```
 *
 * A saved evaluator is a folder:
 * - `model.json` + `weights.bin`: the network in tfjs's model format (weights
 *   manifest: vocabulary ids, embedding table, dense layers);
 * - `features.json`: how text becomes features (tokenizer, hashing, fields, vocabulary);
 * - `config.json`: the training configuration;
 * - `provenance.json`: what produced it (data files and hashes, seed,
 *   backend, commit), the training history and the data counts.
 */
import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { initBackend } from "../runtime/backend.js";
import { dialogueFeatures, type DialogueFeatureOptions, type DialogueInput } from "../text/features.js";
import { HashedVocabulary } from "../text/vocabulary.js";
import type { Polarity } from "../values/labels.js";
import { fileSystemIO, writeFileAtomic } from "./io.js";
import {
  DENSE_WEIGHT_NAMES,
  EmbeddingBag,
  LABEL_COUNT,
  VALUE_COUNT,
  ValueNetwork,
  weightBag,
  type DenseWeightName,
  type FieldBag,
  type NetworkShape,
  type Pooling,
} from "./network.js";

export const EVALUATOR_FORMAT = "fulcra-value-evaluator/1";

/** Which head gives the value vector: the tanh regressor, or the classifier's P(important) − P(opposed). */
export type VectorHead = "regression" | "classification";

/** One dialogue's scores. */
export interface ValueScore {
  /** 10 numbers in [−1, 1], paper order. */
  vector: number[];
  /** The classifier's most probable label per value: −1 opposed, 0 no connection, +1 important. */
  labels: Polarity[];
  /** Per value: [P(opposed), P(no connection), P(important)]. */
  probabilities: [number, number, number][];
  /** The tanh regressor's 10 outputs (the same as `vector` when the evaluator's vector head is the regressor). */
  regression: number[];
}

/** Everything needed to turn text into the network's input. Saved as features.json. */
export interface FeatureSettings extends DialogueFeatureOptions {
  tokenizer: string;
  pooling: Pooling;
  /** Documents an n-gram had to occur in to get a row. */
  minDocuments: number;
  vocabularySize: number;
  /** The annotators learned, in the order of the network's annotator input. */
  annotators: AnnotatorName[];
  /** "joint": prompt and answer n-grams pooled into one bag (each field still in its own hash namespace); "separate": one bag per field, side by side. */
  fieldPooling: FieldPooling;
}

export type FieldPooling = "joint" | "separate";

/** A dialogue's hashed n-gram ids (one list per field) as the network's bags. */
export function fieldBags(fieldIds: readonly number[][], vocabulary: HashedVocabulary, pooling: FieldPooling): FieldBag[] {
  return (pooling === "joint" ? [fieldIds.flat()] : fieldIds).map((ids) => vocabulary.bag(ids));
}

export interface EvaluatorMeta {
  /** The training configuration (config.json). */
  config: Record<string, unknown>;
  /** provenance.json: provenance, history, data counts. */
  provenance: Record<string, unknown>;
}

/** The annotators an evaluator can imitate, by kind of training example. */
export const ANNOTATORS = { labelled: "fulcra-labels", distilled: "paper-evaluator" } as const;
export type AnnotatorName = (typeof ANNOTATORS)[keyof typeof ANNOTATORS];

export interface ScoreOptions {
  /** Dialogues per forward pass (default 256). */
  batchSize?: number;
  /**
   * Whose judgement to imitate, for an evaluator trained on both FULCRA's
   * labels and the paper's evaluator: "paper-evaluator" (the default when it
   * was learned) or "fulcra-labels".
   */
  annotator?: AnnotatorName;
}

export class ValueEvaluator {
  constructor(
    readonly network: ValueNetwork,
    readonly vocabulary: HashedVocabulary,
    /** Inverse document frequency of each vocabulary row (ln((1 + N) / (1 + df)) + 1 over the training dialogues). */
    readonly idf: Float32Array,
    readonly features: FeatureSettings,
    readonly vectorHead: VectorHead,
    readonly meta: EvaluatorMeta,
  ) {
    if (vocabulary.size !== network.shape.vocabularySize || idf.length !== vocabulary.size) {
      throw new Error(
        `vocabulary has ${vocabulary.size} entries, idf ${idf.length}, the embedding table ${network.shape.vocabularySize} rows`,
      );
    }
  }

  /** A dialogue's per-field bags of vocabulary rows. */
  featurize(input: DialogueInput): FieldBag[] {
    return fieldBags(dialogueFeatures(input, this.features), this.vocabulary, this.features.fieldPooling);
  }

  /** The annotator scores imitate by default: the paper's evaluator when it was learned. */
  get defaultAnnotator(): AnnotatorName {
    return this.features.annotators.includes(ANNOTATORS.distilled) ? ANNOTATORS.distilled : this.features.annotators[0];
  }

  private annotatorIndex(name: AnnotatorName | undefined): number {
    const wanted = name ?? this.defaultAnnotator;
    const i = this.features.annotators.indexOf(wanted);
    if (i < 0) throw new Error(`this evaluator did not learn annotator "${wanted}"; it knows ${this.features.annotators.join(", ")}`);
    return i;
  }

  /** Scores already-featurized dialogues. */
  scoreBags(bags: readonly (readonly FieldBag[])[], options: ScoreOptions = {}): ValueScore[] {
    const batchSize = options.batchSize ?? 256;
    const annotator = this.annotatorIndex(options.annotator);
    const out: ValueScore[] = [];
    for (let start = 0; start < bags.length; start += batchSize) {
      const batch = bags.slice(start, start + batchSize).map((fields) => fields.map((f) => weightBag(f, this.features.pooling, this.idf)));
      const { probabilities, scores } = this.network.predict(batch, annotator);
      for (let b = 0; b < batch.length; b++) out.push(this.toScore(probabilities, scores, b));
    }
    return out;
  }

  private toScore(probabilities: Float32Array, scores: Float32Array, b: number): ValueScore {
    const vector: number[] = [];
    const labels: Polarity[] = [];
    const probs: [number, number, number][] = [];
    const regression: number[] = [];
    for (let v = 0; v < VALUE_COUNT; v++) {
      const o = (b * VALUE_COUNT + v) * LABEL_COUNT;
      const p: [number, number, number] = [probabilities[o], probabilities[o + 1], probabilities[o + 2]];
      probs.push(p);
      labels.push((p[0] >= p[1] && p[0] >= p[2] ? -1 : p[2] > p[1] ? 1 : 0) as Polarity);
      regression.push(scores[b * VALUE_COUNT + v]);
      vector.push(this.vectorHead === "regression" ? scores[b * VALUE_COUNT + v] : p[2] - p[0]);
    }
    return { vector, labels, probabilities: probs, regression };
  }

  /** scoreBags with an asynchronous read-back (needed on the webgpu backend, the same numbers elsewhere). */
  async scoreBagsAsync(bags: readonly (readonly FieldBag[])[], options: ScoreOptions = {}): Promise<ValueScore[]> {
    const batchSize = options.batchSize ?? 256;
    const annotator = this.annotatorIndex(options.annotator);
    const out: ValueScore[] = [];
    for (let start = 0; start < bags.length; start += batchSize) {
      const batch = bags.slice(start, start + batchSize).map((fields) => fields.map((f) => weightBag(f, this.features.pooling, this.idf)));
      const { probabilities, scores } = await this.network.predictAsync(batch, annotator);
      for (let b = 0; b < batch.length; b++) out.push(this.toScore(probabilities, scores, b));
    }
    return out;
  }

  private featurizeAll(dialogues: readonly DialogueInput[]): FieldBag[][] {
    return dialogues.map((d, i) => {
      if (typeof d !== "string" && (typeof d !== "object" || d === null || typeof d.prompt !== "string" || typeof d.answer !== "string")) {
        throw new TypeError(`dialogue ${i}: expected a string or { prompt, answer } strings`);
      }
      return this.featurize(d);
    });
  }

  /** Scores dialogues synchronously (the wasm and cpu backends compute in place; not the webgpu backend: use score()). */
  scoreSync(dialogues: readonly DialogueInput[], options: ScoreOptions = {}): ValueScore[] {
    return this.scoreBags(this.featurizeAll(dialogues), options);
  }

  /**
   * Scores dialogues in batches. Each is a string ("Human: …\nBob: …", or an
   * HH-style multi-turn transcript; the last assistant turn is the answer)
   * or `{ prompt, answer }`. Results come back in input order.
   */
  async score(dialogues: readonly DialogueInput[], options: ScoreOptions = {}): Promise<ValueScore[]> {
    return this.scoreBagsAsync(this.featurizeAll(dialogues), options);
  }

  /** Named weights in save order (the caller disposes them). */
  weightTensors(): { name: string; tensor: tf.Tensor }[] {
    const { vocabularySize, embeddingDim } = this.network.shape;
    const out: { name: string; tensor: tf.Tensor }[] = [
      { name: "vocabulary/ids", tensor: tf.tensor1d(this.vocabulary.ids, "int32") },
      { name: "vocabulary/idf", tensor: tf.tensor1d(this.idf) },
      { name: "embedding/table", tensor: tf.tensor2d(this.network.embedding.table, [vocabularySize, embeddingDim]) },
    ];
    for (const name of DENSE_WEIGHT_NAMES) {
      const v = this.network.dense.get(name);
      if (v) out.push({ name, tensor: v.clone() });
    }
    return out;
  }

  /** Writes the evaluator folder (see the module comment). */
  async save(dir: string, extraWeights: { name: string; tensor: tf.Tensor }[] = []): Promise<void> {
    const folder = resolve(dir);
    mkdirSync(folder, { recursive: true });
    const named = [...this.weightTensors(), ...extraWeights];
    try {
      const { data, specs } = await tf.io.encodeWeights(named);
      await fileSystemIO(folder).save({
        modelTopology: {
          kind: EVALUATOR_FORMAT,
          shape: this.network.shape,
          vectorHead: this.vectorHead,
          values: VALUE_COUNT,
          labels: LABEL_COUNT,
        },
        format: EVALUATOR_FORMAT,
        generatedBy: "fulcra-kit",
        convertedBy: null,
        weightSpecs: specs,
        weightData: data,
      });
    } finally {
      for (const n of named) n.tensor.dispose();
    }
    writeFileAtomic(join(folder, "features.json"), JSON.stringify(this.features, null, 2) + "\n");
    writeFileAtomic(join(folder, "config.json"), JSON.stringify(this.meta.config, null, 2) + "\n");
    writeFileAtomic(join(folder, "provenance.json"), JSON.stringify(this.meta.provenance, null, 2) + "\n");
  }

  dispose(): void {
    this.network.dispose();
  }
}

/** Saves an evaluator to a folder (same as `evaluator.save(dir)`). */
export async function saveEvaluator(evaluator: ValueEvaluator, dir: string): Promise<void> {
  await evaluator.save(dir);
}

function readJson(folder: string, file: string): Record<string, unknown> {
  const path = join(folder, file);
  if (!existsSync(path))
    throw new Error(`${folder} is not a saved evaluator: ${file} is missing (train one with \`fulcra evaluator train --out ${folder}\`)`);
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${path}: unreadable JSON (${(e as Error).message})`);
  }
}

/** Network, vocabulary and any extra named tensors (e.g. optimizer state) from a folder written by `save`. */
export async function loadEvaluatorParts(dir: string): Promise<{ evaluator: ValueEvaluator; extra: tf.NamedTensorMap }> {
  await initBackend();
  const folder = resolve(dir);
  const features = readJson(folder, "features.json") as unknown as FeatureSettings;
  const config = readJson(folder, "config.json");
  const provenance = existsSync(join(folder, "provenance.json")) ? readJson(folder, "provenance.json") : {};
  const artifacts = await fileSystemIO(folder).load();
  if (artifacts.format !== EVALUATOR_FORMAT) {
    throw new Error(`${join(folder, "model.json")}: format "${artifacts.format}" is not ${EVALUATOR_FORMAT}`);
  }
  const topology = artifacts.modelTopology as { shape: NetworkShape; vectorHead: VectorHead };
  const named = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
  const take = (name: string) => {
    const t = named[name];
    if (!t) throw new Error(`${join(folder, "model.json")}: weight "${name}" is missing`);
    delete named[name];
    return t;
  };
  const shape = topology.shape;
  const idsTensor = take("vocabulary/ids");
  const vocabulary = new HashedVocabulary(Int32Array.from(idsTensor.dataSync()));
  idsTensor.dispose();
  const idfTensor = take("vocabulary/idf");
  const idf = Float32Array.from(idfTensor.dataSync());
  idfTensor.dispose();
  const tableTensor = take("embedding/table");
  if (tableTensor.shape[0] !== shape.vocabularySize || tableTensor.shape[1] !== shape.embeddingDim) {
    throw new Error(
      `${join(folder, "model.json")}: embedding table is ${tableTensor.shape.join("×")}, expected ${shape.vocabularySize}×${shape.embeddingDim}`,
    );
  }
  const embedding = new EmbeddingBag(Float32Array.from(tableTensor.dataSync()), shape.embeddingDim);
  tableTensor.dispose();
  const dense = new Map<DenseWeightName, tf.Variable>();
  for (const name of DENSE_WEIGHT_NAMES) {
    if (name.startsWith("hidden/") && shape.hiddenSize === 0) continue;
    const t = take(name);
    dense.set(name, tf.variable(t, true));
    t.dispose();
  }
  const network = new ValueNetwork(shape, embedding, dense);
  const evaluator = new ValueEvaluator(network, vocabulary, idf, features, topology.vectorHead, { config, provenance });
  return { evaluator, extra: named };
}

/** Loads an evaluator saved by `save` / `saveEvaluator` / `fulcra evaluator train`. */
export async function loadEvaluator(dir: string): Promise<ValueEvaluator> {
  const { evaluator, extra } = await loadEvaluatorParts(dir);
  for (const t of Object.values(extra)) t.dispose();
  return evaluator;
}
