/**
 * Numbers for the reproduction report.
 *
 * Each notebook (or command) records the numbers it produced, each beside
 * its reference value where one exists, into figures/numbers/<experiment>.json.
 * `fulcra reproduce` gathers these files into figures/REPRODUCTION.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kitPaths } from "../data/paths.js";
import { provenance } from "../runtime/provenance.js";

export interface ReportNumber {
  /** What the number is, e.g. "Fig. 2(a) aligned share: security". */
  name: string;
  value: number | string;
  /** The published or released value it should be compared with. */
  reference?: number | string;
  /** Where the reference comes from, e.g. "paper Fig. 2(a)", "released value_reward". */
  referenceSource?: string;
  /** Largest |value − reference| counted as a match (numbers only). */
  tolerance?: number;
  note?: string;
}

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

/** Writes one experiment's numbers (replacing an earlier run's). Returns the file written. */
export function recordNumbers(entry: ExperimentNumbers, options: { seed?: number } = {}): string {
  mkdirSync(numbersDir(), { recursive: true });
  const file = join(numbersDir(), `${entry.experiment}.json`);
  const body = { ...entry, provenance: provenance({ dataFiles: entry.dataFiles, seed: options.seed }) };
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
