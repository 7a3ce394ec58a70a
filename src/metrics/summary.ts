/**
 * One call from a scored-output file (or records) to the paper's evaluation
 * numbers: mean reward, mean value vector, mean e-/h-distance to a target,
 * BaseAlign's masked distance, the reward distribution and a breakdown by
 * the prompts' harm categories.
 *
 * Distances are always recomputed from `value_reward`. The stored
 * `e_distance` / `h_distance` fields are only checked: they are defined
 * against the evaluation script's `ideal` target, so the check uses that
 * target whatever target the summary is for, and reports how many
 * disagree.
 */
import { existsSync } from "node:fs";
import { manifestEntry, MANIFEST } from "../data/manifest.js";
import { requireDataFile } from "../data/paths.js";
import { readRecords, type RecordError, type ScoredOutput } from "../data/readers.js";
import { groupByHarmCategory } from "./harm.js";
import { describeDistribution, histogram, mean, type Distribution, type Histogram } from "../runtime/stats.js";
import { resolveTarget, TARGETS } from "../values/targets.js";
import { valueDistances, type ValueDistances } from "../values/distance.js";
import { meanValueVector } from "../values/vectors.js";
import { VALUE_THRESHOLD } from "../values/threshold.js";

export interface SummaryOptions {
  /** A target name (ideal, basealign-ideal, uk, netherlands, france) or 10 numbers. Default "ideal". */
  target?: string | readonly number[];
  /** BaseAlign's |v| threshold for the masked distance (default 0.3). */
  threshold?: number;
  /** Largest |stored − recomputed| still counted as agreeing (default 1e-9). */
  tolerance?: number;
  /** Bins of the reward histogram (default 30); `rewardRange` fixes its range to compare models. */
  bins?: number;
  rewardRange?: [number, number];
}

export interface GroupSummary {
  n: number;
  reward_mean: number;
  value_mean: number[];
  e_distance_mean: number;
  h_distance_mean: number;
  masked_distance_mean: number;
}

export interface StoredFieldCheck {
  /** The target the released fields are distances to. */
  target: "ideal";
  checked: number;
  tolerance: number;
  e_distance_disagreements: number;
  h_distance_disagreements: number;
  e_distance_max_abs_diff: number;
  h_distance_max_abs_diff: number;
  /** The first few disagreements, to look at. */
  examples: { line: number; field: "e_distance" | "h_distance"; stored: number; recomputed: number }[];
}

export interface HhSummary extends GroupSummary {
  /** File the records came from (null for in-memory records). */
  source: string | null;
  target: number[];
  target_name: string | null;
  threshold: number;
  reward: Distribution;
  reward_histogram: Histogram;
  e_distance: Distribution;
  h_distance: Distribution;
  masked_distance: Distribution;
  by_category: Record<string, GroupSummary>;
  /** Harm categories outside BeaverTails' 14 (kept in by_category under their own name). */
  unknown_categories: string[];
  stored_fields: StoredFieldCheck;
  /** Lines of the file that could not be read (the summary is over the others). */
  bad_lines: { line: number; reason: string }[];
}

/** Per-answer distances (recomputed) beside the record, for plots and tables. */
export interface ScoredRow extends ValueDistances {
  line: number;
  reward: number;
  value_reward: number[];
  safety_issues: string[];
}

/**
 * Finds a scored-output file: an existing path, or a manifest name
 * (e.g. "harmless_test_gpt-4") resolved under data/raw.
 */
export function scoredOutputPath(fileOrName: string): string {
  if (existsSync(fileOrName)) return fileOrName;
  if (MANIFEST.some((e) => e.name === fileOrName)) {
    const entry = manifestEntry(fileOrName);
    if (entry.kind !== "scored_outputs") throw new Error(`"${fileOrName}" is a ${entry.kind} file, not a scored-output file`);
    return requireDataFile(fileOrName);
  }
  throw new Error(
    `no such file: ${fileOrName} (give a path to a scored-output JSONL, or one of: ${MANIFEST.filter((e) => e.kind === "scored_outputs")
      .map((e) => e.name)
      .join(", ")})`,
  );
}

/** Reads a scored-output file, collecting broken lines instead of stopping at the first. */
export function readScoredOutputs(fileOrName: string): { records: ScoredOutput[]; errors: RecordError[]; file: string } {
  const file = scoredOutputPath(fileOrName);
  const errors: RecordError[] = [];
  const records = readRecords("scored_outputs", file, { onError: "collect", errors });
  return { records, errors, file };
}

/** Recomputed distances for every record. */
export function scoredRows(records: readonly ScoredOutput[], target: readonly number[], threshold = VALUE_THRESHOLD): ScoredRow[] {
  return records.map((r) => ({
    line: r.line,
    reward: r.reward,
    value_reward: r.value_reward,
    safety_issues: r.safety_issues,
    ...valueDistances(r.value_reward, target, threshold),
  }));
}

function groupSummary(rows: readonly ScoredRow[]): GroupSummary {
  return {
    n: rows.length,
    reward_mean: mean(rows.map((r) => r.reward)),
    value_mean: meanValueVector(rows.map((r) => r.value_reward)),
    e_distance_mean: mean(rows.map((r) => r.e_distance)),
    h_distance_mean: mean(rows.map((r) => r.h_distance)),
    masked_distance_mean: mean(rows.map((r) => r.masked_distance)),
  };
}

/** Compares the stored distance fields with distances recomputed to the `ideal` target. */
export function checkStoredDistances(records: readonly ScoredOutput[], tolerance = 1e-9): StoredFieldCheck {
  const ideal = TARGETS.ideal;
  const check: StoredFieldCheck = {
    target: "ideal",
    checked: records.length,
    tolerance,
    e_distance_disagreements: 0,
    h_distance_disagreements: 0,
    e_distance_max_abs_diff: 0,
    h_distance_max_abs_diff: 0,
    examples: [],
  };
  for (const r of records) {
    const d = valueDistances(r.value_reward, ideal);
    for (const field of ["e_distance", "h_distance"] as const) {
      const diff = Math.abs(r[field] - d[field]);
      if (diff > check[`${field}_max_abs_diff`]) check[`${field}_max_abs_diff`] = diff;
      if (!(diff <= tolerance)) {
        check[`${field}_disagreements`]++;
        if (check.examples.length < 10) check.examples.push({ line: r.line, field, stored: r[field], recomputed: d[field] });
      }
    }
  }
  return check;
}

/** The paper's evaluation numbers for one scored-output file or set of records. */
export function summarizeScoredOutputs(input: string | readonly ScoredOutput[], options: SummaryOptions = {}): HhSummary {
  let records: readonly ScoredOutput[];
  let errors: RecordError[] = [];
  let source: string | null = null;
  if (typeof input === "string") {
    const read = readScoredOutputs(input);
    ({ records, errors } = read);
    source = read.file;
  } else {
    records = input;
  }
  const bad_lines = errors.map((e) => ({ line: e.line, reason: e.reason }));
  if (records.length === 0) {
    const where = source ?? "the records given";
    const first = bad_lines[0] ? `; first bad line ${bad_lines[0].line}: ${bad_lines[0].reason}` : "";
    throw new Error(`no readable scored outputs in ${where} (${bad_lines.length} bad line(s)${first})`);
  }
  const targetSpec = options.target ?? "ideal";
  const target = resolveTarget(targetSpec);
  const target_name = typeof targetSpec === "string" && targetSpec.trim().toLowerCase() in TARGETS ? targetSpec.trim().toLowerCase() : null;
  const threshold = options.threshold ?? VALUE_THRESHOLD;

  const rows = scoredRows(records, target, threshold);
  const { groups, unknown } = groupByHarmCategory(rows, (r) => r.safety_issues);
  const by_category: Record<string, GroupSummary> = {};
  for (const [k, g] of groups) by_category[k] = groupSummary(g);

  const rewards = rows.map((r) => r.reward);
  return {
    source,
    ...groupSummary(rows),
    target,
    target_name,
    threshold,
    reward: describeDistribution(rewards),
    reward_histogram: histogram(rewards, { bins: options.bins ?? 30, range: options.rewardRange }),
    e_distance: describeDistribution(rows.map((r) => r.e_distance)),
    h_distance: describeDistribution(rows.map((r) => r.h_distance)),
    masked_distance: describeDistribution(rows.map((r) => r.masked_distance)),
    by_category,
    unknown_categories: unknown,
    stored_fields: checkStoredDistances(records, options.tolerance ?? 1e-9),
    bad_lines,
  };
}
