/**
 * Numbers for the reproduction report.
 *
 * Each notebook (or command) records the numbers it produced, each beside
 * its reference value where one exists, into figures/numbers/<experiment>.json.
 * `fulcra reproduce` gathers these files into figures/REPRODUCTION.md.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kitPaths, env } from "../runtime/env.js";
import { provenance, type Provenance } from "../runtime/provenance.js";
import type { ReportNumber } from "../runtime/report-number.js";

export type { ReportNumber };

export interface ExperimentNumbers {
  experiment: string;
  title: string;
  /** Data files the numbers were computed from. */
  dataFiles: string[];
  /** Figure files exported by the experiment, relative to figures/. */
  figures: string[];
  numbers: ReportNumber[];
  /** Free text: which data was used (mirror subset or full), caveats. */
  notes?: string[];
}

export function numbersDir(): string {
  return join(kitPaths().figuresDir, "numbers");
}

/** A numbers file as written by {@link recordNumbers}. */
export interface RecordedNumbers extends ExperimentNumbers {
  /** The notebook that recorded them (set when run by `fulcra notebooks run` / `fulcra reproduce`). */
  notebook?: string;
  provenance: Provenance;
  /** The file they were read from. */
  file?: string;
}

/** Writes one experiment's numbers (replacing an earlier run's). Returns the file written. */
export function recordNumbers(entry: ExperimentNumbers, options: { seed?: number } = {}): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(entry.experiment)) {
    throw new Error(
      `recordNumbers: experiment id "${entry.experiment}" should be a plain name like "02-value-composition" (letters, digits, ".", "_", "-")`,
    );
  }
  mkdirSync(numbersDir(), { recursive: true });
  const file = join(numbersDir(), `${entry.experiment}.json`);
  // The notebook runner names the notebook in the kernel's environment.
  const notebook = env.notebook;
  const body = { ...entry, ...(notebook ? { notebook } : {}), provenance: provenance({ dataFiles: entry.dataFiles, seed: options.seed }) };
  writeFileSync(file, JSON.stringify(body, null, 2) + "\n");
  return file;
}

/** Whether a number matches its reference within tolerance (undefined when there is nothing to compare). */
export function matchesReference(n: ReportNumber): boolean | undefined {
  if (n.reference === undefined) return undefined;
  if (typeof n.value === "number" && typeof n.reference === "number") {
    return Math.abs(n.value - n.reference) <= (n.tolerance ?? 0);
  }
  return String(n.value) === String(n.reference);
}

/** Reads every numbers file (default figures/numbers/*.json), sorted by experiment id. */
export function readRecordedNumbers(dir = numbersDir()): RecordedNumbers[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => {
      const file = join(dir, f);
      let body: RecordedNumbers;
      try {
        body = JSON.parse(readFileSync(file, "utf8")) as RecordedNumbers;
      } catch (e) {
        throw new Error(`${file}: not valid JSON (${(e as Error).message}); delete it or run its notebook again`);
      }
      if (typeof body.experiment !== "string" || !Array.isArray(body.numbers)) {
        throw new Error(`${file}: not a numbers file (needs "experiment" and "numbers"); it should be written by recordNumbers()`);
      }
      return { ...body, figures: body.figures ?? [], dataFiles: body.dataFiles ?? [], file };
    });
}
