/** Entry point of the `fulcra` command: one commander program over the command modules, one line each. */
import { command as align } from "./align.js";
import { describeError, UsageError } from "./command.js";
import { command as data } from "./data.js";
import { command as doctor } from "./doctor.js";
import { command as evaluate } from "./evaluate.js";
import { command as evaluator } from "./evaluator.js";
import { command as hh } from "./hh.js";
import { command as models } from "./models.js";
import { command as notebooks } from "./notebooks.js";
import { commandAt, programFor, runProgram, type CommandSpec } from "./program.js";
import { command as reproduce } from "./reproduce.js";
import { env } from "../runtime/env.js";

/** Every command, in the order `fulcra --help` lists them. */
export const COMMANDS: CommandSpec[] = [data, notebooks, reproduce, evaluator, evaluate, hh, align, models, doctor];

const ROOT = {
  description: "fulcra — the Value FULCRA reproducibility kit (`fulcra <command> --help` for the options of each)",
  after: "Environment: FULCRA_BACKEND (gpu|webgpu|node|wasm|cpu), FULCRA_DATA_DIR, FULCRA_FIGURES_DIR, FULCRA_RUNS_DIR, FULCRA_QUIET.",
};

export async function main(argv: string[]): Promise<number> {
  // --debug anywhere (before --) shows stacks; so does FULCRA_DEBUG=1.
  const end = argv.indexOf("--");
  const debug = env.debug || argv.slice(0, end < 0 ? argv.length : end).includes("--debug");
  argv = argv.filter((a, i) => a !== "--debug" || (end >= 0 && i > end));
  if (argv[0] === "--version") {
    const { kitVersion } = await import("../runtime/provenance.js");
    console.log(kitVersion());
    return 0;
  }
  const program = programFor(COMMANDS, ROOT);
  try {
    return await runProgram(program, argv);
  } catch (e) {
    // Errors are named by the top-level command ("fulcra hh: …"); the message says the rest.
    const top = commandAt(program, argv).path.split(" ")[0];
    const who = `fulcra${top ? ` ${top}` : ""}`;
    if (e instanceof UsageError) {
      console.error(`${who}: ${e.message}`);
      if (debug) console.error(e.stack);
      return 2;
    }
    console.error(`${who}: ${describeError(e)}`);
    if (debug) console.error((e as Error)?.stack ?? e);
    return 1;
  }
}
