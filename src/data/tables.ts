/**
 * The kit's record arrays as tables: flat rows (one column per field, value
 * labels and value_reward spread over one column per basic value), then
 * arquero tables for analysis and danfo DataFrames for those who prefer a
 * pandas-like API.
 *
 * Value columns are named by the basic values' ids in the paper's order
 * (`self-direction`, `stimulation`, …, `universalism`); in arquero
 * expressions use `d["self-direction"]`.
 */
import * as aq from "arquero";
import { BASIC_VALUES, REFINED_VALUES, VALUE_ITEM_NAMES } from "../values/taxonomy.js";
import type { RecordKind } from "./manifest.js";
import {
  splitDialogue,
  type FulcraRecord,
  type PreferencePair,
  type QuestionRecord,
  type RecordOfKind,
  type ScoredOutput,
} from "./readers.js";

export type Row = Record<string, unknown>;

export interface FulcraRowOptions {
  /** Also one column per refined value (`refined:<name>`), default false. */
  refined?: boolean;
  /** Also one column per value item (`item:<name>`), default false. */
  items?: boolean;
  /** Keep the full dialogue text (default true); prompt and response are always there. */
  dialogue?: boolean;
}

/**
 * FULCRA records → rows: line, prompt, response, query_source,
 * response_source, then the 10 basic values (−1, 0, +1) and, on request, the
 * 19 refined values and 54 items.
 */
export function fulcraRows(records: readonly FulcraRecord[], options: FulcraRowOptions = {}): Row[] {
  return records.map((r) => {
    const { prompt, response } = splitDialogue(r.dialogue);
    const row: Row = { line: r.line };
    if (options.dialogue ?? true) row.dialogue = r.dialogue;
    row.prompt = prompt;
    row.response = response;
    row.query_source = r.query_source;
    row.response_source = r.response_source;
    BASIC_VALUES.forEach((v, i) => (row[v] = r.labels.basic[i]));
    if (options.refined) REFINED_VALUES.forEach((v, i) => (row[`refined:${v}`] = r.labels.refined[i]));
    if (options.items) VALUE_ITEM_NAMES.forEach((v, i) => (row[`item:${v}`] = r.labels.items[i]));
    return row;
  });
}

/** Question records → rows: line, prompt, safety_issues (the list), issue_count. */
export function questionRows(records: readonly QuestionRecord[]): Row[] {
  return records.map((r) => ({ line: r.line, prompt: r.prompt, safety_issues: [...r.safety_issues], issue_count: r.safety_issues.length }));
}

/** Preference pairs → rows: line, chosen, rejected. */
export function preferenceRows(records: readonly PreferencePair[]): Row[] {
  return records.map((r) => ({ line: r.line, chosen: r.chosen, rejected: r.rejected }));
}

/**
 * Scored outputs → rows: line, prompt, answer, safety_issues, unsafe (any
 * safety issue), reward, e_distance, h_distance, then value_reward as one
 * column per basic value.
 */
export function scoredOutputRows(records: readonly ScoredOutput[]): Row[] {
  return records.map((r) => {
    const row: Row = {
      line: r.line,
      prompt: r.prompt,
      answer: r.answer,
      safety_issues: [...r.safety_issues],
      unsafe: r.safety_issues.length > 0,
      reward: r.reward,
      e_distance: r.e_distance,
      h_distance: r.h_distance,
    };
    BASIC_VALUES.forEach((v, i) => (row[v] = r.value_reward[i]));
    return row;
  });
}

/** Rows for any record kind (FULCRA records with the default options). */
export function recordRows<K extends RecordKind>(kind: K, records: readonly RecordOfKind[K][]): Row[] {
  switch (kind) {
    case "fulcra":
      return fulcraRows(records as readonly FulcraRecord[]);
    case "questions":
      return questionRows(records as readonly QuestionRecord[]);
    case "preference_pairs":
      return preferenceRows(records as readonly PreferencePair[]);
    case "scored_outputs":
      return scoredOutputRows(records as readonly ScoredOutput[]);
    default:
      throw new Error(`unknown record kind "${kind as string}"`);
  }
}

/** The column names of rows, in order of first appearance. */
export function rowColumns(rows: readonly object[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

/**
 * Rows (or records of a kind) → an arquero table. Every column of every row
 * is kept; a row missing a column gets undefined there.
 */
export function toArquero(rows: readonly object[]): aq.ColumnTable;
export function toArquero<K extends RecordKind>(kind: K, records: readonly RecordOfKind[K][]): aq.ColumnTable;
export function toArquero(a: readonly object[] | RecordKind, b?: readonly unknown[]): aq.ColumnTable {
  const rows = (typeof a === "string" ? recordRows(a, b as never) : a) as readonly Row[];
  const columns = rowColumns(rows);
  const data: Record<string, unknown[]> = {};
  for (const c of columns) data[c] = rows.map((r) => r[c]);
  return aq.table(data);
}

/** danfojs-node's module, loaded on first use (it brings its own copy of tfjs). */
export type Danfo = typeof import("danfojs-node");
export type DanfoFrame = InstanceType<Danfo["DataFrame"]>;

let danfo: Promise<Danfo> | undefined;

/**
 * Loads danfojs-node. The kit's tfjs backend is chosen first (quietly), so
 * that danfo's tensors use it rather than probing backends and printing
 * warnings of its own.
 */
export function loadDanfo(): Promise<Danfo> {
  danfo ??= (async () => {
    const { initBackend } = await import("../runtime/backend.js");
    await initBackend({ quiet: true });
    return (await import("danfojs-node")) as Danfo;
  })();
  return danfo;
}

/**
 * Rows (or records of a kind) → a danfo DataFrame. List-valued columns
 * (safety_issues) become "; "-joined strings, which danfo can hold.
 */
export async function toDanfo(rows: readonly object[]): Promise<DanfoFrame>;
export async function toDanfo<K extends RecordKind>(kind: K, records: readonly RecordOfKind[K][]): Promise<DanfoFrame>;
export async function toDanfo(a: readonly object[] | RecordKind, b?: readonly unknown[]): Promise<DanfoFrame> {
  const rows = (typeof a === "string" ? recordRows(a, b as never) : a) as readonly Row[];
  const columns = rowColumns(rows);
  const d = await loadDanfo();
  const data: Record<string, unknown[]> = {};
  for (const c of columns) data[c] = rows.map((r) => (Array.isArray(r[c]) ? (r[c] as unknown[]).join("; ") : (r[c] ?? null)));
  return new d.DataFrame(data as never, { columns });
}

/** What the display helpers accept as a table: row objects (any object type), an arquero table or a danfo DataFrame. */
export type TableLike = readonly object[] | aq.ColumnTable | { columns: string[]; values: readonly unknown[] };

function isArquero(t: unknown): t is aq.ColumnTable {
  return typeof (t as aq.ColumnTable)?.columnNames === "function" && typeof (t as aq.ColumnTable)?.objects === "function";
}

/** Columns and the first `limit` rows of a table of any accepted kind, with its total row count. */
export function toTableData(table: TableLike, limit = Infinity): { columns: string[]; rows: Row[]; total: number } {
  if (Array.isArray(table)) {
    const rows = table as readonly Row[];
    return { columns: rowColumns(rows), rows: rows.slice(0, limit), total: rows.length };
  }
  if (isArquero(table)) {
    return {
      columns: table.columnNames(),
      rows: table.objects({ limit: Number.isFinite(limit) ? limit : undefined }) as Row[],
      total: table.numRows(),
    };
  }
  const frame = table as { columns: string[]; values: readonly unknown[] };
  if (Array.isArray(frame.columns) && Array.isArray(frame.values)) {
    // A DataFrame's values are rows of cells; a one-column frame may give plain cells.
    const rows = frame.values
      .slice(0, limit)
      .map((vals) => Object.fromEntries(frame.columns.map((c, j) => [c, Array.isArray(vals) ? vals[j] : vals])));
    return { columns: [...frame.columns], rows, total: frame.values.length };
  }
  throw new Error("expected an array of row objects, an arquero table or a danfo DataFrame");
}
