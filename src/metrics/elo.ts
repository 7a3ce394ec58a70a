/**
 * Pairwise comparisons → ratings and rates.
 *
 * Standard Elo, the kit's rule: every model starts at 1000, and each
 * comparison, in the order given, moves both ratings by
 *
 *     E_A = 1 / (1 + 10^((R_B − R_A) / 400)),   R_A ← R_A + K (S_A − E_A),
 *     R_B ← R_B + K ((1 − S_A) − (1 − E_A)),    K = 32,
 *
 * with S_A = 1 for a win of A, ½ for a tie, 0 for a loss. This is *not* what
 * the original evaluation script does: it feeds the judge's raw 0–10 scores
 * in place of S_A and S_B (see `elo-rules.ts` and DEVIATIONS.md, row
 * "elo-rule"). Sequential Elo depends on the order of the comparisons, which
 * the original leaves fixed; `bootstrapElo` shows how much the ratings move
 * when the order (and the sample) changes, as percentile confidence intervals.
 */
import { seededRandom, shuffled } from "../runtime/random.js";
import { quantile } from "../runtime/stats.js";

/** One judged comparison: `score` is A's result (1 win, 0.5 tie, 0 loss). */
export interface Comparison {
  a: string;
  b: string;
  score: 0 | 0.5 | 1;
}

export interface EloOptions {
  /** Starting rating of every model (1000). */
  start?: number;
  /** Step size K (32). */
  k?: number;
  /** Logistic scale: a gap of `scale` points means 10:1 odds (400). */
  scale?: number;
}

/** Expected score of a player rated `ra` against one rated `rb`. */
export function expectedScore(ra: number, rb: number, scale = 400): number {
  return 1 / (1 + 10 ** ((rb - ra) / scale));
}

/** Sequential Elo over the comparisons in the order given. Models appear in order of first appearance. */
export function eloRatings(comparisons: readonly Comparison[], options: EloOptions = {}): Map<string, number> {
  const start = options.start ?? 1000;
  const k = options.k ?? 32;
  const scale = options.scale ?? 400;
  const ratings = new Map<string, number>();
  for (const c of comparisons) {
    if (c.a === c.b) throw new Error(`a comparison of "${c.a}" with itself`);
    if (c.score !== 0 && c.score !== 0.5 && c.score !== 1) throw new Error(`comparison score must be 0, 0.5 or 1, got ${c.score}`);
    const ra = ratings.get(c.a) ?? start;
    const rb = ratings.get(c.b) ?? start;
    const ea = expectedScore(ra, rb, scale);
    ratings.set(c.a, ra + k * (c.score - ea));
    ratings.set(c.b, rb + k * (1 - c.score - (1 - ea)));
  }
  return ratings;
}

export interface EloInterval {
  model: string;
  /** Elo over the comparisons in their given order. */
  elo: number;
  /** Median and percentile interval over the bootstrap replicates. */
  median: number;
  lower: number;
  upper: number;
}

export interface BootstrapOptions extends EloOptions {
  /** Replicates (default 1000). */
  samples?: number;
  seed?: number;
  /** Interval level (default 0.95). */
  level?: number;
  /**
   * true (default): each replicate draws n comparisons with replacement, in
   * random order. false: each replicate is a random permutation (order only).
   */
  resample?: boolean;
}

/** Elo with bootstrap intervals over the order (and sample) of the comparisons, seeded. */
export function bootstrapElo(comparisons: readonly Comparison[], options: BootstrapOptions = {}): EloInterval[] {
  const samples = options.samples ?? 1000;
  const level = options.level ?? 0.95;
  const random = seededRandom(options.seed ?? 0);
  const base = eloRatings(comparisons, options);
  const draws = new Map<string, number[]>([...base.keys()].map((m) => [m, []]));
  const n = comparisons.length;
  for (let s = 0; s < samples; s++) {
    const replicate =
      options.resample === false ? shuffled(comparisons, random) : Array.from({ length: n }, () => comparisons[Math.floor(random() * n)]);
    const r = eloRatings(replicate, options);
    // A model absent from a resample keeps its starting rating.
    for (const [m, list] of draws) list.push(r.get(m) ?? options.start ?? 1000);
  }
  const tail = (1 - level) / 2;
  return [...base.entries()].map(([model, elo]) => {
    const sorted = draws.get(model)!.sort((x, y) => x - y);
    return { model, elo, median: quantile(sorted, 0.5), lower: quantile(sorted, tail), upper: quantile(sorted, 1 - tail) };
  });
}

export interface WinRecord {
  model: string;
  games: number;
  wins: number;
  ties: number;
  losses: number;
  win_rate: number;
  tie_rate: number;
  loss_rate: number;
}

/** Wins, ties and losses of each model over all its comparisons. */
export function winRates(comparisons: readonly Comparison[]): WinRecord[] {
  const rec = new Map<string, { wins: number; ties: number; losses: number }>();
  const get = (m: string) => rec.get(m) ?? (rec.set(m, { wins: 0, ties: 0, losses: 0 }), rec.get(m)!);
  for (const c of comparisons) {
    const a = get(c.a);
    const b = get(c.b);
    if (c.score === 1) a.wins++, b.losses++;
    else if (c.score === 0) a.losses++, b.wins++;
    else a.ties++, b.ties++;
  }
  return [...rec.entries()].map(([model, r]) => {
    const games = r.wins + r.ties + r.losses;
    return { model, games, ...r, win_rate: r.wins / games, tie_rate: r.ties / games, loss_rate: r.losses / games };
  });
}

/** A's record against B only (comparisons in either orientation). */
export function headToHead(comparisons: readonly Comparison[], a: string, b: string): WinRecord {
  const oriented = comparisons
    .filter((c) => (c.a === a && c.b === b) || (c.a === b && c.b === a))
    .map((c) => (c.a === a ? c : { a, b, score: (1 - c.score) as Comparison["score"] }));
  return (
    winRates(oriented).find((r) => r.model === a) ?? {
      model: a,
      games: 0,
      wins: 0,
      ties: 0,
      losses: 0,
      win_rate: NaN,
      tie_rate: NaN,
      loss_rate: NaN,
    }
  );
}

export interface PairwiseReport {
  judge: string;
  aspect: string;
  comparisons: number;
  malformed: number;
  winRates: WinRecord[];
  elo: EloInterval[];
}

/** Win rates and Elo (in the given order) with seeded bootstrap intervals. */
export function pairwiseReport(
  judge: string,
  aspect: string,
  comparisons: readonly Comparison[],
  options: { malformed?: number; seed?: number; samples?: number } = {},
): PairwiseReport {
  return {
    judge,
    aspect,
    comparisons: comparisons.length,
    malformed: options.malformed ?? 0,
    winRates: winRates(comparisons),
    elo: bootstrapElo(comparisons, { seed: options.seed ?? 0, samples: options.samples ?? 1000 }),
  };
}
