/**
 * The trained artifacts through the store: the reward model (one file) and
 * the SFT policy (a folder) are reused on a matching key and rebuilt, with a
 * note, when the configuration, the data or the recorded code differ.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadOrTrainRewardModel, rewardDataHash, rewardModelCodeHash } from "../src/metrics/reward-model.js";
import { seededRandom } from "../src/runtime/random.js";
import { ensureSftPolicy, sftArtifactKey, resolveSftConfig, type SftConfig, type SftData } from "../src/lm/sft.js";
import { tempDir } from "./helpers.js";

/** Captures what goes to stderr while `work` runs. */
async function stderrOf<T>(work: () => Promise<T>): Promise<[T, string]> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    return [await work(), lines.join("\n")];
  } finally {
    console.error = original;
  }
}

const PAIRS = (() => {
  const random = seededRandom(5);
  return Array.from({ length: 40 }, (_, i) => {
    const t = ["bread", "taxes", "bikes", "chess"][Math.floor(random() * 4)];
    return {
      chosen: `\n\nHuman: ${t}?\n\nAssistant: here is how ${t} works`,
      rejected: `\n\nHuman: ${t}?\n\nAssistant: no idea`,
      line: i + 1,
    };
  });
})();

test("the reward model: reused on the same key, rebuilt (the old file kept) on another configuration or other pairs", async () => {
  const file = join(tempDir(), "reward-model", "model.json");
  const options = { pairs: PAIRS, config: { buckets: 256, epochs: 2 } };
  const [first, note1] = await stderrOf(() => loadOrTrainRewardModel(file, options));
  assert.doesNotMatch(note1, /building it again|waiting/, "a first build is no rebuild");
  const saved = JSON.parse(readFileSync(file, "utf8"));
  assert.equal(saved.provenance.codeHash, rewardModelCodeHash());
  assert.equal(saved.provenance.dataHash, rewardDataHash(PAIRS));
  const [again] = await stderrOf(() => loadOrTrainRewardModel(file, options));
  assert.equal(again.saved.provenance.timestamp, first.saved.provenance.timestamp, "loaded, not trained again");
  assert.deepEqual(again.score([PAIRS[0].chosen]), first.score([PAIRS[0].chosen]));

  const [other, note2] = await stderrOf(() => loadOrTrainRewardModel(file, { ...options, config: { buckets: 256, epochs: 3 } }));
  assert.match(note2, /reward model: .*model\.json differs from the one asked for \(configuration: epochs\); building it again/);
  assert.equal(other.saved.config.epochs, 3);
  assert.equal(JSON.parse(readFileSync(join(file, "..", "model.replaced.json"), "utf8")).config.epochs, 2);

  const [, note3] = await stderrOf(() =>
    loadOrTrainRewardModel(file, { ...options, config: { buckets: 256, epochs: 3 }, pairs: PAIRS.slice(1) }),
  );
  assert.match(note3, /differs from the one asked for \(data\); building it again/);
  assert.ok(!existsSync(`${file}.building`) && !existsSync(`${file}.lock`));
});

const TINY_SFT: Partial<SftConfig> = {
  seed: 2,
  vocabSize: 280,
  model: { contextLength: 32, layers: 1, heads: 2, width: 16, mlpWidth: 32, tiedEmbeddings: true, layerNormEpsilon: 1e-5, initStd: 0.02 },
  maxPromptTokens: 12,
  steps: 6,
  batchSize: 2,
  warmupSteps: 2,
  validFraction: 0,
  sampleAnswers: 0,
  quiet: true,
};
const TINY_DATA: SftData = {
  examples: ["cows eat grass", "ice is cold", "the sun is hot", "birds can fly"].map((r, i) => ({
    prompt: `question ${i}?`,
    response: r,
    source: "test",
  })),
  files: [],
  dropped: {},
};

test("the SFT policy: its sft.json records the store's key; an older policy without a code hash is trained again", async () => {
  const dir = join(tempDir(), "sft");
  const first = await ensureSftPolicy(dir, TINY_SFT, { data: TINY_DATA });
  const key = sftArtifactKey(resolveSftConfig(TINY_SFT), TINY_DATA);
  const summary = JSON.parse(readFileSync(join(dir, "sft.json"), "utf8"));
  assert.equal(summary.codeHash, key.code);
  assert.equal(summary.dataFingerprint, key.data);
  const weights = readFileSync(join(dir, "model.safetensors"));

  const again = await ensureSftPolicy(dir, { ...TINY_SFT, evalEvery: 3 }, { data: TINY_DATA });
  assert.deepEqual(readFileSync(join(dir, "model.safetensors")), weights, "reporting fields do not count: reused");

  // A policy saved before the code hash was recorded.
  writeFileSync(join(dir, "sft.json"), JSON.stringify({ ...summary, codeHash: undefined }));
  const [rebuilt, note] = await stderrOf(() => ensureSftPolicy(dir, { ...TINY_SFT, quiet: false }, { data: TINY_DATA }));
  assert.match(note, /^sft: .*sft differs from the one asked for \(code not recorded\); building it again/m);
  assert.deepEqual(readFileSync(join(dir, "model.safetensors")), weights, "the same configuration trains the same weights");
  assert.ok(existsSync(`${dir}.stale-${summary.trainingKey}`), "the replaced policy is kept aside");
  [first, again, rebuilt].forEach((r) => r.model.dispose());
});
