/** `fulcra evaluator`: train the value evaluator, and report how well it measures. */
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { writeFileAtomicSync } from "../data/atomic.js";
import { join, resolve } from "node:path";
import {
  annotateFile,
  DEFAULT_EVALUATOR_CONFIG,
  EVALUATOR_CONFIG_HELP,
  defaultEvaluatorDir,
  evaluatorReport,
  formatReport,
  reportSummary,
  trainEvaluator,
  type EvaluatorConfig,
} from "../evaluator/index.js";
import { EVALUATOR_GPU_CONFIG } from "../evaluator/presets.js";
import { intFlag, numberFlag, optionName, UsageError, type FlagDef, type FlagValues, type Flags } from "./command.js";
import { trainBackbone } from "./evaluator-backbone.js";
import { subcommand, defineCommand } from "./program.js";
import type { z } from "zod";

/** Fields that are set by other options (--out, --quiet, --no-resume). */
const SPECIAL = new Set<keyof EvaluatorConfig>(["outDir", "quiet", "resume"]);
const CONFIG_FIELDS = (Object.keys(DEFAULT_EVALUATOR_CONFIG) as (keyof EvaluatorConfig)[]).filter((k) => !SPECIAL.has(k));

function describeDefault(v: unknown): string {
  if (Array.isArray(v)) return v.join(",");
  return String(v);
}

/** One flag per evaluator setting; the value is read by configFromOptions (presets apply under flags not given). */
function configFlags(): Flags {
  return Object.fromEntries(
    CONFIG_FIELDS.map((k) => [
      optionName(k),
      {
        type: "string",
        arg: typeof DEFAULT_EVALUATOR_CONFIG[k] === "number" ? "N" : "X",
        help: `${EVALUATOR_CONFIG_HELP[k]} (default ${describeDefault(DEFAULT_EVALUATOR_CONFIG[k])})`,
      } satisfies FlagDef,
    ]),
  );
}

/** Ranges of the numeric settings, checked before any training starts. */
const CONFIG_RANGES: Partial<Record<keyof EvaluatorConfig, z.ZodType<number, string>>> = {
  seed: intFlag(),
  epochs: intFlag({ min: 1 }),
  batchSize: intFlag({ min: 1 }),
  embeddingDim: intFlag({ min: 1 }),
  hiddenSize: intFlag({ min: 1 }),
  maxN: intFlag({ min: 1 }),
  buckets: intFlag({ min: 1 }),
  maxTokens: intFlag({ min: 1 }),
  promptFolds: intFlag({ min: 1 }),
  promptFold: intFlag({ min: 0 }),
  minDocuments: intFlag({ min: 1 }),
  prefixLength: intFlag({ min: 0 }),
  maxPerFile: intFlag({ min: 0 }),
  trainFraction: numberFlag({ min: 0, max: 1, minExclusive: true, maxExclusive: true }),
  dropout: numberFlag({ min: 0, max: 1, maxExclusive: true }),
  featureDropout: numberFlag({ min: 0, max: 1, maxExclusive: true }),
  learningRate: numberFlag({ min: 0, minExclusive: true }),
  embeddingLearningRate: numberFlag({ min: 0, minExclusive: true }),
  maxGradNorm: numberFlag({ min: 0, minExclusive: true }),
  weightDecay: numberFlag({ min: 0 }),
  distillWeight: numberFlag({ min: 0 }),
  classificationWeight: numberFlag({ min: 0 }),
  regressionWeight: numberFlag({ min: 0 }),
  classWeightPower: numberFlag({ min: 0 }),
};

/** Refuses --labelled-files / --scored-files naming a missing file or a folder, before any work. */
function checkDataFiles(config: Partial<EvaluatorConfig>): void {
  for (const k of ["labelledFiles", "scoredFiles"] as const) {
    const files = config[k];
    for (const f of Array.isArray(files) ? files : []) {
      if (!existsSync(f)) throw new UsageError(`--${optionName(k)}: ${resolve(f)}: no such file`);
      if (statSync(f).isDirectory()) throw new UsageError(`--${optionName(k)}: ${resolve(f)}: is a folder, not a file`);
    }
  }
}

/** Reads the config options given on the command line; each value is checked against its field's type. */
export function configFromOptions(values: Record<string, unknown>): Partial<EvaluatorConfig> {
  const out: Record<string, unknown> = {};
  for (const k of CONFIG_FIELDS) {
    const raw = values[optionName(k)];
    if (raw === undefined) continue;
    const text = String(raw).trim();
    const def = DEFAULT_EVALUATOR_CONFIG[k];
    const flag = `--${optionName(k)}`;
    if (k === "labelledFiles" || k === "scoredFiles") {
      out[k] = text === "auto" ? "auto" : text === "none" || text === "" ? [] : text.split(",").map((s) => s.trim());
    } else if (Array.isArray(def)) {
      out[k] = text
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    } else if (typeof def === "number") {
      const n = Number(text);
      if (text === "" || !Number.isFinite(n)) throw new UsageError(`${flag} expects a number, got "${text}"`);
      const range = CONFIG_RANGES[k];
      if (range) {
        const r = range.safeParse(text);
        if (!r.success) throw new UsageError(`${flag} ${r.error.issues[0]?.message ?? "is out of range"}`);
      }
      out[k] = n;
    } else if (typeof def === "boolean") {
      if (!["true", "false", "yes", "no", "1", "0"].includes(text)) throw new UsageError(`${flag} expects true or false, got "${text}"`);
      out[k] = ["true", "yes", "1"].includes(text);
    } else {
      out[k] = text;
    }
  }
  return out as Partial<EvaluatorConfig>;
}

const TRAIN_FLAGS = {
  out: { type: "string", arg: "DIR", help: `where the evaluator goes (default ${defaultEvaluatorDir()})` },
  "no-resume": { type: "boolean", help: "start over even if DIR holds a checkpoint" },
  "gpu-config": {
    type: "boolean",
    help: `the larger configuration for a GPU backend (gpu or webgpu): ${Object.entries(EVALUATOR_GPU_CONFIG)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")}; options given override it`,
  },
  quiet: { type: "boolean", help: "no progress bars" },
} satisfies Flags;

const trainCommand = subcommand({
  name: "train",
  summary: "train an evaluator and save it (resumes after an interruption)",
  description: `Trains an evaluator and saves it to DIR, with a checkpoint after every epoch;
run the same command again to resume after an interruption. A second
evaluator for BaseAlign, one the policy never optimises against: add
--seed 2 --vector-head regression. The paper's recipe on a DeBERTa hub
checkpoint: \`fulcra evaluator train --backbone DIR --help\`.`,
  flags: { ...TRAIN_FLAGS, ...configFlags() },
  after: `Examples:
  fulcra evaluator train --out runs/evaluator/default
  fulcra evaluator train --out runs/evaluator/second --seed 2 --vector-head regression`,
  action: train,
});

async function train(values: Record<string, unknown>): Promise<number> {
  const outDir = resolve(String(values.out ?? defaultEvaluatorDir()));
  const preset = values["gpu-config"] ? EVALUATOR_GPU_CONFIG : {};
  const config = { ...preset, ...configFromOptions(values), outDir, resume: !values["no-resume"], quiet: Boolean(values.quiet) };
  checkDataFiles(config);
  if (values["gpu-config"]) {
    const { initBackend, warnIfNotGpu } = await import("../runtime/backend.js");
    warnIfNotGpu(await initBackend({ quiet: Boolean(values.quiet) }), "--gpu-config");
  }
  const ev = await trainEvaluator(config);
  const last = ev.training.history[ev.training.history.length - 1];
  console.log(
    `evaluator saved to ${outDir} (${ev.vocabulary.size} n-grams, ${ev.training.counts.trainLabelled} labelled + ${ev.training.counts.trainDistilled} distilled dialogues, final loss ${last?.trainLoss.toFixed(4)}, ${ev.training.seconds.toFixed(1)} s)`,
  );
  if (last?.test)
    console.log(
      `held-out (${last.test.items}): macro-F1 ${last.test.macroF1.toFixed(3)}${last.test.signAgreement !== undefined ? `, sign agreement ${last.test.signAgreement.toFixed(3)}, r ${last.test.pearson?.toFixed(3)}` : ""}`,
    );
  ev.dispose();
  return 0;
}

const REPORT_FLAGS = {
  model: { type: "string", arg: "DIR", help: "a trained evaluator whose configuration the report uses" },
  out: { type: "string", arg: "DIR", help: "where report.md and report.json go (default: the model folder, or runs/evaluator/report)" },
  parts: { type: "string", arg: "LIST", help: "fulcra-split,leave-model-out,labels-only (default all)" },
  quiet: { type: "boolean", help: "no progress bars" },
} satisfies Flags;

const reportCommand = subcommand({
  name: "report",
  summary: "train evaluators on held-out splits and measure how they agree with the paper's",
  description: `Trains evaluators with DIR's configuration (or the defaults and the
options given) on held-out splits and measures them: the original's 90/10
evaluation on the labelled records, agreement with the paper's evaluator on
models left out of training, the models' ranking by e-distance, and
majority / TF-IDF baselines beside each. Writes report.md and report.json.
Takes a few minutes.`,
  flags: { ...REPORT_FLAGS, ...configFlags() },
  after: `Example:
  fulcra evaluator report --model runs/evaluator/default`,
  action: report,
});

async function report(v: Record<string, unknown>): Promise<number> {
  const values = v as FlagValues<typeof REPORT_FLAGS>;
  let config: Partial<EvaluatorConfig> = {};
  if (values.model) {
    const file = join(resolve(values.model), "config.json");
    if (!existsSync(file))
      throw new UsageError(
        `${values.model} holds no trained evaluator (config.json missing); train one with \`fulcra evaluator train --out ${values.model}\``,
      );
    config = JSON.parse(readFileSync(file, "utf8")) as Partial<EvaluatorConfig>;
  }
  config = { ...config, ...configFromOptions(v), outDir: null, quiet: Boolean(values.quiet) };
  checkDataFiles(config);
  const parts = values.parts?.split(",").map((s) => s.trim()) as ("fulcra-split" | "leave-model-out" | "labels-only")[] | undefined;
  for (const p of parts ?? [])
    if (!["fulcra-split", "leave-model-out", "labels-only"].includes(p))
      throw new UsageError(`--parts: unknown part "${p}"; use fulcra-split, leave-model-out, labels-only`);
  const r = await evaluatorReport({ config, parts, quiet: Boolean(values.quiet) });
  const outDir = resolve(values.out ?? values.model ?? join(defaultEvaluatorDir(), "..", "report"));
  mkdirSync(outDir, { recursive: true });
  const md = formatReport(r);
  writeFileAtomicSync(join(outDir, "report.md"), md + "\n");
  writeFileAtomicSync(join(outDir, "report.json"), JSON.stringify(r) + "\n");
  writeFileAtomicSync(join(outDir, "report-summary.json"), JSON.stringify(reportSummary(r), null, 2) + "\n");
  console.log(md);
  console.log(`\nreport written to ${join(outDir, "report.md")} and report.json`);
  return 0;
}

const ANNOTATE_FLAGS = {
  input: { type: "string", arg: "FILE.jsonl", help: 'lines with "dialogue", or "prompt" and "answer" (required)' },
  output: { type: "string", arg: "FILE.jsonl", help: "FULCRA-format records plus item, refined and basic vectors (required)" },
  concurrency: { type: "string", arg: "N", schema: intFlag({ min: 1 }), default: "4", help: "requests in flight at once" },
  lenient: { type: "boolean", help: "exit 0 even when some replies held no readable label" },
  quiet: { type: "boolean", help: "no progress bar" },
} satisfies Flags;

const annotateCommand = subcommand({
  name: "annotate",
  summary: "label dialogues the paper's way, with an LLM over the 54 value items",
  description: `Labels dialogues the paper's way, with an LLM over the 54 value items,
through an OpenAI-compatible endpoint (FULCRA_LLM_BASE_URL,
FULCRA_LLM_MODEL, FULCRA_LLM_API_KEY). The output is in FULCRA's record
format (usable with --labelled-files). Answers are cached; an interrupted
run resumes when started again. A reply with no readable label (and no
"none") is reported and left out, never read as all zeros; it makes the
exit code 1 unless --lenient.`,
  flags: ANNOTATE_FLAGS,
  action: annotate,
});

async function annotate(values: FlagValues<typeof ANNOTATE_FLAGS>): Promise<number> {
  if (!values.input || !values.output) throw new UsageError("annotate needs --input and --output (see `fulcra evaluator annotate --help`)");
  const concurrency = values.concurrency;
  const r = await annotateFile(resolve(values.input), resolve(values.output), { concurrency, quiet: Boolean(values.quiet) });
  for (const b of r.badLines) console.error(`${values.input}:${b.line}: ${b.error} (line not annotated)`);
  for (const u of r.unreadable)
    console.error(
      `${values.input}:${u.line}: the model's reply holds no readable label (${JSON.stringify(u.reply)}); left out of the output`,
    );
  console.log(
    `annotated ${r.annotated} dialogue(s) now, ${r.resumed} from an earlier run; written to ${r.output}${r.unreadable.length ? `; ${r.unreadable.length} unreadable repl${r.unreadable.length === 1 ? "y" : "ies"} left out` : ""}`,
  );
  return (r.badLines.length > 0 || r.unreadable.length > 0) && !values.lenient ? 1 : 0;
}

/** `train --backbone DIR …` is the DeBERTa recipe, a command of its own with its own flags. */
function routeBackbone(args: string[]): string[] {
  const end = args.indexOf("--");
  const head = end < 0 ? args : args.slice(0, end);
  const backbone = head.some((a) => a === "--backbone" || a.startsWith("--backbone="));
  return args[0] === "train" && backbone ? ["train-backbone", ...args.slice(1)] : args;
}

export const command = defineCommand({
  name: "evaluator",
  summary: "train the value evaluator and report how it agrees with the paper's",
  description: "The value evaluator: 10 basic values, 3 labels each.",
  subcommands: [trainCommand, trainBackbone, reportCommand, annotateCommand],
  route: routeBackbone,
  after: `train --backbone DIR: the paper's recipe on a DeBERTa hub checkpoint
(\`fulcra evaluator train --backbone DIR --help\` for its options).

Example:
  fulcra evaluate --model runs/evaluator/default --input answers.jsonl --output scored.jsonl`,
});
