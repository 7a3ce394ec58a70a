/**
 * Judging the released model outputs against each other, one call per
 * kind of judge:
 *
 * - `judgeReleasedOffline`: three judges that run on this machine — the
 *   paper's reward (the released `reward` field, helpfulness), the released
 *   value vectors (the answer closer to the target wins, a harmlessness proxy)
 *   and the kit's own reward model re-scoring both answers (helpfulness) —
 *   each turned into win rates and Elo with bootstrap intervals;
 * - `runEndpointJudging`: an LLM behind an OpenAI-compatible endpoint judges
 *   every prompt (or the first `prompts`, the CI size) pairwise
 *   (helpfulness, harmlessness) and each answer as safe or unsafe, resumable
 *   from files under runs/; Elo by the kit's rule and the original's, safety
 *   rates by both rules, unreadable verdicts counted;
 * - `rewardModelAgreement`, `sameWinnerShare`: how the kit's reward model
 *   agrees with the paper's.
 */
import { join } from "node:path";
import type { ScoredOutput } from "../data/readers.js";
import { kitPaths, kitEnv } from "../runtime/env.js";
import type { ChatClient } from "../llm/client.js";
import type { Comparison } from "./elo.js";
import { originalRuleFromScores, parseScoresOriginal, standardRuleFromScores, type EloRuleResult, type ReadScores } from "./elo-rules.js";
import type { PairVerdict } from "./judges.js";
import {
  comparisonsFromPairVerdicts,
  comparisonsFromScoredOutputs,
  EndpointJudge,
  pairItemsFromScoredOutputs,
  safetyItemsFromScoredOutputs,
  type Aspect,
} from "./judges.js";
import { pairwiseReport, type PairwiseReport } from "./elo.js";
import { pearson, spearman } from "../runtime/stats.js";
import { safetyRate, type SafetyRate } from "./verdicts.js";

/** The offline judges' names, as they appear in tables, figures and report numbers. */
export const OFFLINE_JUDGES = {
  paperReward: "paper reward (helpfulness)",
  valueDistance: "value distance (harmlessness proxy)",
  rewardModel: "kit reward model (helpfulness)",
} as const;

/** Anything that scores answers to prompts for helpfulness (the kit's `HelpfulnessRewardModel`). */
export interface PromptAnswerScorer {
  scorePairs(prompts: readonly string[], answers: readonly string[]): number[];
}

export interface OfflineJudging {
  /** The kit reward model's score of every answer, per model, in record order. */
  rewardModelScores: Record<string, number[]>;
  /** Per judge (keys: the values of OFFLINE_JUDGES), the per-prompt comparisons in prompt order. */
  comparisons: Record<string, Comparison[]>;
  /** Per judge, win rates and Elo with intervals, in the order of OFFLINE_JUDGES. */
  reports: PairwiseReport[];
}

/**
 * The three offline judges over models that answered the same prompts.
 * Elo is sequential in prompt order; its intervals come from `samples`
 * seeded bootstrap replicates (default 1000).
 */
export function judgeReleasedOffline(
  byModel: Record<string, readonly ScoredOutput[]>,
  rewardModel: PromptAnswerScorer,
  options: { seed?: number; samples?: number } = {},
): OfflineJudging {
  const rewardModelScores: Record<string, number[]> = {};
  const rescored: Record<string, ScoredOutput[]> = {};
  for (const [model, records] of Object.entries(byModel)) {
    const scores = rewardModel.scorePairs(
      records.map((r) => r.prompt),
      records.map((r) => r.answer),
    );
    rewardModelScores[model] = scores;
    rescored[model] = records.map((r, i) => ({ ...r, reward: scores[i] }));
  }
  const judged: { judge: string; aspect: Aspect; comparisons: Comparison[] }[] = [
    { judge: OFFLINE_JUDGES.paperReward, aspect: "helpfulness", comparisons: comparisonsFromScoredOutputs(byModel, (r) => r.reward) },
    // Closer to the target is better, so the score is minus the distance.
    {
      judge: OFFLINE_JUDGES.valueDistance,
      aspect: "harmlessness",
      comparisons: comparisonsFromScoredOutputs(byModel, (r) => -r.e_distance),
    },
    { judge: OFFLINE_JUDGES.rewardModel, aspect: "helpfulness", comparisons: comparisonsFromScoredOutputs(rescored, (r) => r.reward) },
  ];
  return {
    rewardModelScores,
    comparisons: Object.fromEntries(judged.map((j) => [j.judge, j.comparisons])),
    reports: judged.map((j) => pairwiseReport(j.judge, j.aspect, j.comparisons, { seed: options.seed, samples: options.samples })),
  };
}

export interface RewardAgreement {
  model: string;
  pearson_with_paper_reward: number;
  spearman_with_paper_reward: number;
}

/** Per model, Pearson's and Spearman's correlation of the kit's reward-model scores with the released `reward` field. */
export function rewardModelAgreement(
  byModel: Record<string, readonly ScoredOutput[]>,
  rewardModelScores: Record<string, readonly number[]>,
): RewardAgreement[] {
  return Object.entries(byModel).map(([model, records]) => {
    const scores = rewardModelScores[model];
    if (!scores) throw new Error(`no reward-model scores for "${model}" (scored: ${Object.keys(rewardModelScores).join(", ") || "none"})`);
    const paper = records.map((r) => r.reward);
    return { model, pearson_with_paper_reward: pearson(scores, paper), spearman_with_paper_reward: spearman(scores, paper) };
  });
}

/** The share of comparisons (same pairs, same order) that two judges decide the same way (win, tie or loss). */
export function sameWinnerShare(a: readonly Comparison[], b: readonly Comparison[]): number {
  if (a.length !== b.length)
    throw new RangeError(`the two judges made ${a.length} and ${b.length} comparisons; compare the same pairs in the same order`);
  if (a.length === 0) return NaN;
  return a.filter((c, i) => c.score === b[i].score).length / a.length;
}

export interface ModelSafetyRate {
  model: string;
  rate: SafetyRate;
}

/** Elo of one pair of models under both rules, from the same verdicts. */
export interface EloRulesOfPair {
  aspect: string;
  a: string;
  b: string;
  original: EloRuleResult;
  standard: EloRuleResult;
}

/**
 * Both Elo rules over the pair verdicts between models `a` and `b`, in
 * prompt order, oriented so that `a` is always A (the judge saw the models
 * in alternating order). The original rule reads the judge's raw text its
 * own way (the first order's text when both orders were asked); the
 * standard rule uses the scores the kit read.
 */
export function eloRulesFromPairVerdicts(verdicts: readonly PairVerdict[], a: string, b: string, aspect = ""): EloRulesOfPair {
  const original: ReadScores[] = [];
  const standard: ReadScores[] = [];
  for (const v of verdicts) {
    const flipped = v.modelA === b && v.modelB === a;
    if (!flipped && !(v.modelA === a && v.modelB === b)) continue;
    const orient = (s: ReadScores): ReadScores => (s === null ? null : flipped ? { a: s.b, b: s.a } : s);
    original.push(orient(parseScoresOriginal(v.raw.split("\n---swapped---\n")[0])));
    standard.push(orient(v.scores));
  }
  return { aspect, a, b, original: originalRuleFromScores(original), standard: standardRuleFromScores(standard) };
}

/**
 * How many prompts an LLM judge sees: every one unless FULCRA_JUDGE_PROMPTS
 * sets a smaller number (the CI size).
 */
export function judgePromptLimit(source: NodeJS.ProcessEnv = process.env): number {
  return kitEnv(source).judgePrompts;
}

export interface EndpointJudging {
  /** The judge's name, `endpoint:<model>`. */
  judge: string;
  /** Prompts judged (all, or the first ones of each file when limited). */
  prompts: number;
  /** Where the verdicts are kept (rerunning reads them instead of asking again). */
  runDir: string;
  /** One pairwise report per aspect (helpfulness, harmlessness). */
  reports: PairwiseReport[];
  /** Both Elo rules for every aspect and pair of models. */
  eloRules: EloRulesOfPair[];
  /** Safety rate of each model's answers, by the kit's rule and the original's, unreadable verdicts counted. */
  safety: ModelSafetyRate[];
}

export interface EndpointJudgingOptions {
  /** Judge the first this many prompts (default: all of them; `judgePromptLimit()` reads the CI size). */
  prompts?: number;
  /** Folder of the resumable verdict files (default runs/hh-judge/<endpoint model>). */
  runDir?: string;
  /** Seed of the Elo bootstrap intervals (default 0). */
  seed?: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** No progress bars. */
  quiet?: boolean;
}

/**
 * An LLM judge on the first prompts: for each aspect, every pair of models
 * (the first-shown model alternating by prompt), turned into win rates and
 * Elo; then every model's answers judged safe or unsafe. Verdicts go to
 * `runDir`/<aspect>.jsonl and safety-<model>.jsonl, so a broken run resumes.
 */
export async function runEndpointJudging(
  client: ChatClient,
  byModel: Record<string, readonly ScoredOutput[]>,
  options: EndpointJudgingOptions = {},
): Promise<EndpointJudging> {
  const prompts = Math.min(options.prompts ?? Infinity, ...Object.values(byModel).map((r) => r.length));
  const judge = new EndpointJudge(client, { concurrency: options.concurrency ?? 4 });
  const runDir = options.runDir ?? join(kitPaths().runsDir, "hh-judge", client.model.replace(/[^A-Za-z0-9._-]/g, "_"));
  const pairs = pairItemsFromScoredOutputs(byModel, { limit: prompts });
  const reports: PairwiseReport[] = [];
  const eloRules: EloRulesOfPair[] = [];
  const names = Object.keys(byModel);
  for (const aspect of ["helpfulness", "harmlessness"] as const) {
    const verdicts = await judge.judgePairs(pairs, aspect, { outFile: join(runDir, `${aspect}.jsonl`), quiet: options.quiet });
    const { comparisons, malformed } = comparisonsFromPairVerdicts(verdicts);
    reports.push(pairwiseReport(`${judge.name} (${aspect})`, aspect, comparisons, { seed: options.seed, malformed: malformed.length }));
    for (let x = 0; x < names.length; x++)
      for (let y = x + 1; y < names.length; y++) eloRules.push(eloRulesFromPairVerdicts(verdicts, names[x], names[y], aspect));
  }
  const safety: ModelSafetyRate[] = [];
  for (const [model, records] of Object.entries(byModel)) {
    const items = safetyItemsFromScoredOutputs(model, records, { limit: prompts });
    const verdicts = await judge.judgeSafety(items, { outFile: join(runDir, `safety-${model}.jsonl`), quiet: options.quiet });
    safety.push({ model, rate: safetyRate(verdicts.map((v) => v.label)) });
  }
  return { judge: judge.name, prompts, runDir, reports, eloRules, safety };
}
