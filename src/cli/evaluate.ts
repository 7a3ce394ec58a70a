/** `fulcra evaluate`: score a JSONL file of dialogues with a trained value evaluator. */
import { AtomicFile } from "../data/atomic.js";
import { readLinesSync } from "../data/readers.js";
import { loadEvaluator, type AnnotatorName } from "../evaluator/index.js";
import type { DialogueInput } from "../text/features.js";
import { intFlag, oneOfFlag, UsageError, type Flags } from "./command.js";
import { defineCommand } from "./program.js";
import { inputFileFlag, outputFileFlag, writeLenientProvenance } from "./flags.js";

const FLAGS = {
  model: { type: "string", arg: "DIR", help: "the value evaluator (see `fulcra evaluator train`) (required)" },
  input: { type: "string", arg: "FILE.jsonl", schema: inputFileFlag, help: "the dialogues to score (required)" },
  output: { type: "string", arg: "FILE.jsonl", schema: outputFileFlag, help: "where the scored lines go (required)" },
  "batch-size": { type: "string", arg: "N", schema: intFlag({ min: 1 }), default: "512", help: "dialogues per forward pass" },
  annotator: {
    type: "string",
    arg: "NAME",
    schema: oneOfFlag(["paper-evaluator", "fulcra-labels"] as const),
    help: 'imitate "paper-evaluator" (default when learned) or "fulcra-labels"',
  },
  lenient: { type: "boolean", help: "exit 0 even when some lines could not be read; they are then listed in OUTPUT.provenance.json" },
  quiet: { type: "boolean", help: "no summary line" },
} satisfies Flags;

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
  if (typeof rec.prompt === "string" && typeof rec.answer === "string")
    return { input: { prompt: rec.prompt, answer: rec.answer }, record: rec };
  if ("prompt" in rec || "answer" in rec) return { error: `fields "prompt" and "answer" should both be strings` };
  return { error: `needs "dialogue", or "prompt" and "answer"` };
}

export const command = defineCommand({
  name: "evaluate",
  summary: "score a JSONL file of dialogues with a trained value evaluator",
  description: `Scores every line of the input with the value evaluator saved in DIR
(see \`fulcra evaluator train\`). Each input line is a JSON object with
either "dialogue" ("Human: …\\nBob: …", or a multi-turn transcript whose last
assistant turn is the answer) or "prompt" and "answer". Each output line is
the input object plus
  "value_vector": 10 numbers in [−1, 1], in the paper's order (self-direction,
                  stimulation, hedonism, achievement, power, security,
                  tradition, conformity, benevolence, universalism)
  "value_labels": 10 of −1 / 0 / +1 (opposed / no connection / important)`,
  flags: FLAGS,
  after: `Lines that cannot be read are reported with their line numbers and written
nowhere; the command then exits with status 1 (0 with --lenient). Blank
lines are skipped. An input with no dialogue at all is an error (exit 1, no
output written). The output is written to a temporary file beside it and
renamed into place at the end. Bad flags exit with 2 before anything loads.`,
  async action(values) {
    const { model, input, output, lenient } = values;
    if (!model || !input || !output) throw new UsageError("--model, --input and --output are all required (see `fulcra evaluate --help`)");
    if (input === output) throw new UsageError("--output must differ from --input");
    const batchSize = values["batch-size"];
    const annotator = values.annotator as AnnotatorName | undefined;
    const evaluator = await loadEvaluator(model);
    if (annotator && !evaluator.features.annotators.includes(annotator))
      throw new UsageError(`this evaluator did not learn "${annotator}"; it knows ${evaluator.features.annotators.join(", ")}`);

    // Written to a temporary file beside the output and renamed at the end, so a half-written output never looks finished.
    const out = new AtomicFile(output);
    const bad: { line: number; error: string }[] = [];
    let written = 0;
    let pending: { input: DialogueInput; record: Record<string, unknown> }[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const scores = await evaluator.score(
        pending.map((p) => p.input),
        { batchSize, annotator },
      );
      out.write(
        pending
          .map(
            (p, i) =>
              JSON.stringify({
                ...p.record,
                value_vector: scores[i].vector.map((x) => Math.round(x * 1e6) / 1e6),
                value_labels: scores[i].labels,
              }) + "\n",
          )
          .join(""),
      );
      written += pending.length;
      pending = [];
    };
    try {
      for (const [lineNo, text] of readLinesSync(input)) {
        if (text.trim() === "") continue;
        const r = readInputLine(text);
        if ("error" in r) bad.push({ line: lineNo, error: r.error });
        else pending.push(r);
        if (pending.length >= batchSize) await flush();
      }
      await flush();
    } catch (e) {
      out.abort();
      evaluator.dispose();
      throw e;
    }
    evaluator.dispose();
    for (const b of bad) console.error(`${input}:${b.line}: ${b.error} (line not scored)`);
    if (written === 0) {
      out.abort();
      console.error(
        `fulcra evaluate: ${input}: no dialogue to score${bad.length ? ` (${bad.length} unreadable line(s))` : " (the file is empty)"}; nothing written`,
      );
      return 1;
    }
    out.commit();
    if (!values.quiet)
      console.error(
        `evaluate: ${written} dialogue(s) scored into ${output}${bad.length ? `; ${bad.length} line(s) could not be read` : ""}`,
      );
    if (lenient && bad.length > 0) {
      const file = await writeLenientProvenance(output, input, { written, skipped: bad.map((b) => ({ line: b.line, reason: b.error })) });
      if (!values.quiet) console.error(`evaluate: --lenient: the ${bad.length} skipped line(s) are listed in ${file}`);
    }
    return bad.length > 0 && !lenient ? 1 : 0;
  },
});
