/**
 * Figure 2(a): for each of the 10 basic values, the share of records
 * labelled aligned (+1) and the share labelled opposed (−1).
 *
 * A record counts once per value and side, from its `value_types` labels
 * (`labels.basicAligned` / `labels.basicOpposed`). A record that labels one
 * value both +1 and −1 counts on both sides, so for such values
 * aligned + opposed can exceed the share of records that mention the value.
 * The denominator is every record read, including records with no label.
 */
import type { ColumnTable } from "arquero";
import { BASIC_VALUE_LABELS, type BasicValue } from "../values/taxonomy.js";
import { valueCounts } from "./composition.js";
import { PAPER_FIG2A, PAPER_FIG2A_READING_TOLERANCE } from "./reference.js";

export type ValueProportion = {
  value: BasicValue;
  /** Share of records with a +1 label for the value, in [0, 1]. */
  aligned: number;
  /** Share of records with a −1 label for the value, in [0, 1]. */
  opposed: number;
  /** Records counted (the denominator). */
  n: number;
  alignedCount: number;
  opposedCount: number;
  /** Records counted on both sides. */
  mixedCount: number;
};

/** The Figure 2(a) shares, one row per value in the paper's order. */
export function valueProportions(table: ColumnTable): ValueProportion[] {
  const n = table.numRows();
  return valueCounts(table).map((c) => ({
    value: c.value,
    aligned: n === 0 ? NaN : c.aligned / n,
    opposed: n === 0 ? NaN : c.opposed / n,
    n,
    alignedCount: c.aligned,
    opposedCount: c.opposed,
    mixedCount: c.mixed,
  }));
}

/** The rows of the Figure 2(a) CSV: exactly value, aligned, opposed, n. */
export function fig2aCsvRows(rows: readonly ValueProportion[]): { value: string; aligned: number; opposed: number; n: number }[] {
  return rows.map((r) => ({ value: r.value, aligned: r.aligned, opposed: r.opposed, n: r.n }));
}

export type ValueProportionComparison = {
  value: BasicValue;
  label: string;
  aligned: number;
  paperAligned: number;
  opposed: number;
  paperOpposed: number;
  /** aligned − paperAligned. */
  alignedDiff: number;
  opposedDiff: number;
  /** Both sides within the reading tolerance of the paper's bars. */
  withinReading: boolean;
};

/** Our shares beside the paper's Figure 2(a) readings, value by value. */
export function compareWithPaperFig2a(
  rows: readonly ValueProportion[],
  tolerance = PAPER_FIG2A_READING_TOLERANCE,
): ValueProportionComparison[] {
  return PAPER_FIG2A.map((paper) => {
    const ours = rows.find((r) => r.value === paper.value);
    if (!ours) throw new Error(`compareWithPaperFig2a: no row for "${paper.value}" in the computed shares`);
    const alignedDiff = ours.aligned - paper.aligned;
    const opposedDiff = ours.opposed - paper.opposed;
    return {
      value: paper.value,
      label: BASIC_VALUE_LABELS[paper.value],
      aligned: ours.aligned,
      paperAligned: paper.aligned,
      opposed: ours.opposed,
      paperOpposed: paper.opposed,
      alignedDiff,
      opposedDiff,
      withinReading: Math.abs(alignedDiff) <= tolerance && Math.abs(opposedDiff) <= tolerance,
    };
  });
}
