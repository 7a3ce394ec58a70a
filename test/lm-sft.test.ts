/**
 * Supervised fine-tuning: which data goes in, the loss on response tokens
 * only, that training lowers it, the NaN guard, and that an interrupted run
 * resumes to the very same weights.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/runtime/backend.js";
import { readRecords } from "../src/data/readers.js";
import {
  collectSftExamples,
  ensureSftPolicy,
  firstExchange,
  learningRateAt,
  logProbsOf,
  sftLoss,
  trainSft,
  trainTokenizer,
  type SftConfig,
  type SftData,
} from "../src/lm/index.js";
import { dataFile, tempDir } from "./helpers.js";

before(async () => {
  await initBackend({ quiet: true });
});

test("SFT data: FULCRA responses and helpful chosen answers, SafeRLHF test prompts and scored outputs kept out", () => {
  const data = collectSftExamples();
  // Released files: 1718 FULCRA dialogues + 2354 helpful pairs; 146 exact duplicates, 1 dialogue asks a SafeRLHF test prompt.
  assert.equal(data.examples.length, 1718 + 2354 - 146 - 1);
  assert.deepEqual(data.dropped, { duplicate: 146, "prompt is a SafeRLHF test prompt": 1 });
  assert.ok(
    data.files.every((f) => !f.includes("model_outputs")),
    "scored-output files are never read",
  );
  const test = new Set(
    readRecords("questions", dataFile("saferlhf_test_questions")).map((q) => q.prompt.toLowerCase().replace(/\s+/g, " ").trim()),
  );
  assert.ok(data.examples.every((e) => !test.has(e.prompt.toLowerCase().replace(/\s+/g, " ").trim())));
  const bySource = (s: string) => data.examples.filter((e) => e.source === s).length;
  assert.equal(bySource("trustworthy_data") + bySource("helpful_test"), data.examples.length);
  assert.ok(data.examples.every((e) => e.response.length > 0 && !/^\s|\s$/.test(e.response)));
  const first = data.examples.find((e) => e.source === "trustworthy_data")!;
  assert.equal(first.prompt, "Why do you think vandalism is acceptable behavior?");
  assert.match(first.response, /^I apologize, but I don't think vandalism is acceptable behavior\./);
});

test("SFT data from a folder of fixtures: the test prompt's dialogue is dropped", () => {
  const raw = tempDir();
  mkdirSync(join(raw, "data", "saferlhf"), { recursive: true });
  mkdirSync(join(raw, "model_outputs"), { recursive: true });
  const dialogue = (q: string, a: string) =>
    JSON.stringify({ dialogue: `Human: ${q}\nBob: ${a}`, value_items: [], value_types: [], query_source: "x", response_source: "y" });
  writeFileSync(
    join(raw, "data", "trustworthy_data.jsonl"),
    [
      dialogue("Is lying ever fine?", "Rarely."),
      dialogue("How do I pick a lock?", "I will not help."),
      dialogue("Is lying ever fine?", "Rarely."),
    ].join("\n") + "\n",
  );
  writeFileSync(
    join(raw, "data", "saferlhf", "test_questions.jsonl"),
    JSON.stringify({ prompt: "how do i  pick a LOCK?", safety_issues: [] }) + "\n",
  );
  writeFileSync(join(raw, "model_outputs", "harmless_test_openai_gpt-4.jsonl"), "this file must not be read\n");
  const data = collectSftExamples({ rawDir: raw });
  assert.deepEqual(data.examples, [{ prompt: "Is lying ever fine?", response: "Rarely.", source: "trustworthy_data" }]);
  assert.deepEqual(data.dropped, { "prompt is a SafeRLHF test prompt": 1, duplicate: 1 });
});

test("first exchange of an HH-RLHF transcript, and the learning-rate schedule", () => {
  assert.deepEqual(firstExchange("\n\nHuman: Hi there\n\nAssistant: Hello!\n\nHuman: Bye\n\nAssistant: See you"), {
    prompt: "Hi there",
    response: "Hello!",
  });
  assert.deepEqual(firstExchange("\n\nHuman: One turn?\n\nAssistant: Yes, one."), { prompt: "One turn?", response: "Yes, one." });
  assert.equal(firstExchange("no speakers here"), undefined);
  const c = { learningRate: 1, warmupSteps: 10, steps: 110, minLearningRateFraction: 0.1 };
  assert.equal(learningRateAt(5, c), 0.5);
  assert.equal(learningRateAt(10, c), 1);
  assert.ok(Math.abs(learningRateAt(60, c) - 0.55) < 1e-12, "half-way through the cosine: 0.1 + 0.9·½");
  assert.ok(Math.abs(learningRateAt(110, c) - 0.1) < 1e-12);
});

// ------------------------------------------------------------------ training on a tiny corpus

const PAIRS: [string, string][] = [
  ["What colour is the sky?", "The sky is blue on a clear day."],
  ["What do cows eat?", "Cows eat grass and hay."],
  ["Where do fish live?", "Fish live in rivers, lakes and the sea."],
  ["Is it kind to help others?", "Yes, helping others is kind."],
  ["What is two plus two?", "Two plus two is four."],
  ["Should I steal a bike?", "No, stealing is wrong. Ask to borrow one."],
  ["What do bees make?", "Bees make honey and wax."],
  ["How many legs does a cat have?", "A cat has four legs."],
  ["What is ice?", "Ice is frozen water."],
  ["Why do we sleep?", "We sleep so the body can rest."],
  ["What do plants need?", "Plants need light, water and air."],
  ["Can I lie to my friend?", "It is better to tell your friend the truth."],
];

const TINY_DATA: SftData = {
  examples: PAIRS.map(([prompt, response]) => ({ prompt, response, source: "fixture" })),
  files: [],
  dropped: {},
};

const TINY_SFT: Partial<SftConfig> = {
  seed: 3,
  vocabSize: 300,
  model: { contextLength: 32, layers: 1, heads: 2, width: 32, mlpWidth: 64, tiedEmbeddings: true, layerNormEpsilon: 1e-5, initStd: 0.02 },
  maxPromptTokens: 16,
  steps: 60,
  batchSize: 4,
  learningRate: 1e-2,
  warmupSteps: 5,
  validFraction: 0,
  evalEvery: 0,
  checkpointEvery: 0,
  sampleAnswers: 2,
  quiet: true,
};

const tinyTokenizer = () => trainTokenizer(PAIRS.flat(), 300);

test("SFT lowers the response loss on a tiny corpus; the loss counts response tokens only", async () => {
  const tokenizer = tinyTokenizer();
  const before = await trainSft({ ...TINY_SFT, steps: 1, learningRate: 1e-9, sampleAnswers: 0 }, { data: TINY_DATA, tokenizer });
  const initial = sftLoss(before.model, tokenizer, TINY_DATA.examples, 16);
  // A fresh model is close to uniform over the vocabulary: ln(vocab).
  assert.ok(Math.abs(initial - Math.log(tokenizer.vocabSize)) < 0.3, `initial loss ${initial}`);
  const { model, summary } = await trainSft(TINY_SFT, { data: TINY_DATA, tokenizer, samplePrompts: ["What do cows eat?", "What is ice?"] });
  const final = sftLoss(model, tokenizer, TINY_DATA.examples, 16);
  assert.ok(final < 2.0, `after 60 steps the loss is well below ln(vocab) ≈ 5.7: ${final}`);
  assert.ok(summary.finalTrainLoss < summary.lossHistory[0].loss - 2);
  assert.equal(summary.samples.length, 2);
  assert.equal(summary.skippedSteps, 0);

  // Second code path: −mean of logProbsOf over the response positions only.
  let total = 0;
  let count = 0;
  for (const [prompt, response] of PAIRS) {
    const { ids, responseStart } = tokenizer.formatExample(prompt, response, 32, 16);
    const seq = tf.tensor2d([ids], [1, ids.length], "int32");
    const mask = tf.ones([1, ids.length]) as tf.Tensor2D;
    const lp = logProbsOf(model, seq, mask);
    const row = lp.logProbs.arraySync()[0];
    for (let j = responseStart - 1; j < ids.length - 1; j++) {
      total -= row[j];
      count++;
    }
    tf.dispose([seq, mask, lp.logProbs, lp.values]);
  }
  assert.ok(Math.abs(final - total / count) < 1e-4, `${final} vs ${total / count}`);
  before.model.dispose();
  model.dispose();
});

test("the NaN guard stops a run whose updates blow up, with advice", async () => {
  const tokenizer = tinyTokenizer();
  await assert.rejects(
    trainSft(
      { ...TINY_SFT, steps: 40, learningRate: 1e30, warmupSteps: 0, gradClip: 1e30, maxBadSteps: 3 },
      { data: TINY_DATA, tokenizer },
    ),
    /3 steps in a row gave a non-finite loss or gradient .*lower learningRate/,
  );
});

test("an interrupted SFT run resumes to the same weights; ensureSftPolicy loads what was saved", async () => {
  const tokenizer = tinyTokenizer();
  const config = { ...TINY_SFT, steps: 24, checkpointEvery: 8, sampleAnswers: 0 };
  const straight = await trainSft(config, { data: TINY_DATA, tokenizer });
  const dir = tempDir();
  const stopped = await trainSft(config, { data: TINY_DATA, tokenizer, outDir: dir, stopAtStep: 13 });
  assert.ok(existsSync(join(dir, "checkpoint", "optimizer.safetensors")));
  assert.equal(stopped.summary.steps, 13);
  stopped.model.dispose();
  const resumed = await trainSft(config, { data: TINY_DATA, tokenizer, outDir: dir });
  for (const [name, v] of straight.model.params) {
    assert.deepEqual(Array.from(resumed.model.params.get(name)!.dataSync()), Array.from(v.dataSync()), name);
  }
  assert.deepEqual(resumed.summary.lossHistory, straight.summary.lossHistory);
  assert.ok(!existsSync(join(dir, "checkpoint")), "the checkpoint is removed once the policy is saved");

  const loaded = await ensureSftPolicy(dir, config, { data: TINY_DATA });
  assert.deepEqual(
    Array.from(loaded.model.params.get("tokenEmbedding")!.dataSync()),
    Array.from(straight.model.params.get("tokenEmbedding")!.dataSync()),
  );
  assert.deepEqual(loaded.tokenizer.toJSON(), tokenizer.toJSON());
  // Another configuration: a new policy is trained (in dir.training, then moved in) and the old one is kept aside.
  const policyDir = join(tempDir(), "sft");
  const first = await ensureSftPolicy(policyDir, config, { data: TINY_DATA });
  assert.ok(existsSync(join(policyDir, "model.safetensors")) && !existsSync(`${policyDir}.training`));
  const oldKey = first.summary.trainingKey;
  const second = await ensureSftPolicy(policyDir, { ...config, steps: 12 }, { data: TINY_DATA });
  assert.notEqual(second.summary.trainingKey, oldKey);
  assert.equal(JSON.parse(readFileSync(join(policyDir, "sft.json"), "utf8")).steps, 12);
  assert.equal(JSON.parse(readFileSync(join(`${policyDir}.stale-${oldKey}`, "sft.json"), "utf8")).trainingKey, oldKey);
  [straight.model, resumed.model, loaded.model, first.model, second.model].forEach((m) => m.dispose());
});
