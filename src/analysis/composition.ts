/**
 * What the dataset is made of: records by query source and by responding
 * LLM, labels per record, how many labels are aligned or opposed, and how
 * often each value is labelled. Verbs over the record table of `fulcraTable`.
 */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { BASIC_VALUES, type BasicValue } from "../values/taxonomy.js";

// Result rows are type aliases, not interfaces, so that they pass as plain records
// (`Record<string, unknown>`) to table displays and CSV writers.
export type GroupCount = {
  key: string;
  records: number;
  /** records / all records. */
  share: number;
};

/** Records per distinct value of `column`, with their share of all records. */
function countWithShare(table: ColumnTable, column: string): ColumnTable {
  const total = table.numRows();
  return table
    .groupby(column)
    .count({ as: "records" })
    .params({ total })
    .derive({ share: (d: { records: number }, $: { total: number }) => d.records / $.total });
}

/** Records per distinct value of a column (e.g. "query_source", "response_source", "file"), most first. */
export function recordsBy(table: ColumnTable, column: string): GroupCount[] {
  if (!table.columnNames().includes(column)) {
    throw new Error(`recordsBy: the table has no column "${column}"; columns: ${table.columnNames().join(", ")}`);
  }
  return countWithShare(table, column)
    .rename({ [column]: "key" })
    .orderby(aq.desc("records"), "key")
    .objects() as unknown as GroupCount[];
}

export type LabelsPerRecord = {
  /** Labels written in the record. */
  labels: number;
  records: number;
  share: number;
};

/** How many records carry 0, 1, 2, … labels in `value_types` ("n_types") or `value_items` ("n_items"). */
export function labelsPerRecord(table: ColumnTable, column: "n_types" | "n_items" = "n_types"): LabelsPerRecord[] {
  return countWithShare(table, column)
    .rename({ [column]: "labels" })
    .orderby("labels")
    .objects() as unknown as LabelsPerRecord[];
}

/** Mean number of labels per record in a label-count column. */
export function meanLabelsPerRecord(table: ColumnTable, column: "n_types" | "n_items" = "n_types"): number {
  if (table.numRows() === 0) return NaN;
  return (table.rollup({ mean: aq.op.mean(column) }).get("mean", 0) as number) ?? NaN;
}

export type PolarityCounts = {
  records: number;
  /** (record, value) pairs labelled aligned (+1); a value labelled twice in one record counts once. */
  alignedPairs: number;
  /** (record, value) pairs labelled opposed (−1). */
  opposedPairs: number;
  /** Records whose basic-value labels are all aligned (at least one). */
  recordsOnlyAligned: number;
  /** Records whose basic-value labels are all opposed (at least one). */
  recordsOnlyOpposed: number;
  /** Records with at least one aligned and one opposed value. */
  recordsBothSigns: number;
  /** Records with both +1 and −1 for the same value (counted on both sides in Fig. 2(a)). */
  recordsMixedSameValue: number;
  /** Records with no basic-value label at all. */
  recordsWithoutLabels: number;
};

/** Counts of aligned and opposed labels, by pair and by record. */
export function polarityCounts(table: ColumnTable): PolarityCounts {
  const aligned = table.array("aligned") as unknown as boolean[][];
  const opposed = table.array("opposed") as unknown as boolean[][];
  const out: PolarityCounts = {
    records: table.numRows(),
    alignedPairs: 0,
    opposedPairs: 0,
    recordsOnlyAligned: 0,
    recordsOnlyOpposed: 0,
    recordsBothSigns: 0,
    recordsMixedSameValue: 0,
    recordsWithoutLabels: 0,
  };
  for (let r = 0; r < out.records; r++) {
    let pos = 0;
    let neg = 0;
    let mixed = false;
    for (let v = 0; v < BASIC_VALUES.length; v++) {
      if (aligned[r][v]) pos++;
      if (opposed[r][v]) neg++;
      if (aligned[r][v] && opposed[r][v]) mixed = true;
    }
    out.alignedPairs += pos;
    out.opposedPairs += neg;
    if (pos > 0 && neg === 0) out.recordsOnlyAligned++;
    else if (neg > 0 && pos === 0) out.recordsOnlyOpposed++;
    else if (pos > 0 && neg > 0) out.recordsBothSigns++;
    else out.recordsWithoutLabels++;
    if (mixed) out.recordsMixedSameValue++;
  }
  return out;
}

export type ValueCount = {
  value: BasicValue;
  /** Records with a +1 label for the value. */
  aligned: number;
  /** Records with a −1 label for the value. */
  opposed: number;
  /** Records with both (also inside `aligned` and `opposed`). */
  mixed: number;
  /** Records with any label for the value (aligned + opposed − mixed). */
  labelled: number;
  /** Records with no label for the value. */
  unlabelled: number;
};

/** Per basic value, how many records label it aligned, opposed, both, or not at all. */
export function valueCounts(table: ColumnTable): ValueCount[] {
  const aligned = table.array("aligned") as unknown as boolean[][];
  const opposed = table.array("opposed") as unknown as boolean[][];
  const n = table.numRows();
  return BASIC_VALUES.map((value, v) => {
    let a = 0;
    let o = 0;
    let m = 0;
    for (let r = 0; r < n; r++) {
      if (aligned[r][v]) a++;
      if (opposed[r][v]) o++;
      if (aligned[r][v] && opposed[r][v]) m++;
    }
    return { value, aligned: a, opposed: o, mixed: m, labelled: a + o - m, unlabelled: n - (a + o - m) };
  });
}
