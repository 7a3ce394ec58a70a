/** Shared test helpers: where the data is, temporary folders. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rawPath } from "../src/data/paths.js";
import { kitPaths } from "../src/runtime/env.js";

export function tempDir(prefix = "fulcra-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Path of a data file fetched into data/raw/ by the test command. */
export function dataFile(name: string): string {
  return rawPath(name, kitPaths().rawDir);
}
