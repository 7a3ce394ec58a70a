/**
 * The `fulcra` commands as a commander program.
 *
 * Each command module describes itself once (`defineCommand`): a summary, the
 * paragraphs of its help, its flags (the `Flags` of command.ts, with a `help`
 * line each) and either an action or subcommands. From that one description
 * this file builds the commander command, so `--help` lists exactly the
 * options a command accepts, with their value names and defaults.
 *
 * Commander finds the command and collects the flags' text; the flags are
 * then checked by their zod schemas (`checkFlags`, the same rules as
 * `parseFlags`), so a bad value is a UsageError naming the flag, before any
 * work starts. `--help` is answered before any check. Errors commander finds
 * itself (unknown option, unknown subcommand, missing value) become
 * UsageErrors too: one line, exit code 2 (see main.ts).
 */
import { Command as Commander, CommanderError, Option } from "commander";
import { checkFlags, UsageError, type FlagDef, type Flags, type FlagValues } from "./command.js";

/** One command or subcommand, as its module declares it. */
export interface CommandSpec<F extends Flags = Flags> {
  /** The word typed on the command line ("summary"; the parents give the rest of the path). */
  name: string;
  /** One line, shown in the parent's list of commands. */
  summary: string;
  /** What the command does, shown under the usage line (pre-wrapped to 78 columns). */
  description?: string;
  /** Positional arguments as the usage line shows them, e.g. "[FILE...]" or "<DIR>". */
  args?: string;
  /** How many positionals: false (default without `args`) none, a number at most that many, true any. */
  positionals?: boolean | number;
  flags?: F;
  /** Text after the options: exit codes, environment, examples. */
  after?: string;
  /** Not listed in the parent's help (reached through `route`). */
  hidden?: boolean;
  /** Replaces the usage line after "Usage: " (for a command reached through `route`). */
  usage?: string;
  /** The command as typed, in titles and messages, when it differs from the path (e.g. "evaluator train --backbone DIR"). */
  shownAs?: string;
  /** Runs the command with its checked flags; resolves to the exit code. */
  action?(values: FlagValues<F>, positionals: string[]): Promise<number>;
  subcommands?: CommandSpec[];
  /** Rewrites the arguments after this command's name before parsing (e.g. `train --backbone` → `train-backbone`). */
  route?(args: string[]): string[];
}

/** A command module's export: its description plus `run`, which parses `args` (the words after its name). */
export interface Command<F extends Flags = Flags> extends CommandSpec<F> {
  /** Parses and runs; resolves to the exit code, throws UsageError (exit 2) or any other error (exit 1). */
  run(args: string[]): Promise<number>;
}

/** Declares a command; the flag types flow into `action`'s values. */
export function defineCommand<F extends Flags>(spec: CommandSpec<F>): Command<F> {
  const command = {
    ...spec,
    run: (args: string[]) => runProgram(programFor([command as unknown as CommandSpec]), [spec.name, ...args]),
  };
  return command;
}

/** A subcommand, typed by its own flags (an element of `subcommands`). */
export function subcommand<F extends Flags>(spec: CommandSpec<F>): CommandSpec {
  return spec as unknown as CommandSpec;
}

/** What one parse leaves behind: the exit code of the action that ran. */
interface RunState {
  code: number;
}
const STATE = new WeakMap<Commander, RunState>();
/** The specs a program was built from (for `route`). */
const ROUTES = new WeakMap<Commander, CommandSpec[]>();
/** The spec each commander command was built from. */
const SPEC = new WeakMap<Commander, CommandSpec>();

/** The text of the flag's first column: "-q, --quiet" or "--batch-size <N>". */
function flagTerm(key: string, d: FlagDef): string {
  const value = d.type === "string" ? ` <${d.arg ?? "value"}>` : "";
  return `${d.short ? `-${d.short}, ` : ""}--${key}${value}`;
}

function optionFor(key: string, d: FlagDef): Option {
  const notes = [d.required ? "(required)" : "", d.multiple ? "(repeatable)" : ""].filter(Boolean).join(" ");
  const o = new Option(flagTerm(key, d), [d.help ?? "", notes].filter(Boolean).join(" "));
  // Every value is collected as text; the flag's schema reads it after parsing (checkFlags).
  if (d.multiple) o.argParser((v: string, previous: unknown) => [...(Array.isArray(previous) ? previous : []), v]);
  if (d.default !== undefined) o.default(d.default, d.default);
  return o;
}

/** The raw flag values commander collected, by flag name ("no-html" → true when given). */
function rawValues(cmd: Commander, flags: Flags): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const option of cmd.options) {
    const key = option.long?.replace(/^--/, "");
    if (!key || !(key in flags)) continue;
    const value = cmd.getOptionValue(option.attributeName());
    raw[key] = option.negate ? (value === false ? true : undefined) : value;
  }
  return raw;
}

function configure(cmd: Commander): Commander {
  return cmd
    .exitOverride()
    .allowExcessArguments(true)
    .configureOutput({
      writeOut: (s) => console.log(s.replace(/\n$/, "")),
      writeErr: (s) => console.error(s.replace(/\n$/, "")),
      outputError: () => undefined,
    })
    .configureHelp({ subcommandTerm: (c) => c.name() });
}

/** Builds the commander command of `spec` under `path` (the words before it, e.g. "fulcra hh"). */
function build(spec: CommandSpec, path: string, state: RunState): Commander {
  const full = spec.shownAs ? `fulcra ${spec.shownAs}` : `${path} ${spec.name}`;
  const cmd = configure(new Commander(spec.name)).summary(spec.summary);
  cmd.addHelpText("before", `${full} — ${spec.summary}\n`);
  if (spec.description) cmd.description(spec.description);
  if (spec.args) cmd.usage(`${spec.flags && Object.keys(spec.flags).length ? "[options] " : ""}${spec.args}`);
  if (spec.usage) cmd.configureHelp({ ...cmd.configureHelp(), commandUsage: () => spec.usage! });
  const flags = spec.flags ?? {};
  for (const [key, d] of Object.entries(flags)) cmd.addOption(optionFor(key, d));
  if (spec.after) cmd.addHelpText("after", `\n${spec.after}`);
  for (const sub of spec.subcommands ?? []) cmd.addCommand(build(sub, full, state), { hidden: Boolean(sub.hidden) });
  SPEC.set(cmd, spec);
  if (spec.action) {
    const action = spec.action.bind(spec);
    cmd.action(async () => {
      const name = full.replace(/^fulcra /, "");
      const values = checkFlags(rawValues(cmd, flags), flags, name);
      const positionals = cmd.args;
      const allow = spec.positionals ?? Boolean(spec.args);
      if ((allow === false && positionals.length > 0) || (typeof allow === "number" && positionals.length > allow)) {
        const extra = positionals[allow === false ? 0 : allow];
        throw new UsageError(`unexpected argument "${extra}" (see \`fulcra ${name} --help\`)`);
      }
      state.code = await action(values as FlagValues<Flags>, positionals);
    });
  }
  return cmd;
}

/** The `fulcra` program over these commands (the description and the text after the list are the root's). */
export function programFor(commands: CommandSpec[], root: { description?: string; after?: string } = {}): Commander {
  const state: RunState = { code: 0 };
  const program = configure(new Commander("fulcra")).usage("<command> [options]");
  if (root.description) program.addHelpText("before", `${root.description}\n`);
  if (root.after) program.addHelpText("after", `\n${root.after}`);
  for (const c of commands) program.addCommand(build(c, "fulcra", state), { hidden: Boolean(c.hidden) });
  STATE.set(program, state);
  ROUTES.set(program, commands);
  return program;
}

/** The command the words of `argv` lead to, and its path ("hh summary"). */
export function commandAt(program: Commander, argv: string[]): { cmd: Commander; path: string } {
  let cmd = program;
  const names: string[] = [];
  for (const word of routed(ROUTES.get(program) ?? [], argv)) {
    if (word === "--") break;
    if (word.startsWith("-")) continue;
    const next = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) break;
    cmd = next;
    names.push(word);
  }
  return { cmd, path: SPEC.get(cmd)?.shownAs ?? names.join(" ") };
}

/** Applies each command's `route` along the path, from the top. */
function routed(commands: CommandSpec[], argv: string[]): string[] {
  const [name, ...rest] = argv;
  const spec = commands.find((c) => c.name === name);
  if (!spec) return argv;
  const args = spec.route ? spec.route(rest) : rest;
  return [name, ...(spec.subcommands ? routed(spec.subcommands, args) : args)];
}

/** Commander's own complaint as a UsageError: one line that points at the right --help. */
function usageErrorFrom(e: CommanderError, program: Commander, argv: string[]): UsageError {
  const { cmd, path } = commandAt(program, argv);
  const see = `(see \`fulcra${path ? ` ${path}` : ""} --help\`)`;
  const [first, ...more] = e.message.replace(/^error: /, "").split("\n");
  const hint = more.find((l) => l.startsWith("(Did you mean"));
  const suggestion = hint ? `; ${hint.slice(1, -1).replace(/^Did/, "did")}` : "";
  if (e.code === "commander.unknownOption")
    return new UsageError(`Unknown option ${first.replace(/^unknown option /, "")}${suggestion} ${see}`);
  if (e.code === "commander.unknownCommand") {
    const known = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden).map((c) => c.name());
    const word = /'([^']*)'/.exec(first)?.[1] ?? "";
    return new UsageError(`unknown ${path ? "subcommand" : "command"} "${word}"${suggestion}; use ${known.join(", ")} ${see}`);
  }
  if (e.code === "commander.optionMissingArgument")
    return new UsageError(`${first.replace(/ argument missing$/, " needs a value")} ${see}`);
  return new UsageError(`${first} ${see}`);
}

/**
 * Parses `argv` (the words after `fulcra`) and runs the command they name.
 * Resolves to its exit code: 0 after --help, 2 when a command that needs a
 * subcommand got none (its help is printed). Throws UsageError for any
 * usage mistake, and whatever the action throws.
 */
export async function runProgram(program: Commander, argv: string[]): Promise<number> {
  const state = STATE.get(program)!;
  const args = routed(ROUTES.get(program) ?? [], argv);
  try {
    await program.parseAsync(args, { from: "user" });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return 0;
    if (e.code === "commander.help") return 2;
    throw usageErrorFrom(e, program, args);
  }
  return state.code;
}
