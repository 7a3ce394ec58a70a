/**
 * Typed readers for the four record kinds, one JSON object a line.
 * Every error names the file, the line and the field, so that a broken
 * record can be found and fixed.
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync, statSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { checkDataFile } from "./integrity.js";
import { describe, recordProblem } from "./schemas.js";
export { RECORD_SCHEMAS, VALUE_RANGE_SLACK } from "./schemas.js";
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
export function fulcraSafetyFields(
  o: Record<string, unknown>,
  file: string,
  line: number,
): { output_safe?: boolean; risk_categories?: string[] } {
  const out: { output_safe?: boolean; risk_categories?: string[] } = {};
  for (const key of ["is_safe", "is_response_safe"]) {
    if (o[key] === undefined || o[key] === null) continue;
    if (typeof o[key] !== "boolean") throw new RecordError(file, line, `field "${key}" should be true or false, got ${describe(o[key])}`);
    out.output_safe = o[key] as boolean;
    break;
  }
  const cat = o.category;
  if (cat !== undefined && cat !== null) {
    if (typeof cat !== "object" || Array.isArray(cat))
      throw new RecordError(file, line, `field "category" should be an object of category flags, got ${describe(cat)}`);
    out.risk_categories = Object.entries(cat as Record<string, unknown>)
      .filter(([, v]) => v === true)
      .map(([k]) => k);
  } else if (Array.isArray(o.safety_issues)) {
    if (!o.safety_issues.every((x) => typeof x === "string"))
      throw new RecordError(file, line, `field "safety_issues" should be a list of category names`);
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

/** Validates and types one parsed JSON object. */
export function toRecord<K extends RecordKind>(
  kind: K,
  obj: unknown,
  file: string,
  line: number,
  options: ReadOptions = {},
): RecordOfKind[K] {
  const problem = recordProblem(kind, obj);
  if (problem !== undefined) throw new RecordError(file, line, problem);
  const o = obj as Obj;
  switch (kind) {
    case "fulcra": {
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
      return { prompt: o.prompt as string, safety_issues: o.safety_issues as string[], line } satisfies QuestionRecord as RecordOfKind[K];
    }
    case "preference_pairs": {
      return { chosen: o.chosen as string, rejected: o.rejected as string, line } satisfies PreferencePair as RecordOfKind[K];
    }
    case "scored_outputs": {
      const vr = o.value_reward;
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

function parseLine<K extends RecordKind>(
  kind: K,
  text: string,
  file: string,
  line: number,
  options: ReadOptions,
): RecordOfKind[K] | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new RecordError(file, line, `bad JSON (${(e as Error).message})`);
  }
  return toRecord(kind, obj, file, line, options);
}

function handle<K extends RecordKind>(
  kind: K,
  text: string,
  file: string,
  line: number,
  options: ReadOptions,
): RecordOfKind[K] | undefined {
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

/** Refuses a folder or a missing file with a message that names it. */
function checkReadable(file: string): void {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new Error(`${file}: no such file`);
  }
  if (st.isDirectory()) throw new Error(`${file}: is a folder, not a file`);
}

/**
 * The lines of a text file, read in chunks (memory stays constant whatever
 * the file's size): a UTF-8 byte-order mark is dropped, CRLF ends lines like
 * LF. Yields [1-based line number, text].
 */
export function* readLinesSync(file: string, chunkBytes = 1 << 20): Generator<[number, string]> {
  checkReadable(file);
  const fd = openSync(file, "r");
  try {
    if (fstatSync(fd).isDirectory()) throw new Error(`${file}: is a folder, not a file`);
    const decoder = new StringDecoder("utf8");
    const buf = Buffer.allocUnsafe(chunkBytes);
    let rest = "";
    let line = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, chunkBytes, null);
      const text = n > 0 ? rest + decoder.write(buf.subarray(0, n)) : rest + decoder.end();
      let start = 0;
      for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
        let t = text.slice(start, nl);
        if (t.endsWith("\r")) t = t.slice(0, -1);
        if (line === 0 && t.charCodeAt(0) === 0xfeff) t = t.slice(1);
        yield [++line, t];
        start = nl + 1;
      }
      rest = text.slice(start);
      if (n === 0) break;
    }
    if (rest !== "") {
      let t = rest.endsWith("\r") ? rest.slice(0, -1) : rest;
      if (line === 0 && t.charCodeAt(0) === 0xfeff) t = t.slice(1);
      yield [++line, t];
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Streams the records of a JSONL file one at a time. Blank lines are skipped.
 * An official file is first checked against the manifest (see integrity.ts).
 */
export async function* streamRecords<K extends RecordKind>(
  kind: K,
  file: string,
  options: ReadOptions = {},
): AsyncGenerator<RecordOfKind[K]> {
  checkReadable(file);
  checkDataFile(file);
  for await (const [line, text] of readLines(file)) {
    const rec = handle(kind, text, file, line, options);
    if (rec !== undefined) yield rec;
  }
}

/**
 * The lines of a text file as a stream, split like readLinesSync: only "\n"
 * (or "\r\n") ends a line, so a stray "\r" inside a line cannot shift the
 * line numbers (node's readline would split there).
 */
export async function* readLines(file: string): AsyncGenerator<[number, string]> {
  checkReadable(file);
  const decoder = new StringDecoder("utf8");
  let rest = "";
  let line = 0;
  const clean = (t: string) => {
    if (t.endsWith("\r")) t = t.slice(0, -1);
    if (line === 0 && t.charCodeAt(0) === 0xfeff) t = t.slice(1);
    return t;
  };
  for await (const chunk of createReadStream(file)) {
    const text = rest + decoder.write(chunk as Buffer);
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      const t = clean(text.slice(start, nl));
      yield [++line, t];
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest !== "") {
    const t = clean(rest);
    yield [++line, t];
  }
}

/**
 * Reads a whole JSONL file into an array of records, line by line (the text
 * is never held whole). An official file is first checked against the manifest.
 */
export function readRecords<K extends RecordKind>(kind: K, file: string, options: ReadOptions = {}): RecordOfKind[K][] {
  checkDataFile(file);
  const out: RecordOfKind[K][] = [];
  for (const [line, text] of readLinesSync(file)) {
    const rec = handle(kind, text, file, line, options);
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
