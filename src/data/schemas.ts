/**
 * The four record kinds as zod schemas: what a line of each official file
 * must hold. `recordProblem` turns zod's first issue into the kit's wording
 * ("missing field "x"", "field "x"[3] should be …"), which the readers prefix
 * with file and line.
 */
import { z } from "zod";
import { BASIC_VALUES } from "../values/taxonomy.js";
import type { RecordKind } from "./manifest.js";

/** How far past ±1 a value score may be (rounding in the released files) before a line is refused. */
export const VALUE_RANGE_SLACK = 1e-6;

const text = z.string();
const texts = z.array(z.string());
const finite = z.number().refine(Number.isFinite, { message: "should be a finite number" });
const valueScore = finite.refine((x) => Math.abs(x) <= 1 + VALUE_RANGE_SLACK, { message: "should be in [-1, 1]" });

export const RECORD_SCHEMAS = {
  fulcra: z.looseObject({ dialogue: text, value_items: texts, value_types: texts }),
  questions: z.looseObject({ prompt: text, safety_issues: texts }),
  preference_pairs: z.looseObject({ chosen: text, rejected: text }),
  scored_outputs: z.looseObject({
    prompt: text,
    safety_issues: texts,
    answer: text,
    reward: finite,
    e_distance: finite,
    h_distance: finite,
    value_reward: z.array(finite).length(BASIC_VALUES.length).pipe(z.array(valueScore)),
  }),
} satisfies Record<RecordKind, z.ZodType>;

export function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  if (typeof v === "number") return `the number ${v}`;
  if (typeof v === "object") return `an object with ${Object.keys(v as object).length} field(s)`;
  return `${typeof v} ${String(v)}`;
}

function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let v = obj;
  for (const k of path) v = v === null || typeof v !== "object" ? undefined : (v as Record<PropertyKey, unknown>)[k];
  return v;
}

/** Checks one parsed line against its kind's schema; returns the problem in words, or undefined. */
export function recordProblem(kind: RecordKind, obj: unknown): string | undefined {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return `expected a JSON object, got ${describe(obj)}`;
  const schema = RECORD_SCHEMAS[kind] as z.ZodType | undefined;
  if (!schema) throw new Error(`unknown record kind "${kind as string}"`);
  const r = schema.safeParse(obj);
  if (r.success) return undefined;
  const issue = r.error.issues[0];
  const [field, ...rest] = issue.path as PropertyKey[];
  const name = `"${String(field)}"${rest.map((k) => `[${String(k)}]`).join("")}`;
  const value = valueAt(obj, issue.path as PropertyKey[]);
  if (rest.length === 0 && !(String(field) in (obj as object))) return `missing field "${String(field)}"`;
  if (field === "value_reward") {
    if (issue.message === "should be in [-1, 1]") return `field ${name} should be in [-1, 1], got ${String(value)}`;
    return `field "value_reward" should be ${BASIC_VALUES.length} finite numbers, got ${describe(valueAt(obj, ["value_reward"]))}`;
  }
  const shape = RECORD_SCHEMAS[kind].shape as Record<string, z.ZodType>;
  const expected =
    shape[String(field)] === texts
      ? rest.length
        ? "a string"
        : "a list of strings"
      : shape[String(field)] === text
        ? "a string"
        : "a finite number";
  return `field ${name} should be ${expected}, got ${describe(value)}`;
}
