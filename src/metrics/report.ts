/**
 * The HH comparison of several models, computed in the shapes the notebook
 * and the reproduction report need: one summary per released file, the
 * tables the notebook shows as typed rows (files read, comparison, value
 * profiles, stored-field check, per-category tables, win rates, Elo with
 * intervals, the leaders, the reward model) and the numbers to record
 * beside their references. The sentences the notebook shows are written
 * from these in report-text.ts.
 */
import { existsSync } from "node:fs";
import { MANIFEST } from "../data/manifest.js";
import { rawPath } from "../data/paths.js";
import { kitPaths } from "../runtime/env.js";
import { readRecords, type ScoredOutput } from "../data/readers.js";
import type { ReportNumber } from "../runtime/report-number.js";
import { BASIC_VALUES } from "../values/taxonomy.js";
import type { PairwiseReport } from "./elo.js";
import { HARM_CATEGORY_LABELS, isHarmCategory } from "./harm.js";
import type { EndpointJudging, ModelSafetyRate, RewardAgreement } from "./judge-runs.js";
import type { RewardModelMetrics } from "./reward-model.js";
import { summarizeScoredOutputs, type GroupSummary, type HhSummary, type SummaryOptions } from "./summary.js";
import type { SafetyRate } from "./verdicts.js";

/**
 * Means of the two released files in the mirror, computed outside the kit
 * with Debian's /usr/bin/python3 (json + math.fsum over the raw JSONL):
 * reward_mean = Σ reward / n, value_mean[d] = Σ value_reward[d] / n, and the
 * e-, h- and masked distance to `ideal` (security, conformity, benevolence,
 * universalism = 1) recomputed per line from value_reward.
 */
export const RELEASED_FILE_REFERENCE: Record<
  string,
  { n: number; reward_mean: number; value_mean: number[]; e_distance_mean: number; h_distance_mean: number; masked_distance_mean: number }
> = {
  "gpt-4": {
    n: 1523,
    reward_mean: 0.2571717539563477,
    value_mean: [
      0.22450569793959893, -0.011124491674330387, -0.02159091177057371, 0.30276273194680076, -0.04744553788008379, 0.7915816506489075,
      -0.0136330049148094, 0.7912286923311176, 0.8081563989831989, 0.2256609649946247,
    ],
    e_distance_mean: 1.0734150560168487,
    h_distance_mean: 1.3833722930421513,
    masked_distance_mean: 0.24794078170477546,
  },
  "gpt-35-turbo": {
    n: 1523,
    reward_mean: 0.6241682612628249,
    value_mean: [
      0.27361861107997515, 0.005083161905258127, -0.004834567569336028, 0.48705634457221575, 0.003366539911071386, 0.7606749582304123,
      -0.017017032458569125, 0.7104570017353211, 0.7568916055206236, 0.25082813568678397,
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

/** The released files that were read: model, manifest name, records and path (relative to `root`, the kit's folder by default). */
export function releasedFilesTable(
  models: readonly ReleasedModel[],
  root = kitPaths().root,
): { model: string; file: string; records: number; path: string }[] {
  return models.map((m) => ({ model: m.model, file: m.name, records: m.records.length, path: m.file.replace(root + "/", "") }));
}

/** The records of each model by model name, the shape the judges take. */
export function recordsByModel(models: readonly { model: string; records: ScoredOutput[] }[]): Record<string, ScoredOutput[]> {
  return Object.fromEntries(models.map((m) => [m.model, m.records]));
}

export interface ModelSummary {
  model: string;
  summary: HhSummary;
}

export function summarizeModels(
  models: readonly { model: string; file?: string; records: readonly ScoredOutput[] }[],
  options: SummaryOptions = {},
): ModelSummary[] {
  return models.map((m) => ({ model: m.model, summary: { ...summarizeScoredOutputs(m.records, options), source: m.file ?? null } }));
}

/**
 * One row per model: n, mean reward, the distances and (unless
 * `valueMeans: false`) the mean value vector by name.
 */
export function modelComparisonTable(
  summaries: readonly ModelSummary[],
  options: { valueMeans?: boolean } = {},
): Record<string, string | number>[] {
  return summaries.map(({ model, summary: s }) => ({
    model,
    n: s.n,
    reward_mean: s.reward_mean,
    reward_median: s.reward.median,
    e_distance_mean: s.e_distance_mean,
    h_distance_mean: s.h_distance_mean,
    masked_distance_mean: s.masked_distance_mean,
    ...((options.valueMeans ?? true) ? valueColumns(s.value_mean) : {}),
  }));
}

function valueColumns(vector: readonly number[]): Record<string, number> {
  return Object.fromEntries(BASIC_VALUES.map((v, i) => [v, vector[i]]));
}

/** One row per model: the mean value vector (value profile), one column per basic value in the paper's order. */
export function valueProfileTable(summaries: readonly ModelSummary[]): Record<string, string | number>[] {
  return summaries.map(({ model, summary: s }) => ({ model, ...valueColumns(s.value_mean) }));
}

/** One row per model: the distribution of its reward (n, mean, std, quantiles). */
export function rewardDistributionTable(summaries: readonly ModelSummary[]): Record<string, string | number>[] {
  return summaries.map(({ model, summary: s }) => ({ model, ...s.reward }));
}

/** One row per model: how the stored e/h-distance fields compare with the recomputation. */
export function storedFieldTable(summaries: readonly ModelSummary[]): Record<string, string | number>[] {
  return summaries.map(({ model, summary: s }) => ({
    model,
    checked: s.stored_fields.checked,
    e_distance_disagreements: s.stored_fields.e_distance_disagreements,
    e_max_abs_diff: s.stored_fields.e_distance_max_abs_diff.toExponential(2),
    h_distance_disagreements: s.stored_fields.h_distance_disagreements,
    h_max_abs_diff: s.stored_fields.h_distance_max_abs_diff.toExponential(2),
  }));
}

/** One row per harm category, one column per model, for one metric. */
export function categoryTable(
  summaries: readonly ModelSummary[],
  metric: Exclude<keyof GroupSummary, "value_mean">,
): Record<string, string | number>[] {
  const keys = [...new Set(summaries.flatMap((s) => Object.keys(s.summary.by_category)))];
  return keys.map((k) => {
    const row: Record<string, string | number> = { category: isHarmCategory(k) ? HARM_CATEGORY_LABELS[k] : k };
    row.n = summaries[0].summary.by_category[k]?.n ?? 0;
    for (const { model, summary } of summaries) row[model] = summary.by_category[k]?.[metric] ?? NaN;
    return row;
  });
}

/** One row per judge and model: games and win / tie / loss rates. */
export function winRateTable(
  reports: readonly PairwiseReport[],
): { judge: string; model: string; games: number; win_rate: number; tie_rate: number; loss_rate: number }[] {
  return reports.flatMap((r) =>
    r.winRates.map((w) => ({
      judge: r.judge,
      model: w.model,
      games: w.games,
      win_rate: w.win_rate,
      tie_rate: w.tie_rate,
      loss_rate: w.loss_rate,
    })),
  );
}

/** One row per judge and model: in-order Elo, bootstrap median and interval. */
export function eloTable(
  reports: readonly PairwiseReport[],
): { judge: string; model: string; elo: number; bootstrap_median: number; ci_low: number; ci_high: number }[] {
  return reports.flatMap((r) =>
    r.elo.map((e) => ({ judge: r.judge, model: e.model, elo: e.elo, bootstrap_median: e.median, ci_low: e.lower, ci_high: e.upper })),
  );
}

/** One row per judge and model: malformed verdicts, win and tie rates and Elo (the endpoint judge's short table). */
export function judgeSummaryTable(
  reports: readonly PairwiseReport[],
): { judge: string; malformed: number; model: string; win_rate: number; tie_rate: number; elo: number }[] {
  return reports.flatMap((r) =>
    r.winRates.map((w) => ({
      judge: r.judge,
      malformed: r.malformed,
      model: w.model,
      win_rate: w.win_rate,
      tie_rate: w.tie_rate,
      elo: eloOf(r, w.model),
    })),
  );
}

function eloOf(report: PairwiseReport, model: string): number {
  return report.elo.find((e) => e.model === model)?.elo ?? NaN;
}

function winRateOf(report: PairwiseReport, model: string): number {
  return report.winRates.find((w) => w.model === model)?.win_rate ?? NaN;
}

/** The model with the highest value (the first one on a tie). */
function leader(xs: readonly { model: string; v: number }[]): string {
  return xs.reduce((a, b) => (b.v > a.v ? b : a)).model;
}

/** Who leads one judge's comparison by each measure. */
export interface JudgeLeaders {
  judge: string;
  /** The model with the highest win rate. */
  byWins: string;
  /** The model with the highest in-order Elo. */
  byElo: string;
  /** The model with the highest bootstrap-median Elo. */
  byMedian: string;
}

/** One entry per judge: the leader by win rate, by in-order Elo and by bootstrap median (the first model on a tie). */
export function judgeLeaders(reports: readonly PairwiseReport[]): JudgeLeaders[] {
  return reports.map((r) => ({
    judge: r.judge,
    byWins: leader(r.winRates.map((w) => ({ model: w.model, v: w.win_rate }))),
    byElo: leader(r.elo.map((e) => ({ model: e.model, v: e.elo }))),
    byMedian: leader(r.elo.map((e) => ({ model: e.model, v: e.median }))),
  }));
}

/** The reward model's training numbers as one table row. */
export function rewardModelTable(m: RewardModelMetrics): Record<string, string | number>[] {
  return [
    {
      held_out_pairs: m.heldOutPairs,
      held_out_accuracy: m.heldOutAccuracy,
      longer_answer_baseline: m.heldOutLengthBaselineAccuracy,
      train_accuracy: m.trainAccuracy,
      held_out_loss: m.heldOutLoss,
      train_seconds: m.trainSeconds,
      backend: m.backend,
    },
  ];
}

/** One row per model: safety verdict counts and rate. */
export function safetyRateTable(rates: readonly ModelSafetyRate[]): ({ model: string } & SafetyRate)[] {
  return rates.map(({ model, rate }) => ({ model, ...rate }));
}

/** Everything the HH notebook records for the reproduction report. */
export interface HhReportInputs {
  summaries: readonly ModelSummary[];
  /** Pairwise reports of the offline judges (on all prompts). */
  offline: readonly PairwiseReport[];
  /** Seed of the bootstrap intervals. */
  seed: number;
  /** The endpoint judge's results, or null when none was configured. */
  endpoint: EndpointJudging | null;
  rewardModel: RewardModelMetrics;
  /** The kit's reward model against the paper's reward, per model. */
  agreement: readonly RewardAgreement[];
}

/**
 * The HH numbers for the reproduction report, in this order: the
 * released-file means (beside their references), Elo and win rate per
 * offline judge and model, the endpoint judge's Elo and safety rates (when
 * it ran), the reward model's held-out accuracy and its Pearson r with the
 * paper's reward.
 */
export function hhReportNumbers(x: HhReportInputs): ReportNumber[] {
  const endpointReports = x.endpoint?.reports ?? [];
  const endpointSafety = x.endpoint?.safety ?? [];
  const m = x.rewardModel;
  return [
    ...releasedFileNumbers(x.summaries),
    ...x.offline.flatMap((r) =>
      r.elo.flatMap((e) => [
        {
          name: `Elo (${r.judge}): ${e.model}`,
          value: e.elo,
          note: `95% bootstrap interval ${e.lower.toFixed(1)}–${e.upper.toFixed(1)}, seed ${x.seed}`,
        },
        { name: `win rate (${r.judge}): ${e.model}`, value: winRateOf(r, e.model) },
      ]),
    ),
    ...endpointReports.flatMap((r) =>
      r.elo.map((e) => ({
        name: `Elo (${r.judge}): ${e.model}`,
        value: e.elo,
        note: `standard rule, ${x.endpoint!.prompts} prompts, ${r.malformed} unreadable verdicts`,
      })),
    ),
    ...(x.endpoint?.eloRules ?? []).flatMap((p) =>
      [
        [p.a, p.original.elo_a, p.original.win_rate_a],
        [p.b, p.original.elo_b, p.original.win_rate_b],
      ].map(([model, elo, win]) => ({
        name: `Elo, original rule (${x.endpoint!.judge} (${p.aspect})): ${model}`,
        value: elo as number,
        note: `raw scores into the update; win rate ${(win as number).toFixed(1)}% of ${p.original.n} read, ${p.original.skipped} skipped`,
      })),
    ),
    ...endpointSafety.flatMap(({ model, rate }) => [
      {
        name: `safety rate (endpoint judge): ${model}`,
        value: rate.safety_rate,
        note: `kit rule, unreadable left out: ${rate.safe} safe, ${rate.unsafe} unsafe, ${rate.malformed} unreadable of ${rate.total}`,
      },
      {
        name: `safety rate, original rule (endpoint judge): ${model}`,
        value: rate.safety_rate_original,
        note: `unreadable counted safe, as eval.py does: (${rate.safe} + ${rate.malformed}) / ${rate.total}`,
      },
    ]),
    {
      name: "reward model: held-out pairwise accuracy",
      value: m.heldOutAccuracy,
      note: `${m.heldOutPairs} held-out pairs; longer-answer baseline ${m.heldOutLengthBaselineAccuracy.toFixed(3)}; trained in ${m.trainSeconds.toFixed(1)} s on ${m.backend}`,
    },
    ...x.agreement.map((a) => ({ name: `reward model vs paper reward, Pearson: ${a.model}`, value: a.pearson_with_paper_reward })),
  ];
}

/** The notes recorded beside the HH numbers: which files, where the references come from, which judges ran. */
export function hhReportNotes(
  models: readonly { model: string }[],
  missing: readonly string[],
  endpoint: EndpointJudging | null,
): string[] {
  return [
    `Complete released scored-output files for ${models.map((m) => m.model).join(", ")}${missing.length ? `; not present: ${missing.join(", ")}` : ""}.`,
    "References of the released-file means were computed independently with Python over the raw JSONL; distances are recomputed from value_reward.",
    endpoint
      ? `Endpoint judge on ${endpoint.prompts} prompts (FULCRA_JUDGE_PROMPTS limits it; default all).`
      : "No endpoint judge configured: offline judges only.",
  ];
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
