import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { originalSteps, resolvePreset } from "../src/align/presets.js";
import { PPO_DEFAULTS } from "../src/align/ppo.js";

const bin = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "bin", "fulcra.js");
const dryRun = (...args: string[]) =>
  JSON.parse(execFileSync(process.execPath, [bin, "align", ...args, "--dry-run", "--json"], { encoding: "utf8" }));

test("fulcra align --preset original --dry-run --json prints the original's settings (main.py for ppo, ppo.py for rlhf)", () => {
  const ppo = dryRun("--method", "ppo", "--preset", "original");
  // Value_FULCRA/src/value_alignment/main.py:43,51-63,216-220 and trl's defaults.
  const expectPpo = {
    seed: 2023,
    learning_rate: 1e-5,
    batch_size: 32,
    mini_batch_size: 32,
    ppo_epochs: 2,
    target_kl: 6,
    init_kl_coef: 0.1,
    adaptive_kl: true,
    reward_scaling: "scale",
    reward_clip: 0,
    max_grad_norm: 0,
    response_length: 512,
    top_k: 0,
    top_p: 1,
    temperature: 1,
    samples_per_prompt: 1,
    target_kl_early_stop: 0,
    whiten_advantages: true,
  };
  for (const [k, v] of Object.entries(expectPpo)) assert.equal(ppo.ppo[k], v, `ppo.${k}`);
  assert.equal(ppo.seed, 2023);
  assert.match(ppo.sources.learning_rate, /main\.py:51$/);
  assert.match(ppo.sources.reward_scaling, /use_score_scaling=True, use_score_norm=False/);
  assert.match(ppo.not_applicable.lora, /r 8, alpha 16/);
  assert.equal(ppo.ppo.steps, originalSteps(ppo.training_prompts));
  // Value_FULCRA/src/value_alignment/ppo.py:45-59: the RLHF baseline, no score scaling, its own learning rate and seed.
  const rlhf = dryRun("--method", "rlhf", "--preset", "original");
  for (const [k, v] of Object.entries({ ...expectPpo, seed: 0, learning_rate: 1.41e-5, reward_scaling: "none" }))
    assert.equal(rlhf.ppo[k], v, `rlhf.${k}`);
  assert.match(rlhf.sources.learning_rate, /ppo\.py:45$/);
});

test("presets: cpu is the config table's defaults; a flag overrides a preset value; 20 epochs of batches of 32", () => {
  const cpu = dryRun("--method", "ppo");
  assert.equal(cpu.preset, "cpu");
  for (const [k, v] of Object.entries(PPO_DEFAULTS)) assert.equal(cpu.ppo[k], v, k);
  const o = dryRun("--method", "ppo", "--preset", "original", "--learning_rate", "3e-5", "--seed", "7");
  assert.equal(o.ppo.learning_rate, 3e-5);
  assert.equal(o.ppo.seed, 7);
  assert.equal(o.ppo.ppo_epochs, 2);
  assert.equal(originalSteps(14625), 20 * 458);
  assert.equal(originalSteps(64), 40);
  assert.throws(() => resolvePreset("gpu" as never, "ppo", 10), /unknown preset "gpu"/);
});
