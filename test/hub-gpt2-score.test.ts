/**
 * `fulcra models score` on a GPT2LMHeadModel folder: the gpt2-tiny checkpoint
 * of ../shared/fixtures/hf against the ids and every-position logits that
 * transformers 5.17 computed for it, through the command (JSONL in, JSONL
 * out), on the cpu and wasm backends, in padded batches; and the command's
 * errors for a GPT-2 folder.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { initBackend, type BackendName } from "../src/runtime/backend.js";
import { loadHubModel, loadHubEncoder } from "../src/hub/folder.js";
import { command as models } from "../src/cli/models.js";
import { tempDir } from "./helpers.js";

const FIXTURES = process.env.FULCRA_HF_FIXTURES ?? fileURLToPath(new URL("../../../shared/fixtures/hf", import.meta.url));
const DIR = join(FIXTURES, "gpt2-tiny");
const skip = !existsSync(DIR) && `no fixtures at ${FIXTURES}`;

interface Probe {
  text: string;
  input_ids: number[];
  logits: number[][];
}
interface OutLine {
  id: number;
  text: string;
  input_ids: number[];
  logits: number[][];
}
const expected = (): Probe[] => JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8")) as Probe[];
const readLines = (file: string): OutLine[] =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as OutLine);

/** Runs `fulcra models …`, returning the exit code (errors thrown by the command become 1, as in main). */
async function run(args: string[]): Promise<{ code: number; error?: string }> {
  try {
    return { code: await models.run(args) };
  } catch (e) {
    return { code: 1, error: (e as Error).message };
  }
}

/** A copy of the fixture folder, with config.json fields replaced by `config`. */
function variant(config: Record<string, unknown>, files = ["model.safetensors", "tokenizer.json", "tokenizer_config.json"]): string {
  const dir = tempDir("fulcra-gpt2-score-");
  for (const f of files) copyFileSync(join(DIR, f), join(dir, f));
  const base = JSON.parse(readFileSync(join(DIR, "config.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...base, ...config }));
  return dir;
}

// Measured when this test was written: max |Δlogit| 4.8e-6 on cpu and 3.0e-6 on wasm (batches of 3 sorted by length: 4, 35 and 54 tokens padded together, then 152).
for (const backend of ["cpu", "wasm"] as BackendName[]) {
  test(`models score gpt2-tiny on ${backend}: ids exact and logits [positions][vocab] within 1e-4 of transformers, in padded batches`, {
    skip,
  }, async () => {
    await initBackend({ prefer: backend, quiet: true });
    const probes = expected();
    const tmp = tempDir("fulcra-gpt2-score-");
    const input = join(tmp, "in.jsonl");
    // A blank line in the middle: line numbers in the output order stay the input's.
    writeFileSync(input, probes.map((p, i) => JSON.stringify({ id: i, text: p.text })).join("\n\n") + "\n");
    const output = join(tmp, "out.jsonl");
    const r = await run(["score", DIR, "--input", input, "--output", output, "--batch-size", "3", "--quiet"]);
    assert.equal(r.code, 0, r.error);
    const lines = readLines(output);
    assert.equal(lines.length, probes.length);
    let worst = 0;
    lines.forEach((l, i) => {
      assert.equal(l.id, i, "input fields are kept, in input order");
      assert.equal(l.text, probes[i].text);
      assert.deepEqual(l.input_ids, probes[i].input_ids, `ids of line ${i}`);
      assert.equal(l.logits.length, probes[i].input_ids.length, "one row of logits per position");
      l.logits.forEach((row, t) => {
        assert.equal(row.length, 400, "one logit per vocabulary id");
        row.forEach((x, v) => (worst = Math.max(worst, Math.abs(x - probes[i].logits[t][v]))));
      });
    });
    // Lengths 4, 35, 54, 152 in batches of 3 sorted by length: [4, 35, 54] padded to 54, then [152].
    console.log(`# models score gpt2-tiny ${backend} (batches of 3, padded): max |Δlogit| ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-4, `max |Δlogit| ${worst}`);

    // Batch size 1 (no padding) gives the same numbers as the padded batches, to float32 rounding.
    const single = join(tmp, "single.jsonl");
    assert.equal((await run(["score", DIR, "--input", input, "--output", single, "--batch-size", "1", "--quiet"])).code, 0);
    let padEffect = 0;
    readLines(single).forEach((l, i) =>
      l.logits.forEach((row, t) => row.forEach((x, v) => (padEffect = Math.max(padEffect, Math.abs(x - lines[i].logits[t][v]))))),
    );
    assert.ok(padEffect <= 1e-5, `padding changed a real position's logits by ${padEffect}`);
  });
}

test("models score with a GPT-2 folder: errors name the file, the line and the field", { skip }, async () => {
  await initBackend({ prefer: "cpu", quiet: true });
  const tmp = tempDir("fulcra-gpt2-score-");
  const input = join(tmp, "in.jsonl");
  const long = "x ".repeat(300);
  writeFileSync(input, [JSON.stringify({ text: "Hello" }), JSON.stringify({ text: long })].join("\n") + "\n");
  const output = join(tmp, "out.jsonl");

  // Missing files: no weights, no tokenizer.
  const noWeights = variant({}, ["tokenizer.json", "tokenizer_config.json"]);
  assert.match(
    (await run(["score", noWeights, "--input", input, "--output", output, "--quiet"])).error ?? "",
    /no weights found \(expected model\.safetensors, model\.safetensors\.index\.json with its shards, or pytorch_model\.bin\)/,
  );
  const noTokenizer = variant({}, ["model.safetensors"]);
  assert.match(
    (await run(["score", noTokenizer, "--input", input, "--output", output, "--quiet"])).error ?? "",
    /no GPT-2 tokenizer \(expected tokenizer\.json, or vocab\.json and merges\.txt\)/,
  );

  // An architecture the kit does not run is named, with the supported list.
  const other = variant({ architectures: ["GPT2DoubleHeadsModel"] });
  assert.match(
    (await run(["score", other, "--input", input, "--output", output, "--quiet"])).error ?? "",
    /config\.json: architecture "GPT2DoubleHeadsModel" is not supported; supported: DebertaV2ForSequenceClassification, DebertaV2Model, DebertaV2ForMaskedLM, GPT2LMHeadModel/,
  );

  // A tokenizer with 400 ids beside weights whose config says 300.
  const mismatch = variant({ vocab_size: 300 });
  assert.match(
    (await run(["score", mismatch, "--input", input, "--output", output, "--quiet"])).error ?? "",
    /vocabulary mismatch: .*tokenizer\.json has 400 ids but .*config\.json says vocab_size 300/,
  );

  // Line 2 has 600 tokens ("x" and " " are separate ids in this small vocabulary), the model 256 positions; --truncate keeps the first 256.
  assert.match(
    (await run(["score", DIR, "--input", input, "--output", output, "--quiet"])).error ?? "",
    /in\.jsonl:2: 600 tokens, longer than the 256 positions the model allows \(config\.json n_positions\)/,
  );
  assert.equal((await run(["score", DIR, "--input", input, "--output", output, "--quiet", "--truncate"])).code, 0);
  const cut = readLines(output)[1];
  assert.equal(cut.input_ids.length, 256);
  assert.equal(cut.logits.length, 256);

  // A text pair cannot go to a causal LM without saying how to join it.
  writeFileSync(input, [JSON.stringify({ text: "Hello" }), JSON.stringify({ text: "a", text_pair: "b" })].join("\n") + "\n");
  assert.match(
    (await run(["score", DIR, "--input", input, "--output", output, "--quiet"])).error ?? "",
    /in\.jsonl:2: field "text_pair" is set, but GPT2LMHeadModel .* scores single texts/,
  );

  // The library entry points: the folder loads as a causal LM, and an encoder-only caller refuses it by name.
  const hub = loadHubModel(DIR);
  assert.equal(hub.kind, "causal-lm");
  assert.equal(hub.maxLength, 256);
  assert.deepEqual(hub.unused, []);
  hub.model.dispose();
  assert.throws(
    () => loadHubEncoder(DIR),
    /architecture GPT2LMHeadModel is a causal language model; this needs DebertaV2ForSequenceClassification or DebertaV2Model/,
  );
  mkdirSync(join(tmp, "empty"));
  assert.throws(() => loadHubModel(join(tmp, "empty")), /empty\/config\.json: missing/);
});
