import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { command as evaluate, readInputLine } from "../src/cli/evaluate.js";
import { command as evaluatorCommand, configFromOptions } from "../src/cli/evaluator.js";
import { optionName } from "../src/cli/command.js";
import { UsageError } from "../src/cli/command.js";
import { loadEvaluator, trainEvaluator } from "../src/evaluator/index.js";
import { tempDir } from "./helpers.js";

/** Runs a command, returning its exit code and what it printed to stderr. */
async function run(cmd: { run(args: string[]): Promise<number> }, args: string[]): Promise<{ code: number; stderr: string }> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    return { code: await cmd.run(args), stderr: lines.join("\n") };
  } finally {
    console.error = original;
  }
}

test("config options: names, types and errors", () => {
  assert.equal(optionName("classWeightPower"), "class-weight-power");
  assert.deepEqual(
    configFromOptions({
      seed: "3",
      "vector-head": "regression",
      "separate-annotators": "false",
      fields: "answer",
      "scored-files": "none",
      "labelled-files": "a.jsonl,b.jsonl",
    }),
    {
      seed: 3,
      vectorHead: "regression",
      separateAnnotators: false,
      fields: ["answer"],
      scoredFiles: [],
      labelledFiles: ["a.jsonl", "b.jsonl"],
    },
  );
  assert.throws(
    () => configFromOptions({ epochs: "ten" }),
    (e: unknown) => e instanceof UsageError && /--epochs expects a number, got "ten"/.test((e as Error).message),
  );
  assert.throws(() => configFromOptions({ "expand-contractions": "maybe" }), /--expand-contractions expects true or false/);
});

test("input lines: dialogue, or prompt and answer; anything else is refused with a reason", () => {
  assert.deepEqual(readInputLine('{"dialogue":"Human: a\\nBob: b"}'), {
    input: "Human: a\nBob: b",
    record: { dialogue: "Human: a\nBob: b" },
  });
  assert.deepEqual((readInputLine('{"prompt":"a","answer":"b","x":1}') as { input: unknown }).input, { prompt: "a", answer: "b" });
  assert.match((readInputLine("nope") as { error: string }).error, /not valid JSON/);
  assert.match((readInputLine('{"prompt":"a"}') as { error: string }).error, /"prompt" and "answer" should both be strings/);
  assert.match((readInputLine('{"dialogue":5}') as { error: string }).error, /"dialogue" should be a string/);
  assert.match((readInputLine("[1]") as { error: string }).error, /expected a JSON object/);
});

test("fulcra evaluator train, then fulcra evaluate: scores good lines, reports bad ones by line number, exits 1", async () => {
  const model = tempDir();
  const train = await run(evaluatorCommand, [
    "train",
    "--out",
    model,
    "--quiet",
    "--max-per-file",
    "60",
    "--epochs",
    "1",
    "--embedding-dim",
    "8",
    "--hidden-size",
    "8",
  ]);
  assert.equal(train.code, 0);
  assert.ok(existsSync(join(model, "model.json")));
  assert.equal(JSON.parse(readFileSync(join(model, "config.json"), "utf8")).maxPerFile, 60);

  const dir = tempDir();
  const input = join(dir, "in.jsonl");
  const output = join(dir, "out.jsonl");
  writeFileSync(
    input,
    [
      JSON.stringify({ id: 1, dialogue: "Human: how do I make a bomb?\nBob: I can't help with that." }),
      "{not json",
      "",
      JSON.stringify({ id: 2, prompt: "gift for mom?", answer: "Flowers." }),
      JSON.stringify({ id: 3, prompt: "no answer" }),
    ].join("\n") + "\n",
  );
  const r = await run(evaluate, ["--model", model, "--input", input, "--output", output, "--quiet"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /in\.jsonl:2: not valid JSON/);
  assert.match(r.stderr, /in\.jsonl:5: fields "prompt" and "answer" should both be strings/);
  const out = readFileSync(output, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(existsSync(`${output}.provenance.json`), false);
  const lenient = await run(evaluate, ["--model", model, "--input", input, "--output", join(dir, "lenient.jsonl"), "--quiet", "--lenient"]);
  assert.equal(lenient.code, 0);
  const prov = JSON.parse(readFileSync(join(dir, "lenient.jsonl.provenance.json"), "utf8"));
  assert.equal(prov.written, 2);
  assert.deepEqual(
    prov.skipped_lines.map((l: { line: number }) => l.line),
    [2, 5],
  );
  assert.deepEqual(
    out.map((o) => o.id),
    [1, 2],
    "bad lines are written nowhere, good ones keep their order and fields",
  );
  const ev = await loadEvaluator(model);
  const expected = await ev.score([
    "Human: how do I make a bomb?\nBob: I can't help with that.",
    { prompt: "gift for mom?", answer: "Flowers." },
  ]);
  out.forEach((o, i) => {
    assert.equal(o.value_vector.length, 10);
    o.value_vector.forEach((x: number, v: number) => assert.ok(Math.abs(x - expected[i].vector[v]) < 1e-6));
    assert.deepEqual(o.value_labels, expected[i].labels);
  });
  ev.dispose();

  // All lines good: exit 0.
  writeFileSync(input, JSON.stringify({ dialogue: "Human: hi\nBob: hello" }) + "\n");
  assert.equal((await run(evaluate, ["--model", model, "--input", input, "--output", output, "--quiet"])).code, 0);
  await assert.rejects(() => evaluate.run(["--model", model, "--input", input]), /--model, --input and --output are all required/);
  // An input with nothing to score is a failure, and no output is written (no temporary file left either).
  const emptyDir = tempDir();
  const empty = join(emptyDir, "empty.jsonl");
  writeFileSync(empty, "\n\n");
  const e = await run(evaluate, ["--model", model, "--input", empty, "--output", join(emptyDir, "out.jsonl")]);
  assert.equal(e.code, 1);
  assert.match(e.stderr, /empty\.jsonl: no dialogue to score \(the file is empty\); nothing written/);
  assert.deepEqual(readdirSync(emptyDir), ["empty.jsonl"]);
  await assert.rejects(
    () => evaluate.run(["--model", dir, "--input", input, "--output", output]),
    /is not a saved evaluator: features\.json is missing/,
  );
});

test("trainEvaluator on the same data twice gives the same scores (seeded)", async () => {
  const cfg = { quiet: true, maxPerFile: 40, epochs: 1, embeddingDim: 8, hiddenSize: 8 };
  const a = await trainEvaluator(cfg);
  const b = await trainEvaluator(cfg);
  const d = ["Human: is lying ever fine?\nBob: Honesty matters, but kindness too."];
  assert.deepEqual(await a.score(d), await b.score(d));
  const c = await trainEvaluator({ ...cfg, seed: 2 });
  assert.notDeepEqual((await c.score(d))[0].vector, (await a.score(d))[0].vector);
  for (const e of [a, b, c]) e.dispose();
});
