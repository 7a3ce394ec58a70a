/**
 * The alignment experiments behind notebooks 06 and 07, as library calls.
 *
 * Runs are stored under runs/align/<name>/ (summary.json, train_log.jsonl,
 * examples.jsonl, answers.jsonl) and reused when a later call asks for the
 * same configuration, so the notebooks share trained artefacts and re-run in
 * seconds. The models are loaded only when some run has to be computed.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { kitPaths } from "../runtime/env.js";
import { resolveTarget } from "../values/targets.js";
import { VALUE_THRESHOLD } from "../values/threshold.js";
import { meanVector, type ValueVector } from "../values/vectors.js";
import { align, type AlignComponents, type AlignOptions, type AlignSummary } from "./run.js";
import type { StepStats } from "./ppo.js";
import { maskedDistance, type MaskOptions } from "./reward.js";
import { mean } from "../runtime/stats.js";

export interface ExampleRow {
  prompt: string;
  reference: string;
  aligned: string;
  distance_reference: number;
  distance_aligned: number;
  heldout_distance_reference: number;
  heldout_distance_aligned: number;
}

/** One held-out answer with its value vectors by both evaluators. */
export interface AnswerRow {
  prompt: string;
  reference: string;
  aligned: string;
  values_reference: number[];
  values_aligned: number[];
  heldout_values_reference: number[];
  heldout_values_aligned: number[];
  reward_model_reference: number | null;
  reward_model_aligned: number | null;
}

export interface StoredRun {
  dir: string;
  summary: AlignSummary & { config_key?: string };
  trainLog: StepStats[];
  examples: ExampleRow[];
  answers: AnswerRow[];
  /** True when read from an earlier run rather than computed now. */
  reused: boolean;
}

function readJsonl<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        return JSON.parse(l) as T;
      } catch (e) {
        throw new Error(`${file}:${i + 1}: bad JSON (${(e as Error).message}); delete the folder to recompute the run`);
      }
    });
}

/** Reads a finished run's files. */
export function loadRun(dir: string): StoredRun {
  const file = join(dir, "summary.json");
  if (!existsSync(file))
    throw new Error(`no alignment run in ${dir} (summary.json missing); run \`npx fulcra align --out ${dir} …\` first`);
  return {
    dir,
    summary: JSON.parse(readFileSync(file, "utf8")),
    trainLog: readJsonl<StepStats>(join(dir, "train_log.jsonl")),
    examples: readJsonl<ExampleRow>(join(dir, "examples.jsonl")),
    answers: readJsonl<AnswerRow>(join(dir, "answers.jsonl")),
    reused: true,
  };
}

/** The identity of a run's configuration: equal keys mean the stored run can stand in for a new one. */
export function configKey(options: AlignOptions, identity?: string | null): string {
  const { method, target, seed, ppo, n, testPrompts, threshold, dimensions, evalTemperature, trainPromptShare } = options;
  // A share of the training prompts enters the key only when it is not all of them, so that earlier keys stay valid.
  const share = trainPromptShare !== undefined && trainPromptShare < 1 ? { trainPromptShare } : {};
  return JSON.stringify({
    models: identity ?? null,
    method,
    target: resolveTarget((target ?? "basealign-ideal") as string | number[]),
    seed: seed ?? 1,
    ppo: ppo ?? {},
    n: method === "bon" ? (n ?? 8) : null,
    testPrompts: testPrompts ?? 128,
    threshold: threshold ?? VALUE_THRESHOLD,
    dimensions: dimensions ?? null,
    evalTemperature: evalTemperature ?? null,
    ...share,
  });
}

/** Where named experiment runs live (runs/align/NAME). */
export function alignRunDir(name: string): string {
  return join(kitPaths().runsDir, "align", name);
}

/**
 * The stored run in `options.outDir` if it was made with the same
 * configuration, otherwise a new run (loading the components on first need).
 */
export async function alignOrLoad(
  components: AlignComponents | ((() => Promise<AlignComponents>) & { identity?: () => string | null }),
  options: AlignOptions & { outDir: string; force?: boolean },
): Promise<StoredRun> {
  const file = join(options.outDir, "summary.json");
  // Which models the run would use, known without loading them when the loader can tell.
  const identity =
    typeof components === "function" ? (components.identity ? components.identity() : undefined) : (components.identity ?? null);
  if (!options.force && identity !== null && existsSync(file)) {
    const stored = loadRun(options.outDir);
    if (stored.summary.config_key === configKey(options, identity) && stored.answers.length > 0) return stored;
  }
  const parts = typeof components === "function" ? await components() : components;
  await align(parts, { ...options, configKey: configKey(options, parts.identity) });
  return { ...loadRun(options.outDir), reused: false };
}

/** Loads components once, on first call (shared by several alignOrLoad calls). */
export function lazyComponents(
  load: () => Promise<AlignComponents>,
  identity?: () => string | null,
): (() => Promise<AlignComponents>) & { identity?: () => string | null } {
  let pending: Promise<AlignComponents> | undefined;
  return Object.assign(() => (pending ??= load()), identity ? { identity } : {});
}

/**
 * How far each run's answers are from each target: rows are runs (plus the
 * shared reference policy), columns targets; cells the mean masked distance
 * of the answers' value vectors (by the chosen evaluator) to that target.
 */
export function crossTargetDistances(
  runs: Record<string, StoredRun>,
  targets: readonly string[],
  options: MaskOptions & { evaluator?: "optimised" | "heldout" } = {},
): { rows: string[]; columns: string[]; distances: number[][]; profiles: Record<string, ValueVector> } {
  const held = options.evaluator === "heldout";
  const names = Object.keys(runs);
  if (names.length === 0) throw new Error("no runs to compare");
  const first = runs[names[0]];
  const vectorsOf = (r: StoredRun, which: "reference" | "aligned") =>
    r.answers.map((a) =>
      which === "reference" ? (held ? a.heldout_values_reference : a.values_reference) : held ? a.heldout_values_aligned : a.values_aligned,
    );
  const sets: [string, number[][]][] = [
    ["reference", vectorsOf(first, "reference")],
    ...names.map((n) => [n, vectorsOf(runs[n], "aligned")] as [string, number[][]]),
  ];
  return {
    rows: sets.map(([n]) => n),
    columns: [...targets],
    distances: sets.map(([, vs]) => targets.map((t) => mean(vs.map((v) => maskedDistance(v, resolveTarget(t), options))))),
    profiles: Object.fromEntries(sets.map(([n, vs]) => [n, meanVector(vs)])),
  };
}

// ─── Notebook experiments (06: methods compared; 07: cultural targets) ───────

/**
 * Notebook 06's configuration: the CLI's PPO defaults with fewer steps and
 * rollouts, 96 held-out prompts (the CLI scores 720) and best-of-4, on the
 * CLI's SFT policy and evaluators (see notebookComponentOptions), so that
 * the notebook fits the CI budget; `fulcra align` with defaults is the
 * reference run.
 */
export const NOTEBOOK_ALIGN = {
  seed: 1,
  testPrompts: 96,
  n: 4,
  // 20 steps of 64 rollouts in minibatches of 16 (the CLI: 30 of 128 in 32s), to fit the notebooks' budget.
  ppo: { steps: 20, batch_size: 64, mini_batch_size: 16 } as Partial<import("./ppo.js").PPOConfig>,
};

/**
 * Notebook 07's configuration: three PPO runs have to fit in a few minutes of
 * CI, so each gets 12 steps (instead of 30) and 96 held-out prompts; its
 * numbers are therefore weaker than a default `fulcra align` run per target.
 */
export const CULTURAL_ALIGN = {
  seed: 1,
  testPrompts: 96,
  n: 4,
  ppo: { steps: 12, batch_size: 64, mini_batch_size: 16 } as Partial<import("./ppo.js").PPOConfig>,
};

export interface ExperimentOptions {
  seed?: number;
  testPrompts?: number;
  n?: number;
  ppo?: Partial<import("./ppo.js").PPOConfig>;
  threshold?: number;
  quiet?: boolean;
  /** Recompute even when a stored run matches. */
  force?: boolean;
}

export type MethodName = "basealign" | "rlhf" | "bon";

/** One method of notebook 06 on one target, stored as runs/align/<target>-<method>. */
export async function runMethod(
  components: AlignComponents | (() => Promise<AlignComponents>),
  target: string,
  method: MethodName,
  options: ExperimentOptions = {},
): Promise<StoredRun> {
  const o = { ...NOTEBOOK_ALIGN, ...options };
  const common = { target, seed: o.seed, testPrompts: o.testPrompts, ppo: o.ppo, threshold: o.threshold, quiet: o.quiet, force: o.force };
  if (method === "bon") return alignOrLoad(components, { ...common, method: "bon", n: o.n, outDir: alignRunDir(`${target}-bon${o.n}`) });
  return alignOrLoad(components, {
    ...common,
    method: method === "basealign" ? "ppo" : "rlhf",
    outDir: alignRunDir(`${target}-${method}`),
  });
}

/** Notebook 06: the start policy aligned to one target by BaseAlign, RLHF and best-of-N. */
export async function compareMethods(
  components: AlignComponents | (() => Promise<AlignComponents>),
  target: string,
  options: ExperimentOptions = {},
): Promise<Record<MethodName, StoredRun>> {
  return {
    basealign: await runMethod(components, target, "basealign", options),
    rlhf: await runMethod(components, target, "rlhf", options),
    bon: await runMethod(components, target, "bon", options),
  };
}

/** One target of notebook 07 (BaseAlign), stored as runs/align/<target>-basealign-cultural. */
export async function alignTarget(
  components: AlignComponents | (() => Promise<AlignComponents>),
  target: string,
  options: ExperimentOptions = {},
): Promise<StoredRun> {
  const o = { ...CULTURAL_ALIGN, ...options };
  return alignOrLoad(components, {
    method: "ppo",
    target,
    seed: o.seed,
    testPrompts: o.testPrompts,
    ppo: o.ppo,
    threshold: o.threshold,
    quiet: o.quiet,
    force: o.force,
    outDir: alignRunDir(`${target}-basealign-cultural`),
  });
}

/** Notebook 07: the same start policy aligned by BaseAlign to each target. */
export async function alignToTargets(
  components: AlignComponents | (() => Promise<AlignComponents>),
  targets: readonly string[],
  options: ExperimentOptions = {},
): Promise<Record<string, StoredRun>> {
  const out: Record<string, StoredRun> = {};
  for (const target of targets) out[target] = await alignTarget(components, target, options);
  return out;
}

/** One row per method: the held-out numbers of notebook 06's comparison. */
export function methodTable(runs: Record<string, StoredRun>): Record<string, string | number | boolean | null>[] {
  const first = Object.values(runs)[0].summary;
  const rows: Record<string, string | number | boolean | null>[] = [
    {
      method: "reference (start policy)",
      distance: first.distance_before,
      heldout_distance: first.heldout_distance_before,
      e_distance_ideal: first.e_distance_before,
      reward_model: first.reward_model_before,
      kl: 0,
      empty_answers: first.empty_answers_before,
      reduction: null,
      heldout_reduction: null,
      flag: null,
    },
  ];
  for (const [name, r] of Object.entries(runs)) {
    const s = r.summary;
    rows.push({
      method: name,
      distance: s.distance_after,
      heldout_distance: s.heldout_distance_after,
      e_distance_ideal: s.e_distance_after,
      reward_model: s.reward_model_after,
      kl: s.kl_mean,
      empty_answers: s.empty_answers_after,
      reduction: s.relative_reduction,
      heldout_reduction: s.heldout_relative_reduction,
      flag: s.reward_hacking_flag,
    });
  }
  return rows;
}

/**
 * Notebook 07's question: how far did each aligned profile move toward its
 * own target, and away from the others? From a cross-target matrix, per run:
 * the reduction of the distance to its own target, and the mean change of the
 * distance to the other targets (positive = moved away).
 */
export function targetMovement(matrix: {
  rows: string[];
  columns: string[];
  distances: number[][];
}): { run: string; own_before: number; own_after: number; toward_own: number; away_from_others: number }[] {
  const ref = matrix.distances[matrix.rows.indexOf("reference")];
  if (!ref) throw new Error('the matrix has no "reference" row');
  return matrix.rows
    .filter((r) => r !== "reference")
    .map((run) => {
      const row = matrix.distances[matrix.rows.indexOf(run)];
      const own = matrix.columns.indexOf(run);
      if (own < 0) throw new Error(`run "${run}" is not one of the targets ${matrix.columns.join(", ")}`);
      const others = matrix.columns.map((_, j) => j).filter((j) => j !== own);
      const away = others.length ? others.reduce((a, j) => a + (row[j] - ref[j]), 0) / others.length : 0;
      return { run, own_before: ref[own], own_after: row[own], toward_own: ref[own] - row[own], away_from_others: away };
    });
}
