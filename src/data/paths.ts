/** Paths of the official data files under data/raw/ (the folders themselves come from runtime/env). */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { kitPaths } from "../runtime/env.js";
import { MANIFEST, manifestEntry, type ManifestEntry } from "./manifest.js";

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
