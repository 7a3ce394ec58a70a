/**
 * Data quality: every unusual label and every unreadable line, counted and
 * shown. Records are never dropped because of a label: an unknown or
 * malformed label is skipped (the record keeps its other labels) and counted
 * here; a line that is not a record at all is listed with file and line.
 */
import { isAbsolute, relative } from "node:path";
import { kitPaths } from "../runtime/env.js";
import type { RecordError } from "../data/readers.js";
import { formatLocation, type LabelIssueKind, type LabelLocation } from "../values/labels.js";
import type { FulcraData } from "./dataset.js";

/** What each kind of issue means and what the lenient parser did about it. */
export const LABEL_ISSUE_DESCRIPTIONS: Record<LabelIssueKind, { meaning: string; effect: string }> = {
  alias: { meaning: "name spelled differently from the canonical list", effect: "read as the canonical name" },
  "score-typo": { meaning: "score written as 1+ or =1", effect: "read as +1" },
  "refined-as-basic": { meaning: "a refined value (e.g. humility) in value_types", effect: "counted under its basic value" },
  conflict: { meaning: "one dimension labelled both +1 and −1", effect: "vector entry 0; Fig. 2(a) counts both sides" },
  "unknown-name": { meaning: "name in no table of the kit", effect: "label skipped, record kept" },
  malformed: { meaning: 'not of the form "name: ±1"', effect: "label skipped, record kept" },
  "empty-types": { meaning: "record with an empty value_types list", effect: "all basic values 0, record kept" },
};

const KIND_ORDER: LabelIssueKind[] = ["unknown-name", "malformed", "empty-types", "conflict", "refined-as-basic", "score-typo", "alias"];

export type QualityRow = {
  kind: LabelIssueKind;
  meaning: string;
  effect: string;
  /** Label occurrences of this kind. */
  labels: number;
  /** Distinct label spellings of this kind. */
  distinct: number;
  /** Records with at least one label of this kind. */
  records: number;
  /** A few of the labels as written, most frequent first. */
  examples: string;
};

/** One row per kind of label issue (all kinds listed, zeros included, so absence is visible too). */
export function labelQualityTable(data: Pick<FulcraData, "labelLog" | "records">): QualityRow[] {
  const issues = data.labelLog.list();
  return KIND_ORDER.map((kind) => {
    const ofKind = issues.filter((i) => i.kind === kind).sort((a, b) => b.count - a.count);
    return {
      kind,
      ...LABEL_ISSUE_DESCRIPTIONS[kind],
      labels: ofKind.reduce((s, i) => s + i.count, 0),
      distinct: ofKind.length,
      records: data.records.filter((r) => r.labelIssues.includes(kind)).length,
      examples: ofKind
        .slice(0, 4)
        .map((i) => `"${i.label}"${i.count > 1 ? ` ×${i.count}` : ""}`)
        .join(", "),
    };
  });
}

/** Every distinct unusual label: kind, label, count, what was done, where first seen. */
export function labelIssueDetails(
  data: Pick<FulcraData, "labelLog">,
): { kind: LabelIssueKind; label: string; count: number; action: string; firstSeen: string }[] {
  const root = kitPaths().root;
  // Paths relative to the project, so tables read the same on every machine.
  const where = (loc: LabelLocation) => formatLocation(loc.file && isAbsolute(loc.file) ? { ...loc, file: relative(root, loc.file) } : loc);
  return data.labelLog.list().map((i) => ({ kind: i.kind, label: i.label, count: i.count, action: i.action, firstSeen: where(i.first) }));
}

/** Lines that could not be read as records. */
export function recordErrorTable(errors: readonly RecordError[]): { file: string; line: number; reason: string }[] {
  const root = kitPaths().root;
  return errors.map((e) => ({ file: isAbsolute(e.file) ? relative(root, e.file) : e.file, line: e.line, reason: e.reason }));
}

export type QualitySummary = {
  records: number;
  /** Records with any unusual label (kept, see the table for what was done). */
  recordsWithIssues: number;
  /** Records where at least one label was skipped (unknown or malformed). */
  recordsWithSkippedLabels: number;
  labelsSkipped: number;
  /** Lines that were not records (excluded and listed). */
  unreadableLines: number;
};

export function qualitySummary(data: Pick<FulcraData, "labelLog" | "records" | "recordErrors">): QualitySummary {
  return {
    records: data.records.length,
    recordsWithIssues: data.records.filter((r) => r.labelIssues.length > 0).length,
    recordsWithSkippedLabels: data.records.filter((r) => r.labelIssues.includes("unknown-name") || r.labelIssues.includes("malformed"))
      .length,
    labelsSkipped: data.labelLog.dropped(),
    unreadableLines: data.recordErrors.length,
  };
}
