/**
 * Judged scores of sets of answers to the same prompts: the paper's
 * pairwise helpfulness / harmlessness comparisons (win rates and Elo under
 * the original's rule and the kit's) and safe/unsafe verdicts (safety rate
 * under both rules, unreadable verdicts counted), for any judge — an LLM
 * behind an OpenAI-compatible endpoint, or the kit's offline judges put on
 * the original's 0–10 scale by `TenPointJudge`.
 *
 * Used for the helpfulness comparison on the `helpful/test` prompts
 * (notebook 05) and for the judged scores of aligned policies (notebook 06).
 */
import { join } from "node:path";
import type { PreferencePair } from "../data/readers.js";
import { splitLastTurn } from "./reward-model.js";
import { readPromptAnswers } from "./score.js";
import type { EloRuleResult } from "./elo-rules.js";
import { eloRulesFromPairVerdicts } from "./judge-runs.js";
import type { Aspect, PairItem, PairVerdict, PairwiseJudge, SafetyJudge } from "./judges.js";
import { safetyRate, type SafetyRate } from "./verdicts.js";

/** One system's answers (a model, a policy, a data set's answers), in prompt order. */
export interface AnswerSet {
  name: string;
  answers: readonly { prompt: string; answer: string }[];
}

/** An answer set from a JSONL of prompts and answers (`hh score`'s input format); unreadable lines are an error naming them. */
export function answerSetFromFile(name: string, file: string): AnswerSet {
  const { items, errors } = readPromptAnswers(file);
  if (errors.length > 0)
    throw new Error(
      `${errors.length} unreadable line(s) in ${file}: ${errors
        .slice(0, 3)
        .map((e) => e.message)
        .join("; ")}${errors.length > 3 ? "; …" : ""}`,
    );
  return { name, answers: items };
}

/**
 * Answer sets from rows that hold several systems' answers to one prompt
 * each — e.g. the rows of runs/align/<name>/answers.jsonl (`prompt`,
 * `reference`, `aligned`): `fields` maps each set's name to the field of
 * its answer. A row without a text in one of the fields is an error naming it.
 */
export function answerSetsFromRows(rows: readonly object[], fields: Record<string, string>): AnswerSet[] {
  return Object.entries(fields).map(([name, field]) => ({
    name,
    answers: rows.map((row, i) => {
      const r = row as Record<string, unknown>;
      if (typeof r.prompt !== "string") throw new Error(`answer row ${i + 1}: field "prompt" should be a text`);
      if (typeof r[field] !== "string") throw new Error(`answer row ${i + 1}: field "${field}" (answers of "${name}") should be a text`);
      return { prompt: r.prompt, answer: r[field] as string };
    }),
  }));
}

/**
 * The helpfulness prompts the way the original evaluation reads
 * `helpful/test.jsonl` (eval.py lines 37–46): the text of `chosen` after its
 * last "Human: ", up to the first "Assistant:" after it, trimmed; every
 * line kept, duplicates included.
 */
export function helpfulPrompts(pairs: readonly PreferencePair[]): { prompt: string; line: number }[] {
  return pairs.map((p) => {
    const parts = p.chosen.split("Human: ");
    return { prompt: parts[parts.length - 1].split("Assistant:")[0].trim(), line: p.line };
  });
}

/** The chosen and the rejected final answers of preference pairs as two answer sets on the original's helpfulness prompts. */
export function preferenceAnswerSets(pairs: readonly PreferencePair[]): [AnswerSet, AnswerSet] {
  const prompts = helpfulPrompts(pairs);
  return [
    { name: "chosen", answers: pairs.map((p, i) => ({ prompt: prompts[i].prompt, answer: splitLastTurn(p.chosen).answer })) },
    { name: "rejected", answers: pairs.map((p, i) => ({ prompt: prompts[i].prompt, answer: splitLastTurn(p.rejected).answer })) },
  ];
}

// ── Offline judges on the original's scale ───────────────────────────────

/** σ(r) mapped onto 1–10: a reward of 0 scores 5.5. */
export const rewardToTenPoint = (r: number): number => 1 + 9 / (1 + Math.exp(-r));
/** Minus an e-distance over the four target values (0 … 4) mapped onto 10 … 0. */
export const negDistanceToTenPoint = (minusD: number): number => Math.min(10, Math.max(0, 10 + 2.5 * minusD));

/**
 * An offline judge whose scores are mapped onto the 0–10 scale an LLM judge
 * uses, rounded to `digits` decimals, with a raw text ending in `[[a, b]]`,
 * so that the original Elo rule (which feeds the scores themselves into the
 * update) can be applied to it. The mapping is the kit's choice: the
 * original only ever used GPT-4 / GPT-3.5 as judges.
 */
export class TenPointJudge implements PairwiseJudge {
  readonly name: string;
  readonly aspects: readonly Aspect[];
  constructor(
    readonly inner: PairwiseJudge,
    readonly toTen: (score: number) => number,
    readonly digits = 2,
  ) {
    this.name = `${inner.name} (0–10)`;
    this.aspects = inner.aspects;
  }

  async judgePairs(items: readonly PairItem[], aspect: Aspect): Promise<PairVerdict[]> {
    const f = 10 ** this.digits;
    const round = (x: number) => Math.round(this.toTen(x) * f) / f;
    return (await this.inner.judgePairs(items, aspect)).map((v) => {
      if (v.scores === null) return v;
      const scores = { a: round(v.scores.a), b: round(v.scores.b) };
      return { ...v, scores, raw: `${v.raw} [[${scores.a}, ${scores.b}]]` };
    });
  }
}

// ── Judging answer sets ───────────────────────────────────────────────────

export interface JudgedPair {
  aspect: Aspect;
  a: string;
  b: string;
  /** Verdicts in prompt order (the first-shown system alternates by prompt). */
  verdicts: PairVerdict[];
  /** Elo and win rates of a against b under the original's rule and the kit's. */
  original: EloRuleResult;
  standard: EloRuleResult;
}

export interface JudgedScores {
  /** Prompts judged per system. */
  prompts: number;
  pairs: JudgedPair[];
  /** Safety verdicts of each set's answers, by both rules, unreadable ones counted. */
  safety: { name: string; judge: string; rate: SafetyRate }[];
}

export interface JudgeAnswerSetsOptions {
  /** Pairwise judge and the aspects it should judge (default: those it can). */
  pairJudge?: PairwiseJudge;
  aspects?: readonly Aspect[];
  safetyJudge?: SafetyJudge;
  /** Compare every set with this one only (default: every pair of sets). */
  baseline?: string;
  /** Judge the first this many prompts (default all). */
  prompts?: number;
  /** Folder for resumable verdict files (endpoint judges). */
  runDir?: string;
  quiet?: boolean;
  /** Which answer the judge sees first: "alternate" by prompt (default) or "fixed" (the original's: the first set always A). */
  order?: "alternate" | "fixed";
}

/**
 * Pair items for sets a and b. "alternate" (the kit's default): a shown
 * first on even prompts and b first on odd ones, so a judge's liking for a
 * position favours neither; "fixed": a always first, as the original does.
 */
export function pairItemsOf(a: AnswerSet, b: AnswerSet, limit: number, order: "alternate" | "fixed" = "alternate"): PairItem[] {
  const n = Math.min(limit, a.answers.length, b.answers.length);
  const items: PairItem[] = [];
  for (let i = 0; i < n; i++) {
    const [x, y] = order === "fixed" || i % 2 === 0 ? [a, b] : [b, a];
    if (x.answers[i].prompt !== y.answers[i].prompt)
      throw new Error(
        `answer ${i + 1} of "${a.name}" and "${b.name}" are to different prompts; answer sets must follow the same prompt order`,
      );
    items.push({
      id: `${i + 1}:${x.name}|${y.name}`,
      prompt: x.answers[i].prompt,
      modelA: x.name,
      modelB: y.name,
      answerA: x.answers[i].answer,
      answerB: y.answers[i].answer,
    });
  }
  return items;
}

/**
 * Judges answer sets: for each aspect, every pair of sets (or every set
 * against `baseline`), turned into win rates and Elo under both rules; then
 * each set's answers safe or unsafe.
 */
export async function judgeAnswerSets(sets: readonly AnswerSet[], options: JudgeAnswerSetsOptions = {}): Promise<JudgedScores> {
  if (sets.length === 0) throw new Error("judgeAnswerSets: no answer sets");
  const names = sets.map((s) => s.name);
  if (new Set(names).size !== names.length) throw new Error(`judgeAnswerSets: answer set names must differ (${names.join(", ")})`);
  if (options.baseline !== undefined && !names.includes(options.baseline))
    throw new Error(`judgeAnswerSets: baseline "${options.baseline}" is not one of ${names.join(", ")}`);
  const limit = Math.min(options.prompts ?? Infinity, ...sets.map((s) => s.answers.length));
  const pairs: JudgedPair[] = [];
  if (options.pairJudge && sets.length >= 2) {
    const judge = options.pairJudge;
    const couples: [AnswerSet, AnswerSet][] = [];
    for (let x = 0; x < sets.length; x++) {
      for (let y = x + 1; y < sets.length; y++) {
        if (options.baseline === undefined) couples.push([sets[x], sets[y]]);
        else if (sets[y].name === options.baseline) couples.push([sets[x], sets[y]]);
        else if (sets[x].name === options.baseline) couples.push([sets[y], sets[x]]);
      }
    }
    for (const aspect of options.aspects ?? judge.aspects) {
      for (const [a, b] of couples) {
        const items = pairItemsOf(a, b, limit, options.order);
        const outFile = options.runDir
          ? join(options.runDir, `${aspect}-${a.name}-vs-${b.name}.jsonl`.replace(/[^A-Za-z0-9._-]/g, "_"))
          : undefined;
        const verdicts = await judge.judgePairs(items, aspect, { outFile, quiet: options.quiet });
        const rules = eloRulesFromPairVerdicts(verdicts, a.name, b.name, aspect);
        pairs.push({ aspect, a: a.name, b: b.name, verdicts, original: rules.original, standard: rules.standard });
      }
    }
  }
  const safety: JudgedScores["safety"] = [];
  if (options.safetyJudge) {
    for (const s of sets) {
      const items = s.answers.slice(0, limit).map((x, i) => ({ id: `${s.name}:${i + 1}`, prompt: x.prompt, answer: x.answer }));
      const outFile = options.runDir ? join(options.runDir, `safety-${s.name}.jsonl`.replace(/[^A-Za-z0-9._-]/g, "_")) : undefined;
      const verdicts = await options.safetyJudge.judgeSafety(items, { outFile, quiet: options.quiet });
      safety.push({ name: s.name, judge: options.safetyJudge.name, rate: safetyRate(verdicts.map((v) => v.label)) });
    }
  }
  return { prompts: Number.isFinite(limit) ? limit : 0, pairs, safety };
}

/** One row per aspect, pair and rule: Elo and win rates of a and b, ties, lines read and skipped. */
export function judgedPairsTable(scores: {
  pairs: readonly { aspect: string; a: string; b: string; original: EloRuleResult; standard: EloRuleResult }[];
}): Record<string, string | number>[] {
  return scores.pairs.flatMap((p) =>
    [p.original, p.standard].map((r) => ({
      aspect: p.aspect,
      a: p.a,
      b: p.b,
      rule: r.rule,
      elo_a: r.elo_a,
      elo_b: r.elo_b,
      win_rate_a: r.win_rate_a,
      win_rate_b: r.win_rate_b,
      ties: r.ties,
      read: r.n,
      unreadable: r.skipped,
    })),
  );
}

/** One row per answer set: safe, unsafe, unreadable and the safety rate by both rules. */
export function judgedSafetyTable(scores: JudgedScores): Record<string, string | number>[] {
  return scores.safety.map((s) => ({
    system: s.name,
    judge: s.judge,
    total: s.rate.total,
    safe: s.rate.safe,
    unsafe: s.rate.unsafe,
    unreadable: s.rate.malformed,
    safety_rate_kit: s.rate.safety_rate,
    safety_rate_original: s.rate.safety_rate_original,
  }));
}

/** Report numbers for judged scores: both Elo rules and win rates per pair, both safety rates per set. */
export function judgedScoresNumbers(scores: JudgedScores, label: string): { name: string; value: number; note?: string }[] {
  const out: { name: string; value: number; note?: string }[] = [];
  for (const p of scores.pairs) {
    for (const r of [p.original, p.standard]) {
      const note = `${r.n} read, ${r.skipped} unreadable, ${r.ties} ties`;
      out.push({ name: `${label}: ${p.aspect} Elo, ${r.rule} rule: ${p.a}`, value: r.elo_a, note: `against ${p.b}; ${note}` });
      out.push({ name: `${label}: ${p.aspect} Elo, ${r.rule} rule: ${p.b}`, value: r.elo_b, note: `against ${p.a}; ${note}` });
      out.push({
        name: `${label}: ${p.aspect} win rate % (${r.rule} reading): ${p.a} vs ${p.b}`,
        value: r.win_rate_a,
        note: `${p.b} wins ${r.win_rate_b.toFixed(1)}%`,
      });
    }
  }
  for (const s of scores.safety) {
    out.push({
      name: `${label}: safety rate, kit rule: ${s.name}`,
      value: s.rate.safety_rate,
      note: `${s.rate.malformed} unreadable of ${s.rate.total}, left out`,
    });
    out.push({
      name: `${label}: safety rate, original rule: ${s.name}`,
      value: s.rate.safety_rate_original,
      note: `${s.rate.malformed} unreadable of ${s.rate.total}, counted safe`,
    });
  }
  return out;
}

// ── The helpfulness comparison on the helpful/test prompts ───────────────

/** The preference-pair lines the kit's reward model held out from training (null when its provenance does not say). */
export function heldOutPairLines(model: { saved: { provenance?: unknown } }): number[] | null {
  const lines = (model.saved.provenance as { heldOutPairLines?: unknown } | undefined)?.heldOutPairLines;
  return Array.isArray(lines) && lines.every((x) => typeof x === "number") ? (lines as number[]) : null;
}

export interface HelpfulnessComparisonOptions {
  /** Only the pairs on these lines of helpful/test.jsonl (e.g. the reward model's held-out pairs). */
  lines?: readonly number[];
  prompts?: number;
  runDir?: string;
  quiet?: boolean;
}

/**
 * Helpfulness on the original's helpfulness prompts (the last human turn of
 * each helpful/test pair): the pairs' chosen answers against their rejected
 * answers, judged pairwise, with win rates and Elo under both rules.
 */
export async function helpfulnessComparison(
  pairs: readonly PreferencePair[],
  judge: PairwiseJudge,
  options: HelpfulnessComparisonOptions = {},
): Promise<JudgedScores> {
  const keep = options.lines ? new Set(options.lines) : null;
  const chosen = keep ? pairs.filter((p) => keep.has(p.line)) : pairs;
  if (chosen.length === 0) throw new Error("helpfulnessComparison: no preference pairs to compare (check `lines`)");
  return judgeAnswerSets(preferenceAnswerSets(chosen), {
    pairJudge: judge,
    aspects: ["helpfulness"],
    prompts: options.prompts,
    runDir: options.runDir,
    quiet: options.quiet,
  });
}
