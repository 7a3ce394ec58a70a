/** The shape every `fulcra` command module has, and small helpers for parsing its options. */
import { parseArgs, type ParseArgsConfig } from "node:util";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

export interface Command {
  /** One line for `fulcra --help`. */
  summary: string;
  /** Full text for `fulcra <command> --help`. */
  help: string;
  /** Runs the command; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}

/** A user mistake on the command line: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** parseArgs with errors turned into UsageErrors that point at --help. */
export function parseOptions<T extends OptionSpec>(
  args: string[],
  options: T,
  command: string,
  allowPositionals = true,
): { values: { [K in keyof T]?: T[K] extends { type: "boolean" } ? boolean : T[K] extends { multiple: true } ? string[] : string }; positionals: string[] } {
  try {
    const r = parseArgs({ args, options, allowPositionals, strict: true });
    return { values: r.values as never, positionals: r.positionals };
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\nSee \`fulcra ${command} --help\`.`);
  }
}

export function wantsHelp(args: string[]): boolean {
  return args.includes("--help") || args.includes("-h");
}

/** Reads a number option, with a clear message when it is not one. */
export function numberOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} expects a number, got "${value}"`);
  return n;
}
