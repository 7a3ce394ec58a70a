/**
 * Typed readers for the four record kinds, one JSON object a line.
 * Every error names the file, the line and the field, so that a broken
 * record can be found and fixed.
 */
import { createReadStream, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { BASIC_VALUES } from "../values/taxonomy.js";
import { parseValueLabels, type LabelIssueLog, type LabelMode, type ValueLabels } from "../values/labels.js";
import type { RecordKind } from "./manifest.js";

export class RecordError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = "RecordError";
  }
}

export interface FulcraRecord {
  dialogue: string;
  value_items: string[];
  value_types: string[];
  query_source: string;
  response_source: string;
  /** Parsed labels: 10 basic, 19 refined, 54 items. */
  labels: ValueLabels;
  /** 1-based line in the source file. */
  line: number;
  /** Whether the answer itself is safe, when the record says so (see `fulcraSafetyFields`); absent otherwise. */
  output_safe?: boolean;
  /** The record's own harm categories, when it carries them (see `fulcraSafetyFields`); absent otherwise. */
  risk_categories?: string[];
}

/**
 * Fields that carry the answer's safety and the harm categories in records
 * drawn from BeaverTails (whose question–answer pairs are labelled
 * `is_safe` and `category`, an object of 14 category flags); `safety_issues`
 * (the question files' list) is accepted for the categories too. The
 * released README documents only dialogue, value_items, value_types,
 * query_source and response_source, so these are read when present and
 * checked, never required.
 */
export function fulcraSafetyFields(o: Record<string, unknown>, file: string, line: number): { output_safe?: boolean; risk_categories?: string[] } {
  const out: { output_safe?: boolean; risk_categories?: string[] } = {};
  for (const key of ["is_safe", "is_response_safe"]) {
    if (o[key] === undefined || o[key] === null) continue;
    if (typeof o[key] !== "boolean") throw new RecordError(file, line, `field "${key}" should be true or false, got ${describe(o[key])}`);
    out.output_safe = o[key] as boolean;
    break;
  }
  const cat = o.category;
  if (cat !== undefined && cat !== null) {
    if (typeof cat !== "object" || Array.isArray(cat)) throw new RecordError(file, line, `field "category" should be an object of category flags, got ${describe(cat)}`);
    out.risk_categories = Object.entries(cat as Record<string, unknown>).filter(([, v]) => v === true).map(([k]) => k);
  } else if (Array.isArray(o.safety_issues)) {
    if (!o.safety_issues.every((x) => typeof x === "string")) throw new RecordError(file, line, `field "safety_issues" should be a list of category names`);
    out.risk_categories = o.safety_issues as string[];
  }
  return out;
}

export interface QuestionRecord {
  prompt: string;
  safety_issues: string[];
  line: number;
}

export interface PreferencePair {
  chosen: string;
  rejected: string;
  line: number;
}

export interface ScoredOutput {
  prompt: string;
  safety_issues: string[];
  answer: string;
  reward: number;
  /** 10 floats in [-1, 1], paper order. */
  value_reward: number[];
  e_distance: number;
  h_distance: number;
  line: number;
}

export interface RecordOfKind {
  fulcra: FulcraRecord;
  questions: QuestionRecord;
  preference_pairs: PreferencePair;
  scored_outputs: ScoredOutput;
}

export interface ReadOptions {
  /** Label parsing for FULCRA records (default lenient). */
  labelMode?: LabelMode;
  labelLog?: LabelIssueLog;
  /**
   * What to do with a broken line: "throw" (default) stops at the first;
   * "collect" skips it and records it in `errors`.
   */
  onError?: "throw" | "collect";
  errors?: RecordError[];
}

type Obj = Record<string, unknown>;

function need(obj: Obj, field: string, type: "string" | "number", file: string, line: number): void {
  if (!(field in obj)) throw new RecordError(file, line, `missing field "${field}"`);
  const v = obj[field];
  if (typeof v !== type || (type === "number" && !Number.isFinite(v as number))) {
    throw new RecordError(file, line, `field "${field}" should be a ${type === "number" ? "finite number" : type}, got ${describe(v)}`);
  }
}

function needStrings(obj: Obj, field: string, file: string, line: number): void {
  if (!(field in obj)) throw new RecordError(file, line, `missing field "${field}"`);
  const v = obj[field];
  if (!Array.isArray(v)) throw new RecordError(file, line, `field "${field}" should be a list of strings, got ${describe(v)}`);
  v.forEach((x, i) => {
    if (typeof x !== "string") throw new RecordError(file, line, `field "${field}"[${i}] should be a string, got ${describe(x)}`);
  });
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Validates and types one parsed JSON object. */
export function toRecord<K extends RecordKind>(kind: K, obj: unknown, file: string, line: number, options: ReadOptions = {}): RecordOfKind[K] {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new RecordError(file, line, `expected a JSON object, got ${describe(obj)}`);
  }
  const o = obj as Obj;
  switch (kind) {
    case "fulcra": {
      need(o, "dialogue", "string", file, line);
      needStrings(o, "value_items", file, line);
      needStrings(o, "value_types", file, line);
      const labels = parseValueLabels(o.value_items as string[], o.value_types as string[], {
        mode: options.labelMode ?? "lenient",
        log: options.labelLog,
        location: { file, line },
      });
      return {
        dialogue: o.dialogue as string,
        value_items: o.value_items as string[],
        value_types: o.value_types as string[],
        query_source: typeof o.query_source === "string" ? o.query_source : "unknown",
        response_source: typeof o.response_source === "string" ? o.response_source : "unknown",
        labels,
        line,
        ...fulcraSafetyFields(o, file, line),
      } satisfies FulcraRecord as RecordOfKind[K];
    }
    case "questions": {
      need(o, "prompt", "string", file, line);
      needStrings(o, "safety_issues", file, line);
      return { prompt: o.prompt as string, safety_issues: o.safety_issues as string[], line } satisfies QuestionRecord as RecordOfKind[K];
    }
    case "preference_pairs": {
      need(o, "chosen", "string", file, line);
      need(o, "rejected", "string", file, line);
      return { chosen: o.chosen as string, rejected: o.rejected as string, line } satisfies PreferencePair as RecordOfKind[K];
    }
    case "scored_outputs": {
      need(o, "prompt", "string", file, line);
      needStrings(o, "safety_issues", file, line);
      need(o, "answer", "string", file, line);
      need(o, "reward", "number", file, line);
      need(o, "e_distance", "number", file, line);
      need(o, "h_distance", "number", file, line);
      const vr = o.value_reward;
      if (!Array.isArray(vr) || vr.length !== BASIC_VALUES.length || vr.some((x) => typeof x !== "number" || !Number.isFinite(x))) {
        throw new RecordError(file, line, `field "value_reward" should be ${BASIC_VALUES.length} finite numbers, got ${describe(vr)}`);
      }
      return {
        prompt: o.prompt as string,
        safety_issues: o.safety_issues as string[],
        answer: o.answer as string,
        reward: o.reward as number,
        value_reward: vr as number[],
        e_distance: o.e_distance as number,
        h_distance: o.h_distance as number,
        line,
      } satisfies ScoredOutput as RecordOfKind[K];
    }
    default:
      throw new Error(`unknown record kind "${kind as string}"`);
  }
}

function parseLine<K extends RecordKind>(kind: K, text: string, file: string, line: number, options: ReadOptions): RecordOfKind[K] | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new RecordError(file, line, `bad JSON (${(e as Error).message})`);
  }
  return toRecord(kind, obj, file, line, options);
}

function handle<K extends RecordKind>(kind: K, text: string, file: string, line: number, options: ReadOptions): RecordOfKind[K] | undefined {
  if (text.trim() === "") return undefined;
  try {
    return parseLine(kind, text, file, line, options);
  } catch (e) {
    if (options.onError === "collect" && e instanceof RecordError) {
      options.errors?.push(e);
      return undefined;
    }
    throw e;
  }
}

/** Streams the records of a JSONL file one at a time. Blank lines are skipped. */
export async function* streamRecords<K extends RecordKind>(kind: K, file: string, options: ReadOptions = {}): AsyncGenerator<RecordOfKind[K]> {
  const rl = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line++;
    const rec = handle(kind, text, file, line, options);
    if (rec !== undefined) yield rec;
  }
}

/** Reads a whole JSONL file (the released files are a few MB each). */
export function readRecords<K extends RecordKind>(kind: K, file: string, options: ReadOptions = {}): RecordOfKind[K][] {
  const text = readFileSync(file, "utf8");
  const out: RecordOfKind[K][] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].endsWith("\r") ? lines[i].slice(0, -1) : lines[i];
    const rec = handle(kind, t, file, i + 1, options);
    if (rec !== undefined) out.push(rec);
  }
  return out;
}

/** Splits a FULCRA dialogue ("Human: …\nBob: …") into prompt and response. */
export function splitDialogue(dialogue: string): { prompt: string; response: string } {
  const m = /^\s*Human:\s*([\s\S]*?)\n(?:Bob|Assistant):\s*([\s\S]*)$/.exec(dialogue);
  if (!m) return { prompt: "", response: dialogue.trim() };
  return { prompt: m[1].trim(), response: m[2].trim() };
}

/** Builds a FULCRA-style dialogue from a prompt and an answer. */
export function toDialogue(prompt: string, answer: string): string {
  return `Human: ${prompt}\nBob: ${answer}`;
}
