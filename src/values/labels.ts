/**
 * Parsing FULCRA's "name: ±1" labels into value vectors.
 *
 * The released labels were written by GPT-4 and corrected by people, so the
 * spellings vary. Every variant the kit accepts is listed in an explicit
 * table below; anything else is an unknown label.
 *
 * Strict mode accepts only the taxonomy's own names (case, spacing and
 * hyphens aside) with a score of +1, 1, -1 or 0: an alias ("be respectful",
 * "have social recognition"), a refined value in `value_types` ("humility"),
 * a score typo ("1+", "=1"), an unknown or a malformed label each throw a
 * LabelError naming file, line, field and label. Lenient mode (the default
 * for reproduction) reads the listed variants, skips unknown and malformed
 * labels, and counts all of them in a LabelIssueLog reported once in a summary.
 */
import {
  BASIC_OF_REFINED,
  BASIC_VALUES,
  REFINED_VALUES,
  VALUE_ITEMS,
  basicValueIndex,
  isBasicValue,
  isRefinedValue,
  refinedValueIndex,
  valueItemIndex,
  type BasicValue,
  type RefinedValue,
} from "./taxonomy.js";

export type LabelMode = "strict" | "lenient";
export type Polarity = -1 | 0 | 1;

/** Item spellings seen in the released data or its tooling → canonical item. */
export const ITEM_ALIASES: Readonly<Record<string, string>> = {
  "have social recognition": "have a social recognition",
  "social recognition": "have a social recognition",
  "have social justice": "social justice",
  "have security": "have family security",
  "family security": "have family security",
  "have health": "have a good health",
  "have good health": "have a good health",
  "have a healthy life": "have a good health",
  "be moderate": "moderate",
  "be accepting my portion in life": "accepting my portion in life",
  "self-indulgent": "be self-indulgent",
  "have a stable social": "have a stable society",
  "have a world of peace": "have a world at peace",
  "have world of beauty": "have a world of beauty",
  "protecting the environment": "be protecting the environment",
  "have the wisdom to accept others": "be broadminded",
  "have wisdom": "be broadminded",
  // Not one of the 54 items; respect shown to others is courtesy.
  "be respectful": "be polite",
};

/** Type spellings → basic value. Refined-theory names fold into their basic value. */
export const TYPE_ALIASES: Readonly<Record<string, BasicValue>> = {
  "self direction": "self-direction",
  selfdirection: "self-direction",
  "self-direction: thought": "self-direction",
  "self-direction: action": "self-direction",
  "self-direction thought": "self-direction",
  "self-direction action": "self-direction",
};

/** Score spellings → polarity. "1+" and "=1" are typos for "+1" in the released data. */
export const SCORE_ALIASES: Readonly<Record<string, Polarity>> = {
  "+1": 1,
  "1": 1,
  "1+": 1,
  "=1": 1,
  "+ 1": 1,
  "-1": -1,
  "−1": -1,
  "- 1": -1,
  "0": 0,
  "+0": 0,
  "-0": 0,
};

export interface LabelLocation {
  file?: string;
  line?: number;
  field?: string;
}

export class LabelError extends Error {
  constructor(
    message: string,
    readonly location: LabelLocation,
    readonly label: string,
  ) {
    super(`${formatLocation(location)}: ${message}: "${label}"`);
    this.name = "LabelError";
  }
}

export function formatLocation(loc: LabelLocation): string {
  const parts = [loc.file ?? "<input>"];
  if (loc.line !== undefined) parts[0] += `:${loc.line}`;
  if (loc.field) parts.push(`field ${loc.field}`);
  return parts.join(", ");
}

/** What the lenient parser did with one odd label. */
export type LabelIssueKind =
  | "alias" // accepted through the alias table
  | "score-typo" // score like "1+" or "=1", read as +1
  | "refined-as-basic" // a refined value name in value_types, folded into its basic value
  | "conflict" // two labels for the same dimension with opposite signs
  | "unknown-name" // name not in any table: label skipped
  | "malformed" // no "name: score" shape or unreadable score: label skipped
  | "empty-types"; // record with no value_types (all basic values 0)

export interface LabelIssue {
  kind: LabelIssueKind;
  label: string;
  action: string;
  count: number;
  /** First place it was seen. */
  first: LabelLocation;
}

/** Counts every unusual label so that nothing is dropped silently. */
export class LabelIssueLog {
  private readonly issues = new Map<string, LabelIssue>();

  add(kind: LabelIssueKind, label: string, action: string, loc: LabelLocation): void {
    const key = `${kind}\u0000${label}`;
    const hit = this.issues.get(key);
    if (hit) hit.count++;
    else this.issues.set(key, { kind, label, action, count: 1, first: { ...loc } });
  }

  list(): LabelIssue[] {
    return [...this.issues.values()].sort((a, b) => a.kind.localeCompare(b.kind) || b.count - a.count);
  }

  count(kind?: LabelIssueKind): number {
    let n = 0;
    for (const i of this.issues.values()) if (!kind || i.kind === kind) n += i.count;
    return n;
  }

  /** Labels that were skipped (unknown or malformed). */
  dropped(): number {
    return this.count("unknown-name") + this.count("malformed");
  }

  summary(): string {
    const list = this.list();
    if (list.length === 0) return "labels: all canonical";
    const lines = [`labels: ${this.count()} unusual label(s), ${this.dropped()} skipped`];
    for (const i of list) {
      lines.push(
        `  ${i.kind.padEnd(16)} ×${String(i.count).padStart(4)}  "${i.label}" → ${i.action}  (first at ${formatLocation(i.first)})`,
      );
    }
    return lines.join("\n");
  }
}

export interface ParsedLabel {
  /** Name as written, trimmed. */
  raw: string;
  /** Normalised name (lower case, single spaces). */
  name: string;
  score: Polarity;
  scoreTypo: boolean;
}

function normaliseName(s: string): string {
  return s
    .trim()
    .toLowerCase()
    .replace(/[‐‑–—]/g, "-")
    .replace(/\s+/g, " ")
    .replace(/\s*-\s*/g, "-");
}

/** Splits "name: score" at the last colon and reads the score. Returns undefined when malformed. */
export function splitLabel(label: string): ParsedLabel | undefined {
  const at = label.lastIndexOf(":");
  if (at < 0) return undefined;
  const rawName = label.slice(0, at).trim();
  const rawScore = label.slice(at + 1).trim();
  const compact = rawScore.replace(/\s+/g, "");
  const score = SCORE_ALIASES[compact] ?? SCORE_ALIASES[rawScore];
  if (score === undefined || rawName === "") return undefined;
  return { raw: rawName, name: normaliseName(rawName), score, scoreTypo: compact === "1+" || compact === "=1" };
}

export interface LabelOptions {
  mode?: LabelMode;
  log?: LabelIssueLog;
  location?: LabelLocation;
}

/** Value vectors of one record at all three levels. */
export interface ValueLabels {
  /** 10 basic values in the paper's order, from `value_types`. */
  basic: Polarity[];
  /** 19 refined values, from `value_items` (and refined names in `value_types`). */
  refined: Polarity[];
  /** 54 value items, from `value_items`. */
  items: Polarity[];
  /**
   * Per basic value, whether any label in `value_types` says aligned (+1) or
   * opposed (−1). A record can be both (mixed labels cancel to 0 in `basic`).
   */
  basicAligned: boolean[];
  basicOpposed: boolean[];
}

function fail(
  mode: LabelMode,
  log: LabelIssueLog | undefined,
  kind: LabelIssueKind,
  label: string,
  action: string,
  loc: LabelLocation,
  message: string,
): void {
  if (mode === "strict") throw new LabelError(message, loc, label);
  log?.add(kind, label, action, loc);
}

/** Resolves an item name to its index among the 54, or undefined. */
export function resolveItem(name: string): { index: number; alias: boolean } | undefined {
  const n = normaliseName(name);
  const direct = valueItemIndex(n);
  if (direct !== undefined) return { index: direct, alias: false };
  const target = ITEM_ALIASES[n];
  if (target !== undefined) return { index: valueItemIndex(target)!, alias: true };
  return undefined;
}

/** Resolves a type name to a basic value, saying whether it was a refined name or an alias. */
export function resolveType(name: string): { basic: BasicValue; refined?: RefinedValue; via: "basic" | "refined" | "alias" } | undefined {
  const n = normaliseName(name);
  if (isBasicValue(n)) return { basic: n, via: "basic" };
  if (isRefinedValue(n)) return { basic: BASIC_OF_REFINED[n], refined: n, via: "refined" };
  const alias = TYPE_ALIASES[n];
  if (alias) return { basic: alias, via: "alias" };
  return undefined;
}

/** Combines two labels for one dimension: agreeing signs stay, opposite signs cancel to 0. */
function merge(prev: Polarity, next: Polarity): Polarity {
  if (prev === 0) return next;
  if (next === 0 || prev === next) return prev;
  return 0;
}

/**
 * Parses one record's `value_items` and `value_types` into value vectors.
 * A value absent from the lists is 0 ("no connection").
 */
export function parseValueLabels(valueItems: readonly string[], valueTypes: readonly string[], options: LabelOptions = {}): ValueLabels {
  const mode = options.mode ?? "lenient";
  const log = options.log;
  const base = options.location ?? {};
  const items: Polarity[] = new Array(VALUE_ITEMS.length).fill(0);
  const refined: Polarity[] = new Array(REFINED_VALUES.length).fill(0);
  const basic: Polarity[] = new Array(BASIC_VALUES.length).fill(0);
  const basicExplicit: boolean[] = new Array(BASIC_VALUES.length).fill(false);
  const basicAligned: boolean[] = new Array(BASIC_VALUES.length).fill(false);
  const basicOpposed: boolean[] = new Array(BASIC_VALUES.length).fill(false);

  const itemLoc = { ...base, field: "value_items" };
  for (const label of valueItems) {
    const p = splitLabel(String(label));
    if (!p) {
      fail(mode, log, "malformed", String(label), "skipped", itemLoc, 'malformed value item label (expected "name: +1" or "name: -1")');
      continue;
    }
    const hit = resolveItem(p.name);
    if (!hit) {
      fail(mode, log, "unknown-name", p.raw, "skipped", itemLoc, "unknown value item");
      continue;
    }
    if (hit.alias)
      fail(
        mode,
        log,
        "alias",
        p.raw,
        VALUE_ITEMS[hit.index].name,
        itemLoc,
        `not one of the 54 value items (lenient mode reads it as "${VALUE_ITEMS[hit.index].name}")`,
      );
    if (p.scoreTypo)
      fail(mode, log, "score-typo", String(label).trim(), `read as ${p.score > 0 ? "+1" : "-1"}`, itemLoc, "score is not +1, -1 or 0");
    const before = items[hit.index];
    items[hit.index] = merge(before, p.score);
    if (before !== 0 && before !== p.score) log?.add("conflict", String(label).trim(), "opposite labels cancel to 0", itemLoc);
  }
  // Refined values follow from the items.
  for (let i = 0; i < items.length; i++) {
    if (items[i] === 0) continue;
    const r = refinedValueIndex(VALUE_ITEMS[i].refined)!;
    refined[r] = merge(refined[r], items[i]);
  }

  const typeLoc = { ...base, field: "value_types" };
  if (valueTypes.length === 0) log?.add("empty-types", "[]", "all basic values 0", typeLoc);
  for (const label of valueTypes) {
    const p = splitLabel(String(label));
    if (!p) {
      fail(mode, log, "malformed", String(label), "skipped", typeLoc, 'malformed value type label (expected "name: +1" or "name: -1")');
      continue;
    }
    const hit = resolveType(p.name);
    if (!hit) {
      fail(mode, log, "unknown-name", p.raw, "skipped", typeLoc, "unknown value type");
      continue;
    }
    if (hit.via === "refined")
      fail(
        mode,
        log,
        "refined-as-basic",
        p.raw,
        hit.basic,
        typeLoc,
        `a refined value, not one of the 10 basic values (lenient mode folds it into "${hit.basic}")`,
      );
    if (hit.via === "alias")
      fail(mode, log, "alias", p.raw, hit.basic, typeLoc, `not one of the 10 basic values (lenient mode reads it as "${hit.basic}")`);
    if (p.scoreTypo)
      fail(mode, log, "score-typo", String(label).trim(), `read as ${p.score > 0 ? "+1" : "-1"}`, typeLoc, "score is not +1, -1 or 0");
    const b = basicValueIndex(hit.basic)!;
    const explicit = hit.via !== "refined";
    if (p.score > 0) basicAligned[b] = true;
    if (p.score < 0) basicOpposed[b] = true;
    if (hit.refined) {
      const r = refinedValueIndex(hit.refined)!;
      refined[r] = merge(refined[r], p.score);
    }
    // A basic label outranks a folded refined one for the same dimension.
    if (basicExplicit[b] && !explicit) continue;
    if (explicit && !basicExplicit[b]) {
      basic[b] = p.score;
      basicExplicit[b] = true;
      continue;
    }
    const before = basic[b];
    basic[b] = merge(before, p.score);
    if (before !== 0 && before !== p.score) log?.add("conflict", String(label).trim(), "opposite labels cancel to 0", typeLoc);
  }
  return { basic, refined, items, basicAligned, basicOpposed };
}
