/** Entry point of the `fulcra` command. Each command lives in its own module. */
import { describeError, UsageError, wantsHelp, type Command } from "./command.js";
import { env } from "../runtime/env.js";

type Loader = () => Promise<{ command: Command }>;

const COMMANDS: Record<string, Loader> = {
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

async function usage(): Promise<string> {
  const lines = [
    "fulcra — the Value FULCRA reproducibility kit",
    "",
    "Usage: fulcra <command> [options]   (fulcra <command> --help for details)",
    "",
    "Commands:",
  ];
  for (const [name, load] of Object.entries(COMMANDS)) {
    const { command } = await load();
    lines.push(`  ${name.padEnd(11)} ${command.summary}`);
  }
  lines.push(
    "",
    "Environment: FULCRA_BACKEND (gpu|webgpu|node|wasm|cpu), FULCRA_DATA_DIR, FULCRA_FIGURES_DIR, FULCRA_RUNS_DIR, FULCRA_QUIET.",
  );
  return lines.join("\n");
}

export async function main(argv: string[]): Promise<number> {
  // --debug anywhere (before --) shows stacks; so does FULCRA_DEBUG=1.
  const end = argv.indexOf("--");
  const debug = env.debug || argv.slice(0, end < 0 ? argv.length : end).includes("--debug");
  argv = argv.filter((a, i) => a !== "--debug" || (end >= 0 && i > end));
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(await usage());
    return name ? 0 : 2;
  }
  if (name === "--version") {
    const { kitVersion } = await import("../runtime/provenance.js");
    console.log(kitVersion());
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`fulcra: unknown command "${name}"\n\n${await usage()}`);
    return 2;
  }
  const { command } = await load();
  // --help never runs the command.
  if (wantsHelp(rest)) {
    console.log(command.help);
    return 0;
  }
  if (rest.length === 0 && command.help.includes("<subcommand>")) {
    console.log(command.help);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`fulcra ${name}: ${e.message}`);
      if (debug) console.error(e.stack);
      return 2;
    }
    console.error(`fulcra ${name}: ${describeError(e)}`);
    if (debug) console.error((e as Error)?.stack ?? e);
    return 1;
  }
}
