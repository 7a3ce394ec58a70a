import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readRecordedNumbers, type RecordedNumbers } from "../src/report/numbers.js";
import { formatDifference, formatMatch, numberRow, reproductionMarkdown, type DataScope } from "../src/report/reproduction.js";
import { provenance } from "../src/runtime/provenance.js";
import { tempDir } from "./helpers.js";

/** A hand-made numbers file, as recordNumbers writes it. */
const handMade: RecordedNumbers = {
  experiment: "02-value-composition",
  title: "Value composition (Fig. 2a)",
  notebook: "02-composition",
  dataFiles: [],
  figures: ["fig2a-value-composition.svg", "fig2a-value-composition.png", "fig2a-value-composition.csv"],
  numbers: [
    { name: "aligned share: security", value: 0.2301, reference: 0.223, referenceSource: "paper Fig. 2(a)", tolerance: 0.01 },
    { name: "aligned share: power", value: 0.1, reference: 0.069, referenceSource: "paper Fig. 2(a)", tolerance: 0.01 },
    { name: "records | used", value: 1718, note: "mirror subset" },
    { name: "mean reward", value: 0.5, reference: 0.75 },
    { name: "dominant value", value: "security", reference: "security" },
  ],
  notes: ["Computed on the mirror subset."],
  provenance: { ...provenance(), timestamp: "2030-01-01T00:00:00.000Z", backend: "wasm (wasm, tfjs 4.22.0)" },
};

const data: DataScope = {
  scope: "mirror subset",
  present: [
    { name: "trustworthy_data", path: "data/raw/data/trustworthy_data.jsonl", sha256: "ab".repeat(32), bytes: 2136857, records: 1718 },
  ],
  absent: ["data_hybrid"],
};

test("number rows: value, reference, signed difference, ✓/✗ only where a tolerance is given", () => {
  const [security, power, count, reward, text] = handMade.numbers;
  assert.equal(numberRow(security), "| aligned share: security | 0.2301 | 0.223 | +0.0071 | ✓ (±0.01) | paper Fig. 2(a) |  |");
  assert.equal(numberRow(power), "| aligned share: power | 0.1 | 0.069 | +0.031 | ✗ (±0.01) | paper Fig. 2(a) |  |");
  assert.equal(numberRow(count), "| records \\| used | 1718 |  |  |  |  | mirror subset |");
  assert.equal(formatDifference(reward), "-0.25");
  assert.equal(formatMatch(reward), "", "no tolerance, no verdict");
  assert.equal(formatMatch(text), "✓");
  assert.equal(formatMatch({ name: "x", value: 1, reference: 1.0000000001, tolerance: 0 }), "✗ (±0)");
});

test("the report has a section per notebook with status, figures, the numbers table and provenance", () => {
  const md = reproductionMarkdown({
    recorded: [handMade],
    notebooks: [
      { name: "02-composition", status: "ran", seconds: 12.34, executedCopy: "notebooks/02-composition.html" },
      { name: "05-metrics", status: "failed", error: "notebook 05-metrics.ipynb failed at cell 4: const x = 1\n    Error: boom" },
    ],
    data,
    provenance: { ...provenance(), gitCommit: "0123456789abcdef", gitDirty: false },
    startedAt: "2029-01-01T00:00:00.000Z",
  });
  const lines = md.split("\n");
  assert.ok(
    lines.includes("| 02-value-composition | 02-composition | ✓ ran in 12.3 s | 5 | 2 | 1 | 1 |"),
    "summary row: 2 ✓ (security, text), 1 ✗ (power), one figure",
  );
  assert.ok(lines.includes("| (none recorded) | 05-metrics | ✗ failed | 0 | 0 | 0 | 0 |"));
  assert.ok(lines.includes("## Notebook 02-composition"));
  assert.ok(lines.includes("### 02-value-composition: Value composition (Fig. 2a)"));
  assert.ok(lines.includes("| aligned share: power | 0.1 | 0.069 | +0.031 | ✗ (±0.01) | paper Fig. 2(a) |  |"));
  assert.ok(lines.includes("2 of 3 numbers with a tolerance match their reference."));
  assert.ok(
    lines.includes(
      "- **fig2a-value-composition**: [svg](fig2a-value-composition.svg) · [png](fig2a-value-composition.png) · [csv](fig2a-value-composition.csv)",
    ),
  );
  assert.ok(lines.includes("- Backend: wasm (wasm, tfjs 4.22.0)"));
  assert.ok(lines.includes("- Computed on the mirror subset."));
  // The failure is quoted with the cell it names.
  assert.ok(
    md.includes(
      "## Notebook 05-metrics\n\n- Status: ✗ failed\n\n```text\nnotebook 05-metrics.ipynb failed at cell 4: const x = 1\n    Error: boom\n```\n",
    ),
  );
  assert.match(md, /\*\*Data: the mirror subset\.\*\*/);
  assert.match(md, /commit `0123456789abcdef`/);
  assert.ok(lines.includes(`| trustworthy_data | \`data/raw/data/trustworthy_data.jsonl\` | 1718 | 2136857 | \`${"ab".repeat(32)}\` |`));
  assert.match(md, /Numbers: 5 recorded, 3 with a tolerance, 2 of them match \(1 do not\)\./);
  assert.doesNotMatch(md, /recorded at .* before this run/, "numbers newer than the run start are not stale");
});

test("numbers recorded before the run started are marked as from an earlier run", () => {
  const md = reproductionMarkdown({
    recorded: [{ ...handMade, provenance: { ...handMade.provenance, timestamp: "2020-05-05T00:00:00.000Z" } }],
    notebooks: [{ name: "02-composition", status: "failed", error: "x" }],
    data,
    provenance: provenance(),
    startedAt: "2029-01-01T00:00:00.000Z",
  });
  assert.match(md, /⚠ These numbers were recorded at 2020-05-05T00:00:00.000Z, before this run/);
});

test("numbers files are read back from a folder, sorted, and a broken one is named", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "b.json"), JSON.stringify({ ...handMade, experiment: "b" }));
  writeFileSync(join(dir, "a.json"), JSON.stringify({ ...handMade, experiment: "a", figures: undefined }));
  const got = readRecordedNumbers(dir);
  assert.deepEqual(
    got.map((e) => e.experiment),
    ["a", "b"],
  );
  assert.deepEqual(got[0].figures, []);
  assert.equal(got[1].numbers[0].value, 0.2301);
  const bad = join(dir, "bad");
  mkdirSync(bad);
  writeFileSync(join(bad, "c.json"), "{not json");
  assert.throws(() => readRecordedNumbers(bad), /c\.json: not valid JSON/);
});

test("the report links each notebook to its rows of DEVIATIONS.md", async () => {
  const { kitPaths } = await import("../src/runtime/env.js");
  const md = reproductionMarkdown({
    recorded: [],
    notebooks: [
      { name: "05-hh-metrics", status: "ran", seconds: 1 },
      { name: "01-dataset", status: "ran", seconds: 1 },
      { name: "06-basealign", status: "ran", seconds: 1 },
      { name: "07-cultural-alignment", status: "failed", error: "x" },
    ],
    data,
    provenance: provenance(),
    reportDir: kitPaths().figuresDir,
  });
  assert.match(md, /\[DEVIATIONS\.md\]\(\.\.\/DEVIATIONS\.md\) says how/);
  assert.ok(
    md.includes(
      "## Notebook 05-hh-metrics\n\n- Status: ✓ ran in 1.0 s\n- Deviations from the original code: [elo-rule](../DEVIATIONS.md#elo-rule) · ",
    ),
  );
  assert.ok(md.includes("## Notebook 01-dataset\n\n- Status: ✓ ran in 1.0 s\n\n"), "no line for a notebook no row concerns");
  assert.ok(
    md.includes(
      "## Notebook 06-basealign\n\n- Status: ✓ ran in 1.0 s\n- Deviations from the original code: [ppo-score-scaling](../DEVIATIONS.md#ppo-score-scaling) · ",
    ),
  );
  assert.match(md, /\[missing-data-size\]\(\.\.\/DEVIATIONS\.md#missing-data-size\)/);
  assert.ok(
    md.includes(
      "## Notebook 07-cultural-alignment\n\n- Status: ✗ failed\n- Deviations from the original code: [ppo-score-scaling](../DEVIATIONS.md#ppo-score-scaling) · ",
    ),
  );
});
