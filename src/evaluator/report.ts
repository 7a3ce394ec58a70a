/**
 * The evaluator's report card, on data that never touched its training.
 *
 * 1. The original's evaluation on the held-out 10% of the labelled records
 *    (file-order split): per-label precision / recall / F1, per-value
 *    accuracy, macro-F1, confusion matrices, and the regressor's MSE.
 * 2. Agreement with the paper's evaluator, leave one model out: each
 *    model's scored answers are scored by evaluators that saw neither that
 *    model's output nor the test prompts (see data.ts), fold by fold; per
 *    value the sign agreement after the ±0.3 dead zone and Pearson r, and
 *    each model's mean e-distance to the `ideal` target, so the models can
 *    be ranked as the paper's evaluator ranks them.
 * 3. The same ranking by one evaluator trained on FULCRA's labels alone,
 *    which saw no scored answer at all (one instrument for every model).
 *
 * The majority and TF-IDF baselines are trained on exactly the same data as
 * the evaluator in every split and reported beside it.
 */
import { rawPath } from "../data/paths.js";
import { initBackend } from "../runtime/backend.js";
import { provenance, type Provenance } from "../runtime/provenance.js";
import { dialogueFeatures } from "../text/features.js";
import { TARGETS } from "../values/targets.js";
import { VALUE_THRESHOLD } from "../values/threshold.js";
import { euclideanToTarget } from "../values/distance.js";
import { MajorityBaseline, TfIdfBaseline, type BaselinePredictions } from "./baseline.js";
import { fieldBags } from "./evaluator.js";
import type { EvaluatorExample } from "./data.js";
import {
  agreementReport,
  classificationReport,
  rankBy,
  regressionReport,
  type AgreementReport,
  type ClassificationReport,
  type RegressionReport,
} from "./metrics.js";
import {
  classWeightTable,
  loadTrainingData,
  resolveConfig,
  scoreAsAnnotated,
  trainEvaluator,
  type EpochRecord,
  type EvaluatorConfig,
  type TrainingData,
} from "./train.js";
import { mean } from "../runtime/stats.js";

/** The paper's reading of its evaluator's scores: −1 / 0 / +1 beyond ±0.3. */
export const SIGN_THRESHOLD = VALUE_THRESHOLD;

/** The quality the kit aims for (issue: evaluator). */
export const QUALITY_GOALS = {
  meanSignAgreement: 0.92,
  meanPearson: 0.75,
} as const;

export interface MethodOnLabels {
  classification: ClassificationReport;
  /** MSE of the method's value vector against the labels (−1 / 0 / +1). */
  vectorMse: RegressionReport;
}

export interface FulcraSplitReport {
  trainExamples: { labelled: number; distilled: number };
  testRecords: number;
  evaluator: MethodOnLabels & { regressorMse: RegressionReport };
  tfidf: MethodOnLabels;
  majority: MethodOnLabels;
  history: EpochRecord[];
}

export interface ModelAgreement {
  model: string;
  items: number;
  evaluator: AgreementReport;
  /** The evaluator's other head (the tanh regressor when the vector comes from the classifier, and vice versa). */
  otherHead: AgreementReport;
  tfidf: AgreementReport;
  majority: AgreementReport;
  /** The evaluator's labels against the paper's scores cut at ±0.3. */
  labels: ClassificationReport;
  /** Mean e-distance to the `ideal` target. */
  meanE: { paper: number; evaluator: number; tfidf: number; majority: number };
}

export interface ScoredItem {
  model: string;
  fold: number;
  /** Line in the scored-output file. */
  line: number;
  paper: number[];
  evaluator: number[];
  tfidf: number[];
}

export interface Ranking {
  /** Models from closest to farthest from the ideal target (mean e-distance). */
  paper: string[];
  evaluator: string[];
  tfidf: string[];
  evaluatorMatchesPaper: boolean;
  tfidfMatchesPaper: boolean;
}

export interface LeaveModelOutReport {
  promptFolds: number;
  models: ModelAgreement[];
  /** All held-out answers together. */
  pooled: { evaluator: AgreementReport; otherHead: AgreementReport; tfidf: AgreementReport; majority: AgreementReport };
  ranking: Ranking;
  histories: { model: string; fold: number; history: EpochRecord[]; excluded: { reason: string; count: number }[] }[];
  items: ScoredItem[];
}

export interface LabelsOnlyRanking {
  /** Mean e-distance per model, scored by an evaluator trained on FULCRA labels only. */
  meanE: { model: string; paper: number; evaluator: number }[];
  ranking: { paper: string[]; evaluator: string[]; matches: boolean };
}

export interface EvaluatorReport {
  config: EvaluatorConfig;
  dataFiles: string[];
  /** Whether the labelled data is the mirror's subset (trustworthy_data only) or the full FULCRA. */
  labelledData: string;
  fulcraSplit?: FulcraSplitReport;
  leaveModelOut?: LeaveModelOutReport;
  labelsOnly?: LabelsOnlyRanking;
  goals: { name: string; value: number | string; goal: string; met: boolean | null }[];
  seconds: number;
  provenance: Provenance;
}

export interface ReportOptions {
  /** Training configuration of the evaluators (outDir is ignored: nothing is saved). */
  config?: Partial<EvaluatorConfig>;
  quiet?: boolean;
  /** Parts to run (default all that the data allows). */
  parts?: ("fulcra-split" | "leave-model-out" | "labels-only")[];
  /** Data already read. */
  data?: TrainingData;
  /** Called with a line of progress text. */
  log?: (line: string) => void;
}

function tfidfOptions(c: EvaluatorConfig, train: readonly EvaluatorExample[]) {
  return {
    features: {
      buckets: c.buckets,
      maxN: c.maxN,
      fields: c.fields,
      maxTokens: c.maxTokens,
      expandContractions: c.expandContractions,
      prefixLength: c.prefixLength,
    },
    minDocuments: c.minDocuments,
    epochs: 10,
    learningRate: 0.5,
    l2: 1e-5,
    seed: c.seed,
    classWeights: classWeightTable(
      train.map((e) => e.labels),
      c.classWeightPower,
    ),
  };
}

function onLabels(test: readonly EvaluatorExample[], p: BaselinePredictions): MethodOnLabels {
  return {
    classification: classificationReport(
      test.map((e) => e.labels),
      p.labels,
    ),
    vectorMse: regressionReport(
      test.map((e) => e.target),
      p.vectors,
    ),
  };
}

function meanE(vectors: readonly number[][]): number {
  return mean(vectors.map((v) => euclideanToTarget(v, TARGETS.ideal)));
}

type Log = (line: string) => void;

/** 1. The original's 90/10 file-order split of the labelled records: the evaluator and both baselines on the last 10%. */
async function fulcraSplitPart(base: EvaluatorConfig, data: TrainingData, log: Log): Promise<FulcraSplitReport> {
  log("report: training on the first 90% of each labelled file…");
  const ev = await trainEvaluator({ ...base, split: "fulcra-file-order" }, { data });
  const { train, test } = ev.training.split;
  const bags = test.map((e) => fieldBags(dialogueFeatures(e, ev.features), ev.vocabulary, ev.features.fieldPooling));
  const scores = scoreAsAnnotated(ev, bags, test);
  const tfidf = TfIdfBaseline.fit(train, tfidfOptions(base, train)).predict(test);
  const majority = MajorityBaseline.fit(train).predict(test);
  const result: FulcraSplitReport = {
    trainExamples: { labelled: ev.training.counts.trainLabelled, distilled: ev.training.counts.trainDistilled },
    testRecords: test.length,
    evaluator: {
      ...onLabels(test, { labels: scores.map((s) => s.labels), vectors: scores.map((s) => s.vector) }),
      regressorMse: regressionReport(
        test.map((e) => e.target),
        scores.map((s) => s.regression),
      ),
    },
    tfidf: onLabels(test, tfidf),
    majority: onLabels(test, majority),
    history: ev.training.history,
  };
  ev.dispose();
  return result;
}

/** 2. Leave one model out, prompt folds apart: agreement with the paper's evaluator on each held-out model, and the ranking. */
async function leaveModelOutPart(
  base: EvaluatorConfig,
  data: TrainingData,
  models: readonly string[],
  log: Log,
): Promise<LeaveModelOutReport> {
  const folds = base.promptFolds;
  const items: ScoredItem[] = [];
  const perModel: ModelAgreement[] = [];
  const histories: LeaveModelOutReport["histories"] = [];
  const other: number[][] = [];
  const otherByModel = new Map<string, number[][]>();
  const labelsByModel = new Map<string, ReturnType<typeof scoreAsAnnotated>>();
  const majorityByModel = new Map<string, number[][]>();
  for (const model of models) {
    for (let fold = 0; fold < folds; fold++) {
      log(`report: leave ${model} out, prompt fold ${fold + 1}/${folds}…`);
      const ev = await trainEvaluator(
        { ...base, split: "leave-model-out", heldOutModel: model, promptFolds: folds, promptFold: fold },
        { data },
      );
      const { train, test } = ev.training.split;
      histories.push({ model, fold, history: ev.training.history, excluded: ev.training.split.excluded });
      if (test.length === 0) {
        ev.dispose();
        continue;
      }
      const scores = await ev.score(test);
      const tfidf = TfIdfBaseline.fit(train, tfidfOptions(base, train)).predict(test);
      const majority = MajorityBaseline.fit(train).predict(test);
      test.forEach((e, i) => {
        items.push({ model, fold, line: e.line, paper: e.target, evaluator: scores[i].vector, tfidf: tfidf.vectors[i] });
        const o = ev.vectorHead === "classification" ? scores[i].regression : scores[i].probabilities.map((p) => p[2] - p[0]);
        other.push(o);
        if (!otherByModel.has(model)) otherByModel.set(model, []);
        otherByModel.get(model)!.push(o);
        if (!majorityByModel.has(model)) majorityByModel.set(model, []);
        majorityByModel.get(model)!.push(majority.vectors[i]);
      });
      labelsByModel.set(model, [...(labelsByModel.get(model) ?? []), ...scores]);
      ev.dispose();
    }
    const mine = items.filter((it) => it.model === model);
    if (mine.length === 0) continue;
    const paper = mine.map((it) => it.paper);
    perModel.push({
      model,
      items: mine.length,
      evaluator: agreementReport(
        paper,
        mine.map((it) => it.evaluator),
        SIGN_THRESHOLD,
      ),
      otherHead: agreementReport(paper, otherByModel.get(model)!, SIGN_THRESHOLD),
      tfidf: agreementReport(
        paper,
        mine.map((it) => it.tfidf),
        SIGN_THRESHOLD,
      ),
      majority: agreementReport(paper, majorityByModel.get(model)!, SIGN_THRESHOLD),
      labels: classificationReport(
        paper.map((v) => v.map((x) => (x > SIGN_THRESHOLD ? 1 : x < -SIGN_THRESHOLD ? -1 : 0))),
        labelsByModel.get(model)!.map((s) => s.labels),
      ),
      meanE: {
        paper: meanE(paper),
        evaluator: meanE(mine.map((it) => it.evaluator)),
        tfidf: meanE(mine.map((it) => it.tfidf)),
        majority: meanE(majorityByModel.get(model)!),
      },
    });
  }
  const names = perModel.map((m) => m.model);
  const paperOrder = rankBy(
    names,
    perModel.map((m) => m.meanE.paper),
  );
  const evOrder = rankBy(
    names,
    perModel.map((m) => m.meanE.evaluator),
  );
  const tfOrder = rankBy(
    names,
    perModel.map((m) => m.meanE.tfidf),
  );
  return {
    promptFolds: folds,
    models: perModel,
    pooled: {
      evaluator: agreementReport(
        items.map((it) => it.paper),
        items.map((it) => it.evaluator),
        SIGN_THRESHOLD,
      ),
      otherHead: agreementReport(
        items.map((it) => it.paper),
        other,
        SIGN_THRESHOLD,
      ),
      tfidf: agreementReport(
        items.map((it) => it.paper),
        items.map((it) => it.tfidf),
        SIGN_THRESHOLD,
      ),
      majority: agreementReport(
        items.map((it) => it.paper),
        models.flatMap((m) => majorityByModel.get(m) ?? []),
        SIGN_THRESHOLD,
      ),
    },
    ranking: {
      paper: paperOrder,
      evaluator: evOrder,
      tfidf: tfOrder,
      evaluatorMatchesPaper: evOrder.join() === paperOrder.join(),
      tfidfMatchesPaper: tfOrder.join() === paperOrder.join(),
    },
    histories,
    items,
  };
}

/** 3. One instrument for all models: an evaluator that saw no scored answer ranks every model. */
async function labelsOnlyPart(base: EvaluatorConfig, data: TrainingData, models: readonly string[], log: Log): Promise<LabelsOnlyRanking> {
  log("report: training on FULCRA labels only, to rank every model with one evaluator…");
  const ev = await trainEvaluator({ ...base, split: "none", scoredFiles: [] }, { data: { ...data, distilled: [] } });
  const rows: LabelsOnlyRanking["meanE"] = [];
  for (const model of models) {
    const answers = data.distilled.filter((e) => e.model === model);
    const scores = await ev.score(answers);
    rows.push({
      model,
      paper: meanE(answers.map((e) => e.target)),
      evaluator: meanE(scores.map((s) => s.vector)),
    });
  }
  ev.dispose();
  const paper = rankBy(
    rows.map((r) => r.model),
    rows.map((r) => r.paper),
  );
  const evaluator = rankBy(
    rows.map((r) => r.model),
    rows.map((r) => r.evaluator),
  );
  return { meanE: rows, ranking: { paper, evaluator, matches: paper.join() === evaluator.join() } };
}

/** Runs the whole evaluation (several trainings; a few minutes on two cores). */
export async function evaluatorReport(options: ReportOptions = {}): Promise<EvaluatorReport> {
  const started = Date.now();
  const base = resolveConfig({ ...options.config, outDir: null, quiet: options.quiet ?? options.config?.quiet ?? false });
  await initBackend({ quiet: base.quiet });
  const log = options.log ?? ((line: string) => base.quiet || console.error(line));
  const data = options.data ?? loadTrainingData(base);
  const parts = new Set(options.parts ?? ["fulcra-split", "leave-model-out", "labels-only"]);
  const labelledNames = data.labelled.flatMap((l) => (l[0] ? [l[0].file] : []));
  const report: EvaluatorReport = {
    config: base,
    dataFiles: data.files,
    labelledData: labelledNames.some((f) => f.endsWith("data_hybrid.jsonl"))
      ? "full FULCRA (data_hybrid)"
      : labelledNames.length === 1 && labelledNames[0] === rawPath("trustworthy_data")
        ? "mirror subset (trustworthy_data only)"
        : labelledNames.join(", ") || "none",
    goals: [],
    seconds: 0,
    provenance: provenance({ dataFiles: data.files, seed: base.seed }),
  };

  if (parts.has("fulcra-split") && data.labelled.some((l) => l.length > 0)) report.fulcraSplit = await fulcraSplitPart(base, data, log);
  const models = [...new Set(data.distilled.map((e) => e.model))];
  if (parts.has("leave-model-out") && models.length > 0) report.leaveModelOut = await leaveModelOutPart(base, data, models, log);
  if (parts.has("labels-only") && models.length > 0 && data.labelled.some((l) => l.length > 0))
    report.labelsOnly = await labelsOnlyPart(base, data, models, log);
  report.goals = qualityGoals(report);
  report.seconds = (Date.now() - started) / 1000;
  return report;
}

function qualityGoals(r: EvaluatorReport): EvaluatorReport["goals"] {
  const goals: EvaluatorReport["goals"] = [];
  if (r.leaveModelOut) {
    const p = r.leaveModelOut.pooled.evaluator;
    goals.push({
      name: "mean sign agreement with the paper's evaluator (held-out models)",
      value: p.meanSignAgreement,
      goal: `≥ ${QUALITY_GOALS.meanSignAgreement}`,
      met: p.meanSignAgreement >= QUALITY_GOALS.meanSignAgreement,
    });
    goals.push({
      name: "mean Pearson r with the paper's evaluator (held-out models)",
      value: p.meanPearson,
      goal: `≥ ${QUALITY_GOALS.meanPearson}`,
      met: p.meanPearson >= QUALITY_GOALS.meanPearson,
    });
    const rk = r.leaveModelOut.ranking;
    goals.push({
      name: "models ranked by mean e-distance as the paper's evaluator ranks them",
      value: rk.evaluator.join(" < "),
      goal: rk.paper.join(" < "),
      met: rk.paper.length < 2 ? null : rk.evaluatorMatchesPaper,
    });
  }
  if (r.fulcraSplit) {
    const ev = r.fulcraSplit.evaluator.classification.macroF1;
    const tf = r.fulcraSplit.tfidf.classification.macroF1;
    goals.push({
      name: "macro-F1 on the held-out 10% of labelled records, minus the TF-IDF baseline's",
      value: ev - tf,
      goal: "clearly > 0",
      met: ev > tf,
    });
  }
  return goals;
}

/** The report without the per-answer items (for printing or small JSON). */
export function reportSummary(
  r: EvaluatorReport,
): Omit<EvaluatorReport, "leaveModelOut"> & { leaveModelOut?: Omit<LeaveModelOutReport, "items"> } {
  if (!r.leaveModelOut) return r;
  const { items: _items, ...rest } = r.leaveModelOut;
  return { ...r, leaveModelOut: rest };
}
