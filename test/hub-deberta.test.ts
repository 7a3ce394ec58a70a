/**
 * DeBERTa-v3 hub checkpoints against transformers: the tiny reward and
 * evaluator checkpoints of ../shared/fixtures/hf with the token ids, logits
 * and first-token hidden states that transformers 5.17 computed for them,
 * on the cpu and wasm backends. Also the spm.model-only tokenizer against
 * sentencepiece 0.1.97, the log buckets by hand, gradients, and the command.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend, type BackendName } from "../src/runtime/backend.js";
import {
  loadHubEncoder,
  logBucketPosition,
  scoreWithModel,
  unigramFromSpm,
  rewardScores,
  hubRewardScorer,
  splitHhTranscript,
} from "../src/hub/index.js";
import { scoreOutputs } from "../src/metrics/score.js";
import { hhTranscript } from "../src/metrics/reward-model.js";
import { command as models } from "../src/cli/models.js";
import { tempDir } from "./helpers.js";

export const HF_FIXTURES = resolve(process.env.FULCRA_HF_FIXTURES ?? "../shared/fixtures/hf");
const CASES = ["deberta-v3-tiny-reward", "deberta-v3-tiny-evaluator"];
const BACKENDS: BackendName[] = ["cpu", "wasm"];

interface PairCase {
  text: string;
  text_pair: string;
  input_ids: number[];
  attention_mask: number[];
  logits: number[];
  last_hidden_state_cls: number[];
}
interface BatchCase {
  batch: true;
  input_ids: number[][];
  attention_mask: number[][];
  logits: number[][];
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;
const maxAbsDiff = (a: number[], b: number[]) => {
  assert.equal(a.length, b.length, "lengths differ");
  return Math.max(0, ...a.map((x, i) => Math.abs(x - b[i])));
};

for (const backend of BACKENDS) {
  for (const name of CASES) {
    test(`${name} on ${backend}: ids exact, logits and hidden states within 1e-4 (padded batch included)`, async (t) => {
      await initBackend({ prefer: backend, quiet: true });
      const dir = join(HF_FIXTURES, name);
      const hub = loadHubEncoder(dir);
      const expected = readJson<(PairCase | BatchCase)[]>(join(dir, "expected.json"));
      let worstLogit = 0;
      let worstHidden = 0;
      for (const e of expected) {
        if ("batch" in e) {
          const logits = tf.tidy(() => hub.model.forward({ inputIds: e.input_ids, attentionMask: e.attention_mask }).logits!.arraySync());
          e.logits.forEach((row, i) => (worstLogit = Math.max(worstLogit, maxAbsDiff(logits[i], row))));
          // The same two pairs through the tokenizer and the batching of `models score`.
          const pairs = expected
            .filter((x): x is PairCase => !("batch" in x))
            .filter((x) => e.input_ids.some((row) => row.slice(0, x.input_ids.length).join() === x.input_ids.join()));
          assert.ok(pairs.length >= 1);
          const scored = scoreWithModel(hub, pairs, { batchSize: 4, quiet: true });
          pairs.forEach((p, i) => (worstLogit = Math.max(worstLogit, maxAbsDiff(scored[i].logits, p.logits))));
          continue;
        }
        const enc = hub.tokenizer.encode(e.text, e.text_pair);
        assert.deepEqual(enc.ids, e.input_ids, `token ids of ${JSON.stringify(e.text.slice(0, 40))}`);
        const [logits, cls] = tf.tidy(() => {
          const o = hub.model.forward({ inputIds: [enc.ids], tokenTypeIds: [enc.typeIds] });
          return [o.logits!.arraySync()[0], o.lastHiddenState.arraySync()[0][0]];
        });
        worstLogit = Math.max(worstLogit, maxAbsDiff(logits, e.logits));
        worstHidden = Math.max(worstHidden, maxAbsDiff(cls, e.last_hidden_state_cls));
      }
      for (const s of readJson<{ text: string; input_ids: number[] }[]>(join(dir, "tokenizer-expected.json"))) {
        assert.deepEqual(hub.tokenizer.encode(s.text).ids, s.input_ids, `token ids of ${JSON.stringify(s.text.slice(0, 40))}`);
      }
      t.diagnostic(`${name} ${backend}: max |Δlogit| ${worstLogit.toExponential(2)}, max |Δhidden[CLS]| ${worstHidden.toExponential(2)}`);
      assert.ok(worstLogit <= 1e-4, `max |Δlogit| ${worstLogit}`);
      assert.ok(worstHidden <= 1e-4, `max |Δhidden| ${worstHidden}`);
      hub.model.dispose();
    });
  }
}

test("log-bucketed relative positions, computed by hand (bucket 32, max 512)", () => {
  // mid = 16; |r| ≤ 16 kept; otherwise ceil(log(|r|/16) / log(511/16) · 15) + 16, with r's sign.
  assert.equal(logBucketPosition(0, 32, 512), 0);
  assert.equal(logBucketPosition(-15, 32, 512), -15);
  assert.equal(logBucketPosition(16, 32, 512), 16);
  assert.equal(logBucketPosition(17, 32, 512), 17); // 0.0606 / 3.4638 · 15 = 0.26 → 1
  assert.equal(logBucketPosition(100, 32, 512), 24); // 1.8326 / 3.4638 · 15 = 7.94 → 8
  assert.equal(logBucketPosition(-511, 32, 512), -31); // exactly 15 → 15
  assert.equal(logBucketPosition(300, 256, 512), 128 + Math.ceil((Math.log(300 / 128) / Math.log(511 / 128)) * 127));
});

test("spm.model alone: ids equal sentencepiece 0.1.97's (nmt_nfkc map, dummy prefix, unknowns fused, user symbols)", () => {
  const tok = unigramFromSpm(join(HF_FIXTURES, "deberta-v3-tiny-reward", "spm.model"));
  const cases: [string, number[]][] = [
    [
      "Human: How do I pick a lock?\nAssistant: I can't help with that.",
      [88, 36, 5, 113, 10, 43, 130, 69, 38, 45, 53, 28, 5, 20, 10, 18, 53, 101, 89, 6, 6, 8, 41, 40, 9, 36, 69, 61, 90, 9, 152, 95, 60, 14],
    ],
    ["Hello", [5, 113, 7, 20, 20, 10]],
    ["ÜÖÄ ok", [5, 3, 5, 10, 53]],
    ["a\u00a0b\tc\n\nd", [28, 76, 57, 5, 13]],
    ["Ｈｅｌｌｏ！", [5, 113, 7, 20, 20, 10, 287]],
    ["zzzq 为作大言语 [MASK] x", [5, 229, 229, 229, 392, 5, 395, 396, 397, 398, 399, 5, 4, 5, 96]],
    ["", []],
  ];
  for (const [text, ids] of cases) assert.deepEqual(tok.tokenize(text).ids, ids, JSON.stringify(text));
  assert.equal(tok.vocabSize, 400);
  // DeBERTa's special tokens from the sentencepiece pieces: [PAD] 0, [CLS] 1, [SEP] 2.
  assert.deepEqual(tok.encode("Hello", "ok").ids, [1, 5, 113, 7, 20, 20, 10, 2, 5, 10, 53, 2]);
  assert.deepEqual(tok.encode("Hello", "ok").typeIds, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
});

test("truncation is longest-first, and padding is on the right with the mask", () => {
  const tok = loadHubEncoder(join(HF_FIXTURES, "deberta-v3-tiny-reward")).tokenizer;
  const long = "a b c d e f g h";
  assert.throws(() => tok.encode(long, "x", { maxLength: 6 }), /12 tokens, longer than the 6 the model allows/);
  const cut = tok.encode(long, "x y", { maxLength: 8, truncation: true });
  assert.deepEqual(cut.ids, [5, 1, 1, 1, 4, 1, 1, 4]); // 8 + 2 words → 3 + 2 words
  assert.equal(cut.truncated, 5);
  const batch = tok.encodeBatch([{ text: "a" }, { text: "a b c" }]);
  assert.deepEqual(batch.inputIds, [
    [5, 1, 4, 0, 0],
    [5, 1, 1, 1, 4],
  ]);
  assert.deepEqual(batch.attentionMask, [
    [1, 1, 1, 0, 0],
    [1, 1, 1, 1, 1],
  ]);
});

test("gradients flow through the whole model on cpu and wasm, and agree with finite differences", async () => {
  const grads: Record<string, Map<string, number[]>> = {};
  for (const backend of BACKENDS) {
    await initBackend({ prefer: backend, quiet: true });
    const hub = loadHubEncoder(join(HF_FIXTURES, "deberta-v3-tiny-evaluator"));
    const batch = hub.tokenizer.encodeBatch([
      { text: "Human: How do I pick a lock? a b c d e f g h i j k l m n o p q", textPair: "No." },
      { text: "Hello", textPair: "x" },
    ]);
    const loss = () =>
      tf.tidy(() => {
        const logits = hub.model.forward(batch).logits!;
        return tf.sum(tf.mul(logits, tf.tensor1d([1, -2, 0.5]))) as tf.Scalar;
      });
    const { grads: g, value } = tf.variableGrads(loss, hub.model.variables());
    value.dispose();
    const byName = new Map<string, number[]>();
    for (const [name, v] of hub.model.weights) {
      const gv = g[v.name];
      assert.ok(gv, `no gradient for ${name} on ${backend}`);
      const data = Array.from(gv.dataSync());
      assert.ok(data.every(Number.isFinite), `${name}: non-finite gradient on ${backend}`);
      assert.ok(
        data.some((x) => x !== 0),
        `${name}: zero gradient on ${backend}`,
      );
      byName.set(name, data);
    }
    tf.dispose(Object.values(g));
    // Central differences on weights deep in the model: the relative embeddings (c2p/p2c), a key projection, a GELU input.
    for (const [name, index] of [
      ["deberta.encoder.rel_embeddings.weight", 40 * 32 + 3],
      ["deberta.encoder.layer.0.attention.self.key_proj.weight", 5],
      ["deberta.encoder.layer.1.intermediate.dense.bias", 7],
    ] as const) {
      const v = hub.model.weights.get(name)!;
      const base = v.dataSync().slice();
      const at = (delta: number) => {
        const changed = base.slice();
        changed[index] += delta;
        v.assign(tf.tensor(changed, v.shape));
        const l = loss();
        const x = l.dataSync()[0];
        l.dispose();
        return x;
      };
      const h = 1e-2;
      const numeric = (at(h) - at(-h)) / (2 * h);
      v.assign(tf.tensor(base, v.shape));
      const analytic = byName.get(name)![index];
      assert.ok(
        Math.abs(numeric - analytic) <= 2e-2 * Math.max(1, Math.abs(analytic)),
        `${name}[${index}] on ${backend}: analytic ${analytic}, numeric ${numeric}`,
      );
    }
    grads[backend] = byName;
    hub.model.dispose();
  }
  let worst = 0;
  for (const [name, g] of grads.cpu) worst = Math.max(worst, maxAbsDiff(g, grads.wasm.get(name)!));
  console.log(`gradients: max |Δ| between cpu and wasm ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-3, `cpu and wasm gradients differ by ${worst}`);
});

/** Runs `fulcra models …`, returning the exit code (errors thrown by the command become 1, as in main). */
async function run(args: string[]): Promise<{ code: number; error?: string }> {
  try {
    return { code: await models.run(args) };
  } catch (e) {
    return { code: 1, error: (e as Error).message };
  }
}

test("fulcra models score: reproduces the fixture logits; clear errors for missing files, unknown architectures, vocabulary mismatch, over-long text", async () => {
  await initBackend({ prefer: "wasm", quiet: true });
  const dir = join(HF_FIXTURES, "deberta-v3-tiny-evaluator");
  const expected = readJson<(PairCase | BatchCase)[]>(join(dir, "expected.json")).filter((e): e is PairCase => !("batch" in e));
  const tmp = tempDir();
  const input = join(tmp, "in.jsonl");
  writeFileSync(input, expected.map((e) => JSON.stringify({ id: e.text.length, text: e.text, text_pair: e.text_pair })).join("\n") + "\n");
  const output = join(tmp, "out.jsonl");
  const ok = await run(["score", dir, "--input", input, "--output", output, "--batch-size", "2", "--quiet"]);
  assert.equal(ok.code, 0, ok.error);
  const lines = readFileSync(output, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { id: number; input_ids: number[]; logits: number[] });
  assert.equal(lines.length, expected.length);
  let worst = 0;
  lines.forEach((l, i) => {
    assert.equal(l.id, expected[i].text.length, "input fields are kept, in input order");
    assert.deepEqual(l.input_ids, expected[i].input_ids);
    worst = Math.max(worst, maxAbsDiff(l.logits, expected[i].logits));
  });
  console.log(`models score (wasm, batches of 2): max |Δlogit| ${worst.toExponential(2)}`);
  assert.ok(worst <= 1e-4);

  assert.match(
    (await run(["score", join(tmp, "nope"), "--input", input, "--output", output, "--quiet"])).error ?? "",
    /nope: no such model folder/,
  );
  assert.match(
    (await run(["score", dir, "--input", join(tmp, "missing.jsonl"), "--output", output, "--quiet"])).error ?? "",
    /missing\.jsonl does not exist/,
  );

  const unknown = join(tmp, "unknown");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(unknown);
  writeFileSync(join(unknown, "config.json"), JSON.stringify({ architectures: ["BertForMaskedLM"] }));
  assert.match(
    (await run(["score", unknown, "--input", input, "--output", output, "--quiet"])).error ?? "",
    /architecture "BertForMaskedLM" is not supported; supported: DebertaV2ForSequenceClassification, DebertaV2Model, DebertaV2ForMaskedLM, GPT2LMHeadModel/,
  );

  // spm.model alone (400 pieces) beside weights with vocab_size 7.
  const mismatch = join(tmp, "mismatch");
  mkdirSync(mismatch);
  for (const f of ["config.json", "model.safetensors", "spm.model", "tokenizer_config.json"]) copyFileSync(join(dir, f), join(mismatch, f));
  assert.match(
    (await run(["score", mismatch, "--input", input, "--output", output, "--quiet"])).error ?? "",
    /vocabulary mismatch: .*spm\.model has 400 ids but .*config\.json says vocab_size 7/,
  );

  // A model that allows 20 positions: the third input line (49 tokens) is too long unless --truncate.
  const short = join(tmp, "short");
  mkdirSync(short);
  for (const f of ["model.safetensors", "tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(dir, f), join(short, f));
  writeFileSync(join(short, "config.json"), JSON.stringify({ ...readJson<object>(join(dir, "config.json")), max_position_embeddings: 20 }));
  assert.match(
    (await run(["score", short, "--input", input, "--output", output, "--quiet"])).error ?? "",
    /in\.jsonl:3: 49 tokens, longer than the 20 the model allows/,
  );
  assert.equal((await run(["score", short, "--input", input, "--output", output, "--quiet", "--truncate"])).code, 0);
  assert.equal((JSON.parse(readFileSync(output, "utf8").trim().split("\n")[2]) as { input_ids: number[] }).input_ids.length, 20);
});

test("reward scores: OpenAssistant format (question, answer) → the single logit", async () => {
  await initBackend({ prefer: "cpu", quiet: true });
  const dir = join(HF_FIXTURES, "deberta-v3-tiny-reward");
  const expected = readJson<(PairCase | BatchCase)[]>(join(dir, "expected.json")).filter((e): e is PairCase => !("batch" in e));
  const hub = loadHubEncoder(dir);
  const scores = rewardScores(
    hub,
    expected.map((e) => ({ prompt: e.text, answer: e.text_pair })),
    { quiet: true },
  );
  assert.ok(
    maxAbsDiff(
      scores,
      expected.map((e) => e.logits[0]),
    ) <= 1e-4,
  );
  const evaluator = loadHubEncoder(join(HF_FIXTURES, "deberta-v3-tiny-evaluator"));
  assert.throws(() => rewardScores(evaluator, [{ prompt: "a", answer: "b" }]), /a reward model has one label .* with 3 label\(s\)/);
});

test("hh score with a hub reward checkpoint: the released-format `reward` is the OpenAssistant-format logit", async () => {
  const dir = join(HF_FIXTURES, "deberta-v3-tiny-reward");
  const expected = readJson<(PairCase | BatchCase)[]>(join(dir, "expected.json")).filter((e): e is PairCase => !("batch" in e));
  assert.deepEqual(splitHhTranscript(hhTranscript("Q?", "A.\n\nAssistant: more")), { prompt: "Q?", answer: "A.\n\nAssistant: more" });
  assert.throws(() => splitHhTranscript("just text"), /not a .*transcript/);
  const reward = await hubRewardScorer(dir, { quiet: true });
  const records = await scoreOutputs(
    expected.map((e, i) => ({ prompt: e.text, answer: e.text_pair, safety_issues: [], line: i + 1 })),
    { reward, values: { score: (d: string[]) => d.map(() => new Array(10).fill(0)) }, quiet: true, safetyLookup: new Map() },
  );
  assert.ok(
    maxAbsDiff(
      records.map((r) => r.reward),
      expected.map((e) => e.logits[0]),
    ) <= 1e-4,
  );
  await assert.rejects(
    hubRewardScorer(join(HF_FIXTURES, "deberta-v3-tiny-evaluator"), { quiet: true }),
    /one label; this is DebertaV2ForSequenceClassification with 3 label\(s\)/,
  );
});

test("tokenizer_config.json special tokens as AddedToken objects (older files) are read by their content", async () => {
  const { unigramFromTokenizerJson } = await import("../src/hub/unigram.js");
  const tok = unigramFromTokenizerJson(join(HF_FIXTURES, "deberta-v3-tiny-reward", "tokenizer.json"), {
    cls_token: { __type: "AddedToken", content: "[CLS]" },
    sep_token: { content: "[SEP]" },
    pad_token: "[PAD]",
  });
  assert.deepEqual(tok.encode("a b", "c").ids, [5, 1, 1, 4, 1, 4]);
});

test("pytorch_model.bin (torch.save's zip + pickle, written by Python's pickle): float32 and float16 storages, offsets, strided views", async () => {
  const { readTorchBin } = await import("../src/hub/torch-bin.js");
  const t = readTorchBin(resolve("test/fixtures/tiny-state-dict.bin"));
  assert.deepEqual([...t.keys()], ["a.weight", "a.bias", "b.weight_t", "c.half"]);
  assert.deepEqual(t.get("a.weight")!.shape, [2, 3]);
  assert.deepEqual(Array.from(t.get("a.weight")!.data), [0, 0.25, 0.5, 0.75, 1, 1.25]);
  assert.deepEqual(Array.from(t.get("a.bias")!.data), [1.5, 1.75, 2]);
  assert.deepEqual(Array.from(t.get("b.weight_t")!.data), [0, 0.75, 0.25, 1, 0.5, 1.25]);
  assert.deepEqual(Array.from(t.get("c.half")!.data), [0.5, -1.25, 2, 65504]);
  assert.throws(() => readTorchBin(join(HF_FIXTURES, "deberta-v3-tiny-reward", "config.json")), /not a zip file/);
});
