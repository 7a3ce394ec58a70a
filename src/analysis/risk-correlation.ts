/**
 * Figure 4(b): how each value dimension moves with the kind of risk a prompt carries.
 *
 * For a value dimension v and a risk r (one of the 14 harm categories, or one
 * of the five groups), the cell is Pearson's r between
 *   x_i = the value score of answer i on v, and
 *   y_i = 1 if prompt i is flagged with r, else 0,
 * over all answers i (point-biserial correlation), with its two-sided
 * p-value and the number of answers behind it. A positive cell means answers
 * to prompts of that risk score higher on the value than other answers.
 *
 * Scores are the evaluator's `value_reward` for scored outputs, or the
 * labelled polarities (−1/0/+1) for FULCRA records whose prompt was found
 * among the SafeRLHF questions.
 */
import type { ColumnTable } from "arquero";
import { BASIC_VALUES, type BasicValue } from "../values/taxonomy.js";
import { HARM_CATEGORIES, RISK_GROUPS, harmFlags } from "./harm.js";
import { PAPER_FIG4B, PAPER_SOURCE } from "./reference.js";
import { correlationTest, significanceStars } from "./stats.js";

export type RiskLevel = "category" | "group";

export type RiskCorrelationCell = {
  value: BasicValue;
  /** Harm category or risk group name. */
  risk: string;
  r: number;
  t: number;
  /** Two-sided p-value (Student's t, n − 2 degrees of freedom). */
  p: number;
  /** Answers behind the cell. */
  n: number;
  /** Answers whose prompt carries the risk. */
  flagged: number;
  /** "*", "**", "***" for p < 0.05, 0.01, 0.001. */
  stars: string;
};

/**
 * One cell per (value, risk), values in the paper's vector order, risks in
 * HARM_CATEGORIES or RISK_GROUPS order.
 */
export function valueRiskCorrelation(
  scores: readonly (readonly number[])[],
  safetyIssues: readonly (readonly string[])[],
  level: RiskLevel = "group",
): RiskCorrelationCell[] {
  if (scores.length !== safetyIssues.length)
    throw new RangeError(`valueRiskCorrelation: ${scores.length} score vectors but ${safetyIssues.length} safety-issue lists`);
  const n = scores.length;
  const risks: readonly string[] = level === "group" ? RISK_GROUPS : HARM_CATEGORIES;
  // Flags by risk, as 0/1 columns.
  const flags = risks.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const f = harmFlags(safetyIssues[i]);
    const on = level === "group" ? f.groups : f.categories;
    for (let k = 0; k < risks.length; k++) if (on[k]) flags[k][i] = 1;
  }
  const cells: RiskCorrelationCell[] = [];
  for (let v = 0; v < BASIC_VALUES.length; v++) {
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (scores[i].length !== BASIC_VALUES.length)
        throw new RangeError(`valueRiskCorrelation: score vector ${i} has ${scores[i].length} dimensions, expected ${BASIC_VALUES.length}`);
      x[i] = scores[i][v];
    }
    for (let k = 0; k < risks.length; k++) {
      const test = correlationTest(x, flags[k]);
      let flagged = 0;
      for (let i = 0; i < n; i++) flagged += flags[k][i];
      cells.push({
        value: BASIC_VALUES[v],
        risk: risks[k],
        r: test.r,
        t: test.t,
        p: test.p,
        n: test.n,
        flagged,
        stars: significanceStars(test.p),
      });
    }
  }
  return cells;
}

/** Correlation on scored outputs (`scoredTable`), all models pooled or one model. */
export function scoredValueRisk(table: ColumnTable, level: RiskLevel = "group", model?: string): RiskCorrelationCell[] {
  const t =
    model === undefined ? table : table.params({ model }).filter((d: { model: string }, $: { model: string }) => d.model === $.model);
  if (model !== undefined && t.numRows() === 0) {
    const models = [...new Set(table.array("model") as unknown as string[])].join(", ");
    throw new Error(`scoredValueRisk: no scored outputs of model "${model}"; present: ${models}`);
  }
  return valueRiskCorrelation(t.array("value_reward") as unknown as number[][], t.array("safety_issues") as unknown as string[][], level);
}

/** Correlation on FULCRA records whose prompt matched a SafeRLHF question (`fulcraTable` with questions). */
export function fulcraValueRisk(table: ColumnTable, level: RiskLevel = "group"): RiskCorrelationCell[] {
  const t = table.filter((d: { harm_matched: boolean }) => d.harm_matched);
  return valueRiskCorrelation(t.array("basic") as unknown as number[][], t.array("safety_issues") as unknown as string[][], level);
}

export interface CorrelationMatrix {
  rows: BasicValue[];
  columns: string[];
  r: number[][];
  p: number[][];
  n: number[][];
  stars: string[][];
}

/** Cells as matrices for a heatmap, rows and columns in the given orders. */
export function correlationMatrix(
  cells: readonly RiskCorrelationCell[],
  rows: readonly BasicValue[] = BASIC_VALUES,
  columns?: readonly string[],
): CorrelationMatrix {
  const cols = columns ?? [...new Set(cells.map((c) => c.risk))];
  const at = new Map(cells.map((c) => [`${c.value}\u0000${c.risk}`, c]));
  const get = (v: BasicValue, k: string) => {
    const c = at.get(`${v}\u0000${k}`);
    if (!c) throw new Error(`correlationMatrix: no cell for value "${v}" and risk "${k}"`);
    return c;
  };
  return {
    rows: [...rows],
    columns: [...cols],
    r: rows.map((v) => cols.map((k) => get(v, k).r)),
    p: rows.map((v) => cols.map((k) => get(v, k).p)),
    n: rows.map((v) => cols.map((k) => get(v, k).n)),
    stars: rows.map((v) => cols.map((k) => get(v, k).stars)),
  };
}

export type RiskCorrelationComparison = {
  value: BasicValue;
  group: string;
  r: number;
  paper: number;
  /** r − paper. */
  diff: number;
  /** Same sign as the paper's cell (false when either is 0 or undefined). */
  sameSign: boolean;
  p: number;
  n: number;
};

/** Our five-group cells beside the paper's Figure 4(b). */
export function compareWithPaperFig4b(cells: readonly RiskCorrelationCell[]): RiskCorrelationComparison[] {
  const out: RiskCorrelationComparison[] = [];
  for (const value of BASIC_VALUES) {
    for (const group of RISK_GROUPS) {
      const c = cells.find((x) => x.value === value && x.risk === group);
      if (!c) throw new Error(`compareWithPaperFig4b: no cell for ${value} × ${group}; compute with level "group"`);
      const paper = PAPER_FIG4B[value][group];
      out.push({
        value,
        group,
        r: c.r,
        paper,
        diff: c.r - paper,
        sameSign: Math.sign(c.r) !== 0 && Math.sign(c.r) === Math.sign(paper),
        p: c.p,
        n: c.n,
      });
    }
  }
  return out;
}

/** Summary of agreement with the paper: sign agreement and Pearson's r between our cells and theirs. */
export function agreementWithPaperFig4b(comparison: readonly RiskCorrelationComparison[]): {
  cells: number;
  sameSign: number;
  cellCorrelation: number;
  meanAbsDiff: number;
  source: string;
} {
  const ok = comparison.filter((c) => Number.isFinite(c.r));
  const ours = ok.map((c) => c.r);
  const theirs = ok.map((c) => c.paper);
  return {
    cells: ok.length,
    sameSign: ok.filter((c) => c.sameSign).length,
    cellCorrelation: correlationTest(ours, theirs).r,
    meanAbsDiff: ok.reduce((s, c) => s + Math.abs(c.diff), 0) / Math.max(1, ok.length),
    source: PAPER_SOURCE.fig4b,
  };
}
