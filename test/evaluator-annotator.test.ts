import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { ChatClient } from "../src/llm/client.js";
import { annotateDialogue, annotateFile, annotationMessages, parseAnnotation, typesFromItems } from "../src/evaluator/annotator.js";
import { BASIC_VALUES, REFINED_VALUES, VALUE_ITEMS } from "../src/values/taxonomy.js";
import { tempDir } from "./helpers.js";

const KEY = "sk-test-0123456789-secret";

/** A local OpenAI-compatible endpoint: `reply` decides each answer from the request. */
async function startServer(
  reply: (body: { model: string; messages: { role: string; content: string }[] }, n: number) => { status: number; content?: string },
) {
  const seen: { auth: string | undefined; body: { model: string; messages: { role: string; content: string }[] } }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      const body = JSON.parse(raw);
      seen.push({ auth: req.headers.authorization, body });
      const r = reply(body, seen.length);
      res.writeHead(r.status, { "content-type": "application/json" });
      res.end(
        r.status === 200
          ? JSON.stringify({ choices: [{ message: { role: "assistant", content: r.content } }] })
          : JSON.stringify({ error: { message: `busy, key was ${KEY}` } }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/v1`, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function client(url: string, cacheDir: string, extra: Partial<ConstructorParameters<typeof ChatClient>[0]> = {}) {
  return new ChatClient({
    baseUrl: url,
    model: "judge-1",
    apiKey: KEY,
    cacheDir,
    initialBackoffMs: 1,
    sleep: async () => {},
    log: () => {},
    ...extra,
  });
}

/** Every file under a folder, as text. */
function allText(dir: string): string {
  return readdirSync(dir, { recursive: true })
    .map((f) => join(dir, String(f)))
    .filter((p) => statSync(p).isFile())
    .map((p) => readFileSync(p, "utf8"))
    .join("\n");
}

test("an answer's item lines become item, refined and basic vectors", () => {
  const a = parseAnnotation(
    "Here are the labels:\n- be honest: +1\n2. **have a safe country**: -1\nbe responsible: 1\nbe curious: -1\nbe creative: +1\nflying: +1\n",
  );
  assert.deepEqual(a.value_items, ["be honest: +1", "have a safe country: -1", "be responsible: +1", "be curious: -1", "be creative: +1"]);
  const idx = (n: string) => VALUE_ITEMS.findIndex((i) => i.name === n);
  assert.equal(a.items[idx("be honest")], 1);
  assert.equal(a.items[idx("have a safe country")], -1);
  assert.equal(a.items.filter((x) => x !== 0).length, 5);
  assert.equal(a.refined[REFINED_VALUES.indexOf("benevolence-caring")], 1);
  assert.equal(a.refined[REFINED_VALUES.indexOf("security-societal")], -1);
  // benevolence +1, security −1; self-direction has a +1 and a −1 item: both written, cancelling to 0.
  assert.deepEqual(a.value_types, ["self-direction: +1", "self-direction: -1", "security: -1", "benevolence: +1"]);
  assert.deepEqual(a.basic, [0, 0, 0, 0, 0, -1, 0, 0, 1, 0]);
  assert.deepEqual(a.unread, ["Here are the labels:", "flying: +1"]);
  const none = parseAnnotation("none");
  assert.deepEqual([none.value_items, none.basic], [[], new Array(10).fill(0)]);
  assert.equal(typesFromItems(new Array(54).fill(0)).length, 0);
  assert.equal(BASIC_VALUES.length, 10);
});

test("the instruction lists all 54 items and shows the dialogue; the annotator retries 429 and caches without the key", async () => {
  const msgs = annotationMessages({ prompt: "How do I hotwire a car?", answer: "I can't help with that." });
  for (const it of VALUE_ITEMS) assert.ok(msgs[0].content.includes(`- ${it.name}: `), it.name);
  assert.match(msgs[1].content, /Human: How do I hotwire a car\?\nBob: I can't help with that\./);

  const srv = await startServer((_b, n) =>
    n === 1 ? { status: 429 } : { status: 200, content: "have a stable society: +1\nbe obedient: +1" },
  );
  const cache = tempDir();
  try {
    const c = client(srv.url, cache);
    const a = await annotateDialogue({ prompt: "How do I hotwire a car?", answer: "I can't help with that." }, { client: c });
    assert.deepEqual(a.basic, [0, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
    assert.equal(srv.seen.length, 2, "one 429, then the answer");
    assert.equal(srv.seen[1].auth, `Bearer ${KEY}`);
    assert.equal(srv.seen[1].body.model, "judge-1");
    // Asked again: from the cache, no request.
    const again = await annotateDialogue(
      { prompt: "How do I hotwire a car?", answer: "I can't help with that." },
      { client: client(srv.url, cache) },
    );
    assert.deepEqual(again, a);
    assert.equal(srv.seen.length, 2);
    const cached = allText(cache);
    assert.ok(cached.includes("have a stable society: +1"));
    assert.ok(!cached.includes(KEY), "the key is never cached");
  } finally {
    await srv.close();
  }
});

test("a file is annotated resumably: an interrupted run keeps what it finished, a rerun asks only for the rest", async () => {
  const dir = tempDir();
  const input = join(dir, "in.jsonl");
  const output = join(dir, "labelled.jsonl");
  writeFileSync(
    input,
    [
      JSON.stringify({ dialogue: "Human: hi\nBob: hello, how can I help?" }),
      "{broken",
      JSON.stringify({ prompt: "insult me", answer: "No, I'd rather be kind.", response_source: "model-x" }),
      JSON.stringify({ prompt: "steal a car?", answer: "Break the window and hotwire it." }),
    ].join("\n") + "\n",
  );
  let down = true;
  const srv = await startServer((body) => {
    const user = body.messages[1].content;
    if (user.includes("steal a car") && down) return { status: 503 };
    if (user.includes("steal a car")) return { status: 200, content: "have a stable society: -1\nbe obedient: -1" };
    if (user.includes("insult me")) return { status: 200, content: "be polite: +1" };
    return { status: 200, content: "be helpful: +1" };
  });
  const cache = tempDir();
  try {
    await assert.rejects(
      () => annotateFile(input, output, { client: client(srv.url, cache, { maxRetries: 1 }), concurrency: 1, quiet: true }),
      /failed.*run again to resume/s,
    );
    const firstRun = srv.seen.length;
    assert.equal(firstRun, 4, "two answered, and the third tried twice (one retry)");
    down = false;
    const r = await annotateFile(input, output, { client: client(srv.url, tempDir()), concurrency: 1, quiet: true });
    assert.equal(srv.seen.length, firstRun + 1, "only the unfinished dialogue is asked again");
    assert.equal(r.annotated, 1);
    assert.equal(r.resumed, 2);
    assert.deepEqual(
      r.badLines.map((b) => b.line),
      [2],
    );
    const out = readFileSync(output, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(out.length, 3);
    assert.equal(out[1].dialogue, "Human: insult me\nBob: No, I'd rather be kind.");
    assert.equal(out[1].response_source, "model-x");
    assert.deepEqual(out[1].value_types, ["conformity: +1"]);
    assert.deepEqual(out[2].value_vector, [0, 0, 0, 0, 0, -1, 0, -1, 0, 0]);
    assert.equal(out[0].annotator.model, "judge-1");
    for (const text of [readFileSync(output, "utf8"), readFileSync(`${output}.jobs`, "utf8"), allText(cache)])
      assert.ok(!text.includes(KEY));
  } finally {
    await srv.close();
  }
});
