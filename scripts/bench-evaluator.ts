/**
 * The value evaluator's speed on this machine, per backend (cpu and wasm):
 * training time of the default model on the data present, and inference
 * throughput (dialogues per second, all 10 values, text to scores), with the
 * wasm/cpu ratio. Also one design measurement: a training step of the
 * embedding bag done sparsely in JS (what the evaluator does) against the
 * same step in tfjs (gather, then a dense scatter of the gradient over the
 * whole table).
 *
 *   npm run bench:evaluator                    # full default training per backend
 *   node dist/scripts/bench-evaluator.js --epochs 2 --backends wasm
 *   node dist/scripts/bench-evaluator.js --ablations   # design choices, measured (≈ 2 min each)
 *   node dist/scripts/bench-evaluator.js --backend webgpu --json --epochs 1 --max-per-file 2000
 *
 * --backend NAME is --backends NAME; --json prints the benchmark convention's
 * JSON lines (see bench-common.ts): evaluator-train-epoch (seconds per epoch)
 * and evaluator-inference (dialogues per second), and skips the embedding-bag
 * design measurement. --max-per-file N trains on the first N examples of each file.
 *
 * --ablations trains the held-out evaluations (the original's 90/10 split and
 * leave one model out, see report.ts) for the default configuration and for
 * one change at a time, and prints macro-F1, sign agreement and Pearson r:
 * the measurements behind the default text encoding and training choices.
 *
 * Goals (issue: evaluator): default training under 5 minutes, inference at
 * least 1,000 dialogues/s on the best backend present.
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import {
  DEFAULT_EVALUATOR_CONFIG,
  EmbeddingBag,
  evaluatorReport,
  loadTrainingData,
  trainEvaluator,
  type EvaluatorConfig,
  type WeightedBag,
} from "../src/evaluator/index.js";
import { initBackend, type BackendName } from "../src/runtime/backend.js";
import { benchSetup, emit } from "./bench-common.js";
import { seededRandom } from "../src/runtime/random.js";
import type { DialogueInput } from "../src/text/features.js";

const setup = benchSetup();
const { values } = parseArgs({
  args: setup.rest,
  options: {
    epochs: { type: "string" },
    backends: { type: "string" },
    repeats: { type: "string" },
    ablations: { type: "boolean" },
    only: { type: "string" },
    "max-per-file": { type: "string" },
  },
});
const epochs = Number(values.epochs ?? DEFAULT_EVALUATOR_CONFIG.epochs);
const backends = (setup.backend ? setup.backend : (values.backends ?? "cpu,wasm")).split(",") as BackendName[];
const repeats = Number(values.repeats ?? 3);
const maxPerFile = Number(values["max-per-file"] ?? 0);

const data = loadTrainingData({ ...DEFAULT_EVALUATOR_CONFIG, maxPerFile });

if (values.ablations) {
  await initBackend({ quiet: true });
  const variants: [string, Partial<EvaluatorConfig>][] = [
    ["default", {}],
    ["answer only (no prompt features)", { fields: ["answer"] }],
    ["prompt and answer in separate bags", { fieldPooling: "separate" }],
    ["mean pooling instead of tf-idf", { pooling: "mean" }],
    ["words only (no bigrams)", { maxN: 1 }],
    ["no prefixes, no contraction expansion", { prefixLength: 0, expandContractions: false }],
    ["one annotator (labels and paper's scores mixed)", { separateAnnotators: false }],
    ["no hidden layer (linear, as fastText)", { hiddenSize: 0 }],
    ["vector from the tanh regressor", { vectorHead: "regression" }],
    ["Adam instead of SGD", { optimizer: "adam", learningRate: 0.003, embeddingLearningRate: 0.003, batchSize: 32 }],
    ["no distillation (FULCRA labels only)", { scoredFiles: [] }],
  ];
  const only = values.only?.split(",").map(Number);
  console.log(
    "| variant | macro-F1 (90/10) | TF-IDF macro-F1 | sign agr. (held-out models) | r | TF-IDF sign | TF-IDF r | ranking as paper |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const [k, [name, change]] of variants.entries()) {
    if (only && !only.includes(k)) continue;
    const parts: ("fulcra-split" | "leave-model-out")[] = change.scoredFiles ? ["fulcra-split"] : ["fulcra-split", "leave-model-out"];
    const r = await evaluatorReport({
      config: { ...change, quiet: true },
      parts,
      quiet: true,
      data: change.scoredFiles ? { ...data, distilled: [] } : data,
    });
    const f = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "—" : x.toFixed(3));
    const lo = r.leaveModelOut;
    console.log(
      `| ${name} | ${f(r.fulcraSplit?.evaluator.classification.macroF1)} | ${f(r.fulcraSplit?.tfidf.classification.macroF1)} | ${f(lo?.pooled.evaluator.meanSignAgreement)} | ${f(lo?.pooled.evaluator.meanPearson)} | ${f(lo?.pooled.tfidf.meanSignAgreement)} | ${f(lo?.pooled.tfidf.meanPearson)} | ${lo ? (lo.ranking.evaluatorMatchesPaper ? "yes" : "no") : "—"} |`,
    );
  }
  process.exit(0);
}
const dialogues: DialogueInput[] = [...data.labelled.flat(), ...data.distilled].map((e) => ({ prompt: e.prompt, answer: e.answer }));
console.log(
  `data: ${data.labelled.flat().length} labelled + ${data.distilled.length} distilled dialogues; default config, ${epochs} epochs`,
);

const results: Record<string, { trainSeconds: number; perSecond: number; featurizePerSecond: number }> = {};
for (const name of backends) {
  const backend = await initBackend({ prefer: name, quiet: true }).catch((e: Error) => {
    console.error(e.message);
    process.exit(3);
  });
  const t0 = performance.now();
  const ev = await trainEvaluator({ epochs, quiet: true, maxPerFile }, { data });
  const trainSeconds = (performance.now() - t0) / 1000;
  // Inference: text → scores for every dialogue, best of `repeats`.
  let best = Infinity;
  for (let k = 0; k < repeats; k++) {
    const t = performance.now();
    await ev.score(dialogues, { batchSize: 512 });
    best = Math.min(best, performance.now() - t);
  }
  let featurize = Infinity;
  for (let k = 0; k < repeats; k++) {
    const t = performance.now();
    for (const d of dialogues) ev.featurize(d);
    featurize = Math.min(featurize, performance.now() - t);
  }
  results[name] = { trainSeconds, perSecond: dialogues.length / (best / 1000), featurizePerSecond: dialogues.length / (featurize / 1000) };
  emit(setup, backend.name, "evaluator-train-epoch", "seconds", trainSeconds / epochs, "s/epoch");
  emit(setup, backend.name, "evaluator-inference", "throughput", results[name].perSecond, "dialogues/s");
  console.log(
    `${backend.name.padEnd(5)} train ${trainSeconds.toFixed(1)} s (${ev.training.counts.trainLabelled + ev.training.counts.trainDistilled} dialogues × ${epochs} epochs, ${ev.vocabulary.size} n-grams)` +
      `   inference ${results[name].perSecond.toFixed(0)} dialogues/s (text → 10 values; featurizing alone ${results[name].featurizePerSecond.toFixed(0)}/s)`,
  );
  ev.dispose();
}
if (results.cpu && results.wasm) {
  console.log(
    `wasm/cpu: training ${(results.cpu.trainSeconds / results.wasm.trainSeconds).toFixed(2)}× faster, inference ${(results.wasm.perSecond / results.cpu.perSecond).toFixed(2)}×`,
  );
}

if (setup.json) process.exit(0);
// Design measurement: one embedding-bag step at the default sizes.
const V = 70_000;
const D = DEFAULT_EVALUATOR_CONFIG.embeddingDim;
const B = DEFAULT_EVALUATOR_CONFIG.batchSize * 4;
const L = 200; // distinct n-grams in a dialogue, about the mean here
const random = seededRandom(1);
const batch: WeightedBag[][] = Array.from({ length: B }, () => [
  { rows: Int32Array.from({ length: L }, () => Math.floor(random() * V)), weights: new Float32Array(L).fill(1 / L) },
]);
const bag = EmbeddingBag.init(V, D, random);
const dx = new Float32Array(B * D).fill(0.01);
const jsStep = () => {
  bag.forward(batch);
  const g = bag.backward(batch, dx);
  for (let i = 0; i < g.rows.length; i++) for (let k = 0; k < D; k++) bag.table[g.rows[i] * D + k] -= 0.1 * g.grad[i * D + k];
};
for (const name of backends) {
  await initBackend({ prefer: name, quiet: true });
  const table = tf.variable(tf.tensor2d(bag.table, [V, D]));
  const ids = tf.tensor2d(Int32Array.from(batch.flatMap((b) => Array.from(b[0].rows))), [B, L], "int32");
  const w = tf.fill([B, L, 1], 1 / L);
  const tfStep = () =>
    tf.tidy(() => {
      tf.sum(tf.mul(tf.gather(table, ids), w), 1).dataSync();
      const grad = tf.scatterND(tf.reshape(ids, [-1, 1]), tf.reshape(tf.mul(tf.expandDims(tf.fill([B, D], 0.01), 1), w), [-1, D]), [V, D]);
      table.assign(tf.sub(table, tf.mul(grad, 0.1)));
    });
  const time = (f: () => void) => {
    f();
    const t = performance.now();
    for (let k = 0; k < 5; k++) f();
    return (performance.now() - t) / 5;
  };
  console.log(
    `embedding-bag step (${V} rows × ${D}, batch ${B} × ${L} n-grams) on ${name}: tfjs gather + dense scatter ${time(tfStep).toFixed(1)} ms, sparse JS ${time(jsStep).toFixed(1)} ms`,
  );
  tf.dispose([table, ids, w]);
}
