#!/usr/bin/env node
// The `fulcra` command: runs the compiled library (npm run build first).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error("fulcra: the library is not built yet; run `npm run build` (or `npm ci`, which builds it).");
  process.exit(1);
}
// Nothing uncaught reaches the user as a stack trace: one line, exit 1 (--debug or FULCRA_DEBUG=1 shows the stack).
const debug = Boolean(process.env.FULCRA_DEBUG) || process.argv.includes("--debug");
const last = (e) => {
  const path = e?.path && !String(e.message).includes(e.path) ? `${e.path}: ` : "";
  console.error(`fulcra: ${path}${e?.message ? String(e.message).split("\n")[0] : String(e)}`);
  if (debug && e?.stack) console.error(e.stack);
  process.exit(1);
};
process.on("uncaughtException", last);
process.on("unhandledRejection", last);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
