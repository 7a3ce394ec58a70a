/**
 * The HH figures, built from the metrics' results with the figures module's
 * builders, each with the rows to export beside it (`...Rows`), so that the
 * notebook only loads, calls and shows:
 *
 * - valueProfileFigure: mean value vector per model (radar);
 * - rewardHistogramFigure: the paper's reward per answer, per model;
 * - distanceHistogramFigure: the recomputed e-distance to the target, per model;
 * - categoryDistanceFigure: mean e-distance per harm category of the prompt;
 * - eloFigure: Elo per judge and model with the bootstrap intervals as error bars.
 */
import type { ScoredOutput } from "../data/readers.js";
import { barChart, histogram, radarChart } from "../charts/builders.js";
import { valueLabels, type Figure } from "../charts/spec.js";
import { BASIC_VALUES } from "../values/taxonomy.js";
import type { PairwiseReport } from "./elo.js";
import { categoryTable, type ModelSummary } from "./report.js";
import { scoredRows } from "./summary.js";

/** Radar of each model's mean value vector (axis range −0.2 to 1). */
export function valueProfileFigure(summaries: readonly ModelSummary[]): Figure {
  return radarChart({
    title: "Value profile of the released answers (mean value_reward)",
    axes: valueLabels(),
    series: summaries.map(({ model, summary }) => ({ name: model, values: summary.value_mean })),
    range: [-0.2, 1],
  });
}

/** One row per model and basic value: the mean (the data behind the radar). */
export function valueProfileRows(summaries: readonly ModelSummary[]): { model: string; value: string; mean: number }[] {
  return summaries.flatMap(({ model, summary }) => BASIC_VALUES.map((v, i) => ({ model, value: v, mean: summary.value_mean[i] })));
}

/** Share of answers per reward bin (width 0.5 from −8), one overlaid histogram per model. */
export function rewardHistogramFigure(models: readonly { model: string; records: readonly ScoredOutput[] }[]): Figure {
  return histogram({
    title: "Helpfulness reward of the released answers",
    xTitle: "reward (paper's reward model)",
    series: models.map((m) => ({ name: m.model, values: m.records.map((r) => r.reward) })),
    binSize: 0.5,
    binStart: -8,
    normalize: "probability",
  });
}

/** One row per answer: model, line of the file and reward (the data behind the reward histogram). */
export function rewardRows(
  models: readonly { model: string; records: readonly ScoredOutput[] }[],
): { model: string; line: number; reward: number }[] {
  return models.flatMap((m) => m.records.map((r) => ({ model: m.model, line: r.line, reward: r.reward })));
}

/**
 * Share of answers per bin of e-distance (width 0.1 from 0), recomputed from
 * `value_reward` to each summary's target, one histogram per summary; the
 * records are found by model name.
 */
export function distanceHistogramFigure(
  models: readonly { model: string; records: readonly ScoredOutput[] }[],
  summaries: readonly ModelSummary[],
): Figure {
  const targetName = summaries[0]?.summary.target_name ?? "the target";
  return histogram({
    title: "e-distance to the target (recomputed)",
    xTitle: `e-distance to ${targetName}`,
    series: summaries.map(({ model, summary }) => {
      const m = models.find((x) => x.model === model);
      if (!m)
        throw new Error(`distanceHistogramFigure: no records for "${model}" (models given: ${models.map((x) => x.model).join(", ")})`);
      return { name: model, values: scoredRows(m.records, summary.target, summary.threshold).map((r) => r.e_distance) };
    }),
    binSize: 0.1,
    binStart: 0,
    normalize: "probability",
  });
}

/** Horizontal bars: mean e-distance per harm category (labelled with its prompt count), one bar per model. */
export function categoryDistanceFigure(summaries: readonly ModelSummary[]): Figure {
  const byE = categoryTable(summaries, "e_distance_mean");
  const targetName = summaries[0]?.summary.target_name ?? "the target";
  return barChart({
    title: "Mean e-distance to the target by harm category",
    categories: byE.map((r) => `${r.category} (${r.n})`),
    series: summaries.map(({ model }) => ({ name: model, values: byE.map((r) => r[model] as number) })),
    orientation: "h",
    xTitle: `mean e-distance to ${targetName} (lower is closer)`,
    height: 620,
  });
}

/** One row per harm category and model: prompts, mean e-distance and mean reward (the data behind the category chart). */
export function categoryRows(
  summaries: readonly ModelSummary[],
): { category: string | number; n: string | number; model: string; e_distance_mean: string | number; reward_mean: string | number }[] {
  const byE = categoryTable(summaries, "e_distance_mean");
  const byReward = categoryTable(summaries, "reward_mean");
  return byE.flatMap((r, i) =>
    summaries.map(({ model }) => ({ category: r.category, n: r.n, model, e_distance_mean: r[model], reward_mean: byReward[i][model] })),
  );
}

/** Models in order of first appearance across the reports. */
function modelsOf(reports: readonly PairwiseReport[]): string[] {
  return [...new Set(reports.flatMap((r) => r.elo.map((e) => e.model)))];
}

/**
 * Grouped bars: in-order Elo per judge (categories) and model (series), with
 * the bootstrap interval of each as an asymmetric error bar; the value axis
 * spans the intervals with 20 points to spare.
 */
export function eloFigure(reports: readonly PairwiseReport[]): Figure {
  const intervals = reports.flatMap((r) => r.elo);
  return barChart({
    title: "Elo of the released models by judge (95% bootstrap intervals)",
    categories: reports.map((r) => r.judge),
    series: modelsOf(reports).map((model) => {
      const iv = reports.map((r) => r.elo.find((e) => e.model === model) ?? { elo: NaN, lower: NaN, upper: NaN });
      return {
        name: model,
        values: iv.map((e) => e.elo),
        errors: { plus: iv.map((e) => e.upper - e.elo), minus: iv.map((e) => e.elo - e.lower) },
      };
    }),
    yTitle: "Elo (start 1000, K = 32)",
    range: [Math.min(...intervals.map((e) => e.lower)) - 20, Math.max(...intervals.map((e) => e.upper)) + 20],
  });
}

/** One row per judge and model: Elo, interval and win rate (the data behind the Elo chart). */
export function eloRows(
  reports: readonly PairwiseReport[],
): { judge: string; model: string; elo: number; ci_low: number; ci_high: number; win_rate: number }[] {
  return reports.flatMap((r) =>
    r.elo.map((e) => ({
      judge: r.judge,
      model: e.model,
      elo: e.elo,
      ci_low: e.lower,
      ci_high: e.upper,
      win_rate: r.winRates.find((w) => w.model === e.model)?.win_rate ?? NaN,
    })),
  );
}
