/**
 * What the value evaluator learns from, and which part of it is held out.
 *
 * Two kinds of examples:
 * - labelled: FULCRA records, whose `value_types` labels (−1 / 0 / +1) are
 *   both the classification target and the regression target;
 * - distilled: answers scored by the paper's evaluator (`value_reward`),
 *   real numbers in [−1, 1] as the regression target and, after the ±0.3
 *   dead zone, −1 / 0 / +1 as the classification target.
 *
 * Held-out protocols (evaluation only on data that never touched training):
 * - "fulcra-file-order": the original's split, the first 90% of each labelled
 *   file (file order) trains, the last 10% is the test set;
 * - "leave-model-out": one model's scored answers are the test set; nothing
 *   that model wrote trains (neither its scored answers nor FULCRA records it
 *   answered). Every scored file answers the same SafeRLHF test prompts, so a
 *   prompt seen in training with another model's answer would leak the
 *   prompt's value profile into the test. The prompts are therefore cut into
 *   `promptFolds` folds by a hash of their text; the test set is the held-out
 *   model's answers to one fold, and the training set holds no example whose
 *   prompt is in that fold (other models' answers and FULCRA records alike).
 *   Running every fold scores every answer of the held-out model with an
 *   evaluator that saw neither the answer, nor its model, nor its prompt.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { MANIFEST } from "../data/manifest.js";
import { kitPaths } from "../runtime/env.js";
import { readRecords } from "../data/readers.js";
import { fileOrderSplit } from "../data/splits.js";
import { fnv1a } from "../text/tokenize.js";
import { splitPromptAnswer } from "../text/dialogue.js";
import { LabelIssueLog, type Polarity } from "../values/labels.js";
import { VALUE_THRESHOLD } from "../values/threshold.js";
import { polarity } from "../values/vectors.js";
import { join } from "node:path";
import { promptKey } from "../text/prompt-key.js";

export interface EvaluatorExample {
  prompt: string;
  answer: string;
  /** Regression target: 10 numbers in [−1, 1], paper order. */
  target: number[];
  /** Classification target per value: −1 / 0 / +1. */
  labels: Polarity[];
  kind: "labelled" | "distilled";
  /** The LLM that wrote the answer (FULCRA `response_source`, or the scored file's model). */
  model: string;
  file: string;
  line: number;
}

/** The dead zone that turns the paper's real-valued scores into −1 / 0 / +1. */
export const LABEL_THRESHOLD = VALUE_THRESHOLD;

/** FULCRA files present under data/raw/. The full `data_hybrid` holds the others, so it is used alone when present. */
export function availableLabelledFiles(rawDir = kitPaths().rawDir): string[] {
  const present = MANIFEST.filter((e) => e.kind === "fulcra" && existsSync(join(rawDir, e.localPath)));
  const hybrid = present.find((e) => e.name === "data_hybrid");
  return (hybrid ? [hybrid] : present).map((e) => join(rawDir, e.localPath));
}

/** Scored-output files present under data/raw/ (GPT-4, GPT-3.5, Mistral when fetched). */
export function availableScoredFiles(rawDir = kitPaths().rawDir): string[] {
  return MANIFEST.filter((e) => e.kind === "scored_outputs" && existsSync(join(rawDir, e.localPath))).map((e) => join(rawDir, e.localPath));
}

/** The model a scored-output file belongs to: its manifest name without "harmless_test_", else the file name. */
export function scoredFileModel(file: string): string {
  const entry = MANIFEST.find((e) => e.kind === "scored_outputs" && basename(e.localPath) === basename(file));
  if (entry) return entry.name.replace(/^harmless_test_/, "");
  return basename(file)
    .replace(/\.jsonl$/, "")
    .replace(/^harmless_test_/, "");
}

/** Lower case, letters and digits only: "gpt-3.5-turbo", "GPT-35-Turbo" and "gpt35turbo" are one model. */
export function modelKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** Whether two model names denote the same model (one key starts with the other, so "gpt-4" also catches "gpt-4-0613"). */
export function sameModel(a: string, b: string): boolean {
  const ka = modelKey(a.split("/").pop()!);
  const kb = modelKey(b.split("/").pop()!);
  return ka !== "" && kb !== "" && (ka.startsWith(kb) || kb.startsWith(ka));
}

/** Fold of a prompt, from a hash of its text (independent of file order and seeds). */
export function promptFold(prompt: string, folds: number): number {
  return fnv1a(promptKey(prompt)) % folds;
}

export function labelledExamples(file: string, log?: LabelIssueLog): EvaluatorExample[] {
  // Unknown or malformed labels are skipped, never silently: without a caller's log, they are reported here.
  const own = log ?? new LabelIssueLog();
  const records = readRecords("fulcra", file, { labelLog: own });
  if (!log && own.dropped() > 0) console.error(`${file}: ${own.dropped()} unknown or malformed label(s) skipped\n${own.summary()}`);
  return records.map((r) => {
    const { prompt, answer } = splitPromptAnswer(r.dialogue);
    const labels = r.labels.basic.slice() as Polarity[];
    return { prompt, answer, target: labels.slice(), labels, kind: "labelled", model: r.response_source, file, line: r.line };
  });
}

export function distilledExamples(file: string, model = scoredFileModel(file)): EvaluatorExample[] {
  return readRecords("scored_outputs", file).map((r) => ({
    prompt: r.prompt,
    answer: r.answer,
    target: r.value_reward.slice(),
    labels: r.value_reward.map((x) => polarity(x, LABEL_THRESHOLD)),
    kind: "distilled",
    model,
    file,
    line: r.line,
  }));
}

export type Protocol =
  | { kind: "none" }
  | { kind: "fulcra-file-order"; trainFraction: number }
  | { kind: "leave-model-out"; heldOutModel: string; promptFolds: number; promptFold: number };

export interface ProtocolSplit {
  train: EvaluatorExample[];
  test: EvaluatorExample[];
  /** What was left out of training and why, with counts. */
  excluded: { reason: string; count: number }[];
}

/**
 * Splits the examples for a protocol. `labelled` is one list per labelled file
 * (file order matters for the original's split); `distilled` is all scored answers.
 */
export function splitForProtocol(
  labelled: readonly EvaluatorExample[][],
  distilled: readonly EvaluatorExample[],
  protocol: Protocol,
): ProtocolSplit {
  const excluded: ProtocolSplit["excluded"] = [];
  const note = (reason: string, count: number) => count > 0 && excluded.push({ reason, count });
  if (protocol.kind === "none") return { train: [...labelled.flat(), ...distilled], test: [], excluded };

  if (protocol.kind === "fulcra-file-order") {
    const train: EvaluatorExample[] = [];
    const test: EvaluatorExample[] = [];
    for (const file of labelled) {
      const s = fileOrderSplit(file, protocol.trainFraction);
      train.push(...s.train);
      test.push(...s.valid);
    }
    // The same dialogue in two files must not sit on both sides.
    const testDialogues = new Set(test.map((e) => `${e.prompt}\u0000${e.answer}`));
    const kept = train.filter((e) => !testDialogues.has(`${e.prompt}\u0000${e.answer}`));
    note("labelled record also in the test set", train.length - kept.length);
    return { train: [...kept, ...distilled], test, excluded };
  }

  const { heldOutModel, promptFolds: folds, promptFold: fold } = protocol;
  if (!(Number.isInteger(folds) && folds >= 1)) throw new RangeError(`promptFolds must be a whole number ≥ 1, got ${folds}`);
  if (!(Number.isInteger(fold) && fold >= 0 && fold < folds)) throw new RangeError(`promptFold must be in 0..${folds - 1}, got ${fold}`);
  const models = [...new Set(distilled.map((e) => e.model))];
  if (!models.some((m) => sameModel(m, heldOutModel))) {
    throw new Error(`held-out model "${heldOutModel}" has no scored answers; scored models present: ${models.join(", ") || "none"}`);
  }
  const test = distilled.filter((e) => sameModel(e.model, heldOutModel) && promptFold(e.prompt, folds) === fold);
  const testPrompts = new Set(test.map((e) => promptKey(e.prompt)));
  const train: EvaluatorExample[] = [];
  let byModel = 0;
  let byPrompt = 0;
  for (const e of [...labelled.flat(), ...distilled]) {
    if (sameModel(e.model, heldOutModel)) byModel++;
    else if (testPrompts.has(promptKey(e.prompt))) byPrompt++;
    else train.push(e);
  }
  note(`written by the held-out model (${heldOutModel})`, byModel);
  note("prompt is one of the test prompts", byPrompt);
  return { train, test, excluded };
}

// ─── Data for BaseAlign's two evaluators ───────────────────────────────────
//
// The scored-output files answer the SafeRLHF test prompts, and BaseAlign
// evaluates its policies on SafeRLHF test prompts too. An evaluator that had
// learned the paper evaluator's scores on the very prompts a policy is judged
// on would score those answers from memory of the prompt. So the SafeRLHF
// test prompts are cut in two by a hash of their text: the evaluation half is
// what `fulcra align` evaluates on and no evaluator of an alignment run trains
// on; the other half may be distilled from. On top of that, the reward's
// evaluator and the guard evaluator train on disjoint halves of what is left
// (again by a hash of the prompt), so the guard shares no training example
// and no training prompt with the reward.

/** Whether a SafeRLHF test prompt belongs to BaseAlign's evaluation half (hash of the text, independent of file order). */
export function isAlignEvaluationPrompt(prompt: string): boolean {
  return hashBit(`align-eval|${promptKey(prompt)}`) === 0;
}

/** One well-mixed bit of a text's SHA-256 (FNV-1a's low bit is only the parity of the bytes' low bits). */
function hashBit(text: string): number {
  return createHash("sha256").update(text).digest()[0] & 1;
}

/** The SafeRLHF test prompts BaseAlign evaluates on, in file order. */
export function alignEvaluationPrompts(testPrompts: readonly string[]): string[] {
  return testPrompts.filter(isAlignEvaluationPrompt);
}

/** Which half of the remaining examples an evaluator trains on (by a hash of the prompt). */
export type DataHalf = "all" | "first" | "second";

export function dataHalfOf(prompt: string): "first" | "second" {
  return hashBit(`evaluator-half|${promptKey(prompt)}`) === 0 ? "first" : "second";
}

/**
 * Drops the training examples whose prompt is in `excludedPrompts` (compared
 * by promptKey), then keeps the chosen half. Returns what was left out, with
 * counts, in the shape of ProtocolSplit.excluded.
 */
export function selectTrainingExamples(
  train: readonly EvaluatorExample[],
  excludedPrompts: readonly string[],
  half: DataHalf,
): { train: EvaluatorExample[]; excluded: { reason: string; count: number }[] } {
  const excludedKeys = new Set(excludedPrompts.map((p) => promptKey(p)));
  const kept: EvaluatorExample[] = [];
  let byPrompt = 0;
  let byHalf = 0;
  for (const e of train) {
    if (excludedKeys.has(promptKey(e.prompt))) byPrompt++;
    else if (half !== "all" && dataHalfOf(e.prompt) !== half) byHalf++;
    else kept.push(e);
  }
  const excluded: { reason: string; count: number }[] = [];
  if (byPrompt > 0) excluded.push({ reason: "prompt is one of BaseAlign's evaluation prompts", count: byPrompt });
  if (byHalf > 0)
    excluded.push({ reason: `prompt belongs to the other half of the data (this evaluator trains on the ${half} half)`, count: byHalf });
  return { train: kept, excluded };
}
