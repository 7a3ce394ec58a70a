/** Flag schemas shared by several commands: value targets, thresholds, files and folders. */
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { resolveTarget } from "../values/targets.js";
import { checkedFlag, numberFlag } from "./command.js";

/** A target name or 10 numbers in [-1, 1], not all zero (every distance would be 0). Keeps the text. */
export const targetFlag = checkedFlag((s) => {
  const v = resolveTarget(s);
  const out = v.findIndex((x) => Math.abs(x) > 1);
  if (out >= 0) throw new Error(`target values must be in [-1, 1], got ${v[out]} at position ${out + 1}`);
  if (v.every((x) => x === 0)) throw new Error(`a target of all zeros makes every distance 0; give at least one non-zero value`);
  return s;
});

/** BaseAlign's |v| threshold: 0 ≤ τ < 1 (value scores never exceed 1, so τ ≥ 1 masks everything). */
export const thresholdFlag = numberFlag({ min: 0, max: 1, maxExclusive: true });

/** An existing file (not a folder), resolved. */
export const inputFileFlag = checkedFlag((s) => {
  const p = resolve(s);
  if (!existsSync(p)) throw new Error(`${p}: no such file`);
  if (statSync(p).isDirectory()) throw new Error(`${p}: is a folder, not a file`);
  return p;
});

/** An existing file or folder, resolved (e.g. a model file or a hub model folder). */
export const inputPathFlag = checkedFlag((s) => {
  const p = resolve(s);
  if (!existsSync(p)) throw new Error(`${p}: no such file or folder`);
  return p;
});

/** An existing folder, resolved. */
export const folderFlag = checkedFlag((s) => {
  const p = resolve(s);
  if (!existsSync(p) || !statSync(p).isDirectory()) throw new Error(`${p}: no such folder`);
  return p;
});

/** A file to write: its folder must exist and the path must not be a folder. */
export const outputFileFlag = checkedFlag((s) => {
  const p = resolve(s);
  if (existsSync(p) && statSync(p).isDirectory()) throw new Error(`${p}: is a folder, not a file`);
  const dir = dirname(p);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${p}: the folder ${dir} does not exist`);
  return p;
});

/**
 * With --lenient, what was skipped goes beside the output: OUTPUT.provenance.json
 * holds the kit's provenance plus the counts and the skipped lines.
 */
export async function writeLenientProvenance(
  output: string,
  input: string,
  counts: { written: number; skipped: { line: number; reason: string }[] },
): Promise<string> {
  const { provenance } = await import("../runtime/provenance.js");
  const { writeFileAtomicSync } = await import("../data/atomic.js");
  const file = `${output}.provenance.json`;
  const body = {
    output,
    input,
    lenient: true,
    written: counts.written,
    skipped: counts.skipped.length,
    skipped_lines: counts.skipped,
    provenance: provenance({ dataFiles: [input] }),
  };
  writeFileAtomicSync(file, JSON.stringify(body, null, 2) + "\n");
  return file;
}
