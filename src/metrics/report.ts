/**
 * The HH comparison of several models, in the shapes the notebook and the
 * reproduction report need: one summary per released file, a comparison
 * table, per-category tables, pairwise results (win rates, Elo with
 * intervals) and the numbers to record beside their references.
 */
import { existsSync } from "node:fs";
import { MANIFEST } from "../data/manifest.js";
import { rawPath } from "../data/paths.js";
import { readRecords, type ScoredOutput } from "../data/readers.js";
import type { ReportNumber } from "../report/numbers.js";
import { BASIC_VALUES } from "../values/taxonomy.js";
import { bootstrapElo, winRates, type Comparison, type EloInterval, type WinRecord } from "./elo.js";
import { HARM_CATEGORY_LABELS, isHarmCategory } from "./harm.js";
import { summarizeScoredOutputs, type GroupSummary, type HhSummary, type SummaryOptions } from "./summary.js";

/**
 * Means of the two released files in the mirror, computed outside the kit
 * with Debian's /usr/bin/python3 (json + math.fsum over the raw JSONL):
 * reward_mean = Σ reward / n, value_mean[d] = Σ value_reward[d] / n, and the
 * e-, h- and masked distance to `ideal` (security, conformity, benevolence,
 * universalism = 1) recomputed per line from value_reward.
 */
export const RELEASED_FILE_REFERENCE: Record<string, { n: number; reward_mean: number; value_mean: number[]; e_distance_mean: number; h_distance_mean: number; masked_distance_mean: number }> = {
  "gpt-4": {
    n: 1523,
    reward_mean: 0.2571717539563477,
    value_mean: [
      0.22450569793959893, -0.011124491674330387, -0.02159091177057371, 0.30276273194680076, -0.04744553788008379,
      0.7915816506489075, -0.0136330049148094, 0.7912286923311176, 0.8081563989831989, 0.2256609649946247,
    ],
    e_distance_mean: 1.0734150560168487,
    h_distance_mean: 1.3833722930421513,
    masked_distance_mean: 0.24794078170477546,
  },
  "gpt-35-turbo": {
    n: 1523,
    reward_mean: 0.6241682612628249,
    value_mean: [
      0.27361861107997515, 0.005083161905258127, -0.004834567569336028, 0.48705634457221575, 0.003366539911071386,
      0.7606749582304123, -0.017017032458569125, 0.7104570017353211, 0.7568916055206236, 0.25082813568678397,
    ],
    e_distance_mean: 1.1357853427241205,
    h_distance_mean: 1.521148298826859,
    masked_distance_mean: 0.3128813201745491,
  },
};

export interface ReleasedModel {
  /** Short model name, e.g. "gpt-4". */
  model: string;
  /** Manifest name, e.g. "harmless_test_gpt-4". */
  name: string;
  file: string;
  records: ScoredOutput[];
}

/** The released scored-output files present under data/raw (the mirror holds two of the three). */
export function loadReleasedScoredOutputs(): { models: ReleasedModel[]; missing: string[] } {
  const models: ReleasedModel[] = [];
  const missing: string[] = [];
  for (const e of MANIFEST.filter((m) => m.kind === "scored_outputs")) {
    const file = rawPath(e);
    if (!existsSync(file)) {
      missing.push(e.name);
      continue;
    }
    models.push({ model: e.name.replace(/^harmless_test_/, ""), name: e.name, file, records: readRecords("scored_outputs", file) });
  }
  return { models, missing };
}

export interface ModelSummary {
  model: string;
  summary: HhSummary;
}

export function summarizeModels(models: readonly { model: string; file?: string; records: readonly ScoredOutput[] }[], options: SummaryOptions = {}): ModelSummary[] {
  return models.map((m) => ({ model: m.model, summary: { ...summarizeScoredOutputs(m.records, options), source: m.file ?? null } }));
}

/** One row per model: n, mean reward, the distances and the mean value vector by name. */
export function modelComparisonTable(summaries: readonly ModelSummary[]): Record<string, string | number>[] {
  return summaries.map(({ model, summary: s }) => ({
    model,
    n: s.n,
    reward_mean: s.reward_mean,
    reward_median: s.reward.median,
    e_distance_mean: s.e_distance_mean,
    h_distance_mean: s.h_distance_mean,
    masked_distance_mean: s.masked_distance_mean,
    ...Object.fromEntries(BASIC_VALUES.map((v, i) => [v, s.value_mean[i]])),
  }));
}

/** One row per harm category, one column per model, for one metric. */
export function categoryTable(summaries: readonly ModelSummary[], metric: Exclude<keyof GroupSummary, "value_mean">): Record<string, string | number>[] {
  const keys = [...new Set(summaries.flatMap((s) => Object.keys(s.summary.by_category)))];
  return keys.map((k) => {
    const row: Record<string, string | number> = { category: isHarmCategory(k) ? HARM_CATEGORY_LABELS[k] : k };
    row.n = summaries[0].summary.by_category[k]?.n ?? 0;
    for (const { model, summary } of summaries) row[model] = summary.by_category[k]?.[metric] ?? NaN;
    return row;
  });
}

export interface PairwiseReport {
  judge: string;
  aspect: string;
  comparisons: number;
  malformed: number;
  winRates: WinRecord[];
  elo: EloInterval[];
}

/** Win rates and Elo (in the given order) with seeded bootstrap intervals. */
export function pairwiseReport(
  judge: string,
  aspect: string,
  comparisons: readonly Comparison[],
  options: { malformed?: number; seed?: number; samples?: number } = {},
): PairwiseReport {
  return {
    judge,
    aspect,
    comparisons: comparisons.length,
    malformed: options.malformed ?? 0,
    winRates: winRates(comparisons),
    elo: bootstrapElo(comparisons, { seed: options.seed ?? 0, samples: options.samples ?? 1000 }),
  };
}

/** The released-file means as report numbers, each beside the independently computed reference when known. */
export function releasedFileNumbers(summaries: readonly ModelSummary[], tolerance = 1e-9): ReportNumber[] {
  const out: ReportNumber[] = [];
  for (const { model, summary: s } of summaries) {
    const ref = RELEASED_FILE_REFERENCE[model];
    const src = "Python (json + math.fsum) over the raw file";
    const add = (name: string, value: number, reference?: number) =>
      out.push({ name: `${model}: ${name}`, value, ...(reference !== undefined ? { reference, referenceSource: src, tolerance } : {}) });
    add("records", s.n, ref?.n);
    add("mean reward", s.reward_mean, ref?.reward_mean);
    add("mean e-distance to ideal", s.e_distance_mean, ref?.e_distance_mean);
    add("mean h-distance to ideal", s.h_distance_mean, ref?.h_distance_mean);
    add("mean masked distance to ideal (τ 0.3)", s.masked_distance_mean, ref?.masked_distance_mean);
    BASIC_VALUES.forEach((v, i) => add(`mean value: ${v}`, s.value_mean[i], ref?.value_mean[i]));
    out.push({
      name: `${model}: stored e/h-distance fields disagreeing with the recomputation`,
      value: s.stored_fields.e_distance_disagreements + s.stored_fields.h_distance_disagreements,
      reference: 0,
      referenceSource: "every line of the released file",
      tolerance: 0,
    });
  }
  return out;
}
