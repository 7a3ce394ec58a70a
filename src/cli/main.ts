/** Entry point of the `fulcra` command: one commander program over the command modules, one line each. */
import { describeError, UsageError } from "./command.js";
import { commandAt, programFor, runProgram, type CommandSpec } from "./program.js";
import { env } from "../runtime/env.js";

/**
 * Every command, in the order `fulcra --help` lists them. A run loads only the
 * module of the command it names (some pull in tfjs); help and unknown names load all.
 */
const COMMANDS: Record<string, () => Promise<{ command: CommandSpec }>> = {
  data: () => import("./data.js"),
  notebooks: () => import("./notebooks.js"),
  reproduce: () => import("./reproduce.js"),
  evaluator: () => import("./evaluator.js"),
  evaluate: () => import("./evaluate.js"),
  hh: () => import("./hh.js"),
  align: () => import("./align.js"),
  models: () => import("./models.js"),
  doctor: () => import("./doctor.js"),
};

/** The declarations of the named commands (default: all, in order). */
export async function loadCommands(names: string[] = Object.keys(COMMANDS)): Promise<CommandSpec[]> {
  return Promise.all(names.map(async (name) => (await COMMANDS[name]()).command));
}

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
  const named = argv[0] !== undefined && Object.hasOwn(COMMANDS, argv[0]);
  const program = programFor(await loadCommands(named ? [argv[0]] : undefined), ROOT);
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
