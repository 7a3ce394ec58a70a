import { basename, relative } from "node:path";
import { kitPaths, env } from "../runtime/env.js";
import { listNotebooks, resolveNotebook, runNotebooks } from "../notebooks/runner.js";
import { numberFlag, UsageError, type Flags } from "./command.js";
import { defineCommand, subcommand } from "./program.js";

const RUN_FLAGS = {
  timeout: {
    type: "string",
    arg: "S",
    schema: numberFlag({ min: 0, minExclusive: true }),
    help: "seconds a single cell may run (default 900, env FULCRA_CELL_TIMEOUT)",
  },
  "keep-going": { type: "boolean", help: "run the remaining notebooks after a failure" },
  "no-html": { type: "boolean", help: "do not write the HTML rendering" },
  quiet: { type: "boolean", help: "no progress bars" },
} satisfies Flags;

const NAMES = `NAME is a file name, a name without .ipynb, a unique prefix ("00") or a path.
Executed copies with their outputs go to figures/notebooks/NAME.ipynb and
NAME.html. The tslab kernel is registered in .jupyter-local/ (no global
Jupyter state). Missing Jupyter? Run \`npm run setup\`.`;

export const command = defineCommand({
  name: "notebooks",
  summary: "list and run the notebooks headless (tslab kernel)",
  subcommands: [
    subcommand({
      name: "list",
      summary: "the notebooks in notebooks/, in run order",
      async action() {
        const all = listNotebooks();
        if (all.length === 0) console.log(`no notebooks in ${kitPaths().notebooksDir}`);
        for (const p of all) console.log(basename(p, ".ipynb"));
        return 0;
      },
    }),
    subcommand({
      name: "run",
      summary: "execute notebooks headless with Debian's Jupyter and the tslab kernel",
      args: "[NAME...]",
      description: `Executes notebooks (default: all, in name order); stops at the first cell
error and names the notebook, the cell and the error.`,
      flags: RUN_FLAGS,
      after: NAMES,
      async action(values, positionals) {
        const paths = positionals.length ? positionals.map((n) => resolveNotebook(n)) : listNotebooks();
        if (paths.length === 0) throw new UsageError(`no notebooks in ${kitPaths().notebooksDir}`);
        const timeout = values.timeout ?? env.cellTimeoutSeconds ?? 900;
        const results = await runNotebooks(paths, {
          cellTimeout: timeout,
          html: !values["no-html"],
          quiet: values.quiet,
          stopOnError: !values["keep-going"],
        });
        for (const r of results) {
          if (r.ok)
            console.log(
              `ok      ${r.name}  ${r.seconds.toFixed(1)} s (kernel ${r.kernelSeconds?.toFixed(1)} s)  → ${relative(process.cwd(), r.output)}`,
            );
          else console.error(`FAILED  ${r.error?.message}`);
        }
        const failed = results.filter((r) => !r.ok).length;
        const skipped = paths.length - results.length;
        console.log(
          `notebooks: ${results.length - failed} ran, ${failed} failed${skipped ? `, ${skipped} not run after the failure (use --keep-going)` : ""}`,
        );
        return failed ? 1 : 0;
      },
    }),
  ],
});
