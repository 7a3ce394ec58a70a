/** `fulcra models`: run Hugging Face hub checkpoints (config.json + safetensors + tokenizer) on JSONL inputs. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { intFlag, UsageError, type FlagValues, type Flags } from "./command.js";
import { fetch } from "./models-fetch.js";
import { defineCommand, subcommand } from "./program.js";

interface InputLine {
  line: number;
  record: Record<string, unknown>;
  text: string;
  text_pair?: string;
}

/** Reads {"text", "text_pair"?} lines; any unreadable line is an error naming FILE:line and the field. */
export function readScoreInputs(file: string): InputLine[] {
  if (!existsSync(file)) throw new UsageError(`input file ${file} does not exist`);
  const out: InputLine[] = [];
  const errors: string[] = [];
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((raw, i) => {
      if (raw.trim() === "") return;
      const where = `${file}:${i + 1}`;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(raw) as Record<string, unknown>;
      } catch (e) {
        errors.push(`${where}: not valid JSON (${(e as Error).message})`);
        return;
      }
      if (typeof record.text !== "string")
        return void errors.push(`${where}: field "text" should be a string, got ${JSON.stringify(record.text)}`);
      if (record.text_pair !== undefined && record.text_pair !== null && typeof record.text_pair !== "string") {
        return void errors.push(`${where}: field "text_pair" should be a string, got ${JSON.stringify(record.text_pair)}`);
      }
      out.push({ line: i + 1, record, text: record.text, text_pair: (record.text_pair as string | null | undefined) ?? undefined });
    });
  if (errors.length) throw new Error(errors.join("\n"));
  return out;
}

const SCORE_FLAGS = {
  input: { type: "string", arg: "F.jsonl", help: 'lines {"text": ..., "text_pair"?: ...} (required)' },
  output: { type: "string", arg: "G.jsonl", help: "where the scored lines go (required)" },
  "batch-size": { type: "string", arg: "N", schema: intFlag({ min: 1 }), default: "8", help: "lines per forward pass" },
  truncate: {
    type: "boolean",
    help: "cut texts longer than the model allows (longest first for pairs; a causal LM keeps the first n_positions tokens) instead of stopping with an error",
  },
  quiet: { type: "boolean", help: "no progress bar" },
} satisfies Flags;

const scoreCommand = subcommand({
  name: "score",
  summary: "run a hub model folder on every line of a JSONL file",
  args: "<DIR>",
  positionals: true,
  description: `Runs the model in DIR (config.json, model.safetensors, tokenizer.json,
spm.model, or vocab.json + merges.txt) on every input line
{"text": ..., "text_pair"?: ...} and writes each line back with "input_ids"
(as the tokenizer gives them) and "logits" (sequence classification: one
number per label; encoder only: the first token's hidden state; causal LM:
[positions][vocab], the scores of the next token at every position).
Outputs equal transformers' to float32 rounding. A causal LM takes single
texts (no "text_pair").

Architectures: DebertaV2ForSequenceClassification, DebertaV2Model,
DebertaV2ForMaskedLM (as its encoder), GPT2LMHeadModel.`,
  flags: SCORE_FLAGS,
  after: `Examples:
  fulcra models score models/reward-model-deberta-v3-large-v2 --input pairs.jsonl --output scored.jsonl
  FULCRA_BACKEND=wasm fulcra models score ../shared/fixtures/hf/deberta-v3-tiny-reward --input in.jsonl --output out.jsonl
  fulcra models score models/gpt2 --input texts.jsonl --output logits.jsonl --batch-size 4`,
  action: score,
});

async function score(values: FlagValues<typeof SCORE_FLAGS>, positionals: string[]): Promise<number> {
  const dir = positionals[0];
  if (!dir || positionals.length > 1)
    throw new UsageError("models score needs one model folder: `fulcra models score DIR --input F.jsonl --output G.jsonl`");
  if (!values.input || !values.output) throw new UsageError("models score needs --input F.jsonl and --output G.jsonl");
  const batchSize = values["batch-size"];
  const inputs = readScoreInputs(values.input);
  const { initBackend } = await import("../runtime/backend.js");
  const backend = await initBackend({ quiet: Boolean(values.quiet) });
  const { loadHubModel, scoreWithModel } = await import("../hub/index.js");
  const hub = loadHubModel(dir);
  let scored: { input_ids: number[]; logits: number[] | number[][] }[];
  let what: string;
  if (hub.kind === "causal-lm") {
    // A causal LM reads one text; a pair would have to be joined in some way the input does not say.
    const paired = inputs.filter((x) => x.text_pair !== undefined);
    if (paired.length) {
      hub.model.dispose();
      throw new UsageError(
        `${values.input}:${paired[0].line}: field "text_pair" is set, but ${hub.architecture} (${dir}) scores single texts; put the whole text in "text"`,
      );
    }
    const { scoreCausalLm } = await import("../hub/gpt2.js");
    const { Progress } = await import("../runtime/progress.js");
    const bar = new Progress({ label: `scoring with ${hub.architecture}`, total: inputs.length, quiet: Boolean(values.quiet) });
    let done = 0;
    scored = scoreCausalLm(
      hub.model,
      hub.tokenizer,
      inputs.map((x) => x.text),
      {
        batchSize,
        truncate: Boolean(values.truncate),
        where: (i) => `${values.input}:${inputs[i].line}`,
        onBatch: (n) => (bar.tick(n - done), (done = n)),
      },
    );
    bar.finish();
    hub.model.dispose();
    what = `logits for every position over ${hub.model.config.vocab_size} ids`;
  } else {
    scored = scoreWithModel(hub, inputs, {
      batchSize,
      truncate: Boolean(values.truncate),
      quiet: Boolean(values.quiet),
      source: values.input,
      lines: inputs.map((x) => x.line),
      label: `scoring with ${hub.architecture}`,
    });
    what = `${hub.labels.length} label(s)`;
  }
  writeFileSync(
    values.output,
    inputs.map((x, i) => JSON.stringify({ ...x.record, input_ids: scored[i].input_ids, logits: scored[i].logits })).join("\n") +
      (inputs.length ? "\n" : ""),
  );
  console.log(
    `models score: ${inputs.length} line(s) scored with ${hub.architecture} (${what}) on ${backend.name}, written to ${values.output}`,
  );
  return 0;
}

export const command = defineCommand({
  name: "models",
  summary: "run Hugging Face hub checkpoints (DeBERTa-v3, GPT-2) on JSONL inputs, fetch them from the hub",
  subcommands: [scoreCommand, fetch],
});
