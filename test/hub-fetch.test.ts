/**
 * `fulcra models fetch` against a local stand-in for the hub (127.0.0.1
 * only) that serves the gpt2-tiny fixture the way the hub does: the API
 * listing with LFS hashes, `resolve` URLs behind a redirect, Range requests.
 * Checks the file selection, resume after a broken transfer, refusal of a
 * corrupted file, and that the fetched folder loads and gives transformers' logits.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { fetchModel, selectModelFiles } from "../src/hub/fetch.js";
import { loadGpt2FromHub } from "../src/hub/gpt2.js";
import { loadHubBpeTokenizer } from "../src/hub/bpe.js";
import { initBackend } from "../src/runtime/backend.js";
import { main } from "../src/cli/main.js";
import { tempDir } from "./helpers.js";

const FIXTURES = process.env.FULCRA_HF_FIXTURES ?? fileURLToPath(new URL("../../../shared/fixtures/hf", import.meta.url));
const DIR = join(FIXTURES, "gpt2-tiny");
const REPO = "test-org/gpt2-tiny";
const LFS = new Set(["model.safetensors"]);

/** What the stand-in does wrong on purpose. */
const faults = { breakAfter: 0, corrupt: false };
const seen: { path: string; range?: string }[] = [];

function serve(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  seen.push({ path: url.pathname, range: req.headers.range });
  const files = readdirSync(DIR).sort();
  if (url.pathname === `/api/models/${REPO}/revision/main`) {
    assert.equal(url.searchParams.get("blobs"), "true");
    const siblings = files.map((name) => {
      const bytes = readFileSync(join(DIR, name));
      const entry: Record<string, unknown> = { rfilename: name, size: bytes.length, blobId: "0".repeat(40) };
      if (LFS.has(name)) entry.lfs = { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length, pointerSize: 134 };
      return entry;
    });
    siblings.push({ rfilename: "pytorch_model.bin", size: 10 }, { rfilename: "README.md", size: 5 });
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id: REPO, sha: "abc123def4567890", siblings }));
    return;
  }
  const resolve = url.pathname.match(new RegExp(`^/${REPO}/resolve/main/(.+)$`));
  if (resolve) {
    // Like the hub: LFS files redirect to another URL.
    const name = decodeURIComponent(resolve[1]);
    if (LFS.has(name)) {
      res.writeHead(302, { location: `/cdn/${name}` }).end();
      return;
    }
    res.writeHead(200).end(readFileSync(join(DIR, name)));
    return;
  }
  const cdn = url.pathname.match(/^\/cdn\/(.+)$/);
  if (cdn) {
    let bytes = readFileSync(join(DIR, cdn[1]));
    if (faults.corrupt) {
      bytes = Buffer.from(bytes);
      bytes[bytes.length - 100] ^= 1;
    }
    let start = 0;
    const range = req.headers.range?.match(/^bytes=(\d+)-$/);
    if (range) start = Number(range[1]);
    const body = bytes.subarray(start);
    res.writeHead(range ? 206 : 200, {
      "content-length": body.length,
      ...(range ? { "content-range": `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}),
    });
    if (faults.breakAfter > 0) {
      // Send part of the body, then drop the connection.
      res.write(body.subarray(0, faults.breakAfter), () => setTimeout(() => res.destroy(), 20));
      faults.breakAfter = 0;
      return;
    }
    res.end(body);
    return;
  }
  res.writeHead(404).end("not found");
}

const server = createServer(serve);
const ready = new Promise<string>((resolve) =>
  server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
);
after(() => server.close());

test("fetch: selection of a model folder's files from a listing", () => {
  const names = [
    "config.json",
    "model.safetensors",
    "pytorch_model.bin",
    "tf_model.h5",
    "README.md",
    "merges.txt",
    "model-00001-of-00002.safetensors",
    "model.safetensors.index.json",
    "onnx/model.onnx",
    "spm.model",
  ];
  const { wanted, skipped } = selectModelFiles(names.map((name) => ({ name })));
  assert.deepEqual(
    wanted.map((f) => f.name),
    ["config.json", "model.safetensors", "merges.txt", "model-00001-of-00002.safetensors", "model.safetensors.index.json", "spm.model"],
  );
  assert.deepEqual(skipped, ["pytorch_model.bin", "tf_model.h5", "README.md", "onnx/model.onnx"]);
  assert.deepEqual(
    selectModelFiles([{ name: "README.md" }], { include: ["*.md"] }).wanted.map((f) => f.name),
    ["README.md"],
  );
  // A revision without safetensors (microsoft/deberta-v3-large): its pytorch_model.bin, which the kit reads.
  const binOnly = selectModelFiles(["config.json", "pytorch_model.bin", "tf_model.h5", "spm.model"].map((name) => ({ name })));
  assert.deepEqual(
    binOnly.wanted.map((f) => f.name),
    ["config.json", "spm.model", "pytorch_model.bin"],
  );
  assert.deepEqual(binOnly.skipped, ["tf_model.h5"]);
});

test("fetch: a broken transfer resumes with a Range request, the result is the hub's bytes, and the folder loads", {
  skip: !existsSync(DIR) && `no fixtures at ${FIXTURES}`,
}, async () => {
  const endpoint = await ready;
  const out = join(tempDir("fulcra-fetch-"), "gpt2-tiny");
  faults.breakAfter = 60000;
  await assert.rejects(
    fetchModel(REPO, out, { endpoint, quiet: true }),
    /transfer broke off after \d+ bytes .*run the same command again to resume/,
  );
  const part = join(out, "model.safetensors.part");
  assert.ok(existsSync(part), "the partial file is kept");
  const partial = statSync(part).size;
  assert.ok(partial >= 60000 && partial < statSync(join(DIR, "model.safetensors")).size, `partial size ${partial}`);

  seen.length = 0;
  const r = await fetchModel(REPO, out, { endpoint, quiet: true });
  const weights = r.files.find((f) => f.name === "model.safetensors")!;
  assert.equal(weights.status, "resumed");
  assert.equal(weights.verified, true);
  assert.ok(
    seen.some((s) => s.path === "/cdn/model.safetensors" && s.range === `bytes=${partial}-`),
    "resumed from the partial file's size",
  );
  assert.ok(!existsSync(part));
  assert.ok(readFileSync(join(out, "model.safetensors")).equals(readFileSync(join(DIR, "model.safetensors"))));
  // Only the model folder's files (expected.json, README.md and pytorch_model.bin are not).
  assert.deepEqual(r.files.map((f) => f.name).sort(), [
    "config.json",
    "generation_config.json",
    "merges.txt",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
  ]);
  assert.deepEqual(r.skipped.sort(), ["README.md", "expected.json", "pytorch_model.bin"]);
  const record = JSON.parse(readFileSync(join(out, "fulcra-fetch.json"), "utf8"));
  assert.equal(record.commit, "abc123def4567890");

  // A second run fetches nothing again.
  seen.length = 0;
  const again = await fetchModel(REPO, out, { endpoint, quiet: true });
  assert.ok(again.files.every((f) => f.status === "present"));
  assert.ok(!seen.some((s) => s.path.includes("/resolve/") || s.path.startsWith("/cdn/")));

  // The fetched folder is a working model: transformers' logits for the first probe.
  await initBackend({ prefer: "cpu", quiet: true });
  const { model } = loadGpt2FromHub(out);
  const probe = (JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8")) as { text: string; logits: number[][] }[])[2];
  const ids = loadHubBpeTokenizer(out).encode(probe.text);
  const got = tf.tidy(() => model.forward(tf.tensor2d([ids], undefined, "int32")).arraySync()[0]);
  let worst = 0;
  probe.logits.forEach((row, t) => row.forEach((x, v) => (worst = Math.max(worst, Math.abs(got[t][v] - x)))));
  assert.ok(worst <= 1e-4, `max |Δlogit| ${worst}`);
  model.dispose();
});

test("fetch: a file whose bytes do not match the hub's SHA-256 is removed and the run fails; present files are re-checked", {
  skip: !existsSync(DIR) && `no fixtures at ${FIXTURES}`,
}, async () => {
  const endpoint = await ready;
  const out = tempDir("fulcra-fetch-bad-");
  faults.corrupt = true;
  try {
    await assert.rejects(
      fetchModel(REPO, out, { endpoint, quiet: true }),
      /model\.safetensors: SHA-256 [0-9a-f]{64} does not match the hub's [0-9a-f]{64} .*the file was removed/,
    );
  } finally {
    faults.corrupt = false;
  }
  assert.ok(!existsSync(join(out, "model.safetensors")));
  assert.ok(!existsSync(join(out, "model.safetensors.part")));
  // A complete-looking file with other bytes already in the folder is replaced by the hub's.
  const good = readFileSync(join(DIR, "model.safetensors"));
  const tampered = Buffer.from(good);
  tampered[200] ^= 4;
  writeFileSync(join(out, "model.safetensors"), tampered);
  const r = await fetchModel(REPO, out, { endpoint, quiet: true });
  assert.equal(r.files.find((f) => f.name === "model.safetensors")!.status, "downloaded");
  assert.ok(readFileSync(join(out, "model.safetensors")).equals(good));
});

test("fulcra models fetch: the command, and clear errors", { skip: !existsSync(DIR) && `no fixtures at ${FIXTURES}` }, async () => {
  const endpoint = await ready;
  const previous = process.env.FULCRA_HUB_ENDPOINT;
  process.env.FULCRA_HUB_ENDPOINT = endpoint;
  const out = tempDir("fulcra-fetch-cli-");
  const logs: string[] = [];
  const errors: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => logs.push(a.join(" "));
  console.error = (...a: unknown[]) => errors.push(a.join(" "));
  try {
    assert.equal(await main(["models", "fetch", REPO, "--out", out, "--quiet"]), 0);
    assert.match(logs.join("\n"), /test-org\/gpt2-tiny@main \(commit abc123def456\) → .*: 7 files/);
    assert.match(logs.join("\n"), /model\.safetensors\s+downloaded\s+sha256 ok/);
    assert.equal(await main(["models", "fetch", "test-org/absent", "--out", out, "--quiet"]), 1);
    assert.match(errors.join("\n"), /404; no repository "test-org\/absent" with a revision "main"/);
    assert.equal(await main(["models", "fetch", REPO]), 2);
    assert.match(errors.join("\n"), /--out DIR is required/);
  } finally {
    console.log = log;
    console.error = error;
    if (previous === undefined) delete process.env.FULCRA_HUB_ENDPOINT;
    else process.env.FULCRA_HUB_ENDPOINT = previous;
  }
});
