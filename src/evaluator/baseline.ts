/**
 * Two baselines, trained on exactly what the evaluator is trained on, so a
 * reader sees what the network adds:
 *
 * - majority: per value (and per annotator), the most frequent training
 *   label, whatever the dialogue says;
 * - TF-IDF + logistic regression: the dialogue's TF-IDF vector (the same
 *   prompt/answer n-gram features as the evaluator, see src/text) and, per
 *   value, a 3-class softmax regression trained with SGD and L2. Its value
 *   vector is P(important) − P(opposed).
 *
 * When the training set mixes FULCRA labels and the paper's evaluator, both
 * baselines keep the two annotators apart, as the evaluator does: the
 * majority per annotator, the regression with one bias per annotator.
 */
import { seededRandom, shuffled } from "../runtime/random.js";
import { dialogueFeatures, type DialogueFeatureOptions } from "../text/features.js";
import { TfIdf, type SparseVector } from "../text/tfidf.js";
import type { Polarity } from "../values/labels.js";
import type { EvaluatorExample } from "./data.js";
import { LABEL_COUNT, VALUE_COUNT } from "./network.js";

export interface BaselinePredictions {
  labels: Polarity[][];
  vectors: number[][];
}

export interface Baseline {
  readonly name: string;
  predict(examples: readonly EvaluatorExample[]): BaselinePredictions;
}

type Kind = EvaluatorExample["kind"];

/** The most frequent label of each value among `examples`. */
function majorityLabels(examples: readonly EvaluatorExample[]): Polarity[] {
  return Array.from({ length: VALUE_COUNT }, (_, v) => {
    const counts = [0, 0, 0];
    for (const e of examples) counts[e.labels[v] + 1]++;
    // Ties go to "no connection", then to the lower label.
    const best = counts[1] >= counts[0] && counts[1] >= counts[2] ? 1 : counts[2] > counts[0] ? 2 : 0;
    return (best - 1) as Polarity;
  });
}

export class MajorityBaseline implements Baseline {
  readonly name = "majority";
  private constructor(private readonly byKind: Map<Kind, Polarity[]>) {}

  static fit(train: readonly EvaluatorExample[]): MajorityBaseline {
    const byKind = new Map<Kind, Polarity[]>();
    for (const kind of ["labelled", "distilled"] as const) {
      const of = train.filter((e) => e.kind === kind);
      if (of.length > 0) byKind.set(kind, majorityLabels(of));
    }
    return new MajorityBaseline(byKind);
  }

  predict(examples: readonly EvaluatorExample[]): BaselinePredictions {
    const fallback = [...this.byKind.values()][0] ?? (new Array(VALUE_COUNT).fill(0) as Polarity[]);
    const labels = examples.map((e) => (this.byKind.get(e.kind) ?? fallback).slice());
    return { labels, vectors: labels.map((l) => l.slice()) };
  }
}

export interface TfIdfBaselineOptions {
  features: DialogueFeatureOptions;
  /** An n-gram enters the vocabulary if it occurs in this many training dialogues. */
  minDocuments: number;
  epochs: number;
  learningRate: number;
  /** L2 penalty per update on the weights of the features the example has. */
  l2: number;
  seed: number;
  /** Class weights per value, flat [value][label] (see classWeightTable); all 1 when absent. */
  classWeights?: Float32Array;
}

export class TfIdfBaseline implements Baseline {
  readonly name = "tf-idf logistic regression";

  private constructor(
    private readonly tfidf: TfIdf,
    private readonly features: DialogueFeatureOptions,
    /** vocabulary × (10 · 3), row-major. */
    private readonly weights: Float32Array,
    /** One bias row (10 · 3) per kind of example. */
    private readonly bias: Map<Kind, Float32Array>,
  ) {}

  private vector(e: EvaluatorExample): SparseVector {
    return this.tfidf.transform(dialogueFeatures(e, this.features).flat());
  }

  static fit(train: readonly EvaluatorExample[], options: TfIdfBaselineOptions): TfIdfBaseline {
    const docs = train.map((e) => dialogueFeatures(e, options.features).flat());
    const tfidf = TfIdf.fit(docs, options.minDocuments);
    const width = VALUE_COUNT * LABEL_COUNT;
    const weights = new Float32Array(tfidf.vocabulary.size * width);
    const bias = new Map<Kind, Float32Array>();
    for (const e of train) if (!bias.has(e.kind)) bias.set(e.kind, new Float32Array(width));
    const model = new TfIdfBaseline(tfidf, options.features, weights, bias);
    const xs = docs.map((d) => tfidf.transform(d));
    const random = seededRandom(options.seed);
    const logits = new Float32Array(width);
    const grad = new Float32Array(width);
    const steps = options.epochs * train.length;
    let step = 0;
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      for (const i of shuffled(
        Array.from(train, (_, k) => k),
        random,
      )) {
        const lr = options.learningRate * (1 - step++ / steps);
        const x = xs[i];
        const b = bias.get(train[i].kind)!;
        model.logitsOf(x, b, logits);
        // Softmax cross-entropy gradient per value: p − onehot(label), times the class weight.
        for (let v = 0; v < VALUE_COUNT; v++) {
          const o = v * LABEL_COUNT;
          const p = softmax3(logits, o);
          const y = train[i].labels[v] + 1;
          const cw = options.classWeights ? options.classWeights[o + y] : 1;
          for (let k = 0; k < LABEL_COUNT; k++) grad[o + k] = cw * (p[k] - (k === y ? 1 : 0));
        }
        for (let k = 0; k < width; k++) b[k] -= lr * grad[k];
        for (let j = 0; j < x.indices.length; j++) {
          const row = x.indices[j] * width;
          const xv = x.values[j];
          for (let k = 0; k < width; k++) weights[row + k] -= lr * (grad[k] * xv + options.l2 * weights[row + k]);
        }
      }
    }
    return model;
  }

  private logitsOf(x: SparseVector, b: Float32Array, out: Float32Array): void {
    const width = VALUE_COUNT * LABEL_COUNT;
    out.set(b);
    for (let j = 0; j < x.indices.length; j++) {
      const row = x.indices[j] * width;
      const xv = x.values[j];
      for (let k = 0; k < width; k++) out[k] += xv * this.weights[row + k];
    }
  }

  predict(examples: readonly EvaluatorExample[]): BaselinePredictions {
    const width = VALUE_COUNT * LABEL_COUNT;
    const logits = new Float32Array(width);
    const fallback = [...this.bias.values()][0];
    const labels: Polarity[][] = [];
    const vectors: number[][] = [];
    for (const e of examples) {
      this.logitsOf(this.vector(e), this.bias.get(e.kind) ?? fallback, logits);
      const l: Polarity[] = [];
      const vec: number[] = [];
      for (let v = 0; v < VALUE_COUNT; v++) {
        const p = softmax3(logits, v * LABEL_COUNT);
        l.push((p[0] >= p[1] && p[0] >= p[2] ? -1 : p[2] > p[1] ? 1 : 0) as Polarity);
        vec.push(p[2] - p[0]);
      }
      labels.push(l);
      vectors.push(vec);
    }
    return { labels, vectors };
  }
}

function softmax3(logits: Float32Array, o: number): [number, number, number] {
  const m = Math.max(logits[o], logits[o + 1], logits[o + 2]);
  const a = Math.exp(logits[o] - m);
  const b = Math.exp(logits[o + 1] - m);
  const c = Math.exp(logits[o + 2] - m);
  const s = a + b + c;
  return [a / s, b / s, c / s];
}
