/**
 * Why does (or doesn't) BaseAlign's PPO move the policy? Prints, for the
 * components a `fulcra align` run would use (trained and cached first if
 * absent), the quantities the learning signal depends on:
 *
 * - the reward on the SFT policy's own answers to training prompts: mean,
 *   spread, share of answers whose reward is exactly 0 (every target value
 *   inside the ±τ dead zone), share of distinct reward values;
 * - the evaluator's saturation: per target dimension, the share of answers
 *   past the threshold and the mean |v|;
 * - what reaches the policy after scaling: the scaled score spread against
 *   the per-token KL penalty β·KL at the PPO configuration's β, and the
 *   advantage spread before whitening;
 * - the same for the held-out evaluator, so the two can be compared.
 *
 *   npm run build && node dist/scripts/diagnose-align.js [--prompts 128] [--seed 1] [--target basealign-ideal]
 *     [--policy-dir D] [--evaluator-dir D] [--heldout-evaluator-dir D] [--evaluator-config JSON]
 *
 * Nothing is trained by PPO here; it reads the starting point only.
 */
import { parseArgs } from "node:util";
import { loadAlignComponents } from "../src/align/components.js";
import { generate } from "../src/align/policy.js";
import { resolvePPOConfig } from "../src/align/ppo.js";
import { baseAlignReward, maskedDistance } from "../src/align/reward.js";
import { toDialogue } from "../src/data/readers.js";
import { resolveTarget } from "../src/values/targets.js";
import { VALUE_THRESHOLD } from "../src/values/threshold.js";
import { BASIC_VALUES as VALUE_NAMES } from "../src/values/taxonomy.js";
import { mean } from "../src/runtime/stats.js";

const { values: opt } = parseArgs({
  options: {
    prompts: { type: "string" },
    seed: { type: "string" },
    target: { type: "string" },
    threshold: { type: "string" },
    "evaluator-config": { type: "string" },
    "evaluator-dir": { type: "string" },
    "heldout-evaluator-dir": { type: "string" },
    "policy-dir": { type: "string" },
  },
});
const n = Number(opt.prompts ?? 128);
const seed = Number(opt.seed ?? 1);
const threshold = Number(opt.threshold ?? VALUE_THRESHOLD);
const target = resolveTarget(opt.target ?? "basealign-ideal");
const ppo = resolvePPOConfig({ seed });

const c = await loadAlignComponents({
  quiet: true,
  policyDir: opt["policy-dir"],
  evaluatorDir: opt["evaluator-dir"],
  heldoutEvaluatorDir: opt["heldout-evaluator-dir"],
  evaluatorConfig: opt["evaluator-config"] ? (JSON.parse(opt["evaluator-config"]) as Record<string, unknown>) : undefined,
});
console.log(
  `components: ${Object.entries(c.sources)
    .map(([k, v]) => `${k} ${v}`)
    .join("; ")}`,
);
const prompts = c.trainPrompts.slice(0, n);
const g = generate(c.policy, c.tokenizer, c.formatPrompt, prompts, {
  temperature: ppo.temperature,
  top_k: ppo.top_k,
  top_p: ppo.top_p,
  response_length: ppo.response_length,
  seed,
});
const dialogues = prompts.map((p, i) => toDialogue(p, g.answers[i]));

// An empty list counts as 0 here (the one `mean` gives NaN).
const meanOr0 = (xs: number[]) => (xs.length ? mean(xs) : 0);
const std = (xs: number[]) => Math.sqrt(meanOr0(xs.map((x) => (x - meanOr0(xs)) ** 2)));
const f3 = (x: number) => x.toFixed(3);

console.log(
  `SFT policy's answers to ${n} training prompts (seed ${seed}, ${ppo.response_length} tokens at most); target ${opt.target ?? "basealign-ideal"}, threshold ${threshold}`,
);
console.log(
  `mean answer length ${meanOr0(g.answers.map((a) => a.split(/\s+/).filter(Boolean).length)).toFixed(1)} words; empty ${(100 * meanOr0(g.answers.map((a) => (a.trim() ? 0 : 1)))).toFixed(1)}%`,
);
for (const [name, scorer] of [
  ["optimised evaluator", c.evaluator],
  ["held-out evaluator", c.heldoutEvaluator],
] as const) {
  const vectors = await scorer.score(dialogues);
  const rewards = vectors.map((v) => baseAlignReward(v, target, { threshold }));
  const distances = vectors.map((v) => maskedDistance(v, target, { threshold }));
  const zero = meanOr0(rewards.map((r) => (r === 0 ? 1 : 0)));
  console.log(`\n${name}`);
  console.log(
    `  reward: mean ${f3(meanOr0(rewards))}, std ${f3(std(rewards))}, min ${f3(Math.min(...rewards))}, max ${f3(Math.max(...rewards))}; exactly 0 for ${(100 * zero).toFixed(1)}% of answers; masked distance ${f3(meanOr0(distances))}`,
  );
  console.log(`  per target dimension: share past ±${threshold} (+ / −), mean v, mean |v|`);
  target.forEach((t, d) => {
    if (t === 0) return;
    const col = vectors.map((v) => v[d]);
    const pos = meanOr0(col.map((x) => (x > threshold ? 1 : 0)));
    const neg = meanOr0(col.map((x) => (x < -threshold ? 1 : 0)));
    console.log(
      `    ${VALUE_NAMES[d].padEnd(14)} +${(100 * pos).toFixed(1).padStart(5)}% −${(100 * neg).toFixed(1).padStart(5)}%  v ${f3(meanOr0(col)).padStart(6)}  |v| ${f3(meanOr0(col.map(Math.abs)))}`,
    );
  });
  // What PPO sees: the scaled score against the per-token KL penalty.
  const s = std(rewards);
  const m = meanOr0(rewards);
  const scaled = { none: 1, scale: 1 / (s + 1e-8), normalize: 1 / (s + 1e-8) }[ppo.reward_scaling as "none" | "scale" | "normalize"];
  console.log(
    `  PPO (${ppo.reward_scaling}): scaled score spread ${f3(s * scaled)}, mean ${f3(ppo.reward_scaling === "normalize" ? 0 : m * scaled)}; β ${ppo.init_kl_coef} → a KL of 1 nat costs ${f3(ppo.init_kl_coef)} (${f3(ppo.init_kl_coef / Math.max(1e-8, s * scaled))} score spreads)`,
  );
}
// How much of the reward is the answer's doing: 4 answers to each of 32 prompts, variance within prompts vs in all.
{
  const k = 4;
  const few = prompts.slice(0, 32);
  const rep = few.flatMap((p) => Array.from({ length: k }, () => p));
  const gk = generate(c.policy, c.tokenizer, c.formatPrompt, rep, {
    temperature: ppo.temperature,
    top_k: ppo.top_k,
    top_p: ppo.top_p,
    response_length: ppo.response_length,
    seed: seed + 7,
  });
  for (const [name, scorer] of [
    ["optimised evaluator", c.evaluator],
    ["held-out evaluator", c.heldoutEvaluator],
  ] as const) {
    const v = await scorer.score(rep.map((p, i) => toDialogue(p, gk.answers[i])));
    const r = v.map((x) => baseAlignReward(x, target, { threshold }));
    const within = meanOr0(few.map((_, j) => std(r.slice(j * k, j * k + k)) ** 2));
    console.log(
      `\n${name}: reward variance within a prompt (${k} answers each, 32 prompts) ${f3(within)} of ${f3(std(r) ** 2)} in all (${((100 * within) / (std(r) ** 2 + 1e-12)).toFixed(1)}% is the answer's doing)`,
    );
  }
}
console.log(
  `\nPPO: ${ppo.steps} steps × ${ppo.batch_size} rollouts = ${ppo.steps * ppo.batch_size} rollouts, ${ppo.ppo_epochs} epochs, lr ${ppo.learning_rate}, advantages ${ppo.whiten_advantages ? "whitened" : "raw"}, target KL ${ppo.target_kl}`,
);
