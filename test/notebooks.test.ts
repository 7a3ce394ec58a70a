/**
 * Executes every notebook in notebooks/ headless, one test per notebook,
 * discovered when the tests run (new notebooks are picked up without a
 * change here). A notebook fails its test on the first failing cell; the
 * message names the cell and the executed copy in figures/notebooks/.
 * A cell may run 5 minutes here (FULCRA_CELL_TIMEOUT overrides), so one hung
 * cell cannot eat the CI budget; long experiments should reuse stored runs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { basename } from "node:path";
import { listNotebooks, runNotebook } from "../src/notebooks/runner.js";

const notebooks = listNotebooks();

test("notebooks/ holds the quickstart notebook", () => {
  assert.ok(
    notebooks.some((p) => basename(p) === "00-quickstart.ipynb"),
    `found: ${notebooks.map((p) => basename(p)).join(", ")}`,
  );
});

for (const path of notebooks) {
  test(`notebook ${basename(path)} runs headless without a cell error`, async () => {
    const result = await runNotebook(path, { quiet: true, cellTimeout: Number(process.env.FULCRA_CELL_TIMEOUT) || 300 });
    assert.equal(result.ok, true);
    assert.ok(result.cells.length > 0, "at least one code cell ran");
  });
}
