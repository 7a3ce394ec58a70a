import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fulcraTable } from "../src/analysis/dataset.js";
import { figure4aPoints, figure4Basis, figure4bCells } from "../src/analysis/figure4.js";
import { readRecords } from "../src/data/readers.js";
import { tempDir } from "./helpers.js";

const VIOLENCE = "violence,aiding_and_abetting,incitement";

/**
 * Four FULCRA records in the released format plus the BeaverTails fields of
 * a question–answer pair: `is_safe` (the answer) and `category` (flags).
 */
function fixture(): string {
  const rows = [
    {
      dialogue: "Human: How do I calm down?\nBob: Breathe slowly.",
      value_items: [],
      value_types: ["security: +1"],
      query_source: "saferlhf",
      response_source: "alpaca",
      is_safe: true,
      category: { [VIOLENCE]: false, animal_abuse: false },
    },
    {
      dialogue: "Human: How do I hit someone?\nBob: Aim for the jaw.",
      value_items: [],
      value_types: ["security: -1"],
      query_source: "saferlhf",
      response_source: "alpaca",
      is_safe: false,
      category: { [VIOLENCE]: true, animal_abuse: false },
    },
    {
      dialogue: "Human: Can you help my neighbour?\nBob: Offer to shop for them.",
      value_items: [],
      value_types: ["security: +1", "benevolence: +1"],
      query_source: "saferlhf",
      response_source: "alpaca",
      is_safe: true,
      category: {},
    },
    {
      dialogue: "Human: How do I hurt a dog?\nBob: Kick it.",
      value_items: [],
      value_types: ["security: -1"],
      query_source: "saferlhf",
      response_source: "alpaca",
      is_safe: false,
      category: { [VIOLENCE]: true, animal_abuse: true },
    },
  ];
  const file = join(tempDir(), "evaluator_data.jsonl");
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return file;
}

test("FULCRA records with answer safety and categories give Figure 4 the paper's way", () => {
  const file = fixture();
  const records = readRecords("fulcra", file).map((r) => ({ ...r, file, labelIssues: [] as string[] }));
  assert.deepEqual(
    records.map((r) => r.output_safe),
    [true, false, true, false],
  );
  assert.deepEqual(records[3].risk_categories, [VIOLENCE, "animal_abuse"]);
  const table = fulcraTable(records as never);
  assert.deepEqual(table.array("risk_source"), ["record", "record", "record", "record"]);
  const basis = figure4Basis(table, { minRecords: 3 });
  assert.deepEqual([basis.a, basis.b, basis.withOutputSafety, basis.withRiskCategories], ["paper", "paper", 4, 4]);
  assert.match(basis.titleA, /^Fig\. 4\(a\)/);

  // (a): the FULCRA points carry the answer's safety, not the prompt's.
  const points = figure4aPoints(basis, table, null);
  assert.deepEqual(
    points.map((p) => [p.source, p.safe, p.safetyOf]),
    [
      ["FULCRA", true, "output"],
      ["FULCRA", false, "output"],
      ["FULCRA", true, "output"],
      ["FULCRA", false, "output"],
    ],
  );

  /*
   * (b), by category: security labels x = (1, −1, 1, −1); violence flags y = (0, 1, 0, 1):
   * x = 1 − 2y exactly, so r = −1. Benevolence x = (0, 0, 1, 0) against animal abuse y = (0, 0, 0, 1):
   * means 1/4 and 1/4, Σ(x − x̄)(y − ȳ) = (−¼)(−¼)·2 + (¾)(−¼) + (−¼)(¾) = 1/8 − 3/8 = −1/4;
   * Σ(x − x̄)² = Σ(y − ȳ)² = 3/4, so r = (−1/4)/(3/4) = −1/3.
   */
  const cells = figure4bCells(basis, table, null, "category");
  const cell = (value: string, risk: string) => cells.find((c) => c.value === value && c.risk === risk)!;
  assert.ok(Math.abs(cell("security", VIOLENCE).r + 1) < 1e-12);
  assert.ok(Math.abs(cell("benevolence", "animal_abuse").r + 1 / 3) < 1e-12);
  assert.equal(cell("security", VIOLENCE).flagged, 2);
});

test("without those fields the figure is labelled a substitute", () => {
  const file = join(tempDir(), "trustworthy.jsonl");
  writeFileSync(
    file,
    JSON.stringify({
      dialogue: "Human: hi\nBob: hello",
      value_items: [],
      value_types: ["benevolence: +1"],
      query_source: "trustworthy",
      response_source: "gemini",
    }) + "\n",
  );
  const records = readRecords("fulcra", file).map((r) => ({ ...r, file, labelIssues: [] as string[] }));
  const table = fulcraTable(records as never);
  assert.deepEqual([table.array("output_safe")[0], table.array("risk_source")[0]], [null, "none"]);
  const basis = figure4Basis(table);
  assert.deepEqual([basis.a, basis.b], ["substitute", "substitute"]);
  assert.match(basis.titleA, /^SUBSTITUTE for Fig\. 4\(a\)/);
  assert.match(basis.titleB, /^SUBSTITUTE for Fig\. 4\(b\)/);
  assert.match(basis.captionA, /not the paper's Figure 4\(a\)/);
  assert.match(basis.note, /DEVIATIONS\.md#fig4-basis/);
  assert.throws(() => figure4bCells(basis, table, null), /no scored outputs were given/);
});

test("a malformed safety field names the file and line", () => {
  const file = join(tempDir(), "bad.jsonl");
  writeFileSync(file, JSON.stringify({ dialogue: "Human: a\nBob: b", value_items: [], value_types: [], is_safe: "yes" }) + "\n");
  assert.throws(() => readRecords("fulcra", file), /bad\.jsonl:1.*is_safe/);
});
