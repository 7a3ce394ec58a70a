import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../src/runtime/env.js";
import { deviationIds, deviationLinks, ledgerIds, NOTEBOOK_DEVIATIONS, notebookDeviationLine } from "../src/report/deviations.js";

const LEDGER = readFileSync(join(PROJECT_ROOT, "DEVIATIONS.md"), "utf8");

test("every row of DEVIATIONS.md has one anchor, and every linked row exists", () => {
  const ids = ledgerIds(PROJECT_ROOT);
  assert.deepEqual(ids, deviationIds(LEDGER));
  assert.equal(new Set(ids).size, ids.length, "anchors are unique");
  // One anchor per table row (rows are the lines starting with "| <a id=").
  assert.equal(LEDGER.split("\n").filter((l) => l.startsWith("| <a id=")).length, ids.length);
  for (const [notebook, rows] of Object.entries(NOTEBOOK_DEVIATIONS)) {
    for (const id of rows) assert.ok(ids.includes(id), `${notebook} links to "${id}", which DEVIATIONS.md lacks`);
  }
  // The rows the task's list requires.
  for (const id of [
    "elo-rule",
    "hh-reward-model",
    "judge-unreadable",
    "judge-prompt-count",
    "evaluator-recipe",
    "fig4-basis",
    "missing-helpful-elo",
    "missing-judged-policies",
    "missing-data-size",
  ])
    assert.ok(ids.includes(id), id);
});

test("each row gives the original's file and line under ../shared/reference/ or says there is no code", () => {
  const rows = LEDGER.split("\n").filter((l) => l.startsWith("| <a id="));
  for (const row of rows) {
    const cells = row.split(" | ");
    assert.equal(cells.length, 7, `7 columns: ${row.slice(0, 60)}`);
    assert.match(cells[2], /(\.py|\.sh|\.md):\d+|^paper|^—/, `original location in ${cells[0]}`);
  }
});

test("notebooks 02, 03, 05, 06 and 07 link to their rows, and the report links them from the figures folder", () => {
  for (const nb of ["02-value-space", "03-values-and-risks", "05-hh-metrics", "06-basealign", "07-cultural-alignment"]) {
    const text = readFileSync(join(PROJECT_ROOT, "notebooks", `${nb}.ipynb`), "utf8");
    for (const id of NOTEBOOK_DEVIATIONS[nb]) assert.ok(text.includes(`DEVIATIONS.md#${id}`), `${nb} links to ${id}`);
  }
  assert.equal(deviationLinks(["elo-rule"], join(PROJECT_ROOT, "figures")), "[elo-rule](../DEVIATIONS.md#elo-rule)");
  assert.equal(notebookDeviationLine("07-unknown"), null);
  assert.match(
    notebookDeviationLine("02-value-space", join(PROJECT_ROOT, "figures"))!,
    /\[fig4-basis\]\(\.\.\/DEVIATIONS\.md#fig4-basis\)/,
  );
});
