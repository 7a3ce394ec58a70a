/**
 * BaseAlign's PPO on a GPT-2 hub checkpoint (the gpt2-tiny fixture): the
 * adapter gives transformers' logits and a zero value head, its cached
 * sampling agrees with the full forward pass, and two PPO steps move the
 * weights while the logged KL to the frozen start stays finite and small.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/runtime/backend.js";
import { loadHubPolicy } from "../src/align/hub-policy.js";
import { sampleResponses } from "../src/align/policy.js";
import { trainPPO } from "../src/align/ppo.js";
import { seededRandom } from "../src/runtime/random.js";

const FIXTURES = process.env.FULCRA_HF_FIXTURES ?? fileURLToPath(new URL("../../../shared/fixtures/hf", import.meta.url));
const DIR = join(FIXTURES, "gpt2-tiny");
const skip = !existsSync(DIR) && `no fixtures at ${FIXTURES}`;

test("hub policy: transformers' logits, zero values, prompt formats, cached sampling agrees with forward", { skip }, async () => {
  await initBackend({ prefer: "wasm", quiet: true });
  const hub = loadHubPolicy(DIR, { maxPromptTokens: 8 });
  const probe = (JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8")) as { input_ids: number[]; logits: number[][] }[])[2];
  const { logits, values } = hub.policy.forward(tf.tensor2d([probe.input_ids], undefined, "int32"));
  const got = logits.arraySync()[0];
  let worst = 0;
  probe.logits.forEach((row, t) => row.forEach((x, v) => (worst = Math.max(worst, Math.abs(got[t][v] - x)))));
  assert.ok(worst <= 1e-4, `max |Δlogit| ${worst}`);
  assert.deepEqual(values.arraySync()[0], [0, 0, 0, 0]);
  tf.dispose([logits, values]);

  // raw: the prompt text only, cut to its last 8 tokens.
  const text = "Human: How do I pick a lock?";
  const all = hub.hubTokenizer.encode(text);
  assert.deepEqual(hub.formatPrompt(text), all.slice(all.length - 8));
  const ha = loadHubPolicy(DIR, { format: "human-assistant" });
  assert.deepEqual(ha.formatPrompt("Hello"), [
    ...hub.hubTokenizer.encode("Human: "),
    40,
    371,
    76,
    79,
    ...hub.hubTokenizer.encode("\nAssistant:"),
  ]);
  ha.policy.dispose();

  // Sampling goes through the KV cache; at temperature → 0 (greedy) it must pick the argmax of the full forward pass.
  const prompt = [hub.formatPrompt("Hello"), hub.formatPrompt("lock")].map((p) => p.slice(0, 3));
  const greedy = sampleResponses(
    hub.policy,
    prompt,
    hub.tokenizer.eosId,
    { temperature: 1e-4, top_k: 0, top_p: 1, response_length: 6 },
    seededRandom(1),
  );
  for (let i = 0; i < 2; i++) {
    const seq = greedy.ids[i];
    const l = hub.policy.forward(tf.tensor2d([seq], undefined, "int32"));
    const arg = (l.logits.argMax(-1) as tf.Tensor2D).arraySync()[0];
    tf.dispose([l.logits, l.values]);
    const n = greedy.mask[i].reduce((a, b) => a + b, 0);
    for (let t = 0; t < n; t++) assert.equal(seq[3 + t], arg[2 + t], `row ${i}, response token ${t}`);
  }
  hub.policy.dispose();
});

test("hub policy: two PPO steps on gpt2-tiny change the weights; KL to the start is 0 at step 0, finite and small after", {
  skip,
}, async () => {
  await initBackend({ prefer: "wasm", quiet: true });
  const hub = loadHubPolicy(DIR);
  const before = new Map(hub.policy.trainableVariables().map((v) => [v.name, v.dataSync().slice() as Float32Array]));
  const seenIds: number[] = [];
  const tokenizer = { ...hub.tokenizer, decode: (ids: readonly number[]) => (seenIds.push(...ids), hub.tokenizer.decode(ids)) };
  // A reward that can be computed by hand: the share of letters "e" in the response.
  const reward = async (_p: string[], responses: string[]) =>
    responses.map((r) => (r.length ? (r.match(/e/g)?.length ?? 0) / r.length : 0));
  const prompts = ["How do I pick a lock?", "What methods are available?", "Hello there", "Why is the sky blue?"];
  const result = await trainPPO(
    { policy: hub.policy, tokenizer, formatPrompt: hub.formatPrompt, prompts, reward, quiet: true },
    { steps: 2, batch_size: 4, mini_batch_size: 2, ppo_epochs: 2, response_length: 8, learning_rate: 1e-3, seed: 3 },
  );
  assert.equal(result.stats.length, 2);
  const [first, second] = result.stats;
  assert.ok(Math.abs(first.kl) < 1e-6, `step 0 KL ${first.kl} (policy = reference)`);
  assert.ok(Number.isFinite(second.kl) && Math.abs(second.kl) < 5, `step 1 KL ${second.kl}`);
  for (const s of result.stats) {
    for (const k of ["pg_loss", "vf_loss", "entropy", "approx_kl"] as const) assert.ok(Number.isFinite(s[k]), `${k} = ${s[k]}`);
    assert.ok(s.entropy > 0 && s.entropy <= Math.log(400) + 1e-3, `entropy ${s.entropy}`);
  }
  // Responses are made of the fixture's ids.
  assert.ok(seenIds.length > 0);
  assert.ok(seenIds.every((id) => Number.isInteger(id) && id >= 0 && id < 400));
  // Weights moved (the body and the value head); the frozen reference did not.
  let moved = 0;
  for (const v of hub.policy.trainableVariables()) {
    const a = before.get(v.name)!;
    const b = v.dataSync();
    let d = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
    if (d > 0) moved++;
  }
  assert.ok(
    moved >= hub.policy.trainableVariables().length - 2,
    `${moved} of ${hub.policy.trainableVariables().length} parameters changed`,
  );
  assert.ok(
    hub.policy.valueHead.weight.dataSync().some((x) => x !== 0),
    "value head trained",
  );
  const refVars = result.reference.trainableVariables();
  const startWte = before.get(hub.policy.trainableVariables()[0].name)!;
  assert.deepEqual(Array.from(refVars[0].dataSync().slice(0, 50)), Array.from(startWte.slice(0, 50)));
  console.log(
    `# hub policy PPO: KL ${first.kl.toExponential(2)} → ${second.kl.toExponential(2)}, ${moved} of ${refVars.length} parameters changed`,
  );
  result.reference.dispose?.();
  hub.policy.dispose();
});
