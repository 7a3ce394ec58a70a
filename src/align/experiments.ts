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
import { kitPaths } from "../data/paths.js";
import { resolveTarget } from "../metrics/targets.js";
import { meanVector, type ValueVector } from "../values/vectors.js";
import { align, type AlignComponents, type AlignOptions, type AlignSummary } from "./run.js";
import type { StepStats } from "./ppo.js";
import { maskedDistance, type MaskOptions } from "./reward.js";

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
  if (!existsSync(file)) throw new Error(`no alignment run in ${dir} (summary.json missing); run \`npx fulcra align --out ${dir} …\` first`);
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
export function configKey(options: AlignOptions): string {
  const { method, target, seed, ppo, n, testPrompts, threshold, dimensions, evalTemperature } = options;
  return JSON.stringify({ method, target: resolveTarget((target ?? "basealign-ideal") as string | number[]), seed: seed ?? 1, ppo: ppo ?? {}, n: method === "bon" ? (n ?? 8) : null, testPrompts: testPrompts ?? 128, threshold: threshold ?? 0.3, dimensions: dimensions ?? null, evalTemperature: evalTemperature ?? null });
}

/** Where named experiment runs live (runs/align/NAME). */
export function alignRunDir(name: string): string {
  return join(kitPaths().runsDir, "align", name);
}

/**
 * The stored run in `options.outDir` if it was made with the same
 * configuration, otherwise a new run (loading the components on first need).
 */
export async function alignOrLoad(components: AlignComponents | (() => Promise<AlignComponents>), options: AlignOptions & { outDir: string; force?: boolean }): Promise<StoredRun> {
  const key = configKey(options);
  const file = join(options.outDir, "summary.json");
  if (!options.force && existsSync(file)) {
    const stored = loadRun(options.outDir);
    if (stored.summary.config_key === key && stored.answers.length > 0) return stored;
  }
  const parts = typeof components === "function" ? await components() : components;
  await align(parts, { ...options, configKey: key });
  return { ...loadRun(options.outDir), reused: false };
}

/** Loads components once, on first call (shared by several alignOrLoad calls). */
export function lazyComponents(load: () => Promise<AlignComponents>): () => Promise<AlignComponents> {
  let pending: Promise<AlignComponents> | undefined;
  return () => (pending ??= load());
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
    r.answers.map((a) => (which === "reference" ? (held ? a.heldout_values_reference : a.values_reference) : held ? a.heldout_values_aligned : a.values_aligned));
  const sets: [string, number[][]][] = [["reference", vectorsOf(first, "reference")], ...names.map((n) => [n, vectorsOf(runs[n], "aligned")] as [string, number[][]])];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    rows: sets.map(([n]) => n),
    columns: [...targets],
    distances: sets.map(([, vs]) => targets.map((t) => mean(vs.map((v) => maskedDistance(v, resolveTarget(t), options))))),
    profiles: Object.fromEntries(sets.map(([n, vs]) => [n, meanVector(vs)])),
  };
}
