/**
 * figures/REPRODUCTION.md: what one `fulcra reproduce` run did. One section
 * per experiment: whether its notebook ran (or the error that stopped it),
 * its figures, and a table of its numbers beside their references; then the
 * provenance of the run and which data it used.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { MANIFEST } from "../data/manifest.js";
import { markdownTable, type TextColumn } from "../data/table-text.js";
import { rawPath } from "../data/paths.js";
import { kitPaths } from "../runtime/env.js";
import { sha256File, type Provenance } from "../runtime/provenance.js";
import { notebookDeviationLine } from "./deviations.js";
import { matchesReference, type RecordedNumbers, type ReportNumber } from "./numbers.js";

/** How one notebook fared in this run. */
export interface NotebookOutcome {
  /** Notebook name without .ipynb. */
  name: string;
  status: "ran" | "failed" | "not run";
  seconds?: number;
  /** The error message (names the cell) when it failed. */
  error?: string;
  /** Executed copy (HTML or ipynb), relative to figures/. */
  executedCopy?: string;
}

/** Which data the run used: the full FULCRA files or the mirror's subset. */
export interface DataScope {
  scope: "full" | "mirror subset";
  /** The official files present under data/raw/, with their record counts from the manifest where known. */
  present: { name: string; path: string; sha256: string; bytes: number; records?: number }[];
  /** Official files not present. */
  absent: string[];
}

/**
 * Looks at data/raw/: the run used the full files when the full FULCRA set
 * (data_hybrid) is there, otherwise the mirror's subset (trustworthy_data).
 */
export function dataScope(rawDir = kitPaths().rawDir): DataScope {
  const present: DataScope["present"] = [];
  const absent: string[] = [];
  for (const e of MANIFEST) {
    const p = rawPath(e, rawDir);
    if (existsSync(p))
      present.push({
        name: e.name,
        path: relative(kitPaths().root, p),
        ...sha256File(p),
        ...(e.records !== undefined ? { records: e.records } : {}),
      });
    else absent.push(e.name);
  }
  return { scope: present.some((p) => p.name === "data_hybrid") ? "full" : "mirror subset", present, absent };
}

export interface ReproductionInput {
  /** Numbers files gathered from figures/numbers/. */
  recorded: RecordedNumbers[];
  /** Notebooks of this run, in run order. */
  notebooks: NotebookOutcome[];
  data: DataScope;
  /** Provenance of the run itself (commit, versions, time). */
  provenance: Provenance;
  /** When the run started (ISO time); numbers recorded earlier are marked as from an earlier run. */
  startedAt?: string;
  /** Whether the data was verified against the manifest before the notebooks ran. */
  dataVerified?: { ok: number; bad: number; absent: number };
  /** Where the report will live (figure links are relative to it); default figures/. */
  reportDir?: string;
}

/** A number as the report prints it: integers whole, others to 4 significant digits. */
export function formatValue(v: number | string | undefined): string {
  if (v === undefined) return "";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

/** value − reference with its sign, or "" when either is not a number. */
export function formatDifference(n: ReportNumber): string {
  if (typeof n.value !== "number" || typeof n.reference !== "number") return "";
  const d = n.value - n.reference;
  const s = formatValue(Math.abs(d) < 1e-12 ? 0 : d);
  return d > 0 ? `+${s}` : s;
}

/** ✓ or ✗ (with the tolerance) where the number has a tolerance, or is text compared with a text reference. */
export function formatMatch(n: ReportNumber): string {
  const comparable = n.tolerance !== undefined || (typeof n.value === "string" && typeof n.reference === "string");
  if (!comparable || n.reference === undefined) return "";
  const ok = matchesReference(n);
  const tol = n.tolerance !== undefined && typeof n.value === "number" ? ` (±${formatValue(n.tolerance)})` : "";
  return `${ok ? "✓" : "✗"}${tol}`;
}

/** The columns of a numbers table. */
export const NUMBER_COLUMNS: TextColumn[] = [
  { name: "number" },
  { name: "value", align: "r" },
  { name: "reference", align: "r" },
  { name: "difference", align: "r" },
  { name: "match", align: "c" },
  { name: "reference source" },
  { name: "note" },
];

/** The cells of a number's row, in NUMBER_COLUMNS order. */
export function numberCells(n: ReportNumber): string[] {
  return [
    n.name,
    formatValue(n.value),
    formatValue(n.reference),
    formatDifference(n),
    formatMatch(n),
    n.referenceSource ?? "",
    n.note ?? "",
  ];
}

/** A numbers table in Markdown, one row per number. */
export function numbersTable(numbers: readonly ReportNumber[]): string {
  return markdownTable(NUMBER_COLUMNS, numbers.map(numberCells));
}

/** One markdown table row for a number (the row numbersTable writes for it). */
export function numberRow(n: ReportNumber): string {
  return numbersTable([n]).split("\n")[2];
}

/** Counts of numbers with a ✓ / ✗ verdict. */
export function matchCounts(numbers: readonly ReportNumber[]): { matched: number; mismatched: number; compared: number } {
  let matched = 0;
  let mismatched = 0;
  for (const n of numbers) {
    const m = formatMatch(n);
    if (m.startsWith("✓")) matched++;
    else if (m.startsWith("✗")) mismatched++;
  }
  return { matched, mismatched, compared: matched + mismatched };
}

function link(file: string, reportDir: string): string {
  const abs = join(kitPaths().figuresDir, file);
  const rel = relative(reportDir, abs).split("\\").join("/");
  return `[${file}](${rel.replace(/ /g, "%20")})`;
}

function statusText(o: NotebookOutcome | undefined): string {
  if (!o) return "recorded outside a notebook";
  if (o.status === "ran") return `✓ ran${o.seconds !== undefined ? ` in ${o.seconds.toFixed(1)} s` : ""}`;
  if (o.status === "failed") return "✗ failed";
  return "not run in this reproduction";
}

/** Figures grouped by name: "fig2a.svg, fig2a.png, …" → "fig2a: svg · png · …". */
function figureLinks(files: readonly string[], reportDir: string): string[] {
  const groups = new Map<string, string[]>();
  for (const f of files) {
    const stem = f.replace(/\.[^./]+$/, "");
    groups.set(stem, [...(groups.get(stem) ?? []), f]);
  }
  const order = ["svg", "png", "pdf", "csv", "json"];
  return [...groups.entries()].map(([stem, fs]) => {
    const sorted = [...fs].sort((a, b) => order.indexOf(a.split(".").pop()!) - order.indexOf(b.split(".").pop()!));
    const img = sorted.find((f) => f.endsWith(".svg") || f.endsWith(".png"));
    const links = sorted.map((f) => link(f, reportDir).replace(/^\[[^\]]*\]/, `[${f.split(".").pop()}]`)).join(" · ");
    return `- **${stem}**: ${links}${img ? `\n\n  ![${stem}](${relative(reportDir, join(kitPaths().figuresDir, img)).split("\\").join("/")})` : ""}`;
  });
}

function experimentSection(
  e: RecordedNumbers,
  outcome: NotebookOutcome | undefined,
  startedAt: string | undefined,
  reportDir: string,
): string[] {
  const out: string[] = [];
  out.push(`### ${e.experiment}: ${e.title}`, "");
  const recordedAt = e.provenance?.timestamp;
  const stale = startedAt && recordedAt && recordedAt < startedAt;
  out.push(`- Status: ${statusText(outcome)}${e.notebook ? ` (notebook \`${e.notebook}\`)` : ""}`);
  if (stale) out.push(`- ⚠ These numbers were recorded at ${recordedAt}, before this run: its notebook did not record them again.`);
  if (e.dataFiles.length) {
    const hashes = new Map((e.provenance?.dataFiles ?? []).map((d) => [d.path, d.sha256]));
    out.push(
      `- Data: ${e.dataFiles
        .map((f) => {
          const r = relative(kitPaths().root, f);
          const h = hashes.get(r);
          return `\`${r}\`${h ? ` (sha256 ${h.slice(0, 12)}…)` : ""}`;
        })
        .join(", ")}`,
    );
  }
  if (e.provenance?.backend) out.push(`- Backend: ${e.provenance.backend}`);
  if (e.provenance?.seed !== null && e.provenance?.seed !== undefined) out.push(`- Seed: ${e.provenance.seed}`);
  for (const n of e.notes ?? []) out.push(`- ${n}`);
  out.push("");
  if (e.figures.length) out.push("Figures:", "", ...figureLinks(e.figures, reportDir), "");
  if (e.numbers.length) {
    const c = matchCounts(e.numbers);
    out.push(numbersTable(e.numbers), "");
    if (c.compared) out.push(`${c.matched} of ${c.compared} numbers with a tolerance match their reference.`, "");
  } else out.push("No numbers recorded.", "");
  return out;
}

const SUMMARY_COLUMNS: TextColumn[] = [
  { name: "experiment" },
  { name: "notebook" },
  { name: "status" },
  { name: "numbers", align: "r" },
  { name: "✓", align: "r" },
  { name: "✗", align: "r" },
  { name: "figures", align: "r" },
];

const DATA_FILE_COLUMNS: TextColumn[] = [
  { name: "file" },
  { name: "path" },
  { name: "records", align: "r" },
  { name: "bytes", align: "r" },
  { name: "sha256" },
];

/** The report as markdown. */
export function reproductionMarkdown(input: ReproductionInput): string {
  const reportDir = input.reportDir ?? kitPaths().figuresDir;
  const p = input.provenance;
  const byNotebook = new Map<string, RecordedNumbers[]>();
  const outside: RecordedNumbers[] = [];
  for (const e of input.recorded) {
    if (e.notebook) byNotebook.set(e.notebook, [...(byNotebook.get(e.notebook) ?? []), e]);
    else outside.push(e);
  }
  const outcomes = new Map(input.notebooks.map((o) => [o.name, o]));
  const all = input.recorded.flatMap((e) => e.numbers);
  const total = matchCounts(all);
  const failed = input.notebooks.filter((o) => o.status === "failed");

  const out: string[] = [];
  out.push("# Reproduction report", "");
  out.push(
    `Value FULCRA (Yao et al., NAACL 2024) reproduced by fulcra-kit ${p.kitVersion}, commit \`${p.gitCommit ?? "unknown"}\`${p.gitDirty ? " (with uncommitted changes)" : ""}, on ${p.timestamp}.`,
    "",
  );
  out.push(
    `**Data: ${input.data.scope === "full" ? "the full released files" : "the mirror subset"}.** ` +
      (input.data.scope === "full"
        ? "Figures and numbers are comparable with the paper's."
        : "Only part of FULCRA (trustworthy_data.jsonl) is present, whose composition differs from the full set: figures and numbers computed from FULCRA records differ from the paper's. Fetch the full files (`npx fulcra data fetch`) to compare."),
    "",
  );
  out.push(
    `Notebooks: ${input.notebooks.filter((o) => o.status === "ran").length} ran, ${failed.length} failed${input.notebooks.some((o) => o.status === "not run") ? `, ${input.notebooks.filter((o) => o.status === "not run").length} not run` : ""}. ` +
      `Numbers: ${all.length} recorded, ${total.compared} with a tolerance, ${total.matched} of them match (${total.mismatched} do not).`,
    "",
  );

  out.push(
    `Where the kit computes a number differently from the original code, [DEVIATIONS.md](${relative(reportDir, join(kitPaths().root, "DEVIATIONS.md")).split("\\").join("/")}) says how and how to run it the original's way; each notebook section links to its rows.`,
    "",
  );
  const summary: string[][] = [];
  const summaryRow = (e: RecordedNumbers, notebook: string, status: string) => {
    const c = matchCounts(e.numbers);
    const figures = new Set(e.figures.map((f) => f.replace(/\.[^./]+$/, ""))).size;
    return [e.experiment, notebook, status, String(e.numbers.length), String(c.matched), String(c.mismatched), String(figures)];
  };
  for (const o of input.notebooks) {
    const exps = byNotebook.get(o.name) ?? [];
    if (exps.length === 0) summary.push([o.status === "failed" ? "(none recorded)" : "—", o.name, statusText(o), "0", "0", "0", "0"]);
    for (const e of exps) summary.push(summaryRow(e, o.name, statusText(o)));
  }
  const orphans = [...byNotebook.entries()].filter(([nb]) => !outcomes.has(nb)).flatMap(([, es]) => es);
  for (const e of [...orphans, ...outside]) {
    summary.push(summaryRow(e, e.notebook ?? "—", statusText(e.notebook ? { name: e.notebook, status: "not run" } : undefined)));
  }
  out.push("## Summary", "", markdownTable(SUMMARY_COLUMNS, summary), "");

  for (const o of input.notebooks) {
    const exps = byNotebook.get(o.name) ?? [];
    out.push(`## Notebook ${o.name}`, "");
    out.push(`- Status: ${statusText(o)}${o.executedCopy ? ` · executed copy: ${link(o.executedCopy, reportDir)}` : ""}`);
    const deviations = notebookDeviationLine(o.name, reportDir);
    if (deviations) out.push(deviations);
    if (o.status === "failed" && o.error) out.push("", "```text", o.error.trim(), "```");
    out.push("");
    for (const e of exps) out.push(...experimentSection(e, o, input.startedAt, reportDir));
    if (exps.length === 0)
      out.push(o.status === "failed" ? "No numbers recorded: the notebook stopped first." : "This notebook recorded no numbers.", "");
  }
  for (const e of orphans) out.push(...experimentSection(e, { name: e.notebook!, status: "not run" }, input.startedAt, reportDir));
  if (outside.length) {
    out.push("## Recorded by commands", "");
    for (const e of outside) out.push(...experimentSection(e, undefined, input.startedAt, reportDir));
  }

  out.push("## Provenance", "");
  out.push(
    `- Kit: fulcra-kit ${p.kitVersion}, commit \`${p.gitCommit ?? "unknown"}\`${p.gitDirty ? " (uncommitted changes present)" : ""}`,
  );
  out.push(`- Node ${p.node} on ${p.platform}`);
  const backends = [...new Set(input.recorded.map((e) => e.provenance?.backend).filter((b): b is string => Boolean(b)))];
  out.push(`- TensorFlow.js backend${backends.length > 1 ? "s" : ""}: ${backends.length ? backends.join("; ") : "none used"}`);
  if (input.dataVerified)
    out.push(
      `- Data verified against the manifest before the run: ${input.dataVerified.ok} ok, ${input.dataVerified.bad} bad, ${input.dataVerified.absent} absent`,
    );
  out.push(
    "",
    `Data files (${input.data.scope}):`,
    "",
    markdownTable(
      DATA_FILE_COLUMNS,
      input.data.present.map((d) => [d.name, `\`${d.path}\``, String(d.records ?? ""), String(d.bytes), `\`${d.sha256}\``]),
    ),
  );
  if (input.data.absent.length) out.push("", `Not present: ${input.data.absent.join(", ")}.`);
  out.push("");
  return out.join("\n");
}

/** Writes figures/REPRODUCTION.md (or `file`) and returns its path. */
export function writeReproductionReport(input: ReproductionInput, file = join(kitPaths().figuresDir, "REPRODUCTION.md")): string {
  writeFileSync(file, reproductionMarkdown({ ...input, reportDir: input.reportDir ?? join(file, "..") }));
  return file;
}
