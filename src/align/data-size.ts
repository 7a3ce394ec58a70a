/**
 * The data-size experiment: alignment quality against the amount of training
 * data, BaseAlign against the RLHF baseline.
 *
 * The paper says BaseAlign reaches its alignment with less data than RLHF
 * (no script for this was released). Here each point trains one method on a
 * seeded share of the SafeRLHF training prompts (`trainPromptShare` of
 * `align()`: one shuffle, nested prefixes, so 10% ⊂ 25% ⊂ 50% ⊂ 100%) with the
 * same PPO budget (steps × batch_size rollouts) at every share, and is judged
 * like any alignment run on the held-out test prompts by both evaluators.
 *
 * With a fixed budget a run draws at most steps × batch_size / samples_per_prompt
 * prompts, so a share only matters below that many prompts; `budgetPrompts`
 * says where that line lies and the notebook prints it beside the curve.
 *
 * Runs are stored under runs/align/data-size-<config name>/<method>-<share>/
 * and reused while the configuration and the models stay the same.
 */
import type { PPOConfig } from "./ppo.js";
import { resolvePPOConfig } from "./ppo.js";
import { alignOrLoad, alignRunDir, type StoredRun } from "./experiments.js";
import type { AlignComponents } from "./run.js";

export type DataSizeMethod = "basealign" | "rlhf";

export interface DataSizeConfig {
  /** Names the folder of the runs (runs/align/data-size-NAME). */
  name: string;
  /** Shares of the training prompts, each in (0, 1], in increasing order. */
  shares: readonly number[];
  methods: readonly DataSizeMethod[];
  /** Target name (see values/targets). */
  target: string;
  /** Seeds PPO and the subsets. */
  seed: number;
  /** Held-out test prompts scored per run. */
  testPrompts: number;
  /** PPO configuration shared by every point (the same budget at every share). */
  ppo: Partial<PPOConfig>;
}

/**
 * The full configuration: the CLI's PPO defaults (PPO_DEFAULTS) and 128 test
 * prompts at 10/25/50/100% of the training prompts. 8 runs, about as long as
 * 8 `fulcra align` runs.
 */
export const DATA_SIZE_DEFAULTS: DataSizeConfig = {
  name: "default",
  shares: [0.1, 0.25, 0.5, 1],
  methods: ["basealign", "rlhf"],
  target: "basealign-ideal",
  seed: 1,
  testPrompts: 128,
  ppo: {},
};

/**
 * Notebook 06's configuration, sized for CI: 4 PPO steps of 32 rollouts
 * (8 prompts × 4 answers) and 48 test prompts, on the shares 0.1%, 1% and
 * 100% so that the smallest share falls below the 32 prompts such a run can
 * draw. Six runs, about two minutes on two cores; its curve shows the
 * mechanics, not the paper's effect.
 */
export const DATA_SIZE_NOTEBOOK: DataSizeConfig = {
  name: "notebook",
  shares: [0.001, 0.01, 1],
  methods: ["basealign", "rlhf"],
  target: "basealign-ideal",
  seed: 1,
  testPrompts: 48,
  ppo: { steps: 4, batch_size: 32, mini_batch_size: 16 },
};

/** One point of the curve: one method trained on one share. */
export interface DataSizePoint {
  method: DataSizeMethod;
  share: number;
  /** Training prompts in the subset. */
  train_prompts: number;
  /** Rollouts of the run (steps × batch_size), equal at every point. */
  rollouts: number;
  distance_before: number;
  distance_after: number;
  relative_reduction: number;
  heldout_distance_before: number;
  heldout_distance_after: number;
  heldout_relative_reduction: number;
  kl: number;
  reward_model_after: number | null;
  reward_hacking_flag: boolean;
  /** True when read from a stored run. */
  reused: boolean;
  seconds: number;
}

export interface DataSizeCurve {
  config: DataSizeConfig;
  /** Training prompts available (100%). */
  available: number | null;
  /** Most distinct prompts one run can draw: steps × batch_size / samples_per_prompt. */
  budgetPrompts: number;
  points: DataSizePoint[];
  runs: StoredRun[];
}

/** Checks a configuration; an error names the field. */
export function checkDataSizeConfig(config: DataSizeConfig): void {
  if (config.shares.length === 0) throw new Error("data-size config: shares is empty");
  config.shares.forEach((s, i) => {
    if (!(s > 0 && s <= 1)) throw new Error(`data-size config: shares[${i}] = ${s} is not in (0, 1]`);
    if (i > 0 && !(s > config.shares[i - 1]))
      throw new Error(`data-size config: shares should increase (shares[${i}] = ${s} after ${config.shares[i - 1]})`);
  });
  for (const m of config.methods)
    if (m !== "basealign" && m !== "rlhf") throw new Error(`data-size config: unknown method "${m}" (basealign or rlhf)`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(config.name))
    throw new Error(`data-size config: name "${config.name}" should be a plain folder name`);
}

/** The most distinct training prompts one run of this PPO configuration draws. */
export function budgetPrompts(ppo: Partial<PPOConfig>): number {
  const c = resolvePPOConfig(ppo);
  return (c.steps * c.batch_size) / c.samples_per_prompt;
}

/** The folder of one point's run. */
export function dataSizeRunDir(config: DataSizeConfig, method: DataSizeMethod, share: number): string {
  return alignRunDir(`data-size-${config.name}/${method}-${String(Number((share * 100).toPrecision(6))).replace(".", "_")}pct`);
}

/** One point as a row, from its stored run. */
export function dataSizePoint(method: DataSizeMethod, share: number, run: StoredRun): DataSizePoint {
  const s = run.summary;
  const ppo = s.ppo_config;
  return {
    method,
    share,
    train_prompts: s.train_prompts ?? NaN,
    rollouts: ppo ? ppo.steps * ppo.batch_size : NaN,
    distance_before: s.distance_before,
    distance_after: s.distance_after,
    relative_reduction: s.relative_reduction,
    heldout_distance_before: s.heldout_distance_before,
    heldout_distance_after: s.heldout_distance_after,
    heldout_relative_reduction: s.heldout_relative_reduction,
    kl: s.kl_mean,
    reward_model_after: s.reward_model_after,
    reward_hacking_flag: s.reward_hacking_flag,
    reused: run.reused,
    seconds: s.seconds,
  };
}

/**
 * Runs (or reuses) every point of the curve: for each method, for each share,
 * one alignment run with the configuration's PPO budget on that share of the
 * training prompts.
 */
export async function dataSizeCurve(
  components: AlignComponents | ((() => Promise<AlignComponents>) & { identity?: () => string | null }),
  config: DataSizeConfig = DATA_SIZE_DEFAULTS,
  options: { quiet?: boolean; force?: boolean } = {},
): Promise<DataSizeCurve> {
  checkDataSizeConfig(config);
  const points: DataSizePoint[] = [];
  const runs: StoredRun[] = [];
  for (const method of config.methods) {
    for (const share of config.shares) {
      const run = await alignOrLoad(components, {
        method: method === "basealign" ? "ppo" : "rlhf",
        target: config.target,
        seed: config.seed,
        testPrompts: config.testPrompts,
        ppo: config.ppo,
        trainPromptShare: share,
        quiet: options.quiet,
        force: options.force,
        outDir: dataSizeRunDir(config, method, share),
      });
      runs.push(run);
      points.push(dataSizePoint(method, share, run));
    }
  }
  const full = points.find((p) => p.share === 1);
  return { config, available: full ? full.train_prompts : null, budgetPrompts: budgetPrompts(config.ppo), points, runs };
}
