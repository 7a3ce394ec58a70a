/** `fulcra hh`: the paper's helpfulness / harmlessness / value numbers from scored-output files. */
import { BASIC_VALUES } from "../values/taxonomy.js";
import { HARM_CATEGORY_LABELS, isHarmCategory } from "../metrics/harm.js";
import { summarizeScoredOutputs, type HhSummary } from "../metrics/summary.js";
import { TARGET_NAMES } from "../values/targets.js";
import { VALUE_THRESHOLD } from "../values/threshold.js";
import { existsSync, statSync } from "node:fs";
import { intFlag, parseFlags, UsageError, type Command, type Flags } from "./command.js";
import { folderFlag, inputFileFlag, inputPathFlag, outputFileFlag, targetFlag, thresholdFlag, writeLenientProvenance } from "./flags.js";

const HELP = `fulcra hh <subcommand> — helpfulness, harmlessness and value metrics

Subcommands:
  summary FILE.jsonl [FILE2.jsonl ...]
        the paper's evaluation numbers for scored-output files (the released
        model_outputs/harmless_test_*.jsonl, or files made by \`hh score\`):
        n, mean reward and its distribution, mean value vector, mean e-, h- and
        masked distance to a target, a breakdown by harm category, and a check
        of the stored e_distance/h_distance fields. Distances are recomputed
        from value_reward, never read from the stored fields.
      --target NAME|v1,...,v10   ${TARGET_NAMES.join(", ")}, or 10 numbers in
                                 paper order (default ideal)
      --threshold T              |v| threshold of the masked distance, 0 ≤ T < 1 (default 0.3)
      --json                     one JSON object per file instead of a table
      --lenient                  exit 0 despite unreadable lines (their count is in the output)
        FILE may also be a manifest name, e.g. harmless_test_gpt-4. An official
        file under data/raw/ is checked against the manifest first.
        Exits 1 when a file is missing, tampered or has unreadable lines (listed
        by line number); 2 for a bad flag.

  score --model-outputs FILE --out FILE [--reward-model FILE|DIR] [--evaluator DIR]
        scores any JSONL of prompts and answers (fields prompt and answer;
        response/output/completion also accepted; safety_issues kept, or looked
        up in the SafeRLHF test questions) with a helpfulness reward model and
        the value evaluator, and writes the released format:
        prompt, safety_issues, answer, reward, value_reward, e_distance, h_distance.
        --reward-model DIR: the paper's reward model, a hub folder of
        OpenAssistant/reward-model-deberta-v3-large-v2 (score = its logit on
        (question, answer)); FILE: the kit's Bradley–Terry model, the offline
        stand-in. Defaults: the stand-in runs/reward-model/model.json and
        runs/evaluator/default (each trained on first use if absent).
      --target NAME|v1,...,v10   target of the distance fields (default ideal,
                                 as in the released files)
      --batch-size N             answers scored per call, ≥ 1 (default 64)
      --lenient                  exit 0 despite unreadable input lines; they are
                                 listed in OUT.provenance.json

  elo --comparisons FILE [--rule original|standard] [--json]
        Elo ratings (start 1000, K 32, in file order) and win rates of answer A
        against answer B from a pairwise judge's verdicts, one a line (a JSON
        object with the judge's text in "scores", a JSON string, or raw text).
      --rule original            as eval.py (default): the last "[a, b]", raw
                                 0–10 scores into the update, unreadable lines skipped
      --rule standard            the last [[a, b]] marker, outcome 1 / ½ / 0
      --json                     {"elo_a","elo_b","win_rate_a","win_rate_b","n","skipped"}
        Win rates are percentages of the lines read; DEVIATIONS.md#elo-rule.

  reward-model train [--out DIR] [--seed N] [--epochs N ≥ 1]
        trains the offline stand-in helpfulness reward model on the helpful_test preference
        pairs (Bradley–Terry loss), reports held-out pairwise accuracy, saves it.

Examples:
  npx fulcra hh summary data/raw/model_outputs/harmless_test_openai_gpt-4.jsonl --json
  npx fulcra hh summary harmless_test_gpt-4 harmless_test_gpt-35-turbo --target uk`;

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
  target: { type: "string", schema: targetFlag },
  threshold: { type: "string", schema: thresholdFlag, default: String(VALUE_THRESHOLD) },
  json: { type: "boolean" },
  lenient: { type: "boolean" },
} satisfies Flags;

async function summary(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, SUMMARY_FLAGS, "hh summary");
  if (positionals.length === 0)
    throw new UsageError(
      "hh summary needs a scored-output file, e.g. `fulcra hh summary data/raw/model_outputs/harmless_test_openai_gpt-4.jsonl`",
    );
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
  "model-outputs": { type: "string", required: true, schema: inputFileFlag },
  out: { type: "string", required: true, schema: outputFileFlag },
  "reward-model": { type: "string", schema: inputPathFlag },
  evaluator: { type: "string", schema: folderFlag },
  target: { type: "string", schema: targetFlag },
  "batch-size": { type: "string", schema: intFlag({ min: 1 }), default: "64" },
  lenient: { type: "boolean" },
} satisfies Flags;

async function score(args: string[]): Promise<number> {
  // Every flag is checked here, before any model is loaded or trained.
  const { values } = parseFlags(args, SCORE_FLAGS, "hh score", { positionals: false });
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
  out: { type: "string" },
  seed: { type: "string", schema: intFlag() },
  epochs: { type: "string", schema: intFlag({ min: 1 }) },
} satisfies Flags;

async function rewardModel(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "train") throw new UsageError(`unknown reward-model action "${sub ?? ""}"; use \`fulcra hh reward-model train\``);
  const { values } = parseFlags(rest, REWARD_MODEL_FLAGS, "hh reward-model train", { positionals: false });
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

export const command: Command = {
  summary: "helpfulness/harmlessness/value metrics of model outputs (summary, score, reward-model)",
  help: HELP,
  async run(args) {
    const [sub, ...rest] = args;
    switch (sub) {
      case "summary":
        return summary(rest);
      case "score":
        return score(rest);
      case "reward-model":
        return rewardModel(rest);
      case "elo":
        return (await import("./hh-elo.js")).hhElo(rest);
      case "--help":
      case "-h":
        return (console.log(HELP), 0);
      default:
        throw new UsageError(`unknown subcommand "${sub ?? ""}"; use summary, score, elo or reward-model (see \`fulcra hh --help\`)`);
    }
  },
};
