import { existsSync, statSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { fetchData, verifyData } from "../data/fetch.js";
import { kitPaths, env } from "../runtime/env.js";
import type { NotebookOutcome } from "../report/reproduction.js";
import { provenance } from "../runtime/provenance.js";
import { numberFlag, UsageError, type Flags } from "./command.js";
import { defineCommand } from "./program.js";

const FLAGS = {
  from: {
    type: "string",
    arg: "DIR",
    help: "fetch the data from a mirror folder first (e.g. ../shared/data/fulcra); without it and with no data yet, the data comes from FULCRA_MIRROR (default ../shared/data/fulcra) when that folder exists, else from the pinned URLs; the command says which it used",
  },
  only: {
    type: "string",
    arg: "NAME",
    multiple: true,
    help: "run only this notebook (name, prefix or path); the report still lists numbers recorded earlier, marked as such",
  },
  "skip-notebooks": { type: "boolean", help: "only gather figures/numbers/ and write the report" },
  timeout: {
    type: "string",
    arg: "S",
    schema: numberFlag({ min: 0, minExclusive: true }),
    help: "seconds a single cell may run (default 900)",
  },
  quiet: { type: "boolean", help: "no progress bars" },
} satisfies Flags;

export const command = defineCommand({
  name: "reproduce",
  summary: "verify data, run every notebook, write figures/REPRODUCTION.md",
  description: `The whole paper in one command:
  1. verify the data in data/raw/ against the manifest (with --from DIR,
     first copy the files from a mirror folder)
  2. run every notebook in notebooks/, in name order, headless; each one
     exports its figures to figures/ and records its numbers in
     figures/numbers/
  3. write figures/REPRODUCTION.md: per experiment its status, figures and
     numbers beside their references, plus provenance and the data used`,
  flags: FLAGS,
  after: `Exit code 1 when the data is bad or missing or a notebook failed (the
report is written in every case). \`npm run reproduce\` builds and runs this.`,
  async action(values) {
    // The notebook runner, the figure renderer and the report load only when a reproduction starts.
    const { closeSharedRenderer } = await import("../figures/renderer.js");
    const { listNotebooks, resolveNotebook, executeNotebook } = await import("../notebooks/runner.js");
    const { readRecordedNumbers } = await import("../report/numbers.js");
    const { dataScope, writeReproductionReport } = await import("../report/reproduction.js");
    const startedAt = new Date().toISOString();
    const timeout = values.timeout ?? env.cellTimeoutSeconds ?? 900;
    const { figuresDir } = kitPaths();

    // 1. Data: --from, else what is in data/raw/; with none, the mirror (FULCRA_MIRROR,
    // default ../shared/data/fulcra) when present, else the pinned URLs.
    if (values.from !== undefined && !(existsSync(values.from) && statSync(values.from).isDirectory()))
      throw new UsageError(`--from ${values.from}: no such folder`);
    let from = values.from;
    let source = from ? `mirror ${from}` : "";
    if (!from && !verifyData().some((r) => r.status === "ok")) {
      const mirror = resolve(kitPaths().root, env.mirror ?? join("..", "shared", "data", "fulcra"));
      if (existsSync(mirror) && statSync(mirror).isDirectory()) {
        from = mirror;
        source = `mirror ${mirror} (FULCRA_MIRROR${env.mirror ? "" : " default"})`;
      } else source = "the pinned URLs (no mirror at " + mirror + ")";
      console.log(`reproduce: no data in ${kitPaths().rawDir} yet; fetching from ${source}`);
    }
    if (source) {
      if (values.from) console.log(`reproduce: fetching data from ${source}`);
      const fetched = await fetchData({ from, quiet: values.quiet });
      const failed = fetched.filter((r) => r.status === "failed" || r.status === "missing-at-source");
      for (const r of failed) console.error(`reproduce: ${r.name}: ${r.message}`);
      console.log(
        `reproduce: data from ${source}: ${fetched.filter((r) => r.status === "fetched" || r.status === "present").length} verified, ${fetched.filter((r) => r.status === "not-offered").length} not offered, ${failed.length} failed`,
      );
      if (failed.some((r) => r.status === "failed")) return 1;
    }
    const verified = verifyData();
    const counts = {
      ok: verified.filter((r) => r.status === "ok").length,
      bad: verified.filter((r) => r.status === "bad").length,
      absent: verified.filter((r) => r.status === "absent").length,
    };
    for (const r of verified.filter((v) => v.status === "bad"))
      console.error(`reproduce: data file ${r.name} does not verify: ${r.message}`);
    console.log(`reproduce: data ${counts.ok} ok, ${counts.bad} bad, ${counts.absent} absent`);
    if (counts.bad > 0) {
      console.error("reproduce: fix the data first (`npx fulcra data fetch --force`).");
      return 1;
    }
    if (counts.ok === 0) {
      console.error("reproduce: no data: run `npx fulcra data fetch` (or pass --from ../shared/data/fulcra).");
      return 1;
    }
    const scope = dataScope();
    console.log(
      `reproduce: using ${scope.scope === "full" ? "the full files" : "the mirror subset (figures from FULCRA records will differ from the paper's)"}`,
    );

    // 2. Notebooks, one after the other.
    const all = listNotebooks();
    const selected = values.only?.length ? values.only.map((n) => resolveNotebook(n)) : all;
    const outcomes: NotebookOutcome[] = [];
    if (!values["skip-notebooks"]) {
      if (selected.length === 0) console.log(`reproduce: no notebooks in ${kitPaths().notebooksDir}`);
      for (const path of selected) {
        const r = await executeNotebook(path, { cellTimeout: timeout, quiet: values.quiet });
        const copy = r.html ?? (existsSync(r.output) ? r.output : undefined);
        outcomes.push({
          name: r.name,
          status: r.ok ? "ran" : "failed",
          seconds: r.seconds,
          error: r.error?.message,
          executedCopy: copy ? relative(figuresDir, copy) : undefined,
        });
        if (r.ok) console.log(`reproduce: ✓ ${r.name} (${r.seconds.toFixed(1)} s)`);
        else console.error(`reproduce: ✗ ${r.error?.message}`);
      }
    }
    const ran = new Set(outcomes.map((o) => o.name));
    for (const p of all) {
      const name = basename(p, ".ipynb");
      if (!ran.has(name)) outcomes.push({ name, status: "not run" });
    }
    await closeSharedRenderer();

    // 3. Report.
    const recorded = readRecordedNumbers();
    const file = writeReproductionReport({
      recorded,
      notebooks: outcomes,
      data: scope,
      provenance: provenance(),
      startedAt,
      dataVerified: counts,
    });
    const failed = outcomes.filter((o) => o.status === "failed");
    console.log(
      `reproduce: ${outcomes.filter((o) => o.status === "ran").length} notebooks ran, ${failed.length} failed; ${recorded.length} experiments recorded numbers`,
    );
    console.log(`reproduce: report written to ${relative(process.cwd(), file) || join(figuresDir, "REPRODUCTION.md")}`);
    return failed.length ? 1 : 0;
  },
});
