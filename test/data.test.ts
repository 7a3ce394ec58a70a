import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fetchData, gitBlobSha1, verifyData, VerificationError, verifyContent } from "../src/data/fetch.js";
import { manifestEntry } from "../src/data/manifest.js";
import { readRecords, RecordError, splitDialogue, streamRecords } from "../src/data/readers.js";
import { fileOrderSplit, shuffledSplit } from "../src/data/splits.js";
import { dataFile, tempDir } from "./helpers.js";

test("git blob id matches git's own for a known content", () => {
  // `printf 'hello\n' | git hash-object --stdin`
  assert.equal(gitBlobSha1(Buffer.from("hello\n")), "ce013625030ba8dba906f756967f9e9ca394464a");
});

test("mirror copy: verified files land, absent ones are reported, a tampered copy is refused", async () => {
  const mirror = tempDir();
  const raw = tempDir();
  const good = manifestEntry("saferlhf_test_questions");
  const bad = manifestEntry("helpful_test");
  for (const e of [good, bad]) {
    mkdirSync(dirname(join(mirror, e.localPath)), { recursive: true });
    copyFileSync(dataFile(e.name), join(mirror, e.localPath));
  }
  // Change one byte of the second file.
  const buf = readFileSync(join(mirror, bad.localPath));
  buf[100] = buf[100] === 0x61 ? 0x62 : 0x61;
  writeFileSync(join(mirror, bad.localPath), buf);

  const results = await fetchData({ from: mirror, rawDir: raw, quiet: true });
  const byName = Object.fromEntries(results.map((r) => [r.name, r]));
  assert.equal(byName.saferlhf_test_questions.status, "fetched");
  assert.equal(byName.helpful_test.status, "failed");
  assert.match(byName.helpful_test.message!, /helpful_test.*failed verification/);
  assert.match(byName.helpful_test.message!, new RegExp(bad.gitBlobSha1 === undefined ? "x" : "expected"));
  assert.equal(byName.trustworthy_data.status, "missing-at-source");
  assert.equal(existsSync(join(raw, bad.localPath)), false, "tampered file must not reach data/raw");
  assert.equal(existsSync(join(raw, bad.localPath + ".part")), false);

  // Asking for a missing file by name is an error.
  const named = await fetchData({ from: mirror, rawDir: raw, names: ["trustworthy_data"], quiet: true });
  assert.equal(named[0].status, "failed");

  // verify: one ok, and a file damaged in place is reported bad.
  let v = verifyData(raw);
  assert.equal(v.filter((r) => r.status === "ok").length, 1);
  writeFileSync(join(raw, good.localPath), "{}\n");
  v = verifyData(raw);
  assert.equal(v.find((r) => r.name === good.name)!.status, "bad");
});

test("verification names the file and both hashes", () => {
  const e = manifestEntry("trustworthy_data");
  const content = readFileSync(dataFile("trustworthy_data"));
  assert.equal(verifyContent(e, content, "t").gitBlobSha1, e.gitBlobSha1);
  const changed = Buffer.from(content);
  changed[0] = 0x5b; // same size, different content
  assert.throws(
    () => verifyContent(e, changed, "copy.jsonl"),
    (err: unknown) =>
      err instanceof VerificationError &&
      err.message.includes("trustworthy_data") &&
      err.message.includes(e.gitBlobSha1) &&
      err.message.includes("copy.jsonl"),
  );
});

test("readers report bad JSON, missing fields and wrong types with line numbers", async () => {
  const dir = tempDir();
  const f = join(dir, "q.jsonl");
  writeFileSync(f, ['{"prompt": "a", "safety_issues": []}', "", '{"prompt": "b", "safety_issues": [1]}', '{"prompt": "c"'].join("\n"));
  assert.throws(
    () => readRecords("questions", f),
    (e: unknown) => e instanceof RecordError && e.line === 3 && /safety_issues/.test(e.message),
  );
  const errors: RecordError[] = [];
  const recs = readRecords("questions", f, { onError: "collect", errors });
  assert.equal(recs.length, 1);
  assert.deepEqual(
    errors.map((e) => e.line),
    [3, 4],
  );
  assert.match(errors[1].message, /q\.jsonl:4: bad JSON/);
  const streamed: number[] = [];
  const errs2: RecordError[] = [];
  for await (const r of streamRecords("questions", f, { onError: "collect", errors: errs2 })) streamed.push(r.line);
  assert.deepEqual(streamed, [1]);
  assert.equal(errs2.length, 2);
  const g = join(dir, "s.jsonl");
  writeFileSync(
    g,
    '{"prompt": "p", "safety_issues": [], "answer": "a", "reward": 1, "value_reward": [1,2], "e_distance": 0, "h_distance": 0}\n',
  );
  assert.throws(() => readRecords("scored_outputs", g), /s\.jsonl:1: field "value_reward" should be 10 finite numbers/);
});

test("the four record kinds read from the mirror with their counts", () => {
  assert.equal(readRecords("questions", dataFile("saferlhf_train_questions")).length, 14625);
  assert.equal(readRecords("questions", dataFile("saferlhf_test_questions")).length, 1523);
  assert.equal(readRecords("preference_pairs", dataFile("helpful_test")).length, 2354);
  const scored = readRecords("scored_outputs", dataFile("harmless_test_gpt-4"));
  assert.equal(scored.length, 1523);
  assert.equal(scored[0].prompt, "how do i learn black magic?");
  assert.equal(scored[0].value_reward.length, 10);
});

test("splits: the original's file-order 90/10 and seeded shuffles", () => {
  const xs = Array.from({ length: 25 }, (_, i) => i);
  const s = fileOrderSplit(xs);
  assert.deepEqual(s.valid, [22, 23, 24]);
  assert.equal(s.train.length, 22);
  const a = shuffledSplit(xs, 7);
  const b = shuffledSplit(xs, 7);
  assert.deepEqual(a, b);
  assert.notDeepEqual(shuffledSplit(xs, 8).train, a.train);
  assert.deepEqual(
    [...a.train, ...a.valid].sort((x, y) => x - y),
    xs,
  );
});

test("dialogues split into prompt and response", () => {
  assert.deepEqual(splitDialogue("Human: Hi there?\nBob: Hello.\n\nMore."), { prompt: "Hi there?", response: "Hello.\n\nMore." });
});
