/**
 * The paper's evaluator recipe on a DeBERTa checkpoint: inputs per
 * (dialogue, value), the sampled "no connection" values, the schedule, and an
 * end-to-end fine-tune of the tiny evaluator fixture whose loss must fall.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { toRecord, readRecords, type FulcraRecord } from "../src/data/readers.js";
import { seededRandom } from "../src/runtime/random.js";
import {
  learningRateAt,
  recordInputs,
  trainBackboneEvaluator,
  DEFAULT_BACKBONE_EVALUATOR_CONFIG,
  loadHubEncoder,
} from "../src/hub/index.js";
import { dataFile, tempDir } from "./helpers.js";

const HF_FIXTURES = resolve(process.env.FULCRA_HF_FIXTURES ?? "../shared/fixtures/hf");

const record = (valueItems: string[], valueTypes: string[]): FulcraRecord =>
  toRecord(
    "fulcra",
    { dialogue: "Human: hi\nBob: hello", value_items: valueItems, value_types: valueTypes, query_source: "q", response_source: "m" },
    "mem.jsonl",
    7,
  );

test("inputs per (dialogue, value): labelled values, min(⌊items/2⌋, 10 − items) sampled 'no connection', all 10 when validating", () => {
  const r = record(["be helpful: +1", "be honest: +1", "have wealth: -1", "be polite: +1"], ["benevolence: +1", "power: -1"]);
  const train = recordInputs(r, "train", seededRandom(1), DEFAULT_BACKBONE_EVALUATOR_CONFIG, "mem.jsonl");
  // 4 value items → min(2, 6) = 2 sampled among the 8 unlabelled values.
  assert.equal(train.sampled, 2);
  assert.equal(train.inputs.length, 4);
  assert.deepEqual(
    train.inputs.slice(0, 2).map((x) => [x.value, x.label]),
    [
      [4, 0],
      [8, 2],
    ],
  ); // power opposed (class 0), benevolence important (class 2)
  for (const x of train.inputs.slice(2)) assert.ok(x.label === 1 && ![4, 8].includes(x.value));
  assert.match(
    train.inputs[1].text,
    /Benevolence, caring for the welfare of the people one is close to\nDialogue:\nHuman: hi\nBob: hello\n/,
  );
  const valid = recordInputs(r, "valid", seededRandom(1), DEFAULT_BACKBONE_EVALUATOR_CONFIG, "mem.jsonl");
  assert.deepEqual(valid.inputs.map((x) => x.label).sort(), [0, 1, 1, 1, 1, 1, 1, 1, 1, 2]);
  // 9 items: min(4, 1) = 1 sampled.
  const many = record(
    [
      "be helpful: +1",
      "be honest: +1",
      "have wealth: -1",
      "be polite: +1",
      "be curious: +1",
      "be daring: +1",
      "have pleasure: +1",
      "be capable: +1",
      "be humble: +1",
    ],
    ["benevolence: +1"],
  );
  assert.equal(recordInputs(many, "train", seededRandom(1), DEFAULT_BACKBONE_EVALUATOR_CONFIG, "mem.jsonl").sampled, 1);
});

test("learning rate: linear warm-up over 50 steps, then cosine to 0", () => {
  assert.ok(Math.abs(learningRateAt(0, 1000, 1e-5, 50) - 2e-7) < 1e-15);
  assert.equal(learningRateAt(49, 1000, 1e-5, 50), 1e-5);
  assert.ok(Math.abs(learningRateAt(525, 1000, 1e-5, 50) - 0.5e-5) < 1e-12);
  assert.equal(learningRateAt(1000, 1000, 1e-5, 50), 0);
});

test("fine-tuning the tiny evaluator fixture (wasm, seeded): the loss falls, the split is 90/10 in file order, the saved folder scores like the trained model", async () => {
  const out = tempDir();
  const file = dataFile("trustworthy_data");
  const r = await trainBackboneEvaluator({
    backbone: join(HF_FIXTURES, "deberta-v3-tiny-evaluator"),
    files: [file],
    maxRecords: 20,
    epochs: 3,
    batchSize: 8,
    learningRate: 1e-3,
    warmupSteps: 2,
    maxLength: 64,
    seed: 5,
    outDir: out,
    quiet: true,
  });
  // 20 records → 18 train, 2 held out (all 10 values each).
  const records = readRecords("fulcra", file).slice(0, 20);
  assert.deepEqual([r.counts.trainRecords, r.counts.validRecords, r.counts.validInputs], [18, 2, 20]);
  const labelled = records.slice(0, 18).reduce((s, x) => s + x.labels.basic.filter((p) => p !== 0).length, 0);
  assert.equal(r.counts.trainInputs, labelled + r.counts.sampledNoConnection);
  assert.equal(r.stepLosses.length, 3 * Math.ceil(r.counts.trainInputs / 8));
  const first = r.history[0].trainLoss;
  const last = r.history[r.history.length - 1].trainLoss;
  console.log(
    `evaluator fine-tune: first step ${r.stepLosses[0].toFixed(4)}, epoch means ${r.history.map((h) => h.trainLoss.toFixed(4)).join(" → ")}, held-out loss ${r.history.map((h) => h.validLoss.toFixed(4)).join(" → ")}`,
  );
  assert.ok(r.stepLosses.every(Number.isFinite));
  assert.ok(last < 0.85 * r.stepLosses[0], `loss did not fall: first step ${r.stepLosses[0]}, last epoch ${last}`);
  assert.ok(last < first, `epoch mean loss ${first} → ${last}`);

  // The record of the run: seed, backend, and the data file by its published SHA-256.
  const { readFileSync } = await import("node:fs");
  const record = JSON.parse(readFileSync(join(out, "training.json"), "utf8")) as {
    provenance: { seed: number; backend: string; dataFiles: { sha256: string }[] };
  };
  assert.equal(record.provenance.seed, 5);
  assert.match(record.provenance.backend, /^(wasm|cpu|node|gpu) /);
  assert.equal(record.provenance.dataFiles[0].sha256, "5c7e5803e4363830c952941d2a1bdff45f2604be19322b951bb21c8d8970df0d");

  // The saved hub folder gives the trained model's logits.
  const saved = loadHubEncoder(out);
  assert.deepEqual(saved.labels, ["opposed", "no connection", "important"]);
  const ids = saved.tokenizer.encode("Human: hi", "Bob: hello").ids;
  const [a, b] = tf.tidy(() => [
    r.model.forward({ inputIds: [ids] }).logits!.arraySync()[0],
    saved.model.forward({ inputIds: [ids] }).logits!.arraySync()[0],
  ]);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-6));
  r.model.dispose();
  saved.model.dispose();
});

test("evaluator train --backbone: options are checked before any work", async () => {
  const { command } = await import("../src/cli/evaluator.js");
  await assert.rejects(
    command.run(["train", "--backbone", join(HF_FIXTURES, "deberta-v3-tiny-evaluator"), "--head", "ordinal"]),
    /--head expects classification or regression, got "ordinal"/,
  );
  await assert.rejects(
    command.run(["train", "--backbone", join(HF_FIXTURES, "deberta-v3-tiny-evaluator"), "--epochs", "many"]),
    /--epochs expects a number, got "many"/,
  );
  await assert.rejects(
    command.run(["train", "--backbone", join(HF_FIXTURES, "no-such-model"), "--quiet"]),
    /no-such-model: no such model folder/,
  );
});

test("regression head: a new tanh head starts at MSE ≈ the share of labelled inputs (targets ±1 against outputs ≈ 0)", async () => {
  const file = dataFile("trustworthy_data");
  const r = await trainBackboneEvaluator({
    backbone: join(HF_FIXTURES, "deberta-v3-tiny-evaluator"),
    head: "regression",
    files: [file],
    maxRecords: 10,
    epochs: 2,
    batchSize: 256,
    learningRate: 1e-3,
    warmupSteps: 1,
    maxLength: 32,
    seed: 3,
    outDir: null,
    quiet: true,
  });
  const labelled = r.counts.trainInputs - r.counts.sampledNoConnection;
  const expected = labelled / r.counts.trainInputs;
  console.log(`regression head: first-step MSE ${r.stepLosses[0].toFixed(4)}, share of labelled inputs ${expected.toFixed(4)}`);
  assert.equal(r.stepLosses.length, 2);
  assert.ok(Math.abs(r.stepLosses[0] - expected) < 0.02, `${r.stepLosses[0]} vs ${expected}`);
  assert.equal(r.model.config.num_labels, 1);
  r.model.dispose();
});
