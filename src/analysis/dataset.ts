/**
 * Loading the released files into tables for the dataset analyses.
 *
 * One row per FULCRA record (or per scored model answer); the value labels
 * ride along as 10-long arrays in the paper's order. Which files are read is
 * decided here, once, and reported with the results: the full FULCRA release
 * when it has been fetched, otherwise whatever part of it is present (the
 * mirror holds only `trustworthy_data`).
 */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { MANIFEST, type ManifestEntry } from "../data/manifest.js";
import { availableDataFiles, rawPath } from "../data/paths.js";
import { kitPaths } from "../runtime/env.js";
import {
  readRecords,
  splitDialogue,
  type RecordError,
  type FulcraRecord,
  type QuestionRecord,
  type ScoredOutput,
} from "../data/readers.js";
import { LabelIssueLog, parseValueLabels, type LabelIssueKind, type LabelLocation } from "../values/labels.js";
import { harmFlags } from "./harm.js";
import { promptKey } from "../text/prompt-key.js";

/** The FULCRA file holding the whole release; the other FULCRA files are parts of it. */
export const FULL_FULCRA_FILE = "data_hybrid";

/** One file an analysis read, with what came out of it. */
export type FileUse = {
  /** Manifest name, e.g. "trustworthy_data". */
  name: string;
  path: string;
  /** Records read (blank lines excluded, broken lines excluded and listed in `recordErrors`). */
  records: number;
  description: string;
};

export interface LoadOptions {
  rawDir?: string;
  /** Read exactly these manifest names instead of choosing automatically. */
  names?: string[];
}

/**
 * Which FULCRA files to read: the whole release (`data_hybrid`) when present;
 * otherwise every part that is present. Reading `data_hybrid` together with
 * its parts would count records twice, so it is read alone.
 */
export function chooseFulcraFiles(rawDir = kitPaths().rawDir): ManifestEntry[] {
  const present = availableDataFiles(rawDir).filter((e) => e.kind === "fulcra");
  const full = present.find((e) => e.name === FULL_FULCRA_FILE);
  return full ? [full] : present;
}

function entries(names: string[]): ManifestEntry[] {
  return names.map((n) => {
    const e = MANIFEST.find((m) => m.name === n);
    if (!e) throw new Error(`unknown data file "${n}"; known: ${MANIFEST.map((m) => m.name).join(", ")}`);
    return e;
  });
}

// ---------------------------------------------------------------------------
// FULCRA records

/** A FULCRA record with the file it came from and the label issues it raised. */
export interface LoadedFulcraRecord extends FulcraRecord {
  file: string;
  /** Kinds of unusual label the lenient parser met in this record (empty when all canonical). */
  labelIssues: LabelIssueKind[];
}

export interface FulcraData {
  files: FileUse[];
  records: LoadedFulcraRecord[];
  /** Every unusual label met while reading, with counts and first location. */
  labelLog: LabelIssueLog;
  /** Lines that could not be read as records (bad JSON, missing fields): listed, not dropped silently. */
  recordErrors: RecordError[];
  /** True when the whole release (`data_hybrid`) was read, false for a part of it (the mirror). */
  full: boolean;
}

/** What the parser did with one record's labels, re-derived per record so records can be counted. */
export function recordLabelIssues(record: Pick<FulcraRecord, "value_items" | "value_types">): LabelIssueKind[] {
  const log = new LabelIssueLog();
  parseValueLabels(record.value_items, record.value_types, { mode: "lenient", log });
  return [...new Set(log.list().map((i) => i.kind))];
}

/**
 * A LabelIssueLog that also remembers which kinds of issue each line raised,
 * so records can be counted as well as labels, in the one parsing pass.
 */
class LineIssueLog extends LabelIssueLog {
  readonly byLine = new Map<number, Set<LabelIssueKind>>();
  override add(kind: LabelIssueKind, label: string, action: string, loc: LabelLocation): void {
    super.add(kind, label, action, loc);
    if (loc.line === undefined) return;
    let kinds = this.byLine.get(loc.line);
    if (!kinds) this.byLine.set(loc.line, (kinds = new Set()));
    kinds.add(kind);
  }
}

/** Reads the FULCRA files (chosen by `chooseFulcraFiles` unless `names` is given). */
export function loadFulcra(options: LoadOptions = {}): FulcraData {
  const rawDir = options.rawDir ?? kitPaths().rawDir;
  const chosen = options.names ? entries(options.names) : chooseFulcraFiles(rawDir);
  if (chosen.length === 0) {
    throw new Error(
      `no FULCRA file under ${rawDir}. Run \`npx fulcra data fetch\` (or \`npx fulcra data fetch --from ../shared/data/fulcra\` with a local mirror).`,
    );
  }
  const labelLog = new LabelIssueLog();
  const recordErrors: RecordError[] = [];
  const files: FileUse[] = [];
  const records: LoadedFulcraRecord[] = [];
  for (const entry of chosen) {
    if (entry.kind !== "fulcra") throw new Error(`"${entry.name}" holds ${entry.kind} records, not FULCRA records`);
    const path = rawPath(entry, rawDir);
    const fileLog = new LineIssueLog();
    const read = readRecords("fulcra", path, { labelLog: fileLog, onError: "collect", errors: recordErrors });
    // Fold this file's issues into the log of the whole load (counts and first locations kept).
    for (const issue of fileLog.list())
      for (let k = 0; k < issue.count; k++) labelLog.add(issue.kind, issue.label, issue.action, issue.first);
    for (const r of read) records.push({ ...r, file: entry.name, labelIssues: [...(fileLog.byLine.get(r.line) ?? [])] });
    files.push({ name: entry.name, path, records: read.length, description: entry.description });
  }
  return { files, records, labelLog, recordErrors, full: chosen.some((e) => e.name === FULL_FULCRA_FILE) };
}

// ---------------------------------------------------------------------------
// SafeRLHF questions: harm categories by prompt text

export interface QuestionIndex {
  files: FileUse[];
  /** promptKey (case kept) → safety issues of that prompt. */
  byPrompt: Map<string, string[]>;
  /** Prompts listed twice with different categories (the first listing is kept). */
  conflicts: number;
}

/** Reads the SafeRLHF question files present (train and test) into a prompt → categories index. */
export function loadQuestionIndex(options: LoadOptions = {}): QuestionIndex {
  const rawDir = options.rawDir ?? kitPaths().rawDir;
  const wanted = options.names ?? ["saferlhf_train_questions", "saferlhf_test_questions"];
  const present = new Set(availableDataFiles(rawDir).map((e) => e.name));
  const byPrompt = new Map<string, string[]>();
  const files: FileUse[] = [];
  let conflicts = 0;
  for (const entry of entries(wanted)) {
    if (!present.has(entry.name)) continue;
    const path = rawPath(entry, rawDir);
    const qs: QuestionRecord[] = readRecords("questions", path);
    for (const q of qs) {
      const key = promptKey(q.prompt, { keepCase: true });
      const prev = byPrompt.get(key);
      if (prev === undefined) byPrompt.set(key, q.safety_issues);
      else if ([...prev].sort().join("|") !== [...q.safety_issues].sort().join("|")) conflicts++;
    }
    files.push({ name: entry.name, path, records: qs.length, description: entry.description });
  }
  return { files, byPrompt, conflicts };
}

// ---------------------------------------------------------------------------
// The record table

/**
 * One row per FULCRA record. Columns:
 * file, line, query_source, response_source, prompt,
 * n_types / n_items (labels as written), basic (10 polarities, mixed labels cancel to 0),
 * aligned / opposed (10 flags: any +1 / any −1 label for the value),
 * harm_matched (the record's harm categories are known: carried by the record itself, or its prompt found among
 * the SafeRLHF questions), safety_issues (those categories, [] when unknown), risk_source ("record",
 * "SafeRLHF prompt" or "none"), output_safe (the answer's own safety when the record carries it, else null),
 * label_issues (kinds of unusual label in the record).
 */
export function fulcraTable(records: readonly LoadedFulcraRecord[], questions?: QuestionIndex): ColumnTable {
  const n = records.length;
  const col = <T>(f: (r: LoadedFulcraRecord) => T): T[] => {
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = f(records[i]);
    return out;
  };
  const prompts = col((r) => splitDialogue(r.dialogue).prompt);
  const fromPrompt = prompts.map((p) => (questions ? questions.byPrompt.get(promptKey(p, { keepCase: true })) : undefined));
  const matched = records.map((r, i) => r.risk_categories ?? fromPrompt[i]);
  return aq.table({
    file: col((r) => r.file),
    line: col((r) => r.line),
    query_source: col((r) => r.query_source),
    response_source: col((r) => r.response_source),
    prompt: prompts,
    n_types: col((r) => r.value_types.length),
    n_items: col((r) => r.value_items.length),
    basic: col((r) => r.labels.basic as number[]),
    aligned: col((r) => r.labels.basicAligned),
    opposed: col((r) => r.labels.basicOpposed),
    harm_matched: matched.map((m) => m !== undefined),
    safety_issues: matched.map((m) => m ?? []),
    risk_source: records.map((r, i) =>
      r.risk_categories !== undefined ? "record" : fromPrompt[i] !== undefined ? "SafeRLHF prompt" : "none",
    ),
    output_safe: col((r) => r.output_safe ?? null),
    label_issues: col((r) => r.labelIssues),
  });
}

// ---------------------------------------------------------------------------
// Scored model outputs

/** The model behind a scored-output file, from its manifest name ("harmless_test_gpt-4" → "gpt-4"). */
export function scoredModelName(fileName: string): string {
  return fileName.replace(/^harmless_test_/, "");
}

export interface ScoredData {
  files: FileUse[];
  /** Records per model, in manifest order. */
  byModel: { model: string; file: string; records: ScoredOutput[] }[];
  recordErrors: RecordError[];
}

/** Reads every scored-output file present (GPT-4 and GPT-3.5 answers in the mirror; Mistral-large when fetched). */
export function loadScoredOutputs(options: LoadOptions = {}): ScoredData {
  const rawDir = options.rawDir ?? kitPaths().rawDir;
  const chosen = options.names ? entries(options.names) : availableDataFiles(rawDir).filter((e) => e.kind === "scored_outputs");
  const recordErrors: RecordError[] = [];
  const files: FileUse[] = [];
  const byModel: ScoredData["byModel"] = [];
  for (const entry of chosen) {
    if (entry.kind !== "scored_outputs") throw new Error(`"${entry.name}" holds ${entry.kind} records, not scored outputs`);
    const path = rawPath(entry, rawDir);
    const records = readRecords("scored_outputs", path, { onError: "collect", errors: recordErrors });
    files.push({ name: entry.name, path, records: records.length, description: entry.description });
    byModel.push({ model: scoredModelName(entry.name), file: entry.name, records });
  }
  return { files, byModel, recordErrors };
}

/**
 * One row per scored answer. Columns: model, file, line, prompt, safety_issues,
 * safe (the prompt has no safety issue), reward, value_reward (10 scores),
 * e_distance, h_distance, unknown_issues (category names outside the 14).
 */
export function scoredTable(data: ScoredData): ColumnTable {
  const rows = data.byModel.flatMap((m) => m.records.map((r) => ({ m, r })));
  return aq.table({
    model: rows.map(({ m }) => m.model),
    file: rows.map(({ m }) => m.file),
    line: rows.map(({ r }) => r.line),
    prompt: rows.map(({ r }) => r.prompt),
    safety_issues: rows.map(({ r }) => r.safety_issues),
    safe: rows.map(({ r }) => r.safety_issues.length === 0),
    reward: rows.map(({ r }) => r.reward),
    value_reward: rows.map(({ r }) => r.value_reward),
    e_distance: rows.map(({ r }) => r.e_distance),
    h_distance: rows.map(({ r }) => r.h_distance),
    unknown_issues: rows.map(({ r }) => harmFlags(r.safety_issues).unknown),
  });
}

// ---------------------------------------------------------------------------
// Saying which data was used

/** A sentence for notebooks and reports: which files, how many records, mirror part or full release. */
export function describeFulcraData(data: Pick<FulcraData, "files" | "full">): string {
  const list = data.files.map((f) => `${f.name} (${f.records} records)`).join(", ");
  return data.full
    ? `Full FULCRA release: ${list}.`
    : `Part of FULCRA only: ${list}. The full release (${FULL_FULCRA_FILE}, ~20k records) is not present, so numbers differ from the paper's; run \`npx fulcra data fetch\` with internet to get it.`;
}

/** The files of several loads as table rows (name, records, path relative to data/raw). */
export function fileTable(...uses: FileUse[][]): { file: string; records: number; description: string }[] {
  return uses.flat().map((f) => ({ file: f.name, records: f.records, description: f.description }));
}
