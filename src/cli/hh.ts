/** `fulcra hh`: the paper's helpfulness / harmlessness / value numbers from scored-output files. */
import { BASIC_VALUES } from "../values/taxonomy.js";
import { HARM_CATEGORY_LABELS, isHarmCategory } from "../metrics/harm.js";
import { summarizeScoredOutputs, type HhSummary } from "../metrics/summary.js";
import { TARGET_NAMES } from "../values/targets.js";
import { VALUE_THRESHOLD } from "../values/threshold.js";
import { existsSync, statSync } from "node:fs";
import { intFlag, UsageError, type FlagValues, type Flags } from "./command.js";
import { elo } from "./hh-elo.js";
import { defineCommand, subcommand } from "./program.js";
import { folderFlag, inputFileFlag, inputPathFlag, outputFileFlag, targetFlag, thresholdFlag, writeLenientProvenance } from "./flags.js";

const fmt = (x: number, digits = 4) => (x >= 0 ? " " : "") + x.toFixed(digits);

/** The readable table for one summary. */
export function formatSummary(s: HhSummary): string {
  const lines: string[] = [];
  const targetText = s.target_name
    ? `${s.target_name} (${s.target
        .map((x, i) => (x !== 0 ? `${BASIC_VALUES[i]} ${x}` : ""))
        .filter(Boolean)
        .join(", ")})`
    : s.target.join(", ");
  lines.push(`file            ${s.source ?? "(records)"}`);
  lines.push(`records         ${s.n}${s.bad_lines.length ? ` (${s.bad_lines.length} unreadable line(s) left out)` : ""}`);
  lines.push(`target          ${targetText}`);
  lines.push("");
  lines.push(
    `reward          mean ${fmt(s.reward_mean)}   std ${s.reward.std.toFixed(4)}   median ${fmt(s.reward.median)}   5–95% [${s.reward.q05.toFixed(3)}, ${s.reward.q95.toFixed(3)}]`,
  );
  lines.push(`e-distance      mean ${fmt(s.e_distance_mean)}   (Euclidean over the target's non-zero dimensions)`);
  lines.push(`h-distance      mean ${fmt(s.h_distance_mean)}   (L1 over the target's non-zero dimensions)`);
  lines.push(`masked dist.    mean ${fmt(s.masked_distance_mean)}   (BaseAlign, τ = ${s.threshold})`);
  const f = s.stored_fields;
  lines.push(
    `stored fields   e_distance ${f.e_distance_disagreements}/${f.checked} disagree (max |Δ| ${f.e_distance_max_abs_diff.toExponential(1)}), ` +
      `h_distance ${f.h_distance_disagreements}/${f.checked} (max |Δ| ${f.h_distance_max_abs_diff.toExponential(1)}), vs target ideal`,
  );
  lines.push("");
  lines.push("value profile (mean value_reward)");
  s.value_mean.forEach((v, i) => {
    const bar = "█".repeat(Math.min(20, Math.round(Math.abs(v) * 20)) || 0);
    lines.push(`  ${BASIC_VALUES[i].padEnd(15)} ${fmt(v)}  ${v < 0 ? "-" : "+"}${bar}`);
  });
  lines.push("");
  lines.push(`by harm category of the prompt (a prompt may count in several)`);
  lines.push(
    `  ${"category".padEnd(42)} ${"n".padStart(5)} ${"reward".padStart(8)} ${"e-dist".padStart(7)} ${"h-dist".padStart(7)} ${"masked".padStart(7)}`,
  );
  for (const [k, g] of Object.entries(s.by_category)) {
    const name = isHarmCategory(k) ? HARM_CATEGORY_LABELS[k] : k;
    lines.push(
      `  ${name.slice(0, 42).padEnd(42)} ${String(g.n).padStart(5)} ${g.reward_mean.toFixed(3).padStart(8)} ${g.e_distance_mean.toFixed(3).padStart(7)} ${g.h_distance_mean.toFixed(3).padStart(7)} ${g.masked_distance_mean.toFixed(3).padStart(7)}`,
    );
  }
  return lines.join("\n");
}

const SUMMARY_FLAGS = {
  target: {
    type: "string",
    arg: "NAME|v1,...,v10",
    schema: targetFlag,
    help: `${TARGET_NAMES.join(", ")}, or 10 numbers in paper order (default ideal)`,
  },
  threshold: {
    type: "string",
    arg: "T",
    schema: thresholdFlag,
    default: String(VALUE_THRESHOLD),
    help: "|v| threshold of the masked distance, 0 ≤ T < 1",
  },
  json: { type: "boolean", help: "one JSON object per file instead of a table" },
  lenient: { type: "boolean", help: "exit 0 despite unreadable lines (their count is in the output)" },
} satisfies Flags;

const summaryCommand = subcommand({
  name: "summary",
  summary: "the paper's evaluation numbers for scored-output files",
  args: "<FILE...>",
  description: `The paper's evaluation numbers for scored-output files (the released
model_outputs/harmless_test_*.jsonl, or files made by \`hh score\`): n, mean
reward and its distribution, mean value vector, mean e-, h- and masked
distance to a target, a breakdown by harm category, and a check of the
stored e_distance/h_distance fields. Distances are recomputed from
value_reward, never read from the stored fields.

FILE may also be a manifest name, e.g. harmless_test_gpt-4. An official file
under data/raw/ is checked against the manifest first.`,
  flags: SUMMARY_FLAGS,
  after: `Exits 1 when a file is missing, tampered or has unreadable lines (listed by
line number); 2 for a bad flag.

Examples:
  npx fulcra hh summary data/raw/model_outputs/harmless_test_openai_gpt-4.jsonl --json
  npx fulcra hh summary harmless_test_gpt-4 harmless_test_gpt-35-turbo --target uk`,
  action: summary,
});

async function summary(values: FlagValues<typeof SUMMARY_FLAGS>, positionals: string[]): Promise<number> {
  if (positionals.length === 0)
    throw new UsageError("needs a scored-output file, e.g. `fulcra hh summary data/raw/model_outputs/harmless_test_openai_gpt-4.jsonl`");
  const threshold = values.threshold;
  let badFiles = 0;
  const blocks: string[] = [];
  for (const file of positionals) {
    let s: HhSummary;
    try {
      s = summarizeScoredOutputs(file, { target: values.target, threshold });
    } catch (e) {
      console.error(`fulcra hh summary: ${(e as Error).message.split("\n")[0]}`);
      badFiles++;
      continue;
    }
    for (const b of s.bad_lines) console.error(`${s.source}:${b.line}: ${b.reason}`);
    if (s.bad_lines.length > 0) {
      console.error(`fulcra hh summary: ${s.source}: ${s.bad_lines.length} unreadable line(s); the numbers are over the other ${s.n}`);
      if (!values.lenient) badFiles++;
    }
    blocks.push(values.json ? JSON.stringify(s) : formatSummary(s));
  }
  if (blocks.length > 0) console.log(blocks.join(values.json ? "\n" : "\n\n" + "─".repeat(78) + "\n\n"));
  return badFiles > 0 ? 1 : 0;
}

const SCORE_FLAGS = {
  "model-outputs": {
    type: "string",
    arg: "FILE",
    required: true,
    schema: inputFileFlag,
    help: "JSONL of prompts and answers (prompt and answer; response/output/completion also accepted)",
  },
  out: { type: "string", arg: "FILE", required: true, schema: outputFileFlag, help: "the scored file to write" },
  "reward-model": {
    type: "string",
    arg: "FILE|DIR",
    schema: inputPathFlag,
    help: "DIR: a hub folder of OpenAssistant/reward-model-deberta-v3-large-v2 (the paper's); FILE: the kit's Bradley–Terry model (default runs/reward-model/model.json, trained on first use)",
  },
  evaluator: {
    type: "string",
    arg: "DIR",
    schema: folderFlag,
    help: "the value evaluator (default runs/evaluator/default, trained on first use)",
  },
  target: {
    type: "string",
    arg: "NAME|v1,...,v10",
    schema: targetFlag,
    help: "target of the distance fields (default ideal, as in the released files)",
  },
  "batch-size": { type: "string", arg: "N", schema: intFlag({ min: 1 }), default: "64", help: "answers scored per call, ≥ 1" },
  lenient: { type: "boolean", help: "exit 0 despite unreadable input lines; they are listed in OUT.provenance.json" },
} satisfies Flags;

const scoreCommand = subcommand({
  name: "score",
  summary: "score answers with a helpfulness reward model and the value evaluator, in the released format",
  description: `Scores any JSONL of prompts and answers (safety_issues kept, or looked up in
the SafeRLHF test questions) with a helpfulness reward model and the value
evaluator, and writes the released format: prompt, safety_issues, answer,
reward, value_reward, e_distance, h_distance. With a hub folder as
--reward-model the score is its logit on (question, answer); the kit's own
model is the offline stand-in.`,
  flags: SCORE_FLAGS,
  action: score,
});

async function score(values: FlagValues<typeof SCORE_FLAGS>): Promise<number> {
  // Every flag was checked before this runs, before any model is loaded or trained.
  if (values["model-outputs"] === values.out) throw new UsageError("--out must differ from --model-outputs");
  const { readPromptAnswers, scoreOutputs, writeScoredOutputs, kitValueScorer } = await import("../metrics/score.js");
  const { loadOrTrainRewardModel, HelpfulnessRewardModel, defaultRewardModelPath } = await import("../metrics/reward-model.js");
  const { items, errors } = readPromptAnswers(values["model-outputs"]);
  for (const e of errors) console.error(e.message);
  if (items.length === 0) {
    console.error(`fulcra hh score: no usable lines in ${values["model-outputs"]}`);
    return 1;
  }
  const evaluator = await kitValueScorer(values.evaluator);
  const { isHubFolder, hubRewardScorer } = await import("../hub/reward.js");
  const rewardPath = values["reward-model"];
  const reward = rewardPath
    ? isHubFolder(rewardPath)
      ? await hubRewardScorer(rewardPath)
      : HelpfulnessRewardModel.load(rewardPath)
    : await loadOrTrainRewardModel(defaultRewardModelPath());
  const records = await scoreOutputs(items, {
    reward,
    values: evaluator,
    target: values.target,
    batchSize: values["batch-size"],
  });
  writeScoredOutputs(values.out, records);
  console.log(
    `hh score: ${records.length} answers scored into ${values.out}${errors.length ? `; ${errors.length} unreadable line(s) skipped (listed above)` : ""}`,
  );
  if (values.lenient && errors.length > 0) {
    const file = await writeLenientProvenance(values.out, values["model-outputs"], {
      written: records.length,
      skipped: errors.map((e) => ({ line: e.line, reason: e.reason })),
    });
    console.log(`--lenient: the ${errors.length} skipped line(s) are listed in ${file}`);
  }
  console.log(`summarise with: npx fulcra hh summary ${values.out}`);
  return errors.length > 0 && !values.lenient ? 1 : 0;
}

const REWARD_MODEL_FLAGS = {
  out: { type: "string", arg: "DIR", help: "where model.json goes (a FILE.json is used as is; default runs/reward-model)" },
  seed: { type: "string", arg: "N", schema: intFlag(), help: "seed of the initial weights and the shuffling" },
  epochs: { type: "string", arg: "N", schema: intFlag({ min: 1 }), help: "passes over the training pairs, ≥ 1" },
} satisfies Flags;

const rewardModelCommand = subcommand({
  name: "reward-model",
  summary: "the offline stand-in helpfulness reward model",
  subcommands: [
    subcommand({
      name: "train",
      summary: "train the stand-in reward model on the helpful_test preference pairs",
      description: `Trains the offline stand-in helpfulness reward model on the helpful_test
preference pairs (Bradley–Terry loss), reports held-out pairwise accuracy,
saves it.`,
      flags: REWARD_MODEL_FLAGS,
      action: rewardModelTrain,
    }),
  ],
});

async function rewardModelTrain(values: FlagValues<typeof REWARD_MODEL_FLAGS>): Promise<number> {
  if (values.out !== undefined && !values.out.endsWith(".json") && existsSync(values.out) && !statSync(values.out).isDirectory()) {
    throw new UsageError(`--out ${values.out}: exists and is not a folder`);
  }
  const { trainRewardModel, defaultRewardModelPath, DEFAULT_REWARD_MODEL_CONFIG } = await import("../metrics/reward-model.js");
  const model = await trainRewardModel({
    config: {
      seed: values.seed ?? DEFAULT_REWARD_MODEL_CONFIG.seed,
      epochs: values.epochs ?? DEFAULT_REWARD_MODEL_CONFIG.epochs,
    },
  });
  const file = model.save(values.out ? (values.out.endsWith(".json") ? values.out : `${values.out}/model.json`) : defaultRewardModelPath());
  const m = model.metrics;
  console.log(`reward model saved to ${file}`);
  console.log(
    `held-out pairwise accuracy ${(m.heldOutAccuracy * 100).toFixed(1)}% on ${m.heldOutPairs} pairs (longer-answer baseline ${(m.heldOutLengthBaselineAccuracy * 100).toFixed(1)}%), train ${(m.trainAccuracy * 100).toFixed(1)}% on ${m.trainPairs}; trained in ${m.trainSeconds.toFixed(1)} s on ${m.backend}`,
  );
  return 0;
}

export const command = defineCommand({
  name: "hh",
  summary: "helpfulness/harmlessness/value metrics of model outputs (summary, score, elo, reward-model)",
  subcommands: [summaryCommand, scoreCommand, elo, rewardModelCommand],
});
