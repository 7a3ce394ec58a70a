/**
 * Bad input, as a user gives it: every case gives a clear error (exit 2 for a
 * flag, 1 for a failed job) or a counted, reported fix; none hangs, crashes,
 * exits 0 on failure, or writes outside the kit's folders.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../src/runtime/env.js";
import { fetchData, verifyData, verifyFile, VerificationError } from "../src/data/fetch.js";
import { manifestEntry } from "../src/data/manifest.js";
import { readRecords, type RecordError, streamRecords } from "../src/data/readers.js";
import { checkDataFile, TamperedFileError } from "../src/data/integrity.js";
import { openExclusive, writeFileAtomicSync } from "../src/data/atomic.js";
import { ChatClient } from "../src/llm/client.js";
import { annotateFile } from "../src/evaluator/annotator.js";
import { labelledExamples } from "../src/evaluator/data.js";
import { parseFlags, intFlag, UsageError } from "../src/cli/command.js";
import { startChatServer } from "./llm-server.js";
import { dataFile, tempDir } from "./helpers.js";

const BIN = join(PROJECT_ROOT, "bin", "fulcra.js");
function fulcra(args: string[], env: Record<string, string> = {}, timeout = 60_000) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout, env: { ...process.env, FULCRA_QUIET: "1", ...env } });
  assert.notEqual(r.signal, "SIGTERM", `fulcra ${args.join(" ")} did not finish within ${timeout / 1000} s`);
  return r;
}
/** One line on stderr, no stack trace. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at /);
  return lines[0];
}
const scoredLines = () => readFileSync(dataFile("harmless_test_gpt-4"), "utf8").split("\n").filter(Boolean);

// ─── 1. Flags checked before any work ─────────────────────────────────────

test("hh score --batch-size 0 / -1 is a usage error at once (it used to loop forever), before any model is trained", () => {
  const dir = tempDir();
  const input = join(dir, "in.jsonl");
  writeFileSync(input, JSON.stringify({ prompt: "p", answer: "a" }) + "\n");
  const runs = join(dir, "runs");
  for (const bs of ["0", "-1", "2.5", "x"]) {
    const r = fulcra(
      ["hh", "score", "--model-outputs", input, "--out", join(dir, "out.jsonl"), `--batch-size=${bs}`],
      { FULCRA_RUNS_DIR: runs },
      20_000,
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(oneLine(r.stderr), new RegExp(`--batch-size expects a whole number ≥ 1, got "${bs.replace(".", "\\.")}"`));
  }
  const bad = fulcra(
    ["hh", "score", "--model-outputs", input, "--out", join(dir, "out.jsonl"), "--bogus"],
    { FULCRA_RUNS_DIR: runs },
    20_000,
  );
  assert.equal(bad.status, 2);
  assert.match(oneLine(bad.stderr), /Unknown option '--bogus'/);
  assert.equal(existsSync(runs), false, "nothing trained before the flags were checked");
  assert.equal(existsSync(join(dir, "out.jsonl")), false);
});

test("align --n=0, --steps=-5, --target nosuch fail before any training, naming the flag", () => {
  const dir = tempDir();
  const runs = join(dir, "runs");
  const cases: [string[], RegExp][] = [
    [["--n=0"], /--n expects a whole number ≥ 1, got "0"/],
    [["--steps=-5"], /--steps expects a whole number ≥ 1, got "-5"/],
    [["--target", "nosuch"], /--target "nosuch": unknown target "nosuch"/],
    [["--target", "0,0,0,0,0,0,0,0,0,0"], /all zeros/],
    [["--threshold", "5"], /--threshold expects a number ≥ 0 and < 1, got "5"/],
    [["--batch_size", "64", "--mini_batch_size", "10"], /must divide/],
    [["--dimensions", "security,kindness"], /"kindness"/],
  ];
  for (const [extra, message] of cases) {
    const r = fulcra(["align", "--method", "ppo", "--out", join(dir, "out"), ...extra], { FULCRA_RUNS_DIR: runs }, 20_000);
    assert.equal(r.status, 2, `${extra.join(" ")}: ${r.stderr}`);
    assert.match(oneLine(r.stderr), message);
  }
  assert.equal(existsSync(runs), false);
  assert.equal(existsSync(join(dir, "out")), false);
});

test("hh summary: --threshold out of range and an all-zero target are usage errors", () => {
  const t = fulcra(["hh", "summary", dataFile("harmless_test_gpt-4"), "--threshold=5"]);
  assert.equal(t.status, 2);
  assert.match(oneLine(t.stderr), /--threshold expects a number ≥ 0 and < 1, got "5"/);
  const z = fulcra(["hh", "summary", dataFile("harmless_test_gpt-4"), "--target", "0,0,0,0,0,0,0,0,0,0"]);
  assert.equal(z.status, 2);
  assert.match(oneLine(z.stderr), /a target of all zeros makes every distance 0/);
  const big = fulcra(["hh", "summary", dataFile("harmless_test_gpt-4"), "--target", "0,0,0,0,0,7,0,0,0,0"]);
  assert.equal(big.status, 2);
  assert.match(big.stderr, /\[-1, 1\]/);
});

test("data verify --bogus and data list --x are refused; data verify --help prints help and verifies nothing", () => {
  const v = fulcra(["data", "verify", "--bogus"]);
  assert.equal(v.status, 2);
  assert.match(oneLine(v.stderr), /Unknown option '--bogus'/);
  assert.equal(v.stdout, "");
  const l = fulcra(["data", "list", "--x"]);
  assert.equal(l.status, 2);
  assert.equal(l.stdout, "");
  const h = fulcra(["data", "verify", "--help"]);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /^fulcra data verify — /);
  assert.doesNotMatch(h.stdout, /\bok\b.*trustworthy_data|data: \d+ ok/);
  // --help anywhere never runs a command, even one that would train.
  const a = fulcra(["align", "--method", "ppo", "--out", join(tempDir(), "o"), "--help"], {}, 20_000);
  assert.equal(a.status, 0);
  assert.match(a.stdout, /^fulcra align/);
});

test("hh reward-model train --epochs 0 is refused (it used to save an untrained model)", () => {
  const dir = tempDir();
  const r = fulcra(["hh", "reward-model", "train", "--epochs", "0", "--out", dir], { FULCRA_RUNS_DIR: join(dir, "runs") }, 20_000);
  assert.equal(r.status, 2);
  assert.match(oneLine(r.stderr), /--epochs expects a whole number ≥ 1, got "0"/);
  assert.deepEqual(readdirSync(dir), []);
  const ev = fulcra(["evaluator", "train", "--epochs", "0", "--out", join(dir, "ev")], { FULCRA_RUNS_DIR: join(dir, "runs") }, 20_000);
  assert.equal(ev.status, 2);
  assert.match(oneLine(ev.stderr), /--epochs expects a whole number ≥ 1, got "0"/);
  assert.deepEqual(readdirSync(dir), []);
});

test("parseFlags: unknown flags, missing required flags and schema failures are UsageErrors", () => {
  const flags = { n: { type: "string", schema: intFlag({ min: 1 }), default: "3" }, name: { type: "string", required: true } } as const;
  assert.deepEqual(parseFlags(["--name", "a"], flags, "t").values, { n: 3, name: "a" });
  assert.equal(parseFlags(["--name", "a", "--n", "7"], flags, "t").values.n, 7);
  assert.throws(() => parseFlags(["--name", "a", "--m", "1"], flags, "t"), UsageError);
  assert.throws(() => parseFlags([], flags, "t"), /--name is required/);
  assert.throws(() => parseFlags(["--name", "a", "--n", "0"], flags, "t"), /--n expects a whole number ≥ 1, got "0"/);
  assert.throws(() => parseFlags(["--name", "a", "extra"], flags, "t", { positionals: false }), UsageError);
});

// ─── 2. Exit codes that mean something ────────────────────────────────────

test("data fetch --from a mistyped folder: exit 2, no folder created", () => {
  const dir = tempDir();
  const raw = join(dir, "data", "raw");
  const r = fulcra(["data", "fetch", "--from", join(dir, "no-such-mirror")], { FULCRA_DATA_DIR: raw });
  assert.equal(r.status, 2);
  assert.match(oneLine(r.stderr), /no-such-mirror: no such folder/);
  assert.equal(existsSync(join(dir, "data")), false);
});

test("data fetch from a mirror lacking a file its own MANIFEST.json lists: exit 1, the file named, no empty folders", () => {
  const dir = tempDir();
  const mirror = join(dir, "mirror");
  mkdirSync(join(mirror, "data"), { recursive: true });
  copyFileSync(join(PROJECT_ROOT, "..", "shared", "data", "fulcra", "MANIFEST.json"), join(mirror, "MANIFEST.json"));
  copyFileSync(dataFile("trustworthy_data"), join(mirror, "data", "trustworthy_data.jsonl"));
  const raw = join(dir, "raw");
  const r = fulcra(["data", "fetch", "--from", mirror], { FULCRA_DATA_DIR: raw });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /failed\s+harmless_test_gpt-4\s+\(listed in .*MANIFEST\.json but .*harmless_test_openai_gpt-4\.jsonl is absent\)/);
  assert.match(r.stdout, /not-offered\s+data_hybrid/);
  assert.match(r.stdout, /fetched\s+trustworthy_data/);
  assert.match(r.stdout, /5 failed/);
  // Only the folder of the file that was fetched exists.
  assert.deepEqual(readdirSync(raw), ["data"]);
  assert.deepEqual(readdirSync(join(raw, "data")), ["trustworthy_data.jsonl"]);
});

test("data fetch from a folder without MANIFEST.json: missing files make exit 1 unless --lenient", () => {
  const dir = tempDir();
  const mirror = join(dir, "m");
  mkdirSync(join(mirror, "data"), { recursive: true });
  copyFileSync(dataFile("trustworthy_data"), join(mirror, "data", "trustworthy_data.jsonl"));
  const r = fulcra(["data", "fetch", "--from", mirror], { FULCRA_DATA_DIR: join(dir, "raw") });
  assert.equal(r.status, 1);
  assert.match(r.stdout, /9 missing at source/);
  const lenient = fulcra(["data", "fetch", "--from", mirror, "--lenient"], { FULCRA_DATA_DIR: join(dir, "raw") });
  assert.equal(lenient.status, 0);
  assert.match(lenient.stdout, /present\s+trustworthy_data/);
});

test("evaluate: a missing output folder and a folder as --input are usage errors naming the path, with no .part left", () => {
  const dir = tempDir();
  const input = join(dir, "in.jsonl");
  writeFileSync(input, JSON.stringify({ prompt: "p", answer: "a" }) + "\n");
  const r = fulcra(["evaluate", "--model", dir, "--input", input, "--output", join(dir, "missing", "out.jsonl")]);
  assert.equal(r.status, 2);
  assert.match(oneLine(r.stderr), /missing[/\\]out\.jsonl: the folder .*missing does not exist/);
  const d = fulcra(["evaluate", "--model", dir, "--input", dir, "--output", join(dir, "out.jsonl")]);
  assert.equal(d.status, 2);
  assert.match(oneLine(d.stderr), new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: is a folder, not a file`));
  assert.deepEqual(readdirSync(dir), ["in.jsonl"]);
});

test("an error that is not a usage error: one line naming the file; --debug and FULCRA_DEBUG show the stack", () => {
  const dir = tempDir();
  const input = join(dir, "in.jsonl");
  writeFileSync(input, JSON.stringify({ prompt: "p", answer: "a" }) + "\n");
  const args = ["evaluate", "--model", join(dir, "no-model"), "--input", input, "--output", join(dir, "o.jsonl")];
  const r = fulcra(args);
  assert.equal(r.status, 1);
  assert.match(oneLine(r.stderr), /no-model/);
  const debug = fulcra([...args, "--debug"]);
  assert.equal(debug.status, 1);
  assert.match(debug.stderr, /\n\s+at /);
  const env = fulcra(args, { FULCRA_DEBUG: "1" });
  assert.match(env.stderr, /\n\s+at /);
});

// ─── 3. Readers: BOM, CRLF, ranges, size ───────────────────────────────────

test("a UTF-8 BOM and CRLF line ends: every record read, line numbers kept", async () => {
  const lines = scoredLines().slice(0, 3);
  const file = join(tempDir(), "bom.jsonl");
  writeFileSync(file, "\uFEFF" + lines.join("\r\n") + "\r\n");
  const recs = readRecords("scored_outputs", file);
  assert.equal(recs.length, 3);
  assert.equal(recs[0].prompt, JSON.parse(lines[0]).prompt);
  assert.deepEqual(
    recs.map((r) => r.line),
    [1, 2, 3],
  );
  const streamed = [];
  for await (const r of streamRecords("scored_outputs", file)) streamed.push(r);
  assert.equal(streamed.length, 3);
});

test("values far outside [-1, 1] are refused by file:line:field and counted", () => {
  const o = JSON.parse(scoredLines()[0]);
  const file = join(tempDir(), "range.jsonl");
  writeFileSync(
    file,
    [
      JSON.stringify({ ...o, value_reward: [0, 0, 0, 0, 0, 1e300, 0, 0, 0, 0] }),
      JSON.stringify({ ...o, value_reward: [0, 0, 0, 0, 0, 0, 0, 0, 0, 1.0000001] }),
      JSON.stringify(o),
    ].join("\n") + "\n",
  );
  const errors: RecordError[] = [];
  const recs = readRecords("scored_outputs", file, { onError: "collect", errors });
  assert.equal(recs.length, 2);
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /range\.jsonl:1: field "value_reward"\[5\] should be in \[-1, 1\], got 1e\+300/);
  const r = fulcra(["hh", "summary", file]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /range\.jsonl:1: field "value_reward"\[5\]/);
  assert.match(r.stdout, /records\s+2 \(1 unreadable/);
  const lenient = fulcra(["hh", "summary", file, "--lenient", "--json"]);
  assert.equal(lenient.status, 0);
  assert.equal(JSON.parse(lenient.stdout).bad_lines.length, 1);
});

test("hh summary on 130k records (no spread into call arguments) and a 1e300 reward in the table view", () => {
  const o = JSON.parse(scoredLines()[0]);
  const dir = tempDir();
  const big = join(dir, "big.jsonl");
  const line = JSON.stringify(o) + "\n";
  writeFileSync(big, line.repeat(130_000));
  const r = fulcra(["hh", "summary", big, "--json"], {}, 120_000);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.n, 130_000);
  assert.ok(Math.abs(s.reward_mean - o.reward) < 1e-9);
  const huge = join(dir, "huge.jsonl");
  writeFileSync(huge, [JSON.stringify({ ...o, reward: 1e300 }), JSON.stringify(o)].join("\n") + "\n");
  const t = fulcra(["hh", "summary", huge]);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /reward\s+mean\s+5e\+299/);
});

test("a folder given as a data file: the error names it", () => {
  const dir = tempDir();
  assert.throws(() => readRecords("questions", dir), new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: is a folder, not a file`));
});

// ─── 4. Files: manifest check, atomic writes, downloads ───────────────────

test("a tampered official file is refused by name before it is read; the verified hash is cached by size and mtime", () => {
  const dir = tempDir();
  const raw = join(dir, "data", "raw");
  const entry = manifestEntry("harmless_test_gpt-4");
  mkdirSync(join(raw, "model_outputs"), { recursive: true });
  const file = join(raw, entry.localPath);
  copyFileSync(dataFile("harmless_test_gpt-4"), file);
  checkDataFile(file, raw);
  const cache = JSON.parse(readFileSync(join(dir, "data", "cache", "verified.json"), "utf8"));
  assert.equal(cache[entry.localPath].bytes, entry.bytes);
  // Same size, one digit changed: the numbers would shift.
  const text = readFileSync(file, "utf8");
  const at = text.indexOf('"reward": ') + 11;
  const digit = text[at] === "1" ? "2" : "1";
  writeFileSync(file, text.slice(0, at) + digit + text.slice(at + 1));
  assert.equal(statSync(file).size, entry.bytes);
  assert.throws(
    () => checkDataFile(file, raw),
    (e: unknown) => e instanceof TamperedFileError && e.message.includes(file) && /harmless_test_gpt-4/.test(e.message),
  );
  const r = fulcra(["hh", "summary", "harmless_test_gpt-4"], { FULCRA_DATA_DIR: raw });
  assert.equal(r.status, 1);
  assert.match(oneLine(r.stderr), /does not match the manifest entry "harmless_test_gpt-4".*refusing to read it/);
  assert.equal(r.stdout, "");
  const v = fulcra(["data", "verify"], { FULCRA_DATA_DIR: raw });
  assert.equal(v.status, 1);
  assert.match(v.stdout, /bad\s+harmless_test_gpt-4/);
});

test("atomic writes refuse a symlink or file at the temporary path", () => {
  const dir = tempDir();
  const victim = join(dir, "victim.txt");
  writeFileSync(victim, "keep");
  const temp = join(dir, "t.tmp");
  symlinkSync(victim, temp);
  assert.throws(() => openExclusive(temp), /refusing to write: a symlink/);
  assert.equal(readFileSync(victim, "utf8"), "keep");
  writeFileAtomicSync(join(dir, "out.txt"), "new");
  assert.equal(readFileSync(join(dir, "out.txt"), "utf8"), "new");
  assert.deepEqual(readdirSync(dir).sort(), ["out.txt", "t.tmp", "victim.txt"]);
  assert.throws(() => writeFileAtomicSync(join(dir, "nope", "x.txt"), "x"), /the folder .*nope does not exist/);
});

test("data fetch never writes through a symlink planted at the .part path", async () => {
  const dir = tempDir();
  const raw = join(dir, "raw");
  const entry = manifestEntry("trustworthy_data");
  mkdirSync(join(raw, "data"), { recursive: true });
  const victim = join(dir, "victim.txt");
  writeFileSync(victim, "precious");
  symlinkSync(victim, join(raw, entry.localPath) + ".part");
  const mirror = join(PROJECT_ROOT, "..", "shared", "data", "fulcra");
  const [r] = await fetchData({ from: mirror, rawDir: raw, names: ["trustworthy_data"], quiet: true });
  assert.equal(r.status, "failed");
  assert.match(r.message!, /symlink/);
  assert.equal(readFileSync(victim, "utf8"), "precious");
  // Downloads too.
  const [d] = await fetchData({
    rawDir: raw,
    names: ["trustworthy_data"],
    quiet: true,
    retries: 0,
    fetchImpl: (async () => new Response("x")) as typeof fetch,
  });
  assert.equal(d.status, "failed");
  assert.equal(readFileSync(victim, "utf8"), "precious");
});

test("an interrupted download is listed by data verify and resumed from where it stopped", async () => {
  const dir = tempDir();
  const raw = join(dir, "raw");
  const entry = manifestEntry("saferlhf_test_questions");
  const full = readFileSync(dataFile("saferlhf_test_questions"));
  const dest = join(raw, entry.localPath);
  mkdirSync(join(raw, "data", "saferlhf"), { recursive: true });
  writeFileSync(dest + ".part", full.subarray(0, 100_000));
  const v = verifyData(raw).find((x) => x.name === "saferlhf_test_questions")!;
  assert.equal(v.status, "partial");
  assert.match(v.message!, /100000 of 264013 bytes/);
  const ranges: (string | null)[] = [];
  const fetchImpl = (async (_url: string, init: { headers: Record<string, string> }) => {
    const range = init.headers.Range ?? null;
    ranges.push(range);
    const from = range ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    return new Response(full.subarray(from), { status: range ? 206 : 200, headers: { "content-length": String(full.length - from) } });
  }) as unknown as typeof fetch;
  const [r] = await fetchData({ rawDir: raw, names: ["saferlhf_test_questions"], quiet: true, fetchImpl });
  assert.equal(r.status, "fetched", r.message);
  assert.deepEqual(ranges, ["bytes=100000-"]);
  assert.match(r.message!, /resumed from byte 100000/);
  assert.deepEqual(readFileSync(dest), full);
  assert.equal(existsSync(dest + ".part"), false);
  // A partial whose bytes are wrong: the resumed file fails its hash, and is fetched again from the start.
  rmSync(dest);
  writeFileSync(dest + ".part", Buffer.alloc(50_000, 120));
  ranges.length = 0;
  const [again] = await fetchData({ rawDir: raw, names: ["saferlhf_test_questions"], quiet: true, fetchImpl });
  assert.equal(again.status, "fetched", again.message);
  assert.deepEqual(ranges, ["bytes=50000-", null]);
  assert.deepEqual(readFileSync(dest), full);
});

test("a download larger than the manifest's size is stopped and discarded; a wrong-size file fails on its size", async () => {
  const dir = tempDir();
  const raw = join(dir, "raw");
  const entry = manifestEntry("saferlhf_test_questions");
  const fetchImpl = (async () => new Response(Buffer.alloc(entry.bytes! + 10, 120))) as unknown as typeof fetch;
  const [r] = await fetchData({ rawDir: raw, names: ["saferlhf_test_questions"], quiet: true, retries: 0, fetchImpl });
  assert.equal(r.status, "failed");
  assert.match(r.message!, /more than the 264013 bytes expected/);
  assert.equal(existsSync(join(raw, entry.localPath) + ".part"), false);
  const wrong = join(dir, "wrong.jsonl");
  writeFileSync(wrong, "x\n");
  assert.throws(
    () => verifyFile(entry, wrong),
    (e: unknown) => e instanceof VerificationError && e.field === "bytes",
  );
});

// ─── 5. Labels, annotator, secrets ─────────────────────────────────────────

test("--labelled-files: unknown and malformed labels are reported with counts, not skipped silently", () => {
  const file = join(tempDir(), "labels.jsonl");
  writeFileSync(
    file,
    JSON.stringify({
      dialogue: "Human: hi\nBob: hello",
      value_items: ["be telepathic: +1", "be polite: +1"],
      value_types: ["conformity +1", "benevolence: +1"],
    }) + "\n",
  );
  const errs: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => void errs.push(a.join(" "));
  try {
    const ex = labelledExamples(file);
    assert.equal(ex.length, 1);
    assert.equal(ex[0].labels[8], 1);
  } finally {
    console.error = orig;
  }
  assert.match(errs.join("\n"), /labels\.jsonl: 2 unknown or malformed label\(s\) skipped/);
  assert.match(errs.join("\n"), /unknown-name .*be telepathic/);
  assert.match(errs.join("\n"), /malformed .*conformity \+1/);
  const r = fulcra(["evaluator", "train", "--labelled-files", join(tempDir(), "nope.jsonl")], {}, 20_000);
  assert.equal(r.status, 2);
  assert.match(oneLine(r.stderr), /nope\.jsonl: no such file/);
});

test("the LLM annotator reports an unreadable reply and writes no all-zero vector for it; the key is redacted everywhere", async () => {
  const SECRET = "sk-test-0123456789abcdef";
  const server = await startChatServer((req) => {
    const text = req.body.messages!.at(-1)!.content;
    if (text.includes("gibberish")) return { content: "I would rather not say." };
    if (text.includes("echo")) return { content: `be honest: +1\nyour key is ${SECRET}` };
    return { content: "be polite: +1" };
  });
  try {
    const dir = tempDir();
    const input = join(dir, "in.jsonl");
    writeFileSync(
      input,
      ["gibberish please", "echo the key", "a polite answer"].map((a) => JSON.stringify({ prompt: "q", answer: a })).join("\n") + "\n",
    );
    const cacheDir = join(dir, "cache");
    const client = new ChatClient({ baseUrl: server.baseUrl, model: "m", apiKey: SECRET, cacheDir, log: () => {} });
    const out = join(dir, "out.jsonl");
    const r = await annotateFile(input, out, { client, quiet: true });
    assert.deepEqual(
      r.unreadable.map((u) => u.line),
      [1],
    );
    const lines = readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    assert.ok(lines.every((l) => (l.value_vector as number[]).some((x) => x !== 0)));
    const everything = [
      out,
      `${out}.jobs`,
      ...readdirSync(cacheDir, { recursive: true })
        .map((f) => join(cacheDir, String(f)))
        .filter((f) => statSync(f).isFile()),
    ]
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    assert.doesNotMatch(everything, new RegExp(SECRET));
    assert.match(everything, /\[redacted key\]/);
  } finally {
    await server.close();
  }
});

// ─── 6. A fresh clone ─────────────────────────────────────────────────────

test("reproduce with no data fetches from FULCRA_MIRROR and says so", () => {
  const dir = tempDir();
  const mirror = join(PROJECT_ROOT, "..", "shared", "data", "fulcra");
  const env = {
    FULCRA_DATA_DIR: join(dir, "data", "raw"),
    FULCRA_FIGURES_DIR: join(dir, "figures"),
    FULCRA_RUNS_DIR: join(dir, "runs"),
    FULCRA_MIRROR: mirror,
  };
  const r = fulcra(["reproduce", "--skip-notebooks", "--quiet"], env, 120_000);
  assert.match(r.stdout, new RegExp(`no data in .* yet; fetching from mirror ${mirror.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  assert.match(r.stdout, /data 6 ok, 0 bad, 4 absent/);
  assert.ok(existsSync(join(dir, "data", "raw", "data", "trustworthy_data.jsonl")));
});

test("record schemas: the first problem of a line, in words, by field", () => {
  const o = JSON.parse(scoredLines()[0]);
  const file = join(tempDir(), "fields.jsonl");
  const bad = [
    { ...o, reward: "high" },
    { ...o, safety_issues: ["a", 3] },
    (({ answer: _a, ...rest }) => rest)(o),
    { ...o, value_reward: [1, 2] },
    { ...o, e_distance: null },
    [1],
  ];
  writeFileSync(file, bad.map((b) => JSON.stringify(b)).join("\n") + "\n");
  const errors: RecordError[] = [];
  assert.equal(readRecords("scored_outputs", file, { onError: "collect", errors }).length, 0);
  assert.deepEqual(
    errors.map((e) => e.message.slice(file.length + 1)),
    [
      '1: field "reward" should be a finite number, got the string "high"',
      '2: field "safety_issues"[1] should be a string, got the number 3',
      '3: missing field "answer"',
      '4: field "value_reward" should be 10 finite numbers, got a list of 2',
      '5: field "e_distance" should be a finite number, got null',
      "6: expected a JSON object, got a list of 1",
    ],
  );
});
