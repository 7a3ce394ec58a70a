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
 *
 * Goals (issue: evaluator): default training under 5 minutes, inference at
 * least 1,000 dialogues/s on the best backend present.
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { DEFAULT_EVALUATOR_CONFIG, EmbeddingBag, loadTrainingData, trainEvaluator, type WeightedBag } from "../src/evaluator/index.js";
import { initBackend, type BackendName } from "../src/runtime/backend.js";
import { seededRandom } from "../src/runtime/random.js";
import type { DialogueInput } from "../src/text/features.js";

const { values } = parseArgs({ options: { epochs: { type: "string" }, backends: { type: "string" }, repeats: { type: "string" } } });
const epochs = Number(values.epochs ?? DEFAULT_EVALUATOR_CONFIG.epochs);
const backends = (values.backends ?? "cpu,wasm").split(",") as BackendName[];
const repeats = Number(values.repeats ?? 3);

const data = loadTrainingData(DEFAULT_EVALUATOR_CONFIG);
const dialogues: DialogueInput[] = [...data.labelled.flat(), ...data.distilled].map((e) => ({ prompt: e.prompt, answer: e.answer }));
console.log(`data: ${data.labelled.flat().length} labelled + ${data.distilled.length} distilled dialogues; default config, ${epochs} epochs`);

const results: Record<string, { trainSeconds: number; perSecond: number; featurizePerSecond: number }> = {};
for (const name of backends) {
  const backend = await initBackend({ prefer: name, quiet: true });
  const t0 = performance.now();
  const ev = await trainEvaluator({ epochs, quiet: true }, { data });
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
  console.log(
    `${backend.name.padEnd(5)} train ${trainSeconds.toFixed(1)} s (${ev.training.counts.trainLabelled + ev.training.counts.trainDistilled} dialogues × ${epochs} epochs, ${ev.vocabulary.size} n-grams)` +
      `   inference ${results[name].perSecond.toFixed(0)} dialogues/s (text → 10 values; featurizing alone ${results[name].featurizePerSecond.toFixed(0)}/s)`,
  );
  ev.dispose();
}
if (results.cpu && results.wasm) {
  console.log(`wasm/cpu: training ${(results.cpu.trainSeconds / results.wasm.trainSeconds).toFixed(2)}× faster, inference ${(results.wasm.perSecond / results.cpu.perSecond).toFixed(2)}×`);
}

// Design measurement: one embedding-bag step at the default sizes.
const V = 70_000;
const D = DEFAULT_EVALUATOR_CONFIG.embeddingDim;
const B = DEFAULT_EVALUATOR_CONFIG.batchSize * 4;
const L = 200; // distinct n-grams in a dialogue, about the mean here
const random = seededRandom(1);
const batch: WeightedBag[][] = Array.from({ length: B }, () => [{ rows: Int32Array.from({ length: L }, () => Math.floor(random() * V)), weights: new Float32Array(L).fill(1 / L) }]);
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
  console.log(`embedding-bag step (${V} rows × ${D}, batch ${B} × ${L} n-grams) on ${name}: tfjs gather + dense scatter ${time(tfStep).toFixed(1)} ms, sparse JS ${time(jsStep).toFixed(1)} ms`);
  tf.dispose([table, ids, w]);
}
