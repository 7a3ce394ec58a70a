/** `fulcra hh elo`: Elo ratings and win rates of two answers' judge scores, by the original's rule or the kit's. */
import { readFileSync } from "node:fs";
import { ELO_RULES, eloByRule, readJudgeTexts, type EloRule } from "../metrics/elo-rules.js";
import { oneOfFlag, type FlagValues, type Flags } from "./command.js";
import { subcommand } from "./program.js";
import { inputFileFlag } from "./flags.js";

const ELO_FLAGS = {
  comparisons: { type: "string", arg: "FILE", required: true, schema: inputFileFlag, help: "the judge's verdicts, one a line" },
  rule: {
    type: "string",
    arg: "RULE",
    schema: oneOfFlag(ELO_RULES),
    default: "original",
    help: `original: as eval.py does it (the last "[a, b]", wins and ties counted, raw 0–10 scores into the Elo update, unreadable lines skipped); standard: the kit's rule (the last [[a, b]] marker, outcome 1 / ½ / 0 for A, standard Elo)`,
  },
  json: { type: "boolean", help: 'print {"elo_a","elo_b","win_rate_a","win_rate_b","n","skipped"}' },
} satisfies Flags;

export const elo = subcommand({
  name: "elo",
  summary: "Elo ratings and win rates of answer A against answer B from a pairwise judge's verdicts",
  description: `Elo ratings (start 1000, K 32, in file order) and win rates of model A
against model B from a pairwise judge's verdicts. Each line of FILE is one
comparison: a JSON object whose "scores" field holds the judge's text (the
original's comparison files), a JSON string, or the raw text.`,
  flags: ELO_FLAGS,
  after: `Win rates are percentages of the lines read (n), ties included in n.
DEVIATIONS.md (row "elo-rule") explains how the two rules differ.

Example:
  npx fulcra hh elo --comparisons runs/helpful_gpt-4_vs_gpt-35-turbo.jsonl --rule original --json`,
  action: hhElo,
});

async function hhElo(values: FlagValues<typeof ELO_FLAGS>): Promise<number> {
  const rule: EloRule = values.rule;
  const content = readFileSync(values.comparisons, "utf8");
  const { texts, lines } = readJudgeTexts(content, values.comparisons);
  const r = eloByRule(texts, rule);
  for (const k of r.skipped_lines) console.error(`${values.comparisons}:${lines[k - 1]}: no readable scores (skipped)`);
  const nan = (x: number) => (Number.isFinite(x) ? x : null);
  if (values.json) {
    console.log(
      JSON.stringify({
        elo_a: nan(r.elo_a),
        elo_b: nan(r.elo_b),
        win_rate_a: nan(r.win_rate_a),
        win_rate_b: nan(r.win_rate_b),
        n: r.n,
        skipped: r.skipped,
      }),
    );
  } else {
    console.log(`rule        ${rule}`);
    console.log(`lines       ${texts.length} (${r.n} read, ${r.skipped} skipped)`);
    console.log(`outcomes    A ${r.wins_a} wins, B ${r.wins_b} wins, ${r.ties} ties`);
    console.log(`Elo         A ${r.elo_a.toFixed(2)}   B ${r.elo_b.toFixed(2)}`);
    console.log(`win rate    A ${r.win_rate_a.toFixed(2)}%   B ${r.win_rate_b.toFixed(2)}%   (of the ${r.n} lines read)`);
  }
  if (r.n === 0) {
    console.error(`fulcra hh elo: no line of ${values.comparisons} could be read`);
    return 1;
  }
  return 0;
}
