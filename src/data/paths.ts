/** Where the kit keeps its data, figures and runs. One place, overridable by environment variables. */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MANIFEST, manifestEntry, type ManifestEntry } from "./manifest.js";

function findProjectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "src"))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/** The repository root (the folder holding package.json). */
export const PROJECT_ROOT = findProjectRoot();

export interface KitPaths {
  root: string;
  /** Verified raw files, laid out as in the source repository's data folder. */
  rawDir: string;
  /** Exported figures and the reproduction report. */
  figuresDir: string;
  /** Training runs, checkpoints and caches. */
  runsDir: string;
  notebooksDir: string;
}

export function kitPaths(): KitPaths {
  const root = process.env.FULCRA_ROOT ? resolve(process.env.FULCRA_ROOT) : PROJECT_ROOT;
  return {
    root,
    rawDir: process.env.FULCRA_DATA_DIR ? resolve(process.env.FULCRA_DATA_DIR) : join(root, "data", "raw"),
    figuresDir: process.env.FULCRA_FIGURES_DIR ? resolve(process.env.FULCRA_FIGURES_DIR) : join(root, "figures"),
    runsDir: process.env.FULCRA_RUNS_DIR ? resolve(process.env.FULCRA_RUNS_DIR) : join(root, "runs"),
    notebooksDir: join(root, "notebooks"),
  };
}

/** Path of an official file under data/raw/ (whether or not it is there yet). */
export function rawPath(nameOrEntry: string | ManifestEntry, rawDir = kitPaths().rawDir): string {
  const entry = typeof nameOrEntry === "string" ? manifestEntry(nameOrEntry) : nameOrEntry;
  return join(rawDir, entry.localPath);
}

/** Path of an official file that must be present; the error says how to get it. */
export function requireDataFile(name: string, rawDir = kitPaths().rawDir): string {
  const p = rawPath(name, rawDir);
  if (!existsSync(p)) {
    throw new Error(
      `data file "${name}" is missing (${p}). Run \`npx fulcra data fetch\` (or \`npx fulcra data fetch --from ../shared/data/fulcra\` with a local mirror).`,
    );
  }
  return p;
}

/** The official files present under data/raw/. */
export function availableDataFiles(rawDir = kitPaths().rawDir): ManifestEntry[] {
  return MANIFEST.filter((e) => existsSync(join(rawDir, e.localPath)));
}
