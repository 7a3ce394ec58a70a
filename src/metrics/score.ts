/**
 * Scoring any model's answers the way the released files are scored: a
 * helpfulness reward per answer, the value evaluator's 10-dim vector, and
 * the e-/h-distances of that vector to the evaluation target. The output
 * has the released format, so `summarizeScoredOutputs` and the notebooks
 * treat a new model exactly like GPT-4 or GPT-3.5-turbo.
 */
import { existsSync, mkdirSync } from "node:fs";
import { writeFileAtomicSync } from "../data/atomic.js";
import { readLinesSync } from "../data/readers.js";
import { dirname } from "node:path";
import { rawPath } from "../data/paths.js";
import { readRecords, RecordError, splitDialogue, toDialogue, type ScoredOutput } from "../data/readers.js";
import { Progress } from "../runtime/progress.js";
import { BASIC_VALUES } from "../values/taxonomy.js";
import { hhTranscript } from "./reward-model.js";
import { resolveTarget } from "../values/targets.js";
import { valueDistances } from "../values/distance.js";
import { defaultEvaluatorDir, ensureEvaluator } from "../evaluator/train.js";

/** Scores FULCRA-style dialogues ("Human: …\nBob: …") with 10 values in [−1, 1], paper order. */
export interface ValueScorer {
  score(dialogues: string[]): Promise<number[][]> | number[][];
}

/** Scores transcripts ("\n\nHuman: …\n\nAssistant: …") with one helpfulness number each. */
export interface RewardScorer {
  score(texts: string[]): Promise<number[]> | number[];
}

export interface PromptAnswer {
  prompt: string;
  answer: string;
  /** From the input, or looked up by prompt; undefined when neither knows. */
  safety_issues?: string[];
  line: number;
}

/** The released record format, key order included. */
export type ScoredOutputRecord = Omit<ScoredOutput, "line">;

const ANSWER_FIELDS = ["answer", "response", "output", "completion"] as const;

/**
 * Reads a JSONL of prompts and answers. Each line needs `prompt` and one of
 * answer / response / output / completion, or a FULCRA `dialogue`;
 * `safety_issues` is kept when present. Broken lines are collected, not fatal.
 */
export function readPromptAnswers(file: string): { items: PromptAnswer[]; errors: RecordError[] } {
  if (!existsSync(file)) throw new Error(`no such file: ${file}`);
  const items: PromptAnswer[] = [];
  const errors: RecordError[] = [];
  // Line by line (BOM and CRLF handled, constant memory), see data/readers.ts.
  for (const [line, text] of readLinesSync(file)) {
    if (text.trim() === "") continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(text);
    } catch (e) {
      errors.push(new RecordError(file, line, `bad JSON (${(e as Error).message})`));
      continue;
    }
    if (typeof o !== "object" || o === null || Array.isArray(o)) {
      errors.push(new RecordError(file, line, "expected a JSON object"));
      continue;
    }
    let prompt = o.prompt;
    let answer = ANSWER_FIELDS.map((f) => o[f]).find((v) => v !== undefined);
    if (prompt === undefined && answer === undefined && typeof o.dialogue === "string") {
      ({ prompt, response: answer } = splitDialogue(o.dialogue));
    }
    if (typeof prompt !== "string") {
      errors.push(new RecordError(file, line, `field "prompt" should be a string (or give a "dialogue")`));
      continue;
    }
    if (typeof answer !== "string") {
      errors.push(
        new RecordError(file, line, `no answer: give a string field ${ANSWER_FIELDS.map((f) => `"${f}"`).join(", ")} (or a "dialogue")`),
      );
      continue;
    }
    const si = o.safety_issues;
    if (si !== undefined && !(Array.isArray(si) && si.every((x) => typeof x === "string"))) {
      errors.push(new RecordError(file, line, `field "safety_issues" should be a list of strings`));
      continue;
    }
    items.push({ prompt, answer, safety_issues: si as string[] | undefined, line });
  }
  return { items, errors };
}

/** prompt text → harm categories, from the SafeRLHF question files present under data/raw. */
export function safetyIssuesByPrompt(): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const name of ["saferlhf_train_questions", "saferlhf_test_questions"]) {
    const file = rawPath(name);
    if (!existsSync(file)) continue;
    for (const q of readRecords("questions", file)) map.set(q.prompt, q.safety_issues);
  }
  return map;
}

export interface ScoreOptions {
  reward: RewardScorer;
  values: ValueScorer;
  /** Target of the e_distance / h_distance fields (default "ideal", as in the released files). */
  target?: string | readonly number[];
  /** Answers scored per call (default 64). */
  batchSize?: number;
  /** Harm categories for prompts that carry none (default: the SafeRLHF question files). */
  safetyLookup?: Map<string, string[]>;
  quiet?: boolean;
}

/** Scores prompt/answer pairs into released-format records, in input order. */
export async function scoreOutputs(items: readonly PromptAnswer[], options: ScoreOptions): Promise<ScoredOutputRecord[]> {
  const target = resolveTarget(options.target ?? "ideal");
  const batchSize = options.batchSize ?? 64;
  const lookup = options.safetyLookup ?? (items.some((it) => it.safety_issues === undefined) ? safetyIssuesByPrompt() : new Map());
  const out: ScoredOutputRecord[] = [];
  const progress = new Progress({ label: "scoring answers", total: items.length, quiet: options.quiet });
  for (let start = 0; start < items.length; start += batchSize) {
    const batch = items.slice(start, start + batchSize);
    const rewards = await options.reward.score(batch.map((it) => hhTranscript(it.prompt, it.answer)));
    const vectors = await options.values.score(batch.map((it) => toDialogue(it.prompt, it.answer)));
    if (rewards.length !== batch.length || vectors.length !== batch.length) {
      throw new Error(`a scorer returned ${rewards.length} rewards and ${vectors.length} value vectors for ${batch.length} answers`);
    }
    batch.forEach((it, k) => {
      const v = vectors[k];
      if (v.length !== BASIC_VALUES.length || v.some((x) => !Number.isFinite(x))) {
        throw new Error(`the value scorer gave ${JSON.stringify(v)} for line ${it.line}; expected ${BASIC_VALUES.length} finite numbers`);
      }
      if (!Number.isFinite(rewards[k])) throw new Error(`the reward scorer gave ${rewards[k]} for line ${it.line}`);
      const d = valueDistances(v, target);
      out.push({
        prompt: it.prompt,
        safety_issues: it.safety_issues ?? lookup.get(it.prompt) ?? [],
        answer: it.answer,
        reward: rewards[k],
        value_reward: [...v],
        e_distance: d.e_distance,
        h_distance: d.h_distance,
      });
    });
    progress.tick(batch.length);
  }
  progress.finish();
  return out;
}

export function writeScoredOutputs(file: string, records: readonly ScoredOutputRecord[]): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomicSync(file, records.map((r) => JSON.stringify(r)).join("\n") + (records.length ? "\n" : ""));
  return file;
}

/**
 * Adapts a value evaluator whose `score` returns `{ vector }` objects (or
 * plain arrays) to a `ValueScorer`.
 */
export function asValueScorer(evaluator: { score(dialogues: string[]): unknown }): ValueScorer {
  return {
    async score(dialogues) {
      const raw = (await evaluator.score(dialogues)) as unknown[];
      if (!Array.isArray(raw)) throw new Error("the value evaluator's score() did not return a list");
      return raw.map((r, i) => {
        const v = Array.isArray(r) ? r : (r as { vector?: unknown })?.vector;
        if (!Array.isArray(v)) throw new Error(`the value evaluator's output ${i} has no vector (got ${JSON.stringify(r)?.slice(0, 80)})`);
        return v as number[];
      });
    },
  };
}

/**
 * The kit's value evaluator as a `ValueScorer`: `ensureEvaluator(dir)` of the
 * evaluator module (trains one into `dir` if there is none yet).
 */
export async function kitValueScorer(dir = defaultEvaluatorDir(), options: { quiet?: boolean } = {}): Promise<ValueScorer> {
  return asValueScorer(await ensureEvaluator(dir, { quiet: options.quiet }));
}
