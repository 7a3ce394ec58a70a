import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";
import { ChatClient, chatClientFromEnv, LlmError, parseRetryAfter } from "../src/llm/client.js";
import { readDoneJobs, runResumable } from "../src/llm/jobs.js";
import { startChatServer } from "./llm-server.js";
import { tempDir } from "./helpers.js";

const SECRET = "sk-test-7f3a9c1e55d04b2b8e6a";

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

test("a second identical call is answered from the disk cache, even by a new client", async () => {
  const server = await startChatServer((req) => ({ content: `echo: ${req.body.messages!.at(-1)!.content}` }));
  try {
    const cacheDir = tempDir();
    const make = () => new ChatClient({ baseUrl: server.baseUrl, model: "m1", apiKey: SECRET, cacheDir, log: () => {} });
    const a = make();
    const msgs = [{ role: "user" as const, content: "hello" }];
    assert.equal(await a.complete(msgs), "echo: hello");
    assert.equal(await a.complete(msgs), "echo: hello");
    assert.equal(server.requests.length, 1);
    // A fresh client (a rerun) reads the same files.
    assert.equal(await make().complete(msgs), "echo: hello");
    assert.equal(server.requests.length, 1);
    // Different options or model: a different key, so a new request.
    assert.equal(await a.complete(msgs, { temperature: 0.7 }), "echo: hello");
    assert.equal(server.requests.length, 2);
    assert.equal(server.requests[1].body.temperature, 0.7);
    assert.equal(server.requests[0].body.temperature, 0, "default temperature is 0");
    await new ChatClient({ baseUrl: server.baseUrl, model: "m2", cacheDir, log: () => {} }).complete(msgs, { maxTokens: 5 });
    assert.equal(server.requests.length, 3);
    assert.equal(server.requests[2].body.model, "m2");
    assert.equal(server.requests[2].body.max_tokens, 5);
    assert.equal(server.requests[2].url, "/v1/chat/completions");
    // The key is sent in the header, and nowhere in the cache.
    assert.equal(server.requests[0].headers.authorization, `Bearer ${SECRET}`);
    assert.equal(server.requests[2].headers.authorization, undefined, "no key configured, no header");
    const files = allFiles(cacheDir);
    assert.equal(files.length, 3);
    for (const f of files) assert.ok(!readFileSync(f, "utf8").includes(SECRET), `${f} must not contain the key`);
    assert.ok(!JSON.stringify(a).includes(SECRET));
    // util.inspect is what console.log uses.
    assert.ok(!inspect(a, { showHidden: true, depth: 5 }).includes(SECRET));
    assert.ok(!a.cacheKey(msgs).includes(SECRET));
  } finally {
    await server.close();
  }
});

test("429 and 500 are retried with exponential backoff and Retry-After; the answer then arrives", async () => {
  const server = await startChatServer((_req, n) => {
    if (n === 1) return { status: 429, raw: '{"error":"slow down"}', headers: { "retry-after": "7" } };
    if (n === 2) return { status: 500, raw: "oops" };
    if (n === 3) return { status: 503, raw: "" };
    return { content: "finally" };
  });
  try {
    const waits: number[] = [];
    const logs: string[] = [];
    const client = new ChatClient({
      baseUrl: server.baseUrl,
      model: "m",
      apiKey: SECRET,
      cacheDir: null,
      initialBackoffMs: 100,
      sleep: async (ms) => void waits.push(ms),
      log: (l) => logs.push(l),
    });
    assert.equal(await client.complete([{ role: "user", content: "hi" }]), "finally");
    assert.equal(server.requests.length, 4);
    // Retry-After 7 s wins over the first backoff; then 100·2¹, 100·2².
    assert.deepEqual(waits, [7000, 200, 400]);
    assert.equal(logs.length, 3);
    assert.match(logs[0], /HTTP 429/);
    for (const l of logs) assert.ok(!l.includes(SECRET));
  } finally {
    await server.close();
  }
});

test("a 4xx fails at once with a helpful message that never shows the key, even when the server echoes it", async () => {
  const server = await startChatServer((req) => ({
    status: 401,
    raw: JSON.stringify({ error: { message: `Incorrect API key provided: ${String(req.headers.authorization).slice(7)}` } }),
  }));
  try {
    const client = new ChatClient({
      baseUrl: server.baseUrl,
      model: "m",
      apiKey: SECRET,
      cacheDir: null,
      sleep: async () => {},
      log: () => {},
    });
    await assert.rejects(client.complete([{ role: "user", content: "hi" }]), (e: LlmError) => {
      assert.ok(e instanceof LlmError);
      assert.equal(e.status, 401);
      assert.match(e.message, /401/);
      assert.match(e.message, /FULCRA_LLM_API_KEY/);
      assert.match(e.message, /\[redacted key\]/);
      assert.ok(!e.message.includes(SECRET));
      assert.ok(!String(e.stack).includes(SECRET));
      return true;
    });
    assert.equal(server.requests.length, 1, "4xx is not retried");
  } finally {
    await server.close();
  }
});

test("network errors are retried, then reported with the attempt count", async () => {
  // A port nobody listens on: grab one from a server, then close it.
  const server = await startChatServer(() => ({ content: "x" }));
  const baseUrl = server.baseUrl;
  await server.close();
  const waits: number[] = [];
  const client = new ChatClient({
    baseUrl,
    model: "m",
    apiKey: SECRET,
    cacheDir: null,
    maxRetries: 2,
    initialBackoffMs: 10,
    sleep: async (ms) => void waits.push(ms),
    log: () => {},
  });
  await assert.rejects(client.complete([{ role: "user", content: "hi" }]), (e: LlmError) => {
    assert.match(e.message, /failed 3 times/);
    assert.match(e.message, /network error/);
    assert.ok(!e.message.includes(SECRET));
    return true;
  });
  assert.deepEqual(waits, [10, 20]);
});

test("chatClientFromEnv reads FULCRA_LLM_* with OPENAI_* fallbacks and says what is missing", async () => {
  const c = chatClientFromEnv(
    { cacheDir: null },
    { OPENAI_BASE_URL: "http://127.0.0.1:9/v1/", FULCRA_LLM_MODEL: "mm", OPENAI_API_KEY: SECRET },
  );
  assert.equal(c.endpoint, "http://127.0.0.1:9/v1/chat/completions");
  assert.equal(c.model, "mm");
  assert.deepEqual(c.toJSON().apiKey, "(set)");
  const d = chatClientFromEnv(
    { cacheDir: null },
    { FULCRA_LLM_BASE_URL: "http://a/v1", OPENAI_BASE_URL: "http://b/v1", FULCRA_LLM_MODEL: "x" },
  );
  assert.equal(d.baseUrl, "http://a/v1");
  assert.throws(() => chatClientFromEnv({}, {}), /FULCRA_LLM_BASE_URL.*FULCRA_LLM_MODEL/);
  assert.equal(parseRetryAfter("2"), 2000);
  assert.equal(parseRetryAfter("Thu, 01 Jan 1970 00:00:10 GMT", 4000), 6000);
  assert.equal(parseRetryAfter(null), undefined);
});

test("runResumable appends as jobs finish and a rerun skips the done ones (a torn last line is redone)", async () => {
  const dir = tempDir();
  const out = join(dir, "sub", "verdicts.jsonl");
  const items = ["a", "b", "c", "d", "e"];
  const calls: string[] = [];
  // First run: "d" fails, so the run stops; the others that started are kept.
  await assert.rejects(
    runResumable(items, {
      outFile: out,
      idOf: (x) => x,
      concurrency: 1,
      quiet: true,
      run: async (x) => {
        calls.push(x);
        if (x === "d") throw new Error("boom");
        return { upper: x.toUpperCase() };
      },
    }),
    /job "d" \(item 3\) failed: boom[\s\S]*3 of 5 jobs are saved/,
  );
  assert.deepEqual(calls, ["a", "b", "c"].concat("d"));
  assert.deepEqual([...readDoneJobs(out).results.keys()], ["a", "b", "c"]);
  // Simulate a crash mid-write of "c"'s line: drop its line and leave half of it.
  const lines = readFileSync(out, "utf8").trim().split("\n");
  writeFileSync(out, lines.slice(0, 2).join("\n") + "\n" + lines[2].slice(0, 10));

  calls.length = 0;
  const r = await runResumable(items, {
    outFile: out,
    idOf: (x) => x,
    concurrency: 2,
    quiet: true,
    run: async (x) => (calls.push(x), { upper: x.toUpperCase() }),
  });
  assert.deepEqual(calls.sort(), ["c", "d", "e"]);
  assert.equal(r.skipped, 2);
  assert.equal(r.ran, 3);
  assert.deepEqual(r.badLines, [3]);
  assert.deepEqual(Object.fromEntries(r.results), {
    a: { upper: "A" },
    b: { upper: "B" },
    c: { upper: "C" },
    d: { upper: "D" },
    e: { upper: "E" },
  });
  // Third run: nothing to do.
  calls.length = 0;
  appendFileSync(out, "");
  const r3 = await runResumable(items, { outFile: out, idOf: (x) => x, quiet: true, run: async (x) => (calls.push(x), { upper: "?" }) });
  assert.deepEqual(calls, []);
  assert.equal(r3.skipped, 5);
  assert.equal(r3.results.get("e")!.upper, "E");
  // "continue" collects failures instead of stopping.
  const r4 = await runResumable(["p", "q"], {
    outFile: join(dir, "x.jsonl"),
    idOf: (x) => x,
    onError: "continue",
    quiet: true,
    run: async (x) => {
      if (x === "p") throw new Error("no");
      return 1;
    },
  });
  assert.equal(r4.failures.length, 1);
  assert.equal(r4.failures[0].id, "p");
  assert.equal(r4.ran, 1);
});

test("runResumable with the chat client: one request per item, none on resume", async () => {
  const server = await startChatServer((req) => ({ content: req.body.messages![0].content.length % 2 ? "unsafe" : "safe" }));
  try {
    const client = new ChatClient({ baseUrl: server.baseUrl, model: "m", apiKey: SECRET, cacheDir: null, log: () => {} });
    const out = join(tempDir(), "out.jsonl");
    const prompts = ["one", "four", "three"];
    const run = () =>
      runResumable(prompts, {
        outFile: out,
        idOf: (_p, i) => `q${i}`,
        quiet: true,
        run: (p) => client.complete([{ role: "user", content: p }]),
      });
    const first = await run();
    assert.deepEqual([...first.results.entries()].sort(), [
      ["q0", "unsafe"],
      ["q1", "safe"],
      ["q2", "unsafe"],
    ]);
    const second = await run();
    assert.equal(second.skipped, 3);
    assert.equal(server.requests.length, 3);
    assert.ok(!readFileSync(out, "utf8").includes(SECRET));
  } finally {
    await server.close();
  }
});
