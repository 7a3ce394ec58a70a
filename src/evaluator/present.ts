/**
 * The evaluator's report as tables, figures and report numbers, so that the
 * notebook only loads, calls and shows. Also `ensureEvaluatorReport`, which
 * reuses a report computed earlier with the same configuration and data.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { barChart, heatmap, lineChart, scatterPlot } from "../charts/builders.js";
import { valueLabels, VALUE_COLORS, type Figure } from "../charts/spec.js";
import type { ReportNumber } from "../runtime/report-number.js";
import { sha256File } from "../runtime/provenance.js";
import { BASIC_VALUE_LABELS, BASIC_VALUES } from "../values/taxonomy.js";
import { LABEL_NAMES } from "./metrics.js";
import { evaluatorReport, QUALITY_GOALS, reportSummary, type EvaluatorReport, type ReportOptions } from "./report.js";
import { CONFUSION_CELLS, formatReport } from "./report-markdown.js";
import { MANIFEST } from "../data/manifest.js";
import {
  configFingerprint,
  defaultEvaluatorDir,
  loadTrainingData,
  resolveConfig,
  trainingCodeHash,
  type EpochRecord,
  type EvaluatorConfig,
  type TrainingData,
} from "./train.js";

// ─── Caching the report ────────────────────────────────────────────────────

/** Where the kit keeps the default evaluator's report. */
export function defaultReportDir(): string {
  return join(defaultEvaluatorDir(), "..", "report");
}

/**
 * The report for `config` (defaults otherwise): read from `dir` when a report
 * there was made with the same configuration, training code and data files
 * (sha256), computed and written there otherwise (a few minutes).
 */
export async function ensureEvaluatorReport(
  dir: string = defaultReportDir(),
  config: Partial<EvaluatorConfig> = {},
  options: Omit<ReportOptions, "config"> = {},
): Promise<EvaluatorReport> {
  const c = resolveConfig({ ...config, outDir: null });
  const data = options.data ?? loadTrainingData(c);
  const key = {
    fingerprint: configFingerprint(c),
    code: trainingCodeHash(),
    parts: options.parts ?? "all",
    data: data.files.map((f) => sha256File(f).sha256),
  };
  const file = join(resolve(dir), "report.json");
  const keyFile = join(resolve(dir), "report-key.json");
  if (existsSync(file) && existsSync(keyFile) && readFileSync(keyFile, "utf8") === JSON.stringify(key)) {
    return JSON.parse(readFileSync(file, "utf8")) as EvaluatorReport;
  }
  const report = await evaluatorReport({ ...options, config: c, data });
  mkdirSync(resolve(dir), { recursive: true });
  writeFileSync(file, JSON.stringify(report) + "\n");
  writeFileSync(join(resolve(dir), "report.md"), formatReport(report) + "\n");
  writeFileSync(join(resolve(dir), "report-summary.json"), JSON.stringify(reportSummary(report), null, 2) + "\n");
  writeFileSync(keyFile, JSON.stringify(key));
  return report;
}

// ─── Tables ────────────────────────────────────────────────────────────────

export function qualityGoalRows(r: EvaluatorReport): { measure: string; value: number | string; goal: string; met: string }[] {
  return r.goals.map((g) => ({ measure: g.name, value: g.value, goal: g.goal, met: g.met === null ? "n/a" : g.met ? "yes" : "no" }));
}

export function fulcraMethodRows(r: EvaluatorReport): { method: string; macro_f1: number; accuracy: number; vector_mse: number }[] {
  const fs = r.fulcraSplit;
  if (!fs) return [];
  return [
    {
      method: "evaluator",
      macro_f1: fs.evaluator.classification.macroF1,
      accuracy: fs.evaluator.classification.accuracy,
      vector_mse: fs.evaluator.vectorMse.meanMse,
    },
    { method: "evaluator's tanh regressor", macro_f1: NaN, accuracy: NaN, vector_mse: fs.evaluator.regressorMse.meanMse },
    {
      method: "TF-IDF + logistic regression",
      macro_f1: fs.tfidf.classification.macroF1,
      accuracy: fs.tfidf.classification.accuracy,
      vector_mse: fs.tfidf.vectorMse.meanMse,
    },
    {
      method: "majority",
      macro_f1: fs.majority.classification.macroF1,
      accuracy: fs.majority.classification.accuracy,
      vector_mse: fs.majority.vectorMse.meanMse,
    },
  ];
}

export function fulcraPerValueRows(r: EvaluatorReport) {
  const fs = r.fulcraSplit;
  if (!fs) return [];
  return fs.evaluator.classification.perValue.map((p, v) => ({
    value: BASIC_VALUE_LABELS[BASIC_VALUES[v]],
    accuracy: p.accuracy,
    macro_f1: p.macroF1,
    ...Object.fromEntries(
      LABEL_NAMES.map((l, k) => [
        `${l} P/R/F1 (n)`,
        `${p.labels[k].precision.toFixed(2)}/${p.labels[k].recall.toFixed(2)}/${p.labels[k].f1.toFixed(2)} (${p.labels[k].support})`,
      ]),
    ),
    regressor_mse: fs.evaluator.regressorMse.mse[v],
    tfidf_macro_f1: fs.tfidf.classification.perValue[v].macroF1,
    majority_macro_f1: fs.majority.classification.perValue[v].macroF1,
  }));
}

export function labelRows(r: EvaluatorReport) {
  const fs = r.fulcraSplit;
  if (!fs) return [];
  return fs.evaluator.classification.pooled.map((s, l) => ({
    label: LABEL_NAMES[l],
    precision: s.precision,
    recall: s.recall,
    f1: s.f1,
    support: s.support,
    tfidf_f1: fs.tfidf.classification.pooled[l].f1,
  }));
}

/** Per value, the evaluator's confusion matrix on the held-out labelled records, flattened (label → evaluator). */
export function perValueConfusionRows(r: EvaluatorReport): Record<string, string | number>[] {
  const fs = r.fulcraSplit;
  if (!fs) return [];
  return fs.evaluator.classification.perValue.map((p, v) => ({
    value: BASIC_VALUE_LABELS[BASIC_VALUES[v]],
    ...Object.fromEntries(CONFUSION_CELLS.map((name, k) => [name, p.confusion[Math.floor(k / 3)][k % 3]])),
  }));
}

export function agreementModelRows(r: EvaluatorReport) {
  const lo = r.leaveModelOut;
  if (!lo) return [];
  const row = (
    model: string,
    items: number,
    m: {
      evaluator: { meanSignAgreement: number; meanPearson: number };
      otherHead: { meanSignAgreement: number; meanPearson: number };
      tfidf: { meanSignAgreement: number; meanPearson: number };
      majority: { meanSignAgreement: number };
    },
  ) => ({
    held_out_model: model,
    answers: items,
    sign_evaluator: m.evaluator.meanSignAgreement,
    r_evaluator: m.evaluator.meanPearson,
    sign_other_head: m.otherHead.meanSignAgreement,
    r_other_head: m.otherHead.meanPearson,
    sign_tfidf: m.tfidf.meanSignAgreement,
    r_tfidf: m.tfidf.meanPearson,
    sign_majority: m.majority.meanSignAgreement,
  });
  return [...lo.models.map((m) => row(m.model, m.items, m)), row("all", lo.items.length, lo.pooled)];
}

export function agreementValueRows(r: EvaluatorReport) {
  const lo = r.leaveModelOut;
  if (!lo) return [];
  return lo.pooled.evaluator.perValue.map((p, v) => ({
    value: BASIC_VALUE_LABELS[BASIC_VALUES[v]],
    paper_shares: p.referenceShares.map((x) => x.toFixed(2)).join(" / "),
    sign_evaluator: p.signAgreement,
    r_evaluator: p.pearson,
    sign_tfidf: lo.pooled.tfidf.perValue[v].signAgreement,
    r_tfidf: lo.pooled.tfidf.perValue[v].pearson,
    sign_majority: lo.pooled.majority.perValue[v].signAgreement,
  }));
}

export function rankingRows(r: EvaluatorReport) {
  const rows: { scored_by: string; model: string; mean_e_paper: number; mean_e_kit: number }[] = [];
  for (const m of r.leaveModelOut?.models ?? []) {
    rows.push({ scored_by: "evaluator (model left out)", model: m.model, mean_e_paper: m.meanE.paper, mean_e_kit: m.meanE.evaluator });
    rows.push({ scored_by: "TF-IDF (model left out)", model: m.model, mean_e_paper: m.meanE.paper, mean_e_kit: m.meanE.tfidf });
  }
  for (const m of r.labelsOnly?.meanE ?? [])
    rows.push({ scored_by: "evaluator on FULCRA labels only", model: m.model, mean_e_paper: m.paper, mean_e_kit: m.evaluator });
  return rows;
}

// ─── Figures ───────────────────────────────────────────────────────────────

/** Training loss and held-out metrics per epoch. */
export function trainingCurveFigure(history: readonly EpochRecord[], title = "Training curve"): Figure {
  const x = history.map((h) => h.epoch);
  const series = [{ name: "training loss", x, y: history.map((h) => h.trainLoss), mode: "lines+markers" as const }];
  if (history.every((h) => h.test)) {
    series.push({ name: "held-out macro-F1", x, y: history.map((h) => h.test!.macroF1), mode: "lines+markers" as const });
    if (history.every((h) => h.test!.signAgreement !== undefined)) {
      series.push({ name: "held-out sign agreement", x, y: history.map((h) => h.test!.signAgreement!), mode: "lines+markers" as const });
      series.push({ name: "held-out Pearson r", x, y: history.map((h) => h.test!.pearson!), mode: "lines+markers" as const });
    }
  }
  return lineChart({ title, xTitle: "epoch", yTitle: "loss / score", series });
}

/** Confusion matrix over all values on the held-out labelled records, as shares of each true label. */
export function confusionFigure(r: EvaluatorReport): Figure {
  const m = r.fulcraSplit!.evaluator.classification.confusion;
  const z = m.map((row) => {
    const n = row.reduce((a, b) => a + b, 0);
    return row.map((c) => (n ? c / n : null));
  });
  return heatmap({
    title: "Held-out labelled records: label (rows) against the evaluator (columns)",
    x: [...LABEL_NAMES],
    y: [...LABEL_NAMES],
    z,
    zmin: 0,
    zmax: 1,
    colorscale: [
      [0, "#f7f7f7"],
      [1, "#2166ac"],
    ],
    format: (v) => v.toFixed(2),
    colorbarTitle: "share of row",
    width: 560,
    height: 440,
  });
}

/** Per answer and value: the paper's evaluator (x) against the kit's (y), one colour per value. */
export function agreementScatterFigure(r: EvaluatorReport, values: readonly number[] = BASIC_VALUES.map((_, i) => i)): Figure {
  const items = r.leaveModelOut?.items ?? [];
  // A small deterministic jitter on x: the paper's scores pile up at −1, 0 and 1.
  const jitter = (i: number, v: number) => (((i * 7919 + v * 104729) % 1000) / 1000 - 0.5) * 0.06;
  return scatterPlot({
    title: "Held-out answers: the paper's evaluator against the kit's, per value",
    xTitle: "paper's evaluator (value_reward)",
    yTitle: "kit's evaluator",
    xRange: [-1.15, 1.15],
    yRange: [-1.1, 1.1],
    series: values.map((v) => ({
      name: BASIC_VALUE_LABELS[BASIC_VALUES[v]],
      x: items.map((it, i) => it.paper[v] + jitter(i, v)),
      y: items.map((it) => it.evaluator[v]),
      color: VALUE_COLORS[BASIC_VALUES[v]],
      size: 4,
      opacity: 0.35,
    })),
    width: 900,
    height: 620,
  });
}

/** Per value: sign agreement (or r) of the evaluator and the baselines with the paper's evaluator. */
export function perValueAgreementFigure(r: EvaluatorReport, measure: "signAgreement" | "pearson"): Figure {
  const lo = r.leaveModelOut!;
  const pick = (rep: typeof lo.pooled.evaluator) => rep.perValue.map((p) => (Number.isFinite(p[measure]) ? p[measure] : 0));
  const series = [
    { name: "evaluator", values: pick(lo.pooled.evaluator) },
    { name: "TF-IDF + logistic regression", values: pick(lo.pooled.tfidf) },
  ];
  if (measure === "signAgreement") series.push({ name: "majority", values: pick(lo.pooled.majority) });
  return barChart({
    title:
      measure === "signAgreement"
        ? `Sign agreement with the paper's evaluator (goal: mean ≥ ${QUALITY_GOALS.meanSignAgreement})`
        : `Pearson r with the paper's evaluator (goal: mean ≥ ${QUALITY_GOALS.meanPearson})`,
    categories: valueLabels(),
    series,
    range: measure === "signAgreement" ? [0.4, 1] : [0, 1],
    yTitle: measure === "signAgreement" ? "share of answers with the same −1/0/+1" : "Pearson r",
  });
}

/** The evaluator and its baselines on the three headline numbers. */
export function baselineComparisonFigure(r: EvaluatorReport): Figure {
  const categories = ["macro-F1, held-out labelled records", "sign agreement, held-out models", "Pearson r, held-out models"];
  const fs = r.fulcraSplit;
  const lo = r.leaveModelOut;
  const v = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 0 : x);
  const fig = barChart({
    title: "The evaluator beside its baselines",
    categories,
    series: [
      {
        name: "evaluator",
        values: [v(fs?.evaluator.classification.macroF1), v(lo?.pooled.evaluator.meanSignAgreement), v(lo?.pooled.evaluator.meanPearson)],
      },
      {
        name: "TF-IDF + logistic regression",
        values: [v(fs?.tfidf.classification.macroF1), v(lo?.pooled.tfidf.meanSignAgreement), v(lo?.pooled.tfidf.meanPearson)],
      },
      // A constant prediction has no Pearson r: no bar.
      { name: "majority", values: [v(fs?.majority.classification.macroF1), v(lo?.pooled.majority.meanSignAgreement), NaN] },
    ],
    valueFormat: ".3f",
    range: [0, 1],
  });
  // The majority's constant prediction has no Pearson r: say so instead of drawing a bar.
  (fig.data[2] as Record<string, unknown>).texttemplate = ["%{y:.3f}", "%{y:.3f}", "r undefined"];
  return fig;
}

/** Rows behind the scatter (one per answer and value), for the CSV export. */
export function agreementScatterRows(
  r: EvaluatorReport,
): { model: string; line: number; value: string; paper: number; kit: number; tfidf: number }[] {
  return (r.leaveModelOut?.items ?? []).flatMap((it) =>
    BASIC_VALUES.map((value, v) => ({
      model: it.model,
      line: it.line,
      value,
      paper: it.paper[v],
      kit: it.evaluator[v],
      tfidf: it.tfidf[v],
    })),
  );
}

// ─── Numbers for the reproduction report ───────────────────────────────────

export function evaluatorReportNumbers(r: EvaluatorReport): ReportNumber[] {
  const out: ReportNumber[] = [];
  const lo = r.leaveModelOut;
  if (lo) {
    out.push({
      name: "mean sign agreement with the paper's evaluator (held-out models)",
      value: lo.pooled.evaluator.meanSignAgreement,
      reference: QUALITY_GOALS.meanSignAgreement,
      referenceSource: "kit quality goal (at least)",
      note: `TF-IDF baseline ${lo.pooled.tfidf.meanSignAgreement.toFixed(3)}, majority ${lo.pooled.majority.meanSignAgreement.toFixed(3)}`,
    });
    out.push({
      name: "mean Pearson r with the paper's evaluator (held-out models)",
      value: lo.pooled.evaluator.meanPearson,
      reference: QUALITY_GOALS.meanPearson,
      referenceSource: "kit quality goal (at least)",
      note: `TF-IDF baseline ${lo.pooled.tfidf.meanPearson.toFixed(3)}`,
    });
    for (const m of lo.models) {
      out.push({ name: `sign agreement, ${m.model} held out`, value: m.evaluator.meanSignAgreement });
      out.push({ name: `Pearson r, ${m.model} held out`, value: m.evaluator.meanPearson });
      out.push({
        name: `mean e-distance to ideal, ${m.model} (kit evaluator, model held out)`,
        value: m.meanE.evaluator,
        reference: m.meanE.paper,
        referenceSource: "released value_reward (paper's evaluator)",
      });
    }
    out.push({
      name: "models ranked by mean e-distance (closest first)",
      value: lo.ranking.evaluator.join(" < "),
      reference: lo.ranking.paper.join(" < "),
      referenceSource: "released value_reward (paper's evaluator)",
    });
    lo.pooled.evaluator.perValue.forEach((p, v) => {
      out.push({
        name: `sign agreement / r, ${BASIC_VALUE_LABELS[BASIC_VALUES[v]]}`,
        value: `${p.signAgreement.toFixed(3)} / ${Number.isFinite(p.pearson) ? p.pearson.toFixed(3) : "—"}`,
      });
    });
  }
  const fs = r.fulcraSplit;
  if (fs) {
    out.push({
      name: "macro-F1, held-out 10% of labelled records",
      value: fs.evaluator.classification.macroF1,
      note: `TF-IDF baseline ${fs.tfidf.classification.macroF1.toFixed(3)}, majority ${fs.majority.classification.macroF1.toFixed(3)}`,
    });
    out.push({
      name: "macro-F1 minus the TF-IDF baseline's",
      value: fs.evaluator.classification.macroF1 - fs.tfidf.classification.macroF1,
      referenceSource: "kit quality goal: clearly above 0",
    });
    out.push({ name: "accuracy (mean over values), held-out labelled records", value: fs.evaluator.classification.accuracy });
    out.push({ name: "regressor MSE (mean over values), held-out labelled records", value: fs.evaluator.regressorMse.meanMse });
  }
  return out;
}

export function evaluatorReportNotes(r: EvaluatorReport): string[] {
  const notes = [
    `Labelled data: ${r.labelledData}.`,
    `Backend ${r.provenance.backend}; seed ${r.config.seed}; the report trained ${1 + (r.leaveModelOut ? r.leaveModelOut.histories.length : 0) + (r.labelsOnly ? 1 : 0)} evaluators in ${r.seconds.toFixed(0)} s.`,
    "Held-out models: each model's answers are scored by evaluators that saw neither that model's outputs (its scored answers nor FULCRA records it wrote) nor the test prompts (prompt folds by hash of the text), since every scored file answers the same 1,523 prompts.",
  ];
  if ((r.leaveModelOut?.models.length ?? 0) < 3)
    notes.push(
      `Only ${r.leaveModelOut?.models.length ?? 0} of the 3 released scored-output files are present (Mistral-large is not in the mirror), so the ranking compares ${r.leaveModelOut?.models.map((m) => m.model).join(" and ")} only.`,
    );
  return notes;
}

/** The data files behind a training set, by manifest name, with the records read from each (for `show.data`). */
export function trainingDataUse(data: TrainingData): { name: string; records: number }[] {
  const counts = new Map<string, number>();
  for (const e of [...data.labelled.flat(), ...data.distilled]) counts.set(e.file, (counts.get(e.file) ?? 0) + 1);
  return data.files.map((file) => {
    const entry = MANIFEST.find((m) => resolve(file).endsWith(m.localPath));
    return { name: entry?.name ?? file, records: counts.get(file) ?? 0 };
  });
}
