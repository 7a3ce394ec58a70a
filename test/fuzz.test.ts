/**
 * Mutated lines of the released files, through every reader and the main
 * commands: no crash, no hang, every line accounted for (read, reported by
 * file:line, or blank). Seeded, so a failure can be replayed; about 20 s.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../src/runtime/env.js";
import type { RecordKind } from "../src/data/manifest.js";
import { readLinesSync, readRecords, type RecordError, streamRecords } from "../src/data/readers.js";
import { LabelIssueLog } from "../src/values/labels.js";
import { summarizeScoredOutputs } from "../src/metrics/summary.js";
import { readPromptAnswers } from "../src/metrics/score.js";
import { readInputLine } from "../src/cli/evaluate.js";
import { readDoneJobs } from "../src/llm/jobs.js";
import { parseAnnotation, annotationReadable } from "../src/evaluator/annotator.js";
import { dataFile, tempDir } from "./helpers.js";
import { seededRandom } from "../src/runtime/random.js";

const SEED = Number(process.env.FULCRA_FUZZ_SEED ?? 20240601);
const LINES_PER_FILE = 40;
const ROUNDS = 25;
const BIN = join(PROJECT_ROOT, "bin", "fulcra.js");

const rng = seededRandom;

const SPICE = [
  "1e300",
  "-1e300",
  "NaN",
  "null",
  "[]",
  "{}",
  '""',
  "true",
  "\uFEFF",
  "\u0000",
  "\\u0000",
  "\r",
  '"\\ud800"',
  "9".repeat(400),
  "[[[[[[[[[[",
  "💥",
];

function mutate(line: string, r: () => number): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const at = Math.floor(r() * (line.length + 1));
  switch (Math.floor(r() * 10)) {
    case 0:
      return line.slice(0, at); // truncated
    case 1:
      return line.slice(0, at) + pick(SPICE) + line.slice(at); // inserted junk
    case 2:
      return line.slice(0, at) + line.slice(at + 1 + Math.floor(r() * 20)); // deleted bytes
    case 3: {
      // A field's value replaced.
      try {
        const o = JSON.parse(line) as Record<string, unknown>;
        const k = pick(Object.keys(o));
        o[k] = JSON.parse(pick(["1e300", "null", "[]", "{}", '""', "-5", "[1,2]", '["x: +1"]', '["be respectful: 1+"]']));
        return JSON.stringify(o);
      } catch {
        return line;
      }
    }
    case 4: {
      // A field removed.
      try {
        const o = JSON.parse(line) as Record<string, unknown>;
        delete o[pick(Object.keys(o))];
        return JSON.stringify(o);
      } catch {
        return line;
      }
    }
    case 5:
      return line + "\r"; // CRLF
    case 6:
      return ""; // blank
    case 7:
      return "   " + line + "   ";
    case 8:
      return line.replace(/\d/g, (d) => (r() < 0.05 ? String((Number(d) + 3) % 10) : d)); // digits changed
    default:
      return line; // untouched
  }
}

const FILES: [string, RecordKind][] = [
  ["trustworthy_data", "fulcra"],
  ["saferlhf_test_questions", "questions"],
  ["helpful_test", "preference_pairs"],
  ["harmless_test_gpt-4", "scored_outputs"],
  ["harmless_test_gpt-35-turbo", "scored_outputs"],
];

/** Every line is a record, a reported error naming file:line, or blank. */
function accountedFor(file: string, records: { line: number }[], errors: RecordError[]): void {
  const lines = [...readLinesSync(file)];
  const got = new Set<number>();
  for (const rec of records) got.add(rec.line);
  for (const e of errors) {
    assert.ok(e.message.startsWith(`${file}:${e.line}: `), e.message);
    assert.ok(!got.has(e.line), `line ${e.line} both read and refused`);
    got.add(e.line);
  }
  for (const [n, text] of lines) {
    if (text.trim() === "") assert.ok(!got.has(n));
    else assert.ok(got.has(n), `${file}:${n} neither read nor reported`);
  }
}

test("fuzz: mutated released lines through every reader, the prompt/answer reader, the jobs reader and hh summary", async () => {
  const r = rng(SEED);
  const dir = tempDir();
  const started = Date.now();
  let total = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, kind] of FILES) {
      const source = [...readLinesSync(dataFile(name))].map(([, t]) => t);
      const lines = Array.from({ length: LINES_PER_FILE }, () => mutate(source[Math.floor(r() * source.length)], r));
      const file = join(dir, `${name}-${round}.jsonl`);
      writeFileSync(file, (r() < 0.3 ? "\uFEFF" : "") + lines.join(r() < 0.5 ? "\n" : "\r\n") + (r() < 0.5 ? "\n" : ""));
      total += lines.length;

      // Library readers: array and stream agree, each line accounted for.
      const errors: RecordError[] = [];
      const log = new LabelIssueLog();
      const recs = readRecords(kind, file, { onError: "collect", errors, labelLog: log });
      accountedFor(file, recs, errors);
      const streamed: { line: number }[] = [];
      const sErrors: RecordError[] = [];
      for await (const rec of streamRecords(kind, file, { onError: "collect", errors: sErrors, labelLog: new LabelIssueLog() }))
        streamed.push(rec);
      assert.deepEqual(
        streamed.map((x) => x.line),
        recs.map((x) => x.line),
      );
      assert.equal(sErrors.length, errors.length);

      // The command-side readers.
      const pa = readPromptAnswers(file);
      for (const e of pa.errors) assert.match(e.message, new RegExp(`:${e.line}: `));
      const nonBlank = lines.filter((l) => l.replace(/^\uFEFF/, "").trim() !== "").length;
      assert.equal(pa.items.length + pa.errors.length, nonBlank);
      for (const [, text] of readLinesSync(file)) if (text.trim() !== "") readInputLine(text);
      readDoneJobs(file);

      if (kind === "scored_outputs") {
        const s = summarizeScoredOutputs(file);
        assert.equal(s.n + s.bad_lines.length, nonBlank);
        assert.ok(s.value_mean.every((x) => Number.isFinite(x) && Math.abs(x) <= 1 + 1e-6));
      }
    }
  }
  assert.equal(total, ROUNDS * FILES.length * LINES_PER_FILE);
  assert.ok(Date.now() - started < 60_000, "fuzzing took over a minute");
});

test("fuzz: hh summary and evaluate's input check on mutated files: exit 0 or 1 with file:line messages, never a crash", () => {
  const r = rng(SEED + 1);
  const dir = tempDir();
  const source = readFileSync(dataFile("harmless_test_gpt-4"), "utf8").split("\n").filter(Boolean);
  for (let round = 0; round < 3; round++) {
    const lines = Array.from({ length: 60 }, () => mutate(source[Math.floor(r() * source.length)], r));
    const file = join(dir, `s${round}.jsonl`);
    writeFileSync(file, lines.join("\n") + "\n");
    const res = spawnSync(process.execPath, [BIN, "hh", "summary", file, "--json"], {
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, FULCRA_QUIET: "1" },
    });
    assert.notEqual(res.signal, "SIGTERM", "hh summary hung");
    assert.ok(res.status === 0 || res.status === 1, `exit ${res.status}: ${res.stderr}`);
    assert.doesNotMatch(res.stderr, /\n\s+at /);
    const s = JSON.parse(res.stdout);
    const nonBlank = lines.filter((l) => l.trim() !== "").length;
    assert.equal(s.n + s.bad_lines.length, nonBlank);
    assert.equal(res.status, s.bad_lines.length > 0 ? 1 : 0);
    for (const b of s.bad_lines) assert.match(res.stderr, new RegExp(`s${round}\\.jsonl:${b.line}: `));
  }
});

test("fuzz: mutated label lists as LLM replies: the annotator never throws, reads only -1/0/+1, and says when nothing was readable", () => {
  const r = rng(SEED + 2);
  const source = [...readLinesSync(dataFile("trustworthy_data"))].map(([, t]) => JSON.parse(t) as { value_items: string[] });
  for (let i = 0; i < 400; i++) {
    const items = source[Math.floor(r() * source.length)].value_items;
    const reply = mutate(items.join("\n"), r);
    const a = parseAnnotation(reply);
    for (const v of [a.items, a.refined, a.basic]) assert.ok(v.every((x) => x === -1 || x === 0 || x === 1));
    const readable = annotationReadable(reply, a);
    if (!readable) assert.ok(a.value_items.length === 0 && a.basic.every((x) => x === 0));
    // Every non-empty line of the reply is either read or listed as unread.
    const nonEmpty = reply
      .split(/\r?\n/)
      .filter((l) => l.trim() !== "" && !/^\s*(?:[-*•]|\d+[.)])?\s*none\.?\s*$/i.test(l.replace(/\*\*|`/g, ""))).length;
    assert.equal(a.value_items.length + a.unread.length, nonEmpty, JSON.stringify(reply));
  }
});
