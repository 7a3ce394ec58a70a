/**
 * Tables as text: CSV, Markdown and HTML, written by arquero (`toCSV`,
 * `toMarkdown`, `toHTML`). The callers decide what each cell says (numbers
 * already formatted); these functions only lay the cells out, with the
 * options that keep the kit's files as they were:
 *
 * - CSV: a header row, RFC 4180 quoting (a cell with a comma, quote or line
 *   break is quoted), objects and arrays as JSON, dates as ISO time, empty
 *   cells for null and undefined, a newline after every row.
 * - Markdown: `| a | b |` rows (a space either side of each cell, `|`
 *   escaped, line breaks turned into spaces) under arquero's alignment row
 *   (`:-` left, `-:` right, `:-:` centred).
 * - HTML: a `<table>` with each column aligned left or right; the text is
 *   escaped, header names included.
 */
import * as aq from "arquero";

/** Column alignment: left, right or centred. */
export type Align = "l" | "r" | "c";

/** A column of a text table: its header and alignment (default left). */
export interface TextColumn {
  name: string;
  align?: Align;
}

/** Columns of a text table given as names or {@link TextColumn}s. */
export type TextColumns = readonly (string | TextColumn)[];

function columnsOf(columns: TextColumns): TextColumn[] {
  return columns.map((c) => (typeof c === "string" ? { name: c } : c));
}

/** An arquero table over the given keys, column k holding cell k of every row. */
function tableOf(keys: readonly string[], rows: readonly (readonly unknown[])[], what: string): aq.ColumnTable {
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k)) throw new Error(`${what}: two columns are named "${k.trim()}"; give each column its own name`);
    seen.add(k);
  }
  rows.forEach((r, i) => {
    if (r.length !== keys.length) throw new Error(`${what}: row ${i + 1} has ${r.length} cells, the header ${keys.length}`);
  });
  return aq.table(Object.fromEntries(keys.map((k, j) => [k, rows.map((r) => r[j])])));
}

/** The text of one CSV cell before quoting. */
function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}

/** Rows (objects of any type) as CSV text with the given columns, in order; ends with a newline. */
export function csvText(rows: readonly object[], columns: readonly string[]): string {
  const records = rows as readonly Record<string, unknown>[];
  const table = tableOf(
    columns,
    records.map((r) => columns.map((c) => r[c])),
    "CSV table",
  );
  return aq.toCSV(table, { limit: Infinity, format: Object.fromEntries(columns.map((c) => [c, csvCell])) });
}

/**
 * A Markdown (GitHub) table of cells already written as text: a header
 * row, the alignment row and one row per entry of `rows`; no newline at
 * the end.
 */
export function markdownTable(columns: TextColumns, rows: readonly (readonly string[])[]): string {
  const cols = columnsOf(columns);
  // The padding goes into the column names and cells, so that the rows read `| a | b |`.
  const keys = cols.map((c) => ` ${c.name} `);
  const pad = (v: unknown) => ` ${String(v ?? "").replace(/\r?\n/g, " ")} `;
  const text = aq.toMarkdown(tableOf(keys, rows, "Markdown table"), {
    limit: Infinity,
    align: Object.fromEntries(keys.map((k, j) => [k, cols[j].align ?? "l"])),
    format: Object.fromEntries(keys.map((k) => [k, pad])),
  });
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * An HTML table of cells already written as text, one `<tr>` per entry of
 * `rows`; arquero escapes the cells, and the header names are escaped here.
 */
export function htmlTable(columns: TextColumns, rows: readonly (readonly string[])[]): string {
  const cols = columnsOf(columns);
  // arquero escapes each cell but writes the header names as given.
  const keys = cols.map((c) => escapeHtml(c.name));
  return aq.toHTML(tableOf(keys, rows, "HTML table"), {
    limit: Infinity,
    align: Object.fromEntries(keys.map((k, j) => [k, cols[j].align ?? "l"])),
    format: Object.fromEntries(keys.map((k) => [k, (v: unknown) => String(v ?? "")])),
  });
}
