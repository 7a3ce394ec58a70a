/** The data behind a figure, as CSV (RFC 4180: comma separated, quoted when needed, header row; written by arquero). */
import type { Figure } from "../charts/spec.js";
import { csvText } from "../data/table-text.js";
import { rowColumns } from "../data/tables.js";

export type Row = Record<string, unknown>;

/** Columns: every key that appears in any row, in order of first appearance. */
export const csvColumns: (rows: readonly object[]) => string[] = rowColumns;

/** Rows (objects of any type) to CSV text, ending with a newline. `columns` fixes the column order. */
export function toCsv(rows: readonly object[], columns = csvColumns(rows)): string {
  return csvText(rows, columns);
}

/**
 * The numbers a figure draws, in long form (one row per point or cell), for
 * figures exported without explicit data rows: nothing drawn goes unrecorded.
 */
export function figureDataRows(figure: Figure): Row[] {
  const rows: Row[] = [];
  figure.data.forEach((t, i) => {
    const trace = t.name ?? `trace ${i + 1}`;
    if (t.type === "heatmap" && t.z) {
      t.z.forEach((row, r) => row.forEach((z, c) => rows.push({ trace, x: t.x?.[c] ?? c, y: t.y?.[r] ?? r, z })));
    } else if (t.type === "scatterpolar" && t.r) {
      // The builders repeat the first point to close the polygon; record it once.
      const closed = t.r.length > 1 && t.theta && t.theta[0] === t.theta[t.theta.length - 1];
      const n = closed ? t.r.length - 1 : t.r.length;
      for (let k = 0; k < n; k++) rows.push({ trace, theta: t.theta?.[k], r: t.r[k] });
    } else if (t.type === "histogram" || t.type === "box" || t.type === "violin") {
      const values = t.x ?? t.y ?? [];
      for (const v of values) rows.push({ trace, value: v });
    } else {
      const n = Math.max(t.x?.length ?? 0, t.y?.length ?? 0);
      for (let k = 0; k < n; k++) {
        const text = Array.isArray(t.text) ? t.text[k] : undefined;
        rows.push({ trace, x: t.x?.[k], y: t.y?.[k], ...(text !== undefined ? { text } : {}) });
      }
    }
  });
  return rows;
}
