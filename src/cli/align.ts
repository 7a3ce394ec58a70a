/** `fulcra align`: BaseAlign (PPO with the value reward), the RLHF baseline, and best-of-N. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError, intFlag, listFlag, numberFlag, oneOfFlag, type FlagDef, type Flags } from "./command.js";
import { defineCommand } from "./program.js";
import { folderFlag, targetFlag, thresholdFlag } from "./flags.js";
import { BASIC_VALUES } from "../values/taxonomy.js";
import type { z } from "zod";
import type { VectorHead } from "../evaluator/evaluator.js";
import { PPO_GPU_CONFIG, PPO_OPTIONS, type PPOConfig } from "../align/ppo.js";
import { GPU_LM_CONFIG } from "../lm/model.js";
import { SFT_GPU_PRESET } from "../lm/sft.js";
import { ALIGN_METHODS, DEFAULT_TEST_PROMPTS, type AlignMethod } from "../align/run.js";
import { REWARD_ENSEMBLE_SIZE } from "../align/reward.js";
import { bestOfNFromFiles } from "../align/best-of-n.js";
import { TARGET_NAMES } from "../values/targets.js";
import { VALUE_THRESHOLD } from "../values/threshold.js";
import { availableDataFiles } from "../data/paths.js";
import { kitPaths } from "../runtime/env.js";
import { provenance } from "../runtime/provenance.js";
import { originalSettings, PRESET_NAMES, resolvePreset, type PresetName } from "../align/presets.js";

/** Training prompts present (the original preset's step count depends on it); 0 when the data is not fetched. */
function countTrainPrompts(): number {
  const file = join(kitPaths().rawDir, "data", "saferlhf", "train_questions.jsonl");
  return existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim()).length
    : 0;
}

const RELEASED_OUTPUTS = ["harmless_test_gpt-4", "harmless_test_gpt-35-turbo", "harmless_test_mistral-large"];

const DESCRIPTION = `Methods:
  ppo    BaseAlign: PPO on the SafeRLHF training prompts, reward = −masked
         distance of the response's value vector (value evaluator) to the
         target, KL penalty to the start policy
  rlhf   the baseline: the same PPO with the helpfulness reward model as reward
  bon    best-of-N at inference time: N samples per test prompt, keep the
         closest to the target (--from-files: pick among the released
         GPT-4 / GPT-3.5 / Mistral answers instead)

Default configuration (CPU, 2 cores): the whole run, including training a
small SFT policy and the evaluators when runs/ has none, is meant to finish
within 10 minutes; summary.json states the time split. On a GPU (the gpu or
webgpu backend; see \`fulcra doctor\`) add --gpu-config and a larger policy.`;

const AFTER = `PPO options (--steps … --save_every) are named as in the common PPO/RLHF configs.

Writes DIR/summary.json with distance_before / distance_after (mean masked distance to the
target over held-out test prompts, start vs aligned policy, by the optimised evaluator),
heldout_distance_before / heldout_distance_after (the second evaluator), kl_mean, steps,
seconds, backend, and a reward-hacking flag; DIR/train_log.jsonl (one line per PPO step) and
DIR/examples.jsonl (answers side by side).`;

/** Checks of the PPO options, by name; an option not listed here only needs to be a finite number. */
const PPO_CHECKS: Record<string, z.ZodType> = {
  steps: intFlag({ min: 1 }),
  batch_size: intFlag({ min: 1 }),
  mini_batch_size: intFlag({ min: 1 }),
  ppo_epochs: intFlag({ min: 1 }),
  query_length: intFlag({ min: 1 }),
  response_length: intFlag({ min: 1 }),
  horizon: intFlag({ min: 1 }),
  top_k: intFlag({ min: 0 }),
  save_every: intFlag({ min: 0 }),
  learning_rate: numberFlag({ min: 0, minExclusive: true }),
  adam_eps: numberFlag({ min: 0, minExclusive: true }),
  temperature: numberFlag({ min: 0, minExclusive: true }),
  cliprange: numberFlag({ min: 0, minExclusive: true }),
  cliprange_value: numberFlag({ min: 0, minExclusive: true }),
  max_grad_norm: numberFlag({ min: 0 }),
  gamma: numberFlag({ min: 0, max: 1 }),
  lam: numberFlag({ min: 0, max: 1 }),
  top_p: numberFlag({ min: 0, max: 1, minExclusive: true }),
  vf_coef: numberFlag({ min: 0 }),
  ent_coef: numberFlag({ min: 0 }),
  init_kl_coef: numberFlag({ min: 0 }),
  target_kl: numberFlag({ min: 0 }),
  target_kl_early_stop: numberFlag({ min: 0 }),
  reward_clip: numberFlag({ min: 0 }),
  reward_scaling: oneOfFlag(["none", "scale", "normalize"]),
};

/** Every flag of `fulcra align`, with its check; nothing is loaded or trained before all pass. */
function alignFlags(): Flags {
  const flags: Flags = {
    method: { type: "string", arg: "M", required: true, schema: oneOfFlag(ALIGN_METHODS), help: "ppo | rlhf | bon" },
    target: {
      type: "string",
      arg: "NAME",
      schema: targetFlag,
      default: "basealign-ideal",
      help: `${TARGET_NAMES.join(" | ")} | 10 comma-separated numbers`,
    },
    out: { type: "string", arg: "DIR", help: "where summary.json, train_log.jsonl, examples.jsonl and checkpoints go (required)" },
    seed: {
      type: "string",
      arg: "N",
      schema: intFlag(),
      help: "one seed for everything (default 1; the original's with --preset original)",
    },
    preset: {
      type: "string",
      arg: "P",
      schema: oneOfFlag(PRESET_NAMES),
      default: "cpu",
      help: "cpu: the kit's configuration for its small CPU policy | original: the original code's settings one for one, each with its file:line (see DEVIATIONS.md)",
    },
    "dry-run": { type: "boolean", help: "print the resolved configuration and stop (nothing is loaded or trained)" },
    json: { type: "boolean", help: "with --dry-run: print it as JSON" },
    threshold: {
      type: "string",
      arg: "X",
      schema: thresholdFlag,
      default: String(VALUE_THRESHOLD),
      help: "|v_d| must exceed X for a dimension to count",
    },
    dimensions: {
      type: "string",
      arg: "a,b,…",
      schema: listFlag(oneOfFlag(BASIC_VALUES)),
      help: "only these values count in the distance (default all ten)",
    },
    "test-prompts": {
      type: "string",
      arg: "N",
      schema: intFlag({ min: 1 }),
      default: String(DEFAULT_TEST_PROMPTS),
      help: "held-out SafeRLHF test prompts scored (the default is all of the evaluation half)",
    },
    n: { type: "string", arg: "N", schema: intFlag({ min: 1 }), default: "8", help: "best-of-N candidates per prompt" },
    "from-files": { type: "boolean", help: "best-of-N over the released scored-output files (needs no model)" },
    "gpu-config": {
      type: "boolean",
      help: `the larger configuration for a GPU: PPO ${Object.entries(PPO_GPU_CONFIG)
        .map(([k, v]) => `${k}=${v}`)
        .join(
          ", ",
        )}; SFT policy with the decoder's GPU_LM_CONFIG (${GPU_LM_CONFIG.layers} layers, width ${GPU_LM_CONFIG.width}, context ${GPU_LM_CONFIG.contextLength}), a vocabulary of ${SFT_GPU_PRESET.vocabSize} and ${SFT_GPU_PRESET.steps} steps of batch ${SFT_GPU_PRESET.batchSize}, cached in runs/lm/sft-gpu`,
    },
    resume: { type: "boolean", help: "continue a PPO run from DIR/checkpoint" },
    "policy-dir": { type: "string", arg: "DIR", help: "SFT policy cache (default runs/lm/sft); trained there if absent" },
    policy: {
      type: "string",
      arg: "DIR",
      schema: folderFlag,
      help: "start from a GPT-2 hub folder (fulcra models fetch gpt2 --out DIR) instead of the SFT policy",
    },
    "evaluator-dir": { type: "string", arg: "DIR", help: "optimised value evaluator cache (default runs/evaluator/align-reward)" },
    "heldout-evaluator-dir": {
      type: "string",
      arg: "DIR",
      help: "second evaluator, never optimised against (default runs/evaluator/align-heldout)",
    },
    "evaluator-head": {
      type: "string",
      arg: "H",
      schema: oneOfFlag(["classification", "regression"]),
      help: "which head of the reward's evaluator gives the value vector: classification (default, p(+) − p(−)) | regression (tanh, the original's reward model); the held-out evaluator reads the same head (cached evaluators of the other head are retrained; give other --evaluator-dir / --heldout-evaluator-dir folders to keep both)",
    },
    "reward-ensemble": {
      type: "string",
      arg: "K",
      schema: intFlag({ min: 1 }),
      default: String(REWARD_ENSEMBLE_SIZE),
      help: "members of the reward's evaluator (seeds s, s + 2, …; DIR, DIR-2, … of --evaluator-dir); the reward reads the mean of their value vectors (1 = one evaluator, as before)",
    },
    quiet: { type: "boolean", help: "no progress bars" },
  };
  for (const [k, o] of Object.entries(PPO_OPTIONS)) {
    if (k === "seed") continue;
    const d = o.default as unknown;
    const schema: z.ZodType =
      PPO_CHECKS[k] ??
      (typeof d === "boolean" ? oneOfFlag(["true", "false"]) : typeof d === "number" ? numberFlag() : oneOfFlag([String(d)]));
    const def: FlagDef = {
      type: "string",
      arg: typeof d === "boolean" ? "true|false" : typeof d === "number" ? "N" : "X",
      help: `${o.help} (default ${o.default})`,
      schema: typeof d === "boolean" ? oneOfFlag(["true", "false"]).transform((x) => x === "true") : schema,
    };
    flags[k] = def;
  }
  return flags;
}

export const command = defineCommand({
  name: "align",
  summary: "BaseAlign (PPO to a value target), the RLHF baseline, best-of-N",
  usage: `fulcra align --method ppo|rlhf|bon --target NAME --out DIR [options]
       fulcra align --method bon --from-files --target NAME --out DIR`,
  description: DESCRIPTION,
  flags: alignFlags(),
  after: AFTER,
  async action(v) {
    const opt = v as Record<string, unknown>;
    const method = opt.method as AlignMethod;
    const preset = opt.preset as PresetName;
    if (!opt.out && !opt["dry-run"]) throw new UsageError("--out DIR is required (where summary.json goes)");
    if (opt.json && !opt["dry-run"]) throw new UsageError("--json goes with --dry-run");
    const out = opt.out as string;
    const target = opt.target as string;
    const seedGiven = opt.seed !== undefined;
    const seed = seedGiven
      ? (opt.seed as number)
      : preset === "original" && method !== "bon"
        ? (originalSettings(method).seed.value as number)
        : 1;
    const threshold = opt.threshold as number;
    const dimensions = opt.dimensions as string[] | undefined;
    if (opt["from-files"] && method !== "bon") throw new UsageError("--from-files goes with --method bon");
    const ppoChecked: Partial<PPOConfig> = {};
    for (const k of Object.keys(PPO_OPTIONS)) if (k !== "seed" && opt[k] !== undefined) (ppoChecked as Record<string, unknown>)[k] = opt[k];
    const mb = (ppoChecked.mini_batch_size ?? (opt["gpu-config"] ? PPO_GPU_CONFIG.mini_batch_size : undefined)) as number | undefined;
    const bs = (ppoChecked.batch_size ?? (opt["gpu-config"] ? PPO_GPU_CONFIG.batch_size : undefined)) as number | undefined;
    if (mb !== undefined && bs !== undefined && bs % mb !== 0)
      throw new UsageError(`--mini_batch_size ${mb} must divide --batch_size ${bs}`);

    if (opt["from-files"]) {
      const present = availableDataFiles().filter((e) => RELEASED_OUTPUTS.includes(e.name));
      if (present.length < 2)
        throw new UsageError(
          `best-of-N over files needs at least two of ${RELEASED_OUTPUTS.join(", ")} in data/raw; run \`npx fulcra data fetch\``,
        );
      const started = Date.now();
      const { rawPath } = await import("../data/paths.js");
      const files = present.map((e) => rawPath(e));
      const r = bestOfNFromFiles({ files, names: present.map((e) => e.name.replace("harmless_test_", "")), target, threshold, dimensions });
      mkdirSync(out!, { recursive: true });
      const summary = {
        method: "bon-files",
        target_name: target,
        target: r.target,
        prompts: r.prompts,
        chosen_counts: r.chosenCounts,
        selection: r.selection,
        singles: r.singles,
        seconds: (Date.now() - started) / 1000,
        provenance: provenance({ dataFiles: files }),
      };
      writeFileSync(join(out!, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
      const fmt = (x: number) => x.toFixed(3);
      console.log(`best-of-${files.length} over released answers to ${r.prompts} test prompts, target ${target}`);
      console.log(
        `${"answers".padEnd(22)} ${"masked".padStart(7)} ${"e-dist".padStart(7)} ${"h-dist".padStart(7)} ${"reward".padStart(7)}`,
      );
      for (const s of [r.selection, ...r.singles])
        console.log(
          `${s.name.padEnd(22)} ${fmt(s.maskedDistance).padStart(7)} ${fmt(s.eDistance).padStart(7)} ${fmt(s.hDistance).padStart(7)} ${fmt(s.meanReward).padStart(7)}`,
        );
      console.log(
        `chosen: ${Object.entries(r.chosenCounts)
          .map(([k, n]) => `${k} ${n}`)
          .join(", ")}\nwrote ${join(out!, "summary.json")}`,
      );
      return 0;
    }

    // The preset under the flags: a flag given on the command line wins.
    const ppo: Partial<PPOConfig> = opt["gpu-config"] ? { ...PPO_GPU_CONFIG, ...ppoChecked } : { ...ppoChecked };
    const trainPromptCount = countTrainPrompts();
    const resolved = resolvePreset(preset, method, trainPromptCount, { ...ppo, seed });
    if (opt["dry-run"]) {
      const report = {
        preset,
        method,
        target,
        seed: resolved.ppo.seed,
        threshold,
        test_prompts: opt["test-prompts"] as number,
        training_prompts: trainPromptCount,
        ppo: method === "bon" ? null : resolved.ppo,
        n: method === "bon" ? (opt.n as number) : null,
        sources: resolved.sources,
        not_applicable: resolved.not_applicable,
      };
      if (opt.json) console.log(JSON.stringify(report, null, 2));
      else {
        console.log(`fulcra align --preset ${preset} --method ${method}: resolved configuration`);
        if (report.ppo)
          for (const [k, v] of Object.entries(report.ppo))
            console.log(`  ${k.padEnd(22)} ${JSON.stringify(v)}${resolved.sources[k] ? `   (${resolved.sources[k]})` : ""}`);
        for (const [k, v] of Object.entries(resolved.not_applicable)) console.log(`  not applicable: ${k}: ${v}`);
      }
      return 0;
    }
    const { num_mini_batches: _derived, ...resolvedPpo } = resolved.ppo;
    Object.assign(ppo, resolvedPpo);
    const { loadAlignComponents } = await import("../align/components.js");
    const { align } = await import("../align/run.js");
    const quiet = Boolean(opt.quiet);
    const gpu = Boolean(opt["gpu-config"]);
    if (gpu) {
      const { initBackend, warnIfNotGpu } = await import("../runtime/backend.js");
      warnIfNotGpu(await initBackend({ quiet }), "--gpu-config");
    }
    let sftConfig: Record<string, unknown> | undefined;
    if (gpu) {
      // The larger decoder goes with the larger PPO configuration; it is trained in its own folder.
      sftConfig = { ...SFT_GPU_PRESET };
    }
    const components = await loadAlignComponents({
      sftConfig,
      policyDir: (opt["policy-dir"] as string | undefined) ?? (gpu ? join(kitPaths().runsDir, "lm", "sft-gpu") : undefined),
      evaluatorDir: opt["evaluator-dir"] as string | undefined,
      heldoutEvaluatorDir: opt["heldout-evaluator-dir"] as string | undefined,
      rewardEnsemble: opt["reward-ensemble"] as number,
      evaluatorConfig: opt["evaluator-head"] ? { vectorHead: opt["evaluator-head"] as VectorHead } : undefined,
      hubPolicyDir: opt.policy as string | undefined,
      rewardModel: true,
      quiet,
    });
    const r = await align(components, {
      method,
      target,
      outDir: out!,
      seed: resolved.ppo.seed,
      threshold,
      dimensions,
      ppo,
      n: opt.n as number,
      testPrompts: opt["test-prompts"] as number,
      resume: Boolean(opt.resume),
      quiet,
    });
    const s = r.summary;
    const signed = (x: number) => `${x >= 0 ? "−" : "+"}${Math.abs(100 * x).toFixed(1)}%`;
    console.log(
      `${method} → ${s.target_name} on ${s.test_prompts} held-out prompts (backend ${s.backend}, ${s.seconds.toFixed(0)} s of ${Object.values(
        s.time_split,
      )
        .reduce((a, b) => a + b, 0)
        .toFixed(0)} s counted)`,
    );
    console.log(
      `  masked distance, optimised evaluator: ${s.distance_before.toFixed(3)} → ${s.distance_after.toFixed(3)} (${signed(s.relative_reduction)})`,
    );
    console.log(
      `  masked distance, held-out evaluator:  ${s.heldout_distance_before.toFixed(3)} → ${s.heldout_distance_after.toFixed(3)} (${signed(s.heldout_relative_reduction)})`,
    );
    console.log(`  KL to the start policy: ${s.kl_mean.toFixed(2)}   steps: ${s.steps}   ${s.reward_hacking_message}`);
    console.log(
      `  time: ${Object.entries(s.time_split)
        .map(([k, x]) => `${k} ${x.toFixed(0)} s`)
        .join(", ")}`,
    );
    console.log(`wrote ${join(out!, "summary.json")}`);
    return 0;
  },
});
