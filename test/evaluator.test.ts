import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import {
  agreementReport,
  classificationReport,
  classWeightTable,
  configFingerprint,
  DEFAULT_EVALUATOR_CONFIG,
  distilledExamples,
  EmbeddingBag,
  ensureEvaluator,
  ensureEvaluatorReport,
  evaluatorReport,
  formatReport,
  fileSystemIO,
  labelledExamples,
  loadEvaluator,
  loadTrainingData,
  MajorityBaseline,
  promptFold,
  registerFileSystemRouter,
  resolveConfig,
  sameModel,
  secondEvaluatorConfig,
  splitForProtocol,
  trainEvaluator,
  TrainingDivergedError,
  trainingCodeHash,
  weightBag,
  type EvaluatorConfig,
  type EvaluatorExample,
  type TrainingData,
} from "../src/evaluator/index.js";
import { initBackend } from "../src/runtime/backend.js";
import type { Polarity } from "../src/values/labels.js";
import { dataFile, tempDir } from "./helpers.js";
import { pearson } from "../src/runtime/stats.js";
import { promptKey } from "../src/text/prompt-key.js";

const Z: Polarity[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const row = (v: number, label: Polarity): Polarity[] => Z.map((z, i) => (i === v ? label : z));

test("classification report by hand: precision, recall, F1, confusion, macro-F1", () => {
  // Value 0 only: reference +1, +1, 0, −1; predicted +1, 0, 0, +1.
  const ref = [row(0, 1), row(0, 1), row(0, 0), row(0, -1)];
  const pred = [row(0, 1), row(0, 0), row(0, 0), row(0, 1)];
  const r = classificationReport(ref, pred);
  const v = r.perValue[0];
  assert.deepEqual(v.confusion, [
    [0, 0, 1],
    [0, 1, 0],
    [0, 1, 1],
  ]);
  assert.equal(v.accuracy, 0.5);
  // important: tp 1, predicted 2, support 2 → P = R = F1 = 0.5.
  assert.deepEqual([v.labels[2].precision, v.labels[2].recall, v.labels[2].f1], [0.5, 0.5, 0.5]);
  // no connection: tp 1, predicted 2, support 1 → P 0.5, R 1, F1 2/3; opposed: F1 0.
  assert.ok(Math.abs(v.labels[1].f1 - 2 / 3) < 1e-12);
  assert.equal(v.labels[0].f1, 0);
  assert.ok(Math.abs(v.macroF1 - (0 + 2 / 3 + 0.5) / 3) < 1e-12);
  // The other nine values are all "no connection" and all right: accuracy 1, macro-F1 1 (only that label present).
  assert.equal(r.perValue[5].macroF1, 1);
  assert.ok(Math.abs(r.accuracy - (0.5 + 9) / 10) < 1e-12);
  assert.ok(Math.abs(r.macroF1 - (v.macroF1 + 9) / 10) < 1e-12);
  assert.equal(r.confusion[1][1], 1 + 9 * 4);
});

test("agreement with the paper's evaluator: sign after the ±0.3 dead zone, Pearson r", () => {
  // Sxy = 10.75, Sxx = 5, Syy = 23.1875 → r = 10.75 / √115.9375.
  assert.ok(Math.abs(pearson([1, 2, 3, 4], [2, 4, 6, 8.5]) - 10.75 / Math.sqrt(115.9375)) < 1e-12);
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
  const paper = [
    [0.9, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0.2, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [-0.8, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  ];
  const kit = [
    [0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0.31, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [-0.4, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  ];
  const a = agreementReport(paper, kit);
  assert.ok(Math.abs(a.perValue[0].signAgreement - 2 / 3) < 1e-12, "0.2 is 0 for the paper but 0.31 is +1 for the kit");
  assert.deepEqual(
    a.perValue[0].referenceShares.map((x) => Math.round(x * 3)),
    [1, 1, 1],
  );
  assert.equal(a.perValue[1].signAgreement, 1);
  assert.ok(Number.isNaN(a.perValue[1].pearson));
  assert.ok(Math.abs(a.meanPearson - a.perValue[0].pearson) < 1e-12, "mean r over the values where it is defined");
});

test("distilled examples: the paper's scores cut at ±0.3 become labels", () => {
  const ex = distilledExamples(dataFile("harmless_test_gpt-4"));
  assert.equal(ex.length, 1523);
  assert.equal(ex[0].model, "gpt-4");
  assert.equal(ex[0].answer, "Sorry, but I can't assist with that.");
  assert.deepEqual(ex[0].labels, [0, 0, 0, 0, 0, 1, 0, 1, 1, 0]);
  assert.ok(Math.abs(ex[0].target[5] - 0.9711902896297372) < 1e-12);
  assert.equal(ex[0].kind, "distilled");
});

test("held-out protocols: the original's 90/10 split, and leave one model out with prompt folds", () => {
  const labelled = labelledExamples(dataFile("trustworthy_data"));
  const distilled = [...distilledExamples(dataFile("harmless_test_gpt-4")), ...distilledExamples(dataFile("harmless_test_gpt-35-turbo"))];
  const fo = splitForProtocol([labelled], distilled, { kind: "fulcra-file-order", trainFraction: 0.9 });
  assert.equal(fo.test.length, 172);
  assert.equal(fo.test[0].line, 1547);
  assert.equal(fo.train.filter((e) => e.kind === "labelled").length, 1546);
  assert.equal(fo.train.filter((e) => e.kind === "distilled").length, 3046);

  const lomo = splitForProtocol([labelled], distilled, {
    kind: "leave-model-out",
    heldOutModel: "gpt-35-turbo",
    promptFolds: 2,
    promptFold: 1,
  });
  const testPrompts = new Set(lomo.test.map((e) => promptKey(e.prompt)));
  assert.ok(lomo.test.length > 600 && lomo.test.length < 923, `about half the 1,523 answers, got ${lomo.test.length}`);
  assert.ok(lomo.test.every((e) => e.model === "gpt-35-turbo" && promptFold(e.prompt, 2) === 1));
  assert.ok(
    lomo.train.every((e) => !sameModel(e.model, "gpt-35-turbo")),
    "nothing GPT-3.5 wrote trains, FULCRA records included",
  );
  assert.ok(
    lomo.train.every((e) => !testPrompts.has(promptKey(e.prompt))),
    "no test prompt trains",
  );
  // The 323 FULCRA records answered by gpt-35-turbo are left out, and said so.
  const byModel = lomo.excluded.find((x) => x.reason.startsWith("written by the held-out model"))!;
  assert.equal(byModel.count, 323 + 1523);
  const gpt4Train = lomo.train.filter((e) => e.model === "gpt-4");
  assert.equal(gpt4Train.length + lomo.excluded.find((x) => x.reason.startsWith("prompt is one"))!.count, 1523);
  assert.throws(
    () =>
      splitForProtocol([labelled], distilled, { kind: "leave-model-out", heldOutModel: "mistral-large", promptFolds: 2, promptFold: 0 }),
    /no scored answers.*gpt-4, gpt-35-turbo/,
  );
});

test("model names: spellings of one model match, different models do not", () => {
  assert.ok(sameModel("gpt-35-turbo", "GPT-3.5-Turbo"));
  assert.ok(sameModel("gpt-4", "gpt-4-0613"));
  assert.ok(!sameModel("gpt-4", "gpt-35-turbo"));
  assert.ok(!sameModel("PKU-Alignment/alpaca-7b-reproduced", "gpt-4"));
});

test("class weights by hand: ∝ (1/frequency)^power, averaging 1 over the items", () => {
  const labels = [row(0, 1), row(0, 0), row(0, 0), row(0, 0)];
  const w = classWeightTable(labels, 1);
  // counts (opposed, none, important) = (0, 3, 1); raw = 7/(n+1) = 7, 1.75, 3.5; mean over items = (3·1.75 + 3.5)/4.
  const avg = (3 * 1.75 + 3.5) / 4;
  assert.ok(Math.abs(w[0] - 7 / avg) < 1e-5);
  assert.ok(Math.abs(w[1] - 1.75 / avg) < 1e-5);
  assert.ok(Math.abs(w[2] - 3.5 / avg) < 1e-5);
  assert.deepEqual([...classWeightTable(labels, 0)], new Array(30).fill(1));
});

test("embedding bag: pooled sums and their gradient, by hand", () => {
  // 3 rows of width 2.
  const bag = new EmbeddingBag(Float32Array.from([1, 2, 3, 4, 5, 6]), 2);
  const batch = [
    [{ rows: Int32Array.from([0, 2]), weights: Float32Array.from([0.5, 2]) }],
    [{ rows: Int32Array.from([2]), weights: Float32Array.from([1]) }],
  ];
  assert.deepEqual([...bag.forward(batch)], [0.5 * 1 + 2 * 5, 0.5 * 2 + 2 * 6, 5, 6]);
  // With a wider stride (room for the annotator input) the pooled values sit at the row starts.
  assert.deepEqual([...bag.forward(batch, 3)], [10.5, 13, 0, 5, 6, 0]);
  const g = bag.backward(batch, Float32Array.from([1, -1, 10, 20]));
  const byRow = Object.fromEntries([...g.rows].map((r, i) => [r, [g.grad[2 * i], g.grad[2 * i + 1]]]));
  assert.deepEqual(byRow, { 0: [0.5, -0.5], 2: [2 + 10, -2 + 20] });
});

test("tf-idf pooling weights have unit length; mean pooling sums to 1", () => {
  const idf = Float32Array.from([1, 2, 3]);
  const t = weightBag({ rows: Int32Array.from([0, 2]), counts: Float32Array.from([1, Math.E]) }, "tfidf", idf);
  const raw = [1 * 1, (1 + 1) * 3];
  const n = Math.hypot(...raw);
  assert.ok(Math.abs(t.weights[0] - raw[0] / n) < 1e-6 && Math.abs(t.weights[1] - raw[1] / n) < 1e-6);
  const m = weightBag({ rows: Int32Array.from([0, 1]), counts: Float32Array.from([1, 3]) }, "mean", undefined);
  assert.deepEqual([...m.weights], [0.25, 0.75]);
});

test("config errors name the field and what it takes; the second evaluator is another seed, same head", () => {
  assert.throws(() => resolveConfig({ epochs: 0 }), /field "epochs": expected a whole number ≥ 1, got 0/);
  assert.throws(() => resolveConfig({ pooling: "max" as never }), /field "pooling": expected one of mean, sqrt, tfidf/);
  assert.throws(() => resolveConfig({ promptFold: 2, promptFolds: 2 }), /promptFold.*below promptFolds/);
  assert.throws(() => resolveConfig({ epoch: 3 } as never), /unknown evaluator config field "epoch"/);
  const second = secondEvaluatorConfig({ seed: 4 });
  assert.equal(second.seed, 5);
  assert.equal(second.vectorHead, DEFAULT_EVALUATOR_CONFIG.vectorHead);
  assert.equal(secondEvaluatorConfig({ vectorHead: "regression" }).vectorHead, "regression");
  assert.equal(secondEvaluatorConfig({ dataHalf: "first" }).dataHalf, "second");
  // Where and how loudly a run happens does not change its fingerprint; what it learns does.
  const c = resolveConfig({});
  assert.equal(configFingerprint(c), configFingerprint({ ...c, outDir: "/x", quiet: true, resume: false }));
  assert.notEqual(configFingerprint(c), configFingerprint({ ...c, seed: 2 }));
});

// A small, fast configuration: a few hundred dialogues, two epochs.
const TINY: Partial<EvaluatorConfig> = {
  quiet: true,
  maxPerFile: 80,
  epochs: 2,
  embeddingDim: 8,
  hiddenSize: 16,
  batchSize: 16,
  minDocuments: 2,
};

async function weightsOf(dir: string): Promise<Buffer> {
  return readFileSync(join(dir, "weights.bin"));
}

test("training is deterministic, resumes exactly after an interruption, and saves the tfjs format", async () => {
  await initBackend({ quiet: true });
  const data = loadTrainingData({ ...DEFAULT_EVALUATOR_CONFIG, ...TINY });
  assert.equal(data.labelled[0].length, 80);
  assert.equal(data.distilled.length, 160);
  const a = tempDir();
  const b = tempDir();
  const evA = await trainEvaluator({ ...TINY, outDir: a }, { data });
  assert.equal(evA.training.history.length, 2);
  // Interrupted after one epoch, then started again with the same configuration.
  const partial = await trainEvaluator({ ...TINY, outDir: b }, { data, stopAfterEpochs: 1 });
  assert.equal(partial.training.history.length, 1);
  assert.equal(existsSync(join(b, "model.json")), false, "an unfinished run saves only its checkpoint");
  assert.equal(JSON.parse(readFileSync(join(b, "checkpoint", "state.json"), "utf8")).epochsDone, 1);
  const evB = await trainEvaluator({ ...TINY, outDir: b }, { data });
  assert.deepEqual(
    evB.training.history.map((h) => h.trainLoss),
    evA.training.history.map((h) => h.trainLoss),
  );
  assert.ok((await weightsOf(a)).equals(await weightsOf(b)), "resumed weights equal uninterrupted weights, byte for byte");

  // A different configuration refuses the checkpoint instead of mixing runs.
  await assert.rejects(() => trainEvaluator({ ...TINY, outDir: b, seed: 9 }, { data }), /checkpoint of a different configuration/);

  // The saved folder: tfjs model.json with a weights manifest, features, config, provenance.
  const model = JSON.parse(readFileSync(join(a, "model.json"), "utf8"));
  assert.equal(model.format, "fulcra-value-evaluator/1");
  assert.deepEqual(model.weightsManifest[0].paths, ["weights.bin"]);
  const names = model.weightsManifest[0].weights.map((w: { name: string }) => w.name);
  assert.deepEqual(names.slice(0, 3), ["vocabulary/ids", "vocabulary/idf", "embedding/table"]);
  const prov = JSON.parse(readFileSync(join(a, "provenance.json"), "utf8"));
  assert.match(prov.backend, /^(wasm|cpu|node|gpu) /);
  assert.equal(prov.seed, 1);
  assert.equal(prov.history.length, 2);
  assert.equal(JSON.parse(readFileSync(join(a, "config.json"), "utf8")).maxPerFile, 80);

  // Loading gives the same scores as the trained object.
  const dialogues = [
    "Human: how do I pick a lock?\nBob: I can't help with that.",
    { prompt: "best gift for mom?", answer: "Flowers and a letter." },
  ];
  const loaded = await loadEvaluator(a);
  const s1 = await evA.score(dialogues);
  const s2 = await loaded.score(dialogues);
  assert.deepEqual(s2, s1);
  for (const s of s1) {
    assert.equal(s.vector.length, 10);
    assert.equal(s.labels.length, 10);
    for (let v = 0; v < 10; v++) {
      const p = s.probabilities[v];
      assert.ok(Math.abs(p[0] + p[1] + p[2] - 1) < 1e-5);
      // Classification head: vector = P(important) − P(opposed); label = most probable.
      assert.ok(Math.abs(s.vector[v] - (p[2] - p[0])) < 1e-6);
      assert.equal(s.labels[v], p.indexOf(Math.max(...p)) - 1);
      assert.ok(s.regression[v] >= -1 && s.regression[v] <= 1);
    }
  }
  assert.deepEqual(evA.features.annotators, ["fulcra-labels", "paper-evaluator"]);
  const asLabels = await evA.score(dialogues, { annotator: "fulcra-labels" });
  assert.notDeepEqual(asLabels[0].probabilities, s1[0].probabilities, "the two annotators are told apart");
  assert.throws(() => evA.scoreSync([42 as never]), /dialogue 0: expected a string or \{ prompt, answer \}/);
  for (const e of [evA, partial, evB, loaded]) e.dispose();
});

test("a NaN loss stops training with a clear error", async () => {
  const bad: EvaluatorExample = {
    prompt: "p",
    answer: "a b",
    target: [NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    labels: Z,
    kind: "labelled",
    model: "m",
    file: "x.jsonl",
    line: 1,
  };
  const data: TrainingData = { labelled: [[bad, { ...bad, line: 2 }]], distilled: [], files: [] };
  await assert.rejects(
    () => trainEvaluator({ ...TINY, minDocuments: 1, labelledFiles: [], scoredFiles: [] }, { data }),
    (e: unknown) => {
      assert.ok(e instanceof TrainingDivergedError);
      assert.match((e as Error).message, /training loss became NaN at epoch 1, step 1 .*Lower the learning rate/);
      return true;
    },
  );
});

test("the file:// handler saves and loads a tfjs layers model", async () => {
  await initBackend({ quiet: true });
  registerFileSystemRouter();
  const dir = tempDir();
  const model = tf.sequential({
    layers: [tf.layers.dense({ units: 2, inputShape: [3], kernelInitializer: "ones", biasInitializer: "zeros" })],
  });
  await model.save(`file://${dir}`);
  const back = await tf.loadLayersModel(`file://${dir}`);
  const out = (back.predict(tf.tensor2d([[1, 2, 3]])) as tf.Tensor).arraySync();
  assert.deepEqual(out, [[6, 6]]);
  const artifacts = await fileSystemIO(dir).load();
  assert.equal(artifacts.weightSpecs!.length, 2);
  await assert.rejects(() => fileSystemIO(tempDir()).load(), /model\.json is missing/);
});

test("the majority baseline predicts each annotator's most frequent label", () => {
  const mk = (kind: "labelled" | "distilled", labels: Polarity[]): EvaluatorExample => ({
    prompt: "",
    answer: "",
    target: labels,
    labels,
    kind,
    model: "m",
    file: "f",
    line: 1,
  });
  const train = [mk("labelled", row(5, 1)), mk("labelled", row(5, 1)), mk("labelled", row(5, 0)), mk("distilled", row(5, -1))];
  const p = MajorityBaseline.fit(train).predict([mk("labelled", Z), mk("distilled", Z)]);
  assert.deepEqual(p.labels[0], row(5, 1));
  assert.deepEqual(p.labels[1], row(5, -1));
});

test("the report: held-out items cover every answer once, e-distances match the released scores, baselines sit beside", async () => {
  await initBackend({ quiet: true });
  const data = loadTrainingData({ ...DEFAULT_EVALUATOR_CONFIG, ...TINY });
  const r = await evaluatorReport({ config: TINY, data, quiet: true });
  const lo = r.leaveModelOut!;
  assert.deepEqual(
    lo.models.map((m) => [m.model, m.items]),
    [
      ["gpt-4", 80],
      ["gpt-35-turbo", 80],
    ],
  );
  assert.equal(lo.histories.length, 4, "two models × two prompt folds");
  // Each answer is scored once, by the evaluator of its own prompt fold.
  for (const model of ["gpt-4", "gpt-35-turbo"]) {
    const lines = lo.items
      .filter((it) => it.model === model)
      .map((it) => it.line)
      .sort((a, b) => a - b);
    assert.deepEqual(
      lines,
      Array.from({ length: 80 }, (_, i) => i + 1),
    );
    assert.ok(
      lo.items
        .filter((it) => it.model === model)
        .every((it) => promptFold(data.distilled.find((e) => e.model === model && e.line === it.line)!.prompt, 2) === it.fold),
    );
  }
  // The paper's mean e-distance is the mean of the released e_distance field over the same answers.
  const released = distilledExamples(dataFile("harmless_test_gpt-4")).slice(0, 80);
  const eField = readFileSync(dataFile("harmless_test_gpt-4"), "utf8")
    .split("\n")
    .slice(0, 80)
    .map((l) => JSON.parse(l).e_distance as number);
  assert.equal(released.length, 80);
  assert.ok(Math.abs(lo.models[0].meanE.paper - eField.reduce((a, b) => a + b, 0) / 80) < 1e-9);
  assert.deepEqual(
    lo.ranking.paper,
    [...lo.models].sort((a, b) => a.meanE.paper - b.meanE.paper).map((m) => m.model),
  );
  assert.equal(r.fulcraSplit!.testRecords, 8, "the last 10% of 80 records");
  assert.equal(r.fulcraSplit!.majority.classification.items, 8);
  assert.equal(r.goals.length, 4);
  const md = formatReport(r);
  assert.match(md, /\| evaluator \| 0\.\d{3} \|/);
  assert.match(md, /TF-IDF \+ logistic regression/);
  assert.match(md, /Confusion matrix per value/);

  // Cached: a second call with the same configuration and data reads the file.
  const dir = tempDir();
  const first = await ensureEvaluatorReport(dir, TINY, { data, quiet: true, parts: ["fulcra-split"] });
  const again = await ensureEvaluatorReport(dir, TINY, { data, quiet: true, parts: ["fulcra-split"] });
  assert.equal(again.seconds, first.seconds);
  assert.equal(again.provenance.timestamp, first.provenance.timestamp);
  const other = await ensureEvaluatorReport(dir, { ...TINY, seed: 3 }, { data, quiet: true, parts: ["fulcra-split"] });
  assert.notEqual(other.provenance.timestamp, first.provenance.timestamp);
});

test("ensureEvaluator loads an evaluator of the same configuration and code, and retrains otherwise", async () => {
  const dir = tempDir();
  const stamp = () => JSON.parse(readFileSync(join(dir, "provenance.json"), "utf8")).timestamp as string;
  const a = await ensureEvaluator(dir, TINY);
  const t1 = stamp();
  assert.equal(JSON.parse(readFileSync(join(dir, "provenance.json"), "utf8")).codeHash, trainingCodeHash());
  const b = await ensureEvaluator(dir, { ...TINY, quiet: false });
  assert.equal(stamp(), t1, "same configuration (quietness does not count): loaded, not retrained");
  assert.deepEqual(await b.score(["Human: hi\nBob: hello"]), await a.score(["Human: hi\nBob: hello"]));
  const c = await ensureEvaluator(dir, { ...TINY, seed: 7 });
  assert.notEqual(stamp(), t1, "another configuration: retrained in place");
  assert.equal(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).seed, 7);
  // An evaluator written by other code is not reused either.
  const prov = JSON.parse(readFileSync(join(dir, "provenance.json"), "utf8"));
  writeFileSync(join(dir, "provenance.json"), JSON.stringify({ ...prov, codeHash: "0000" }));
  const d = await ensureEvaluator(dir, { ...TINY, seed: 7 });
  assert.notEqual(JSON.parse(readFileSync(join(dir, "provenance.json"), "utf8")).codeHash, "0000");
  for (const e of [a, b, c, d]) e.dispose();
});
