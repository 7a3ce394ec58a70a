/** `fulcra evaluate`: score a JSONL file of dialogues with a trained value evaluator. */
import { createReadStream, createWriteStream, existsSync, renameSync } from "node:fs";
import { once } from "node:events";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { loadEvaluator, type AnnotatorName } from "../evaluator/index.js";
import type { DialogueInput } from "../text/features.js";
import { numberOption, parseOptions, UsageError, type Command } from "./command.js";

const HELP = `fulcra evaluate --model DIR --input FILE.jsonl --output FILE.jsonl

Scores every line of the input with the value evaluator saved in DIR
(see \`fulcra evaluator train\`). Each input line is a JSON object with
either "dialogue" ("Human: …\\nBob: …", or a multi-turn transcript whose last
assistant turn is the answer) or "prompt" and "answer". Each output line is
the input object plus
  "value_vector": 10 numbers in [−1, 1], in the paper's order (self-direction,
                  stimulation, hedonism, achievement, power, security,
                  tradition, conformity, benevolence, universalism)
  "value_labels": 10 of −1 / 0 / +1 (opposed / no connection / important)
Lines that cannot be read are reported with their line numbers and written
nowhere; the command then exits with status 1. Blank lines are skipped.

Options:
  --batch-size N     dialogues per forward pass (default 512)
  --annotator NAME   imitate "paper-evaluator" (default when learned) or "fulcra-labels"
  --quiet            no summary line`;

/** What one input line asks to score, or why it cannot be scored. */
export function readInputLine(text: string): { input: DialogueInput; record: Record<string, unknown> } | { error: string } {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    return { error: `not valid JSON (${(e as Error).message})` };
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return { error: "expected a JSON object" };
  const rec = obj as Record<string, unknown>;
  if (typeof rec.dialogue === "string") return { input: rec.dialogue, record: rec };
  if ("dialogue" in rec) return { error: `field "dialogue" should be a string` };
  if (typeof rec.prompt === "string" && typeof rec.answer === "string") return { input: { prompt: rec.prompt, answer: rec.answer }, record: rec };
  if ("prompt" in rec || "answer" in rec) return { error: `fields "prompt" and "answer" should both be strings` };
  return { error: `needs "dialogue", or "prompt" and "answer"` };
}

export const command: Command = {
  summary: "score a JSONL file of dialogues with a trained value evaluator",
  help: HELP,
  async run(args) {
    const { values } = parseOptions(args, { model: { type: "string" }, input: { type: "string" }, output: { type: "string" }, "batch-size": { type: "string" }, annotator: { type: "string" }, quiet: { type: "boolean" }, help: { type: "boolean", short: "h" } }, "evaluate", false);
    if (values.help) return console.log(HELP), 0;
    if (!values.model || !values.input || !values.output) throw new UsageError("--model, --input and --output are all required (see `fulcra evaluate --help`)");
    const input = resolve(values.input);
    const output = resolve(values.output);
    if (!existsSync(input)) throw new UsageError(`input file not found: ${input}`);
    if (input === output) throw new UsageError("--output must differ from --input");
    const batchSize = numberOption(values["batch-size"], "batch-size", 512);
    if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new UsageError(`--batch-size expects a whole number > 0, got ${batchSize}`);
    const annotator = values.annotator as AnnotatorName | undefined;
    if (annotator !== undefined && annotator !== "paper-evaluator" && annotator !== "fulcra-labels") throw new UsageError(`--annotator: use paper-evaluator or fulcra-labels, got "${annotator}"`);
    const evaluator = await loadEvaluator(values.model);
    if (annotator && !evaluator.features.annotators.includes(annotator)) throw new UsageError(`this evaluator did not learn "${annotator}"; it knows ${evaluator.features.annotators.join(", ")}`);

    // Written to a .part file and renamed at the end, so a half-written output never looks finished.
    const part = `${output}.part`;
    const out = createWriteStream(part, { encoding: "utf8" });
    const bad: { line: number; error: string }[] = [];
    let written = 0;
    let pending: { input: DialogueInput; record: Record<string, unknown> }[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const scores = await evaluator.score(
        pending.map((p) => p.input),
        { batchSize, annotator },
      );
      const text = pending.map((p, i) => JSON.stringify({ ...p.record, value_vector: scores[i].vector.map((x) => Math.round(x * 1e6) / 1e6), value_labels: scores[i].labels }) + "\n").join("");
      if (!out.write(text)) await once(out, "drain");
      written += pending.length;
      pending = [];
    };
    const rl = createInterface({ input: createReadStream(input, { encoding: "utf8" }), crlfDelay: Infinity });
    let lineNo = 0;
    for await (const text of rl) {
      lineNo++;
      if (text.trim() === "") continue;
      const r = readInputLine(text);
      if ("error" in r) bad.push({ line: lineNo, error: r.error });
      else pending.push(r);
      if (pending.length >= batchSize) await flush();
    }
    await flush();
    out.end();
    await once(out, "finish");
    renameSync(part, output);
    evaluator.dispose();
    for (const b of bad) console.error(`${input}:${b.line}: ${b.error} (line not scored)`);
    if (!values.quiet) console.error(`evaluate: ${written} dialogue(s) scored into ${output}${bad.length ? `; ${bad.length} line(s) could not be read` : ""}`);
    return bad.length > 0 ? 1 : 0;
  },
};
