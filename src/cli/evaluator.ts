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
import { intFlag, numberFlag, optionName, parseOptions, UsageError, type Command, type OptionSpec } from "./command.js";
import type { z } from "zod";

/** Fields that are set by other options (--out, --quiet, --no-resume). */
const SPECIAL = new Set<keyof EvaluatorConfig>(["outDir", "quiet", "resume"]);
const CONFIG_FIELDS = (Object.keys(DEFAULT_EVALUATOR_CONFIG) as (keyof EvaluatorConfig)[]).filter((k) => !SPECIAL.has(k));

function configOptions(): OptionSpec {
  return Object.fromEntries(CONFIG_FIELDS.map((k) => [optionName(k), { type: "string" as const }]));
}

function describeDefault(v: unknown): string {
  if (Array.isArray(v)) return v.join(",");
  return String(v);
}

function configHelp(): string {
  return CONFIG_FIELDS.map((k) => {
    const flag = `      --${optionName(k)} ${typeof DEFAULT_EVALUATOR_CONFIG[k] === "number" ? "N" : "X"}`;
    return `${flag.padEnd(36)} ${EVALUATOR_CONFIG_HELP[k]} (default ${describeDefault(DEFAULT_EVALUATOR_CONFIG[k])})`;
  }).join("\n");
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

const HELP = `fulcra evaluator <subcommand> — the value evaluator (10 basic values, 3 labels each)

Subcommands:
  train [--out DIR] [options]
        Trains an evaluator and saves it to DIR (default ${defaultEvaluatorDir()}),
        with a checkpoint after every epoch; run the same command again to
        resume after an interruption. A second evaluator for BaseAlign, one
        the policy never optimises against: add --seed 2 --vector-head regression.
      --no-resume        start over even if DIR holds a checkpoint
      --gpu-config       the larger configuration for a GPU backend (gpu or webgpu): ${Object.entries(EVALUATOR_GPU_CONFIG)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")}; options given override it
      --quiet            no progress bars
${configHelp()}

  train --backbone DIR [options]
        the paper's recipe on a DeBERTa hub checkpoint
        (\`fulcra evaluator train --backbone DIR --help\` for its options)

  report [--model DIR] [--out DIR] [--parts LIST] [options]
        Trains evaluators with DIR's configuration (or the defaults and the
        options given) on held-out splits and measures them: the original's
        90/10 evaluation on the labelled records, agreement with the paper's
        evaluator on models left out of training, the models' ranking by
        e-distance, and majority / TF-IDF baselines beside each. Writes
        report.md and report.json to --out (default: the model folder, or
        runs/evaluator/report). Takes a few minutes.
      --parts LIST       fulcra-split,leave-model-out,labels-only (default all)

  annotate --input FILE.jsonl --output FILE.jsonl [--concurrency N]
        Labels dialogues the paper's way, with an LLM over the 54 value items,
        through an OpenAI-compatible endpoint (FULCRA_LLM_BASE_URL,
        FULCRA_LLM_MODEL, FULCRA_LLM_API_KEY). Input lines hold "dialogue", or
        "prompt" and "answer"; the output is in FULCRA's record format (usable
        with --labelled-files) plus item, refined and basic vectors. Answers
        are cached; an interrupted run resumes when started again. A reply
        with no readable label (and no "none") is reported and left out,
        never read as all zeros; it makes the exit code 1 unless --lenient.

Examples:
  fulcra evaluator train --out runs/evaluator/default
  fulcra evaluator train --out runs/evaluator/second --seed 2 --vector-head regression
  fulcra evaluator report --model runs/evaluator/default
  fulcra evaluate --model runs/evaluator/default --input answers.jsonl --output scored.jsonl`;

async function train(args: string[]): Promise<number> {
  if (args.includes("--backbone")) return (await import("./evaluator-backbone.js")).trainWithBackbone(args);
  const { values } = parseOptions(
    args,
    {
      out: { type: "string" },
      "no-resume": { type: "boolean" },
      "gpu-config": { type: "boolean" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      ...configOptions(),
    },
    "evaluator",
    false,
  );
  if (values.help) return (console.log(HELP), 0);
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

async function report(args: string[]): Promise<number> {
  const { values } = parseOptions(
    args,
    {
      model: { type: "string" },
      out: { type: "string" },
      parts: { type: "string" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      ...configOptions(),
    },
    "evaluator",
    false,
  );
  if (values.help) return (console.log(HELP), 0);
  let config: Partial<EvaluatorConfig> = {};
  if (values.model) {
    const file = join(resolve(values.model), "config.json");
    if (!existsSync(file))
      throw new UsageError(
        `${values.model} holds no trained evaluator (config.json missing); train one with \`fulcra evaluator train --out ${values.model}\``,
      );
    config = JSON.parse(readFileSync(file, "utf8")) as Partial<EvaluatorConfig>;
  }
  config = { ...config, ...configFromOptions(values), outDir: null, quiet: Boolean(values.quiet) };
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

async function annotate(args: string[]): Promise<number> {
  const { values } = parseOptions(
    args,
    {
      input: { type: "string" },
      output: { type: "string" },
      concurrency: { type: "string" },
      lenient: { type: "boolean" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    "evaluator annotate",
    false,
  );
  if (values.help) return (console.log(HELP), 0);
  if (!values.input || !values.output) throw new UsageError("annotate needs --input and --output (see `fulcra evaluator --help`)");
  const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency);
  if (!(Number.isInteger(concurrency) && concurrency > 0))
    throw new UsageError(`--concurrency expects a whole number > 0, got "${values.concurrency}"`);
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

export const command: Command = {
  summary: "train the value evaluator and report how it agrees with the paper's",
  help: HELP,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === "train") return train(rest);
    if (sub === "report") return report(rest);
    if (sub === "annotate") return annotate(rest);
    if (sub === "--help" || sub === "-h") return (console.log(HELP), 0);
    throw new UsageError(`unknown subcommand "${sub ?? ""}"; use train, report or annotate (see \`fulcra evaluator --help\`)`);
  },
};
