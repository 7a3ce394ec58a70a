import { test } from "node:test";
import assert from "node:assert/strict";
import { budgetPrompts, checkDataSizeConfig, dataSizeCurve, dataSizeRunDir, type DataSizeConfig } from "../src/align/data-size.js";
import { dataSizeFigure, dataSizeLine, dataSizeNumbers, dataSizeTable } from "../src/align/present.js";
import { trainingPromptSubset, type AlignComponents } from "../src/align/run.js";
import { ToyPolicy, WordTokenizer } from "../src/align/toy.js";
import { initBackend } from "../src/runtime/backend.js";
import { tempDir } from "./helpers.js";

const WORDS = ["<eos>", "yes", "no", "maybe", "ok", "sure", "fine", "well"];

/** security = 2 · (share of "yes" in the answer) − 1, the other values 0. */
const yesEvaluator = {
  score: (dialogues: string[]) =>
    dialogues.map((d) => {
      const words = d.split("\nBob: ")[1].split(" ").filter(Boolean);
      const share = words.length ? words.filter((w) => w === "yes").length / words.length : 0;
      return [0, 0, 0, 0, 0, 2 * share - 1, 0, 0, 0, 0];
    }),
};

/** Eight one-word training prompts: the toy policy's first answer token depends on the prompt's last word. */
function toyComponents(): AlignComponents {
  const tokenizer = new WordTokenizer(WORDS);
  return {
    policy: new ToyPolicy(WORDS.length, 16, 1),
    tokenizer,
    formatPrompt: (p) => tokenizer.encode(p),
    evaluator: yesEvaluator,
    heldoutEvaluator: yesEvaluator,
    // Helpfulness of the toy: longer answers score higher.
    rewardModel: { score: (texts: string[]) => texts.map((t) => t.length / 10) },
    trainPrompts: ["ok", "no", "well", "sure", "fine", "maybe", "yes", "ok no"],
    testPrompts: ["ok", "no", "well", "sure", "fine", "maybe", "ok no", "well well"],
    dataFiles: [],
    sources: { policy: "toy" },
    seconds: { load: 0 },
    cache: new Map(),
    // Names the models, so that stored runs can be recognised (see alignOrLoad).
    identity: "toy",
  };
}

test("training prompt subsets: seeded, ⌈share · n⌉ prompts, each share nested in the larger ones", () => {
  const prompts = Array.from({ length: 10 }, (_, i) => `p${i}`);
  assert.deepEqual(trainingPromptSubset(prompts, 0.25, 3), ["p9", "p5", "p6"]);
  assert.deepEqual(trainingPromptSubset(prompts, 0.5, 3), ["p9", "p5", "p6", "p1", "p2"]);
  assert.deepEqual(trainingPromptSubset(prompts, 0.01, 3), ["p9"], "at least one prompt");
  assert.equal(trainingPromptSubset(prompts, 1, 3), prompts, "all of them, unchanged");
  assert.notDeepEqual(trainingPromptSubset(prompts, 0.5, 4), trainingPromptSubset(prompts, 0.5, 3), "another seed, another subset");
  assert.throws(() => trainingPromptSubset(prompts, 0, 1), /trainPromptShare should be a number in \(0, 1\], got 0/);
  assert.throws(() => trainingPromptSubset(prompts, 1.5, 1), /got 1\.5/);
});

test("data-size configuration: checked field by field; the budget is steps × batch ÷ answers per prompt", () => {
  const ok: DataSizeConfig = { name: "t", shares: [0.1, 1], methods: ["basealign"], target: "ideal", seed: 1, testPrompts: 4, ppo: {} };
  checkDataSizeConfig(ok);
  assert.throws(() => checkDataSizeConfig({ ...ok, shares: [0.5, 0.25] }), /shares should increase \(shares\[1\] = 0\.25 after 0\.5\)/);
  assert.throws(() => checkDataSizeConfig({ ...ok, shares: [0] }), /shares\[0\] = 0 is not in \(0, 1\]/);
  assert.throws(() => checkDataSizeConfig({ ...ok, methods: ["bon" as "rlhf"] }), /unknown method "bon"/);
  assert.equal(budgetPrompts({ steps: 6, batch_size: 32, mini_batch_size: 16, samples_per_prompt: 4 }), 48);
  assert.equal(budgetPrompts({ steps: 3, batch_size: 8, mini_batch_size: 4, samples_per_prompt: 2 }), 12);
  assert.match(dataSizeRunDir(ok, "rlhf", 0.001), /data-size-t[\\/]rlhf-0_1pct$/);
});

test("data-size curve on the toy task: nested subsets, one budget, seeded numbers, stored runs reused", async () => {
  await initBackend({ quiet: true });
  process.env.FULCRA_RUNS_DIR = tempDir();
  const config: DataSizeConfig = {
    name: "toy",
    shares: [0.125, 0.5, 1],
    methods: ["basealign", "rlhf"],
    target: "ideal",
    seed: 2,
    testPrompts: 8,
    ppo: {
      steps: 6,
      batch_size: 8,
      mini_batch_size: 4,
      samples_per_prompt: 2,
      response_length: 5,
      learning_rate: 0.05,
      ppo_epochs: 4,
      reward_scaling: "normalize",
      init_kl_coef: 0.05,
      save_every: 0,
    },
  };
  const curve = await dataSizeCurve(toyComponents(), config, { quiet: true });
  const t = dataSizeTable(curve);
  assert.deepEqual(
    t.map((r) => [r.method, r.share, r.train_prompts, r.rollouts]),
    [
      ["basealign", 0.125, 1, 48],
      ["basealign", 0.5, 4, 48],
      ["basealign", 1, 8, 48],
      ["rlhf", 0.125, 1, 48],
      ["rlhf", 0.5, 4, 48],
      ["rlhf", 1, 8, 48],
    ],
  );
  assert.equal(curve.budgetPrompts, 24);
  assert.equal(curve.available, 8);
  // Every point starts from the same reference answers.
  assert.equal(new Set(curve.points.map((p) => p.distance_before)).size, 1);
  const reductions = curve.points.map((p) => Number(p.relative_reduction.toFixed(4)));
  // Seeded outcome: BaseAlign's reduction grows with the data (one prompt generalises least to the test prompts);
  // RLHF's length reward moves the values little.
  assert.deepEqual(reductions, [0.4792, 0.8611, 0.9444, 0.0556, 0.1111, 0.3056]);
  assert.match(
    dataSizeLine(curve),
    /at most \*\*24\*\* distinct prompts .* out of 8; every share holds more prompts than a run draws|only the share/,
  );
  assert.equal(dataSizeNumbers(curve).length, 18);
  const fig = dataSizeFigure(curve);
  assert.equal(fig.data.length, 4);
  assert.deepEqual(fig.data[0].x, [12.5, 50, 100]);
  assert.equal(fig.layout.xaxis?.type, "log");

  // A second call with the same configuration reads the stored runs.
  const again = await dataSizeCurve(toyComponents(), config, { quiet: true });
  assert.ok(again.points.every((p) => p.reused));
  assert.deepEqual(
    again.points.map((p) => p.relative_reduction),
    curve.points.map((p) => p.relative_reduction),
  );
});
