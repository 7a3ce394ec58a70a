#!/usr/bin/env node
// The `fulcra` command: runs the compiled library (npm run build first).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error("fulcra: the library is not built yet; run `npm run build` (or `npm ci`, which builds it).");
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
