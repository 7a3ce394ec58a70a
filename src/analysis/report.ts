/**
 * The dataset experiments' numbers for the reproduction report, each beside
 * the paper's value where the paper gives one (see `recordNumbers`).
 */
import type { ReportNumber } from "../runtime/report-number.js";
import { BASIC_VALUE_LABELS } from "../values/taxonomy.js";
import type { FileUse } from "./dataset.js";
import { compareWithPaperFig2a, type ValueProportion } from "./proportions.js";
import { PAPER_FIG2A_READING_TOLERANCE, PAPER_FIG4B, PAPER_SOURCE } from "./reference.js";
import type { ValueSpacePoint, ValueSpaceProjection } from "./value-space.js";
import { agreementWithPaperFig4b, compareWithPaperFig4b, type RiskCorrelationCell } from "./risk-correlation.js";

const round = (x: number, digits = 4) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);

/** Record counts of the files read. */
export function fileCountNumbers(files: readonly FileUse[]): ReportNumber[] {
  return files.map((f) => ({ name: `records read: ${f.name}`, value: f.records }));
}

/** Figure 2(a): aligned and opposed share per value, beside the paper's bar readings. */
export function fig2aNumbers(rows: readonly ValueProportion[], note?: string): ReportNumber[] {
  return compareWithPaperFig2a(rows).flatMap((c) => [
    {
      name: `Fig. 2(a) aligned share: ${c.label}`,
      value: round(c.aligned),
      reference: c.paperAligned,
      referenceSource: PAPER_SOURCE.fig2a,
      tolerance: PAPER_FIG2A_READING_TOLERANCE,
      ...(note ? { note } : {}),
    },
    {
      name: `Fig. 2(a) opposed share: ${c.label}`,
      value: round(c.opposed),
      reference: c.paperOpposed,
      referenceSource: PAPER_SOURCE.fig2a,
      tolerance: PAPER_FIG2A_READING_TOLERANCE,
      ...(note ? { note } : {}),
    },
  ]);
}

/**
 * Figure 4(b): each value × risk-group correlation beside the paper's cell,
 * plus the overall agreement (sign agreement, correlation across cells).
 * `tolerance` is how close a cell must be to count as a match.
 */
export function fig4bNumbers(
  groupCells: readonly RiskCorrelationCell[],
  options: { tolerance?: number; note?: string } = {},
): ReportNumber[] {
  const tolerance = options.tolerance ?? 0.1;
  const comparison = compareWithPaperFig4b(groupCells);
  const agreement = agreementWithPaperFig4b(comparison);
  const extra = options.note ? { note: options.note } : {};
  return [
    ...comparison.map((c) => ({
      name: `Fig. 4(b) r: ${BASIC_VALUE_LABELS[c.value]} × ${c.group}`,
      value: round(c.r, 3),
      reference: c.paper,
      referenceSource: PAPER_SOURCE.fig4b,
      tolerance,
      note: `p = ${Number.isFinite(c.p) ? c.p.toPrecision(2) : "n/a"}, n = ${c.n}${options.note ? `; ${options.note}` : ""}`,
    })),
    { name: "Fig. 4(b) cells with the paper's sign", value: `${agreement.sameSign} of ${agreement.cells}`, ...extra },
    { name: "Fig. 4(b) correlation of our cells with the paper's", value: round(agreement.cellCorrelation, 3), ...extra },
    { name: "Fig. 4(b) mean |r − paper|", value: round(agreement.meanAbsDiff, 3), ...extra },
  ];
}

/** Rows of the Figure 4(b) CSV: value, risk, r, p, n, flagged, stars, and the paper's cell where there is one. */
export function fig4bCsvRows(
  cells: readonly RiskCorrelationCell[],
): { value: string; risk: string; r: number; p: number; n: number; flagged: number; stars: string; paper: number | null }[] {
  return cells.map((c) => {
    const paper = (PAPER_FIG4B[c.value] as Record<string, number>)[c.risk];
    return { value: c.value, risk: c.risk, r: c.r, p: c.p, n: c.n, flagged: c.flagged, stars: c.stars, paper: paper ?? null };
  });
}

/** Rows of the Figure 4(a) CSV: one per point, with its place in each projection given. */
export function fig4aCsvRows(points: readonly ValueSpacePoint[], projections: readonly ValueSpaceProjection[]): Record<string, unknown>[] {
  for (const p of projections) {
    if (p.x.length !== points.length)
      throw new Error(`fig4aCsvRows: the ${p.method} projection has ${p.x.length} points, expected ${points.length}`);
  }
  return points.map((p, i) => {
    const row: Record<string, unknown> = { source: p.source, llm: p.llm, risk: p.risk, safe: p.safe, file: p.file, line: p.line };
    for (const proj of projections) {
      row[`${proj.method}_x`] = proj.x[i];
      row[`${proj.method}_y`] = proj.y[i];
    }
    return row;
  });
}
