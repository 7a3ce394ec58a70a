/**
 * How every `fulcra` command declares and checks its flags.
 *
 * A command module exports `command = defineCommand({...})` (program.ts) and
 * is registered by one line in `main.ts`. Its flags are declared once:
 *
 *   const FLAGS = {
 *     input: { type: "string", arg: "FILE", required: true, schema: inputFileFlag, help: "the JSONL file to read" },
 *     "batch-size": { type: "string", arg: "N", schema: intFlag({ min: 1 }), default: "64", help: "answers per call" },
 *     lenient: { type: "boolean", help: "exit 0 despite unreadable lines" },
 *   } satisfies Flags;
 *   export const command = defineCommand({
 *     name: "score", summary: "…", description: "…", flags: FLAGS,
 *     async action(values) { values["batch-size"]; …; return 0; },   // a number: the schema's output
 *   });
 *
 * `--help` is generated from these declarations (commander), with each
 * flag's `help`, value name and default; only the paragraphs around the
 * options (description, `after`) are written by hand. Before the action runs,
 * `checkFlags` reads every flag through its zod schema: unknown flags,
 * missing required ones and refused values are UsageErrors naming the flag
 * (exit 2), before any work. Put every check that needs no data in the
 * schema. Reusable schemas: `intFlag`, `numberFlag`, `oneOfFlag`,
 * `listFlag`, `checkedFlag`; path flags use those of `flags.ts`
 * (`inputFileFlag`, `outputFileFlag`, `folderFlag`), value flags
 * `targetFlag` / `thresholdFlag`. `--help` and `--debug` need no declaration.
 * Declare `lenient: { type: "boolean" }` where a command may finish with
 * skipped input, and then write the counts with `writeLenientProvenance`.
 *
 * main.ts does the rest for every command alike: `--help` / `-h` before `--`
 * prints the help and exits 0 without running anything; `--debug` (or
 * FULCRA_DEBUG=1) makes errors print their stack; a UsageError is one line on
 * stderr and exit code 2; any other error is one line (with the file it
 * concerns) and exit code 1. Exit codes: 0 done; 1 failed or incomplete
 * (missing, skipped, refused, unless --lenient); 2 usage (thrown as
 * UsageError, never returned by hand).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

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
  /** One line for --help. */
  help?: string;
  /** The value's name in --help ("N", "FILE"); default "value". */
  arg?: string;
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
 * Reads collected flag text through the flags' schemas: missing required
 * flags and refused values are UsageErrors naming the flag; an absent flag
 * takes its default text (which goes through the schema too), booleans false.
 */
export function checkFlags<F extends Flags>(raw: Record<string, unknown>, flags: F, command: string): FlagValues<F> {
  const values: Record<string, unknown> = {};
  for (const [k, d] of Object.entries(flags)) {
    const given = raw[k] ?? (d.type === "string" ? d.default : undefined);
    if (given === undefined) {
      if (d.required) throw new UsageError(`--${k} is required (see \`fulcra ${command} --help\`)`);
      values[k] = d.type === "boolean" ? false : undefined;
      continue;
    }
    if (d.type === "boolean") values[k] = Boolean(given);
    else if (Array.isArray(given)) values[k] = given.map((x) => checkValue(k, d.schema, String(x), command));
    else values[k] = checkValue(k, d.schema, String(given), command);
  }
  return values as FlagValues<F>;
}

/**
 * Parses and validates flags from words (node's parseArgs, strict, then
 * `checkFlags`): for code that reads flags without a command around it.
 * `positionals`: false for none, a number for at most that many, true for any.
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
  return { values: checkFlags(parsed.values as Record<string, unknown>, flags, command), positionals: parsed.positionals };
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
