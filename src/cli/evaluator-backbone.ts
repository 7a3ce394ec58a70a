/** `fulcra evaluator train --backbone DIR`: the paper's evaluator recipe on a DeBERTa hub checkpoint. */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { optionName, UsageError, type FlagDef, type Flags } from "./command.js";
import { subcommand } from "./program.js";
import {
  BACKBONE_EVALUATOR_HELP,
  DEFAULT_BACKBONE_EVALUATOR_CONFIG,
  readDefinitions,
  trainBackboneEvaluator,
  type BackboneEvaluatorConfig,
} from "../hub/value-evaluator.js";

type Field = keyof typeof BACKBONE_EVALUATOR_HELP;
const FIELDS = Object.keys(BACKBONE_EVALUATOR_HELP) as Field[];

function fieldFlags(): Flags {
  return Object.fromEntries(
    FIELDS.filter((k) => k !== "promptTemplate").map((k) => [
      optionName(k),
      {
        type: "string",
        arg: typeof DEFAULT_BACKBONE_EVALUATOR_CONFIG[k] === "number" ? "N" : "X",
        help: `${BACKBONE_EVALUATOR_HELP[k]} (default ${String(DEFAULT_BACKBONE_EVALUATOR_CONFIG[k])})`,
      } satisfies FlagDef,
    ]),
  );
}

const FLAGS = {
  backbone: { type: "string", arg: "DIR", help: "the DeBERTa hub folder to fine-tune (the paper used microsoft/deberta-v3-large)" },
  out: { type: "string", arg: "DIR", help: "where the fine-tuned hub folder goes (default runs/evaluator/deberta)" },
  quiet: { type: "boolean", help: "no progress bar" },
  definitions: { type: "string", arg: "FILE", help: "JSON {value: definition} (default: the kit's)" },
  "prompt-template-file": { type: "string", arg: "FILE", help: "input text with {value}, {definition}, {dialogue}" },
} satisfies Flags;

/** `evaluator train --backbone DIR` (reached through the evaluator's route). */
export const trainBackbone = subcommand({
  name: "train-backbone",
  hidden: true,
  shownAs: "evaluator train --backbone DIR",
  usage: "fulcra evaluator train --backbone DIR [options]",
  summary: "fine-tune a DeBERTa checkpoint as the value evaluator, the original's way",
  description: `Fine-tunes a DeBERTa checkpoint (hub folder; the paper used
microsoft/deberta-v3-large) as the value evaluator, the original's way: one
input per (dialogue, value) with the value's definition, labels opposed / no
connection / important (or a tanh regressor), 90/10 split in file order,
sampled "no connection" values. Saves a hub folder that \`fulcra models score\`
reads. Without evaluator_data.jsonl (not in every mirror) it trains on the
FULCRA-format files present, or --files.`,
  flags: { ...FLAGS, ...fieldFlags() },
  action: trainWithBackbone,
});

async function trainWithBackbone(values: Record<string, unknown>): Promise<number> {
  const v = values as Record<string, string | boolean | undefined>;
  const config: Partial<BackboneEvaluatorConfig> & { backbone: string } = {
    backbone: resolve(String(v.backbone)),
    outDir: resolve(String(v.out ?? "runs/evaluator/deberta")),
    quiet: Boolean(v.quiet),
  };
  for (const k of FIELDS) {
    const raw = v[optionName(k)];
    if (raw === undefined || k === "promptTemplate") continue;
    const text = String(raw).trim();
    if (k === "files")
      config.files =
        text === "auto"
          ? "auto"
          : text
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean);
    else if (k === "head") {
      if (text !== "classification" && text !== "regression")
        throw new UsageError(`--head expects classification or regression, got "${text}"`);
      config.head = text;
    } else {
      const n = Number(text);
      if (text === "" || !Number.isFinite(n)) throw new UsageError(`--${optionName(k)} expects a number, got "${text}"`);
      (config as Record<string, unknown>)[k] = n;
    }
  }
  if (v.definitions) config.definitions = readDefinitions(String(v.definitions));
  if (v["prompt-template-file"]) config.promptTemplate = readFileSync(String(v["prompt-template-file"]), "utf8");
  const r = await trainBackboneEvaluator(config);
  const last = r.history[r.history.length - 1];
  console.log(
    `evaluator (${config.head ?? "classification"}) saved to ${config.outDir}: ${r.counts.trainInputs} training inputs from ${r.counts.trainRecords} records (${r.counts.sampledNoConnection} sampled "no connection"), ${r.counts.validInputs} held-out inputs from ${r.counts.validRecords} records, on ${r.backend}`,
  );
  console.log(
    `loss ${r.stepLosses[0]?.toFixed(4)} at the first step → ${last?.trainLoss.toFixed(4)} (last epoch mean); held-out accuracy ${last?.validAccuracy.toFixed(3)}, macro-F1 ${last?.validMacroF1.toFixed(3)}`,
  );
  r.model.dispose();
  return 0;
}
