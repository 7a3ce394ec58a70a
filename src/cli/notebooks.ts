import { basename, relative } from "node:path";
import { kitPaths, env } from "../runtime/env.js";
import { listNotebooks, resolveNotebook, runNotebooks } from "../notebooks/runner.js";
import { numberOption, parseOptions, UsageError, type Command } from "./command.js";

const HELP = `fulcra notebooks <subcommand> — the kit's tslab notebooks, run headless

Subcommands:
  list               the notebooks in notebooks/, in run order
  run [NAME...]      execute notebooks (default: all, in name order) with
                     Debian's Jupyter and the tslab kernel; stops at the first
                     cell error and names the notebook, the cell and the error
      --timeout S    seconds a single cell may run (default 900, env FULCRA_CELL_TIMEOUT)
      --keep-going   run the remaining notebooks after a failure
      --no-html      do not write the HTML rendering
      --quiet        no progress bars

NAME is a file name, a name without .ipynb, a unique prefix ("00") or a path.
Executed copies with their outputs go to figures/notebooks/NAME.ipynb and
NAME.html. The tslab kernel is registered in .jupyter-local/ (no global
Jupyter state). Missing Jupyter? Run \`npm run setup\`.`;

export const command: Command = {
  summary: "list and run the notebooks headless (tslab kernel)",
  help: HELP,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === "--help" || sub === "-h") return (console.log(HELP), 0);
    if (sub === "list") {
      const { values } = parseOptions(rest, { help: { type: "boolean", short: "h" } }, "notebooks", false);
      if (values.help) return (console.log(HELP), 0);
      const all = listNotebooks();
      if (all.length === 0) console.log(`no notebooks in ${kitPaths().notebooksDir}`);
      for (const p of all) console.log(basename(p, ".ipynb"));
      return 0;
    }
    if (sub === "run") {
      const { values, positionals } = parseOptions(
        rest,
        {
          timeout: { type: "string" },
          "keep-going": { type: "boolean" },
          "no-html": { type: "boolean" },
          quiet: { type: "boolean" },
          help: { type: "boolean", short: "h" },
        },
        "notebooks",
      );
      if (values.help) return (console.log(HELP), 0);
      const paths = positionals.length ? positionals.map((n) => resolveNotebook(n)) : listNotebooks();
      if (paths.length === 0) throw new UsageError(`no notebooks in ${kitPaths().notebooksDir}`);
      const timeout = numberOption(values.timeout, "timeout", env.cellTimeoutSeconds ?? 900);
      if (!(timeout > 0)) throw new UsageError(`--timeout expects a number of seconds > 0, got "${values.timeout}"`);
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
    }
    throw new UsageError(`unknown subcommand "${sub ?? ""}"; use list or run`);
  },
};
