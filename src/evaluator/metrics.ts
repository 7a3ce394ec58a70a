/**
 * How well value predictions match a reference: the original evaluation of
 * the value evaluator (per-label precision / recall / F1, per-value accuracy,
 * confusion matrices, MSE) and agreement with the paper's evaluator (sign
 * agreement after the ±0.3 dead zone, Pearson r).
 *
 * Labels are −1 (opposed), 0 (no connection), +1 (important); matrices and
 * per-label lists are indexed by label + 1.
 */
import { BASIC_VALUES } from "../values/taxonomy.js";
import { polarity } from "../values/vectors.js";
import { VALUE_THRESHOLD } from "../values/threshold.js";
import type { Polarity } from "../values/labels.js";
import { mean, pearson } from "../runtime/stats.js";

export const LABEL_NAMES = ["opposed", "no connection", "important"] as const;

export interface LabelScores {
  precision: number;
  recall: number;
  f1: number;
  /** Reference items with this label. */
  support: number;
  /** Predictions with this label. */
  predicted: number;
}

export interface ValueClassification {
  value: string;
  accuracy: number;
  /** Per label (opposed, no connection, important). */
  labels: LabelScores[];
  /** Mean F1 over the labels that occur in the reference or the predictions. */
  macroF1: number;
  /** confusion[reference + 1][predicted + 1]. */
  confusion: number[][];
}

export interface ClassificationReport {
  items: number;
  perValue: ValueClassification[];
  /** Per label, counted over all values together. */
  pooled: LabelScores[];
  /** Mean over values of the per-value macro-F1. */
  macroF1: number;
  /** Mean over values of the per-value accuracy. */
  accuracy: number;
  /** Summed over values. */
  confusion: number[][];
}

function scoresFrom(confusion: number[][], label: number): LabelScores {
  const tp = confusion[label][label];
  const support = confusion[label].reduce((a, b) => a + b, 0);
  const predicted = confusion.reduce((a, row) => a + row[label], 0);
  const precision = predicted > 0 ? tp / predicted : 0;
  const recall = support > 0 ? tp / support : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, support, predicted };
}

function emptyConfusion(): number[][] {
  return [0, 1, 2].map(() => [0, 0, 0]);
}

function checkRows(reference: readonly (readonly number[])[], predicted: readonly (readonly number[])[]): void {
  if (reference.length !== predicted.length)
    throw new RangeError(`${reference.length} reference rows but ${predicted.length} predicted rows`);
  reference.forEach((r, i) => {
    if (r.length !== BASIC_VALUES.length || predicted[i].length !== BASIC_VALUES.length) {
      throw new RangeError(`row ${i}: expected ${BASIC_VALUES.length} values in the paper's order`);
    }
  });
}

/** The original's classification evaluation, per value and pooled over values. */
export function classificationReport(
  reference: readonly (readonly Polarity[])[],
  predicted: readonly (readonly Polarity[])[],
): ClassificationReport {
  checkRows(reference, predicted);
  const total = emptyConfusion();
  const perValue = BASIC_VALUES.map((value, v) => {
    const confusion = emptyConfusion();
    for (let i = 0; i < reference.length; i++) confusion[reference[i][v] + 1][predicted[i][v] + 1]++;
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) total[a][b] += confusion[a][b];
    const labels = [0, 1, 2].map((l) => scoresFrom(confusion, l));
    const present = labels.filter((s) => s.support > 0 || s.predicted > 0);
    const correct = confusion[0][0] + confusion[1][1] + confusion[2][2];
    return {
      value,
      accuracy: reference.length ? correct / reference.length : 0,
      labels,
      macroF1: present.length ? present.reduce((a, s) => a + s.f1, 0) / present.length : 0,
      confusion,
    };
  });
  return {
    items: reference.length,
    perValue,
    pooled: [0, 1, 2].map((l) => scoresFrom(total, l)),
    macroF1: mean(perValue.map((p) => p.macroF1)),
    accuracy: mean(perValue.map((p) => p.accuracy)),
    confusion: total,
  };
}

export interface RegressionReport {
  /** Mean squared error per value. */
  mse: number[];
  /** Mean over values. */
  meanMse: number;
}

export function regressionReport(reference: readonly (readonly number[])[], predicted: readonly (readonly number[])[]): RegressionReport {
  checkRows(reference, predicted);
  const mse = BASIC_VALUES.map((_, v) => mean(reference.map((r, i) => (r[v] - predicted[i][v]) ** 2)));
  return { mse, meanMse: mean(mse) };
}

export interface ValueAgreement {
  value: string;
  /** Share of items where both give the same −1 / 0 / +1 after the dead zone. */
  signAgreement: number;
  pearson: number;
  /** Share the reference itself calls −1 / 0 / +1 (context for the agreement). */
  referenceShares: [number, number, number];
}

export interface AgreementReport {
  items: number;
  threshold: number;
  perValue: ValueAgreement[];
  meanSignAgreement: number;
  /** Mean over the values where r is defined. */
  meanPearson: number;
}

/** Agreement of predicted value vectors with reference ones (the paper's evaluator). */
export function agreementReport(
  reference: readonly (readonly number[])[],
  predicted: readonly (readonly number[])[],
  threshold = VALUE_THRESHOLD,
): AgreementReport {
  checkRows(reference, predicted);
  const perValue = BASIC_VALUES.map((value, v) => {
    const ref = reference.map((r) => r[v]);
    const pred = predicted.map((p) => p[v]);
    let same = 0;
    const shares: [number, number, number] = [0, 0, 0];
    for (let i = 0; i < ref.length; i++) {
      const a = polarity(ref[i], threshold);
      if (a === polarity(pred[i], threshold)) same++;
      shares[a + 1] += 1 / ref.length;
    }
    return { value, signAgreement: ref.length ? same / ref.length : 0, pearson: pearson(ref, pred), referenceShares: shares };
  });
  const rs = perValue.map((p) => p.pearson).filter((r) => Number.isFinite(r));
  return {
    items: reference.length,
    threshold,
    perValue,
    meanSignAgreement: mean(perValue.map((p) => p.signAgreement)),
    meanPearson: rs.length ? mean(rs) : NaN,
  };
}

/** Orders names by a score, smallest first (ties keep their given order). */
export function rankBy(names: readonly string[], scores: readonly number[]): string[] {
  return names
    .map((n, i) => ({ n, s: scores[i], i }))
    .sort((a, b) => a.s - b.s || a.i - b.i)
    .map((x) => x.n);
}
