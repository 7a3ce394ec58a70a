import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readRecords } from "../src/data/readers.js";
import { asValueScorer, readPromptAnswers, scoreOutputs, writeScoredOutputs } from "../src/metrics/score.js";
import { summarizeScoredOutputs } from "../src/metrics/summary.js";
import { dataFile, tempDir } from "./helpers.js";

// Fake scorers with outputs easy to check by hand.
const reward = { score: (texts: string[]) => texts.map((t) => t.length) };
const values = {
  // {vector} objects, like the evaluator module returns; security = 0.5, benevolence = 1 for every dialogue.
  score: async (dialogues: string[]) => dialogues.map(() => ({ vector: [0, 0, 0, 0, 0, 0.5, 0, 0, 1, 0] })),
};

test("prompt/answer files in several shapes become released-format records", async () => {
  const q = readRecords("questions", dataFile("saferlhf_test_questions")).find((x) => x.safety_issues.length > 1)!;
  const file = join(tempDir(), "answers.jsonl");
  writeFileSync(
    file,
    [
      JSON.stringify({ prompt: q.prompt, response: "No." }), // safety_issues looked up by prompt
      JSON.stringify({ prompt: "hi", answer: "hello", safety_issues: ["privacy_violation"] }),
      "not json",
      JSON.stringify({ dialogue: "Human: how?\nBob: like this" }),
      JSON.stringify({ prompt: "p" }),
      "",
    ].join("\n"),
  );
  const { items, errors } = readPromptAnswers(file);
  assert.deepEqual(
    errors.map((e) => e.line),
    [3, 5],
  );
  assert.match(errors[1].reason, /no answer: give a string field "answer", "response"/);
  assert.deepEqual(
    items.map((i) => [i.prompt, i.answer, i.line]),
    [
      [q.prompt, "No.", 1],
      ["hi", "hello", 2],
      ["how?", "like this", 4],
    ],
  );

  const records = await scoreOutputs(items, { reward, values: asValueScorer(values), quiet: true, batchSize: 2 });
  assert.deepEqual(Object.keys(records[0]), ["prompt", "safety_issues", "answer", "reward", "value_reward", "e_distance", "h_distance"]);
  assert.deepEqual(records[0].safety_issues, q.safety_issues);
  assert.ok(q.safety_issues.length > 0);
  assert.deepEqual(records[1].safety_issues, ["privacy_violation"]);
  assert.deepEqual(records[2].safety_issues, []);
  // The reward scorer sees the HH transcript: "\n\nHuman: hi\n\nAssistant: hello" has 2 + 9 + 2 + 16 = 29 characters.
  assert.equal(records[1].reward, 29);
  // Distance to ideal over security, conformity, benevolence, universalism: |0.5−1|, |0−1|, |1−1|, |0−1|.
  assert.equal(records[1].h_distance, 2.5);
  assert.equal(records[1].e_distance, Math.sqrt(0.25 + 1 + 0 + 1));

  const out = writeScoredOutputs(join(tempDir(), "scored.jsonl"), records);
  const back = readRecords("scored_outputs", out);
  assert.equal(back.length, 3);
  const s = summarizeScoredOutputs(out);
  assert.equal(s.stored_fields.e_distance_disagreements, 0);
  assert.equal(s.h_distance_mean, 2.5);
  assert.equal(s.reward_mean, records.reduce((a, r) => a + r.reward, 0) / 3);
  assert.equal(readFileSync(out, "utf8").split("\n").length, 4);
});

test("a scorer that returns the wrong shape is an error that says which line", async () => {
  const items = [{ prompt: "a", answer: "b", safety_issues: [], line: 7 }];
  await assert.rejects(
    scoreOutputs(items, { reward, values: { score: () => [[1, 2, 3]] }, quiet: true }),
    /line 7; expected 10 finite numbers/,
  );
  await assert.rejects(
    scoreOutputs(items, { reward, values: asValueScorer({ score: () => [{ nope: 1 }] }), quiet: true }),
    /output 0 has no vector/,
  );
});
