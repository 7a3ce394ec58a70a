import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanKernelError, executeNotebook, NotebookError, runNotebook } from "../src/notebooks/runner.js";
import { tempDir } from "./helpers.js";

/** A minimal tslab notebook with the given code cells, optionally after a markdown cell (cell numbers count every cell). */
function writeNotebook(dir: string, name: string, cells: string[], markdownFirst = true): string {
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
    cells: [
      ...(markdownFirst ? [{ cell_type: "markdown", id: "m0", metadata: {}, source: "# test notebook" }] : []),
      ...cells.map((source, i) => ({ cell_type: "code", id: `c${i}`, metadata: {}, execution_count: null, outputs: [], source })),
    ],
  };
  const path = join(dir, `${name}.ipynb`);
  writeFileSync(path, JSON.stringify(nb));
  return path;
}

test("a thrown exception fails the run and the error names the notebook, the cell and the message", async () => {
  const dir = tempDir();
  const path = writeNotebook(
    dir,
    "zz-throws",
    [
      'const answer: number = 6 * 7;\nconsole.log("answer", answer);',
      'throw new Error("boom from the second code cell");',
      'console.log("never runs");',
    ],
    false,
  );
  await assert.rejects(runNotebook(path, { outputDir: dir, quiet: true, html: false }), (e: unknown) => {
    assert.ok(e instanceof NotebookError);
    assert.equal(e.cell, 2);
    assert.equal(e.kind, "error");
    assert.equal(e.firstLine, 'throw new Error("boom from the second code cell");');
    assert.match(e.message, /^notebook zz-throws\.ipynb failed at cell 2: throw new Error/);
    assert.match(e.message, /Error: boom from the second code cell/);
    assert.doesNotMatch(e.message, /node_modules[\\/]tslab/, "tslab's own stack frames are removed");
    return true;
  });
  // The executed copy keeps the outputs up to the failure.
  const executed = JSON.parse(readFileSync(join(dir, "zz-throws.ipynb"), "utf8")) as {
    cells: { outputs?: { text?: string[] | string }[] }[];
  };
  const firstOut = executed.cells[0].outputs?.map((o) => [o.text].flat().join("")).join("");
  assert.equal(firstOut, "answer 42\n");
  assert.deepEqual(executed.cells[2].outputs, [], "the cell after the failure did not run");
});

test("a TypeScript type error fails the run with tslab's diagnostic (cells counted with the markdown cell); a rejected await too", async () => {
  const dir = tempDir();
  const typed = writeNotebook(dir, "zz-type-error", ["const n: number = 1;", "const s: string = n;"]);
  const r = await executeNotebook(typed, { outputDir: dir, quiet: true, html: false });
  assert.equal(r.ok, false);
  assert.equal(r.error?.cell, 3);
  assert.match(r.error!.message, /failed at cell 3: const s: string = n;/);
  assert.match(r.error!.detail, /Type 'number' is not assignable to type 'string'/);
  assert.equal(r.cells.length, 1, "only the first code cell finished");

  const rejected = writeNotebook(dir, "zz-rejects", ['await Promise.reject(new Error("async failure"));']);
  const r2 = await executeNotebook(rejected, { outputDir: dir, quiet: true, html: false });
  assert.equal(r2.error?.cell, 2);
  assert.match(r2.error!.detail, /Error: async failure/);
});

test("a notebook whose cells all succeed resolves with per-cell timings", async () => {
  const dir = tempDir();
  const path = writeNotebook(dir, "zz-fine", ["const xs: number[] = [1, 2, 3];", "xs.reduce((a, b) => a + b, 0)"]);
  const r = await runNotebook(path, { outputDir: dir, quiet: true });
  assert.equal(r.ok, true);
  assert.deepEqual(
    r.cells.map((c) => c.index),
    [1, 2],
  );
  assert.ok(r.html?.endsWith("zz-fine.html"));
  const executed = JSON.parse(readFileSync(r.output, "utf8")) as {
    cells: { outputs: { data?: Record<string, string[]>; text?: string[] }[] }[];
  };
  // tslab prints the value of the last expression.
  assert.equal([executed.cells[2].outputs[0].text ?? executed.cells[2].outputs[0].data?.["text/plain"]].flat().join("").trim(), "6");
});

test("cleanKernelError keeps the message and user frames, drops tslab and node internals", () => {
  const raw = [
    "Error: bad",
    "    at evalmachine.<anonymous>:3:9",
    "    at sigintHandlersWrap (node:vm:280:12)",
    "    at Script.runInThisContext (node:vm:135:14)",
    "    at Object.execute (/x/node_modules/tslab/dist/executor.js:160:38)",
    "    at Module.f (file:///x/dist/src/align/components.js:48:15)",
  ].join("\n");
  assert.equal(
    cleanKernelError(raw),
    "Error: bad\n    at evalmachine.<anonymous>:3:9\n    at Module.f (file:///x/dist/src/align/components.js:48:15)",
  );
});
