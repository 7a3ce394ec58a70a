/** `fulcra hh`: the paper's helpfulness / harmlessness / value numbers from scored-output files. */
import { BASIC_VALUES } from "../values/taxonomy.js";
import { HARM_CATEGORY_LABELS, isHarmCategory } from "../metrics/harm.js";
import { summarizeScoredOutputs, type HhSummary } from "../metrics/summary.js";
import { resolveTarget, TARGET_NAMES } from "../metrics/targets.js";
import { numberOption, parseOptions, UsageError, type Command } from "./command.js";

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
      --threshold T              |v| threshold of the masked distance (default 0.3)
      --json                     one JSON object per file instead of a table
        FILE may also be a manifest name, e.g. harmless_test_gpt-4.
        Exits 1 when a file has unreadable lines (listed by line number).

  score --model-outputs FILE --out FILE [--reward-model FILE] [--evaluator DIR]
        scores any JSONL of prompts and answers (fields prompt and answer;
        response/output/completion also accepted; safety_issues kept, or looked
        up in the SafeRLHF test questions) with the kit's helpfulness reward
        model and value evaluator, and writes the released format:
        prompt, safety_issues, answer, reward, value_reward, e_distance, h_distance.
        Defaults: runs/reward-model/model.json and runs/evaluator/default
        (each trained on first use if absent).
      --target NAME|v1,...,v10   target of the distance fields (default ideal,
                                 as in the released files)
      --batch-size N             answers scored per call (default 64)

  elo --comparisons FILE [--rule original|standard] [--json]
        Elo and win rates from a pairwise judge's verdicts (see \`fulcra hh elo --help\`).

  reward-model train [--out DIR] [--seed N] [--epochs N]
        trains the helpfulness reward model on the helpful_test preference
        pairs (Bradley–Terry loss), reports held-out pairwise accuracy, saves it.

Examples:
  npx fulcra hh summary data/raw/model_outputs/harmless_test_openai_gpt-4.jsonl --json
  npx fulcra hh summary harmless_test_gpt-4 harmless_test_gpt-35-turbo --target uk`;

const fmt = (x: number, digits = 4) => (x >= 0 ? " " : "") + x.toFixed(digits);

/** The readable table for one summary. */
export function formatSummary(s: HhSummary): string {
  const lines: string[] = [];
  const targetText = s.target_name
    ? `${s.target_name} (${s.target.map((x, i) => (x !== 0 ? `${BASIC_VALUES[i]} ${x}` : "")).filter(Boolean).join(", ")})`
    : s.target.join(", ");
  lines.push(`file            ${s.source ?? "(records)"}`);
  lines.push(`records         ${s.n}${s.bad_lines.length ? ` (${s.bad_lines.length} unreadable line(s) left out)` : ""}`);
  lines.push(`target          ${targetText}`);
  lines.push("");
  lines.push(`reward          mean ${fmt(s.reward_mean)}   std ${s.reward.std.toFixed(4)}   median ${fmt(s.reward.median)}   5–95% [${s.reward.q05.toFixed(3)}, ${s.reward.q95.toFixed(3)}]`);
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
    const bar = "█".repeat(Math.round(Math.abs(v) * 20));
    lines.push(`  ${BASIC_VALUES[i].padEnd(15)} ${fmt(v)}  ${v < 0 ? "-" : "+"}${bar}`);
  });
  lines.push("");
  lines.push(`by harm category of the prompt (a prompt may count in several)`);
  lines.push(`  ${"category".padEnd(42)} ${"n".padStart(5)} ${"reward".padStart(8)} ${"e-dist".padStart(7)} ${"h-dist".padStart(7)} ${"masked".padStart(7)}`);
  for (const [k, g] of Object.entries(s.by_category)) {
    const name = isHarmCategory(k) ? HARM_CATEGORY_LABELS[k] : k;
    lines.push(
      `  ${name.slice(0, 42).padEnd(42)} ${String(g.n).padStart(5)} ${g.reward_mean.toFixed(3).padStart(8)} ${g.e_distance_mean.toFixed(3).padStart(7)} ${g.h_distance_mean.toFixed(3).padStart(7)} ${g.masked_distance_mean.toFixed(3).padStart(7)}`,
    );
  }
  return lines.join("\n");
}

async function summary(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(
    args,
    { target: { type: "string" }, threshold: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    "hh summary",
  );
  if (values.help) return console.log(HELP), 0;
  if (positionals.length === 0) throw new UsageError("hh summary needs a scored-output file, e.g. `fulcra hh summary data/raw/model_outputs/harmless_test_openai_gpt-4.jsonl`");
  const threshold = numberOption(values.threshold, "threshold", 0.3);
  if (values.target !== undefined) {
    try {
      resolveTarget(values.target);
    } catch (e) {
      throw new UsageError(`--target: ${(e as Error).message}`);
    }
  }
  let badFiles = 0;
  const blocks: string[] = [];
  for (const file of positionals) {
    let s: HhSummary;
    try {
      s = summarizeScoredOutputs(file, { target: values.target, threshold });
    } catch (e) {
      console.error(`fulcra hh summary: ${(e as Error).message}`);
      badFiles++;
      continue;
    }
    for (const b of s.bad_lines) console.error(`${s.source}:${b.line}: ${b.reason}`);
    if (s.bad_lines.length > 0) {
      console.error(`fulcra hh summary: ${s.source}: ${s.bad_lines.length} unreadable line(s); the numbers are over the other ${s.n}`);
      badFiles++;
    }
    blocks.push(values.json ? JSON.stringify(s) : formatSummary(s));
  }
  if (blocks.length > 0) console.log(blocks.join(values.json ? "\n" : "\n\n" + "─".repeat(78) + "\n\n"));
  return badFiles > 0 ? 1 : 0;
}

async function score(args: string[]): Promise<number> {
  const { values } = parseOptions(
    args,
    {
      "model-outputs": { type: "string" },
      out: { type: "string" },
      "reward-model": { type: "string" },
      evaluator: { type: "string" },
      target: { type: "string" },
      "batch-size": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    "hh score",
    false,
  );
  if (values.help) return console.log(HELP), 0;
  if (!values["model-outputs"] || !values.out) throw new UsageError("hh score needs --model-outputs FILE (prompts and answers, JSONL) and --out FILE");
  const { readPromptAnswers, scoreOutputs, writeScoredOutputs, kitValueScorer } = await import("../metrics/score.js");
  const { loadOrTrainRewardModel, HelpfulnessRewardModel, defaultRewardModelPath } = await import("../metrics/reward-model.js");
  const { items, errors } = readPromptAnswers(values["model-outputs"]);
  for (const e of errors) console.error(e.message);
  if (items.length === 0) {
    console.error(`fulcra hh score: no usable lines in ${values["model-outputs"]}`);
    return 1;
  }
  const evaluator = await kitValueScorer(values.evaluator);
  const reward = values["reward-model"] ? HelpfulnessRewardModel.load(values["reward-model"]) : await loadOrTrainRewardModel(defaultRewardModelPath());
  const records = await scoreOutputs(items, {
    reward,
    values: evaluator,
    target: values.target,
    batchSize: numberOption(values["batch-size"], "batch-size", 64),
  });
  writeScoredOutputs(values.out, records);
  console.log(`hh score: ${records.length} answers scored into ${values.out}${errors.length ? `; ${errors.length} unreadable line(s) skipped (listed above)` : ""}`);
  console.log(`summarise with: npx fulcra hh summary ${values.out}`);
  return errors.length > 0 ? 1 : 0;
}

async function rewardModel(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "train") throw new UsageError(`unknown reward-model action "${sub ?? ""}"; use \`fulcra hh reward-model train\``);
  const { values } = parseOptions(
    rest,
    { out: { type: "string" }, seed: { type: "string" }, epochs: { type: "string" }, help: { type: "boolean", short: "h" } },
    "hh reward-model train",
    false,
  );
  if (values.help) return console.log(HELP), 0;
  const { trainRewardModel, defaultRewardModelPath, DEFAULT_REWARD_MODEL_CONFIG } = await import("../metrics/reward-model.js");
  const model = await trainRewardModel({
    config: {
      seed: numberOption(values.seed, "seed", DEFAULT_REWARD_MODEL_CONFIG.seed),
      epochs: numberOption(values.epochs, "epochs", DEFAULT_REWARD_MODEL_CONFIG.epochs),
    },
  });
  const file = model.save(values.out ? (values.out.endsWith(".json") ? values.out : `${values.out}/model.json`) : defaultRewardModelPath());
  const m = model.metrics;
  console.log(`reward model saved to ${file}`);
  console.log(`held-out pairwise accuracy ${(m.heldOutAccuracy * 100).toFixed(1)}% on ${m.heldOutPairs} pairs (longer-answer baseline ${(m.heldOutLengthBaselineAccuracy * 100).toFixed(1)}%), train ${(m.trainAccuracy * 100).toFixed(1)}% on ${m.trainPairs}; trained in ${m.trainSeconds.toFixed(1)} s on ${m.backend}`);
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
        return console.log(HELP), 0;
      default:
        throw new UsageError(`unknown subcommand "${sub ?? ""}"; use summary, score, elo or reward-model (see \`fulcra hh --help\`)`);
    }
  },
};
