/**
 * The shape every `fulcra` command module has, and the one way commands read
 * and validate their flags.
 *
 * A command module exports `command: Command` (summary, help, run) and is
 * registered by one line in `main.ts`. `main.ts` does the rest of the policy
 * for every command alike:
 *   - `--help` / `-h` anywhere before `--` prints `help` and exits 0; `run` is
 *     never called;
 *   - `--debug` (or FULCRA_DEBUG=1) is removed from the arguments and makes
 *     errors print their stack;
 *   - a UsageError is one line on stderr and exit code 2; any other error is
 *     one line (with the file it concerns) and exit code 1.
 *
 * How a command declares and validates its flags, before doing any work:
 *
 *   const FLAGS = {
 *     input: { type: "string", required: true, help: "FILE.jsonl to read" },
 *     "batch-size": { type: "string", schema: intFlag({ min: 1 }), default: "64" },
 *     threshold: { type: "string", schema: numberFlag({ min: 0, max: 1, maxExclusive: true }) },
 *     lenient: { type: "boolean" },
 *   } satisfies Flags;
 *   const { values, positionals } = parseFlags(args, FLAGS, "hh score", { positionals: false });
 *   values["batch-size"]   // number: the schema's output type
 *
 * `parseFlags` rejects unknown flags, missing required flags, and values
 * the flag's zod schema refuses, each as a UsageError naming the flag. Put
 * every check that needs no data in the schema (ranges, known names, "not
 * all zero") so that nothing starts before all flags are known to be good.
 * Reusable schemas: `intFlag`, `numberFlag`, `oneOfFlag`, `listFlag`.
 * Path flags use the schemas in `flags.ts` (`inputFileFlag`: exists and is
 * not a folder; `outputFileFlag`: its folder exists; `folderFlag`), value
 * flags `targetFlag` / `thresholdFlag`. `--help` and `--debug` need no
 * declaration (main.ts handles them); declare `lenient: { type: "boolean" }`
 * where a command may finish with skipped input, and then write the counts
 * with `writeLenientProvenance`.
 *
 * A new command file keeps the usual shape and adds its FLAGS object:
 *
 *   export const command: Command = {
 *     summary: "…", help: HELP,
 *     async run(args) {
 *       const { values } = parseFlags(args, FLAGS, "models", { positionals: false });
 *       …                                  // work starts only here
 *       return 0;                          // 0 only when everything asked was done
 *     },
 *   };
 *
 * A subcommand (`hh elo`, `evaluator train`) calls parseFlags on the
 * arguments after its name, with its own FLAGS and "hh elo" as the name.
 * Exit codes: 0 done; 1 failed or incomplete (missing, skipped, refused,
 * unless --lenient); 2 usage (thrown as UsageError, never returned by hand).
 * The older `parseOptions` (node's parseArgs, strict) is kept for commands
 * not yet moved; it also refuses unknown flags.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";

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

/** One declared flag. String flags may carry a zod schema that parses and checks the text. */
export interface FlagDef {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  required?: boolean;
  /** Text used when the flag is absent (goes through the schema too). */
  default?: string;
  /** Parses the flag's text (each value when `multiple`). */
  schema?: z.ZodType;
  help?: string;
}
export type Flags = Record<string, FlagDef>;

type FlagValue<D extends FlagDef> = D["type"] extends "boolean"
  ? boolean
  : D["schema"] extends z.ZodType
    ? D["multiple"] extends true
      ? z.output<D["schema"]>[]
      : z.output<D["schema"]>
    : D["multiple"] extends true
      ? string[]
      : string;
type Present<D extends FlagDef> = D["type"] extends "boolean"
  ? true
  : D["required"] extends true
    ? true
    : D["default"] extends string
      ? true
      : false;
export type FlagValues<F extends Flags> = { [K in keyof F]: Present<F[K]> extends true ? FlagValue<F[K]> : FlagValue<F[K]> | undefined };

/** Whole number within bounds, from flag text. */
export function intFlag(o: { min?: number; max?: number } = {}): z.ZodType<number, string> {
  const range =
    o.min !== undefined && o.max !== undefined
      ? ` from ${o.min} to ${o.max}`
      : o.min !== undefined
        ? ` ≥ ${o.min}`
        : o.max !== undefined
          ? ` ≤ ${o.max}`
          : "";
  return z.string().transform((s, ctx) => {
    const n = Number(s.trim());
    if (s.trim() === "" || !Number.isInteger(n) || (o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max)) {
      ctx.addIssue({ code: "custom", message: `expects a whole number${range}, got "${s}"` });
      return z.NEVER;
    }
    return n;
  });
}

/** Finite number within bounds, from flag text. */
export function numberFlag(
  o: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean } = {},
): z.ZodType<number, string> {
  const lo = o.min === undefined ? "" : `${o.minExclusive ? ">" : "≥"} ${o.min}`;
  const hi = o.max === undefined ? "" : `${o.maxExclusive ? "<" : "≤"} ${o.max}`;
  const range = [lo, hi].filter(Boolean).join(" and ");
  return z.string().transform((s, ctx) => {
    const n = Number(s.trim());
    const bad =
      s.trim() === "" ||
      !Number.isFinite(n) ||
      (o.min !== undefined && (o.minExclusive ? n <= o.min : n < o.min)) ||
      (o.max !== undefined && (o.maxExclusive ? n >= o.max : n > o.max));
    if (bad) {
      ctx.addIssue({ code: "custom", message: `expects a number${range ? ` ${range}` : ""}, got "${s}"` });
      return z.NEVER;
    }
    return n;
  });
}

/** One of a fixed list of names. */
export function oneOfFlag<T extends string>(names: readonly T[]): z.ZodType<T, string> {
  return z.string().refine((s): s is T => (names as readonly string[]).includes(s), {
    message: `expects one of ${names.join(", ")}`,
  }) as unknown as z.ZodType<T, string>;
}

/** Comma-separated list, each item checked by `item`. */
export function listFlag<T>(item: z.ZodType<T, string>): z.ZodType<T[], string> {
  return z.string().transform((s, ctx) => {
    const out: T[] = [];
    for (const part of s.split(",").map((x) => x.trim())) {
      const r = item.safeParse(part);
      if (!r.success) {
        ctx.addIssue({ code: "custom", message: `"${part}": ${r.error.issues[0]?.message ?? "invalid"}` });
        return z.NEVER;
      }
      out.push(r.data);
    }
    return out;
  });
}

/** A schema from a check that throws (e.g. resolveTarget): the error's message becomes the flag's. */
export function checkedFlag<T>(check: (s: string) => T): z.ZodType<T, string> {
  return z.string().transform((s, ctx) => {
    try {
      return check(s);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
      return z.NEVER;
    }
  });
}

function checkValue(flag: string, schema: z.ZodType | undefined, raw: string, command: string): unknown {
  if (!schema) return raw;
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const message = r.error.issues[0]?.message ?? "invalid value";
  throw new UsageError(`--${flag} ${message.startsWith("expects") ? message : `"${raw}": ${message}`} (see \`fulcra ${command} --help\`)`);
}

/**
 * Parses and validates flags: unknown flags, missing required ones and values
 * the schemas refuse are UsageErrors (exit 2). `positionals`: false for none,
 * a number for at most that many, true for any.
 */
export function parseFlags<F extends Flags>(
  args: string[],
  flags: F,
  command: string,
  options: { positionals?: boolean | number } = {},
): { values: FlagValues<F>; positionals: string[] } {
  const spec: OptionSpec = {};
  for (const [k, d] of Object.entries(flags))
    spec[k] = { type: d.type, ...(d.short ? { short: d.short } : {}), ...(d.multiple ? { multiple: true } : {}) };
  spec.help ??= { type: "boolean", short: "h" };
  const allow = options.positionals ?? true;
  let parsed;
  try {
    parsed = parseArgs({ args, options: spec, allowPositionals: allow !== false, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split("\n")[0]} (see \`fulcra ${command} --help\`)`);
  }
  if (typeof allow === "number" && parsed.positionals.length > allow) {
    throw new UsageError(`unexpected argument "${parsed.positionals[allow]}" (see \`fulcra ${command} --help\`)`);
  }
  const values: Record<string, unknown> = {};
  for (const [k, d] of Object.entries(flags)) {
    const raw = (parsed.values as Record<string, unknown>)[k] ?? (d.type === "string" ? d.default : undefined);
    if (raw === undefined) {
      if (d.required) throw new UsageError(`--${k} is required (see \`fulcra ${command} --help\`)`);
      values[k] = d.type === "boolean" ? false : undefined;
      continue;
    }
    if (d.type === "boolean") values[k] = raw;
    else if (Array.isArray(raw)) values[k] = raw.map((x) => checkValue(k, d.schema, String(x), command));
    else values[k] = checkValue(k, d.schema, String(raw), command);
  }
  return { values: values as FlagValues<F>, positionals: parsed.positionals };
}

/** parseArgs with errors turned into UsageErrors that point at --help (older style; prefer parseFlags). */
export function parseOptions<T extends OptionSpec>(
  args: string[],
  options: T,
  command: string,
  allowPositionals = true,
): {
  values: { [K in keyof T]?: T[K] extends { type: "boolean" } ? boolean : T[K] extends { multiple: true } ? string[] : string };
  positionals: string[];
} {
  try {
    const r = parseArgs({ args, options: { help: { type: "boolean", short: "h" }, ...options }, allowPositionals, strict: true });
    return { values: r.values as never, positionals: r.positionals };
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split("\n")[0]} (see \`fulcra ${command} --help\`)`);
  }
}

/** True when the arguments ask for help (before any `--`). */
export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf("--");
  const head = end < 0 ? args : args.slice(0, end);
  return head.includes("--help") || head.includes("-h");
}

/** Reads a number option, with a clear message when it is not one. */
export function numberOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new UsageError(`--${name} expects a number, got "${value}"`);
  return n;
}

/** One line for any error: its message, plus the path a Node file error concerns when the message lacks it. */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const path = (e as NodeJS.ErrnoException).path;
  const first = e.message.split("\n")[0];
  const code = (e as NodeJS.ErrnoException).code;
  if (path && !first.includes(path)) {
    const what =
      code === "EISDIR"
        ? "is a folder, not a file"
        : code === "ENOENT"
          ? "no such file or folder"
          : code === "EACCES"
            ? "permission denied"
            : first;
    return `${path}: ${what}`;
  }
  return first;
}

/** camelCase config field → --kebab-case option. */
export function optionName(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
