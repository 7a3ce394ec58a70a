// The layering rule (.dependency-cruiser.cjs) on a small tree made for the test: it passes imports that go down
// and stops one that goes up, one round a circle, and a figure import from a middle floor up to src/figures (no exception is left).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "../src/runtime/env.js";
import { tempDir } from "./helpers.js";

const DEPCRUISE = join(PROJECT_ROOT, "node_modules", "dependency-cruiser", "bin", "dependency-cruise.mjs");
const CONFIG = join(PROJECT_ROOT, ".dependency-cruiser.cjs");

/** Writes the files into a fresh folder and returns the rule names depcruise reports, sorted. */
function violations(files: Record<string, string>): string[] {
  const dir = tempDir("fulcra-layers-");
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true } }),
  );
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  let out: string;
  try {
    out = execFileSync(process.execPath, [DEPCRUISE, "src", "--config", CONFIG, "--output-type", "json"], { cwd: dir, encoding: "utf8" });
  } catch (e) {
    // depcruise exits with the number of errors; the report is still on stdout.
    out = (e as { stdout: string }).stdout;
  }
  const report = JSON.parse(out) as { summary: { violations: { rule: { name: string } }[] } };
  return report.summary.violations.map((v) => v.rule.name).sort();
}

test("layers: imports down a floor and along a floor to the left pass", () => {
  assert.deepEqual(
    violations({
      "src/values/a.ts": "export const a = 1;\n",
      "src/data/b.ts": 'import { a } from "../values/a.js";\nexport const b = a;\n',
      "src/metrics/c.ts": 'import { b } from "../data/b.js";\nexport const c = b;\n',
      "src/analysis/d.ts": 'import { c } from "../metrics/c.js";\nexport const d = c;\n',
      "src/cli/e.ts": 'import { d } from "../analysis/d.js";\nexport const e = d;\n',
      "src/metrics/plots.ts": 'import type { F } from "../charts/spec.js";\nexport type P = F;\n',
      "src/charts/spec.ts": "export type F = number;\n",
    }),
    [],
  );
});

test("layers: an import up a floor, one to the right on the same floor, a circle and a figure import from a middle floor are stopped", () => {
  assert.deepEqual(
    violations({
      "src/values/a.ts": 'import { b } from "../metrics/b.js";\nexport const a = b;\n',
      "src/metrics/b.ts": "export const b = 1;\n",
      "src/evaluator/c.ts": 'import { d } from "../hub/d.js";\nexport const c = d;\n',
      "src/hub/d.ts": "export const d = 1;\n",
      "src/text/e.ts": 'import { f } from "./f.js";\nexport const e = 1;\nexport const g = f;\n',
      "src/text/f.ts": 'import { e } from "./e.js";\nexport const f = e;\n',
      "src/metrics/summary.ts": 'import type { F } from "../figures/spec.js";\nexport type P = F;\n',
      "src/metrics/plots.ts": 'import type { F } from "../figures/spec.js";\nexport type P = F;\n',
      "src/figures/spec.ts": "export type F = number;\n",
    }),
    ["floor-evaluator", "floor-metrics", "floor-metrics", "floor-values", "no-circular"],
  );
});
