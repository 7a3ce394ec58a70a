/**
 * The kit's statistics: mean, spread, quantiles, histograms and correlation
 * coefficients (score distributions, distances, agreement, training logs).
 * One implementation of each, on simple-statistics; this file fixes the
 * kit's behaviour at the edges (an empty list, a single number, a constant
 * sample), where the library throws or divides by zero. analysis/stats.ts
 * adds the significance tests.
 */
import { meanSimple, quantileSorted, sampleCorrelation, sampleRankCorrelation, sampleStandardDeviation } from "simple-statistics";

/** Arithmetic mean, summed left to right; NaN for an empty list (no mean is defined). */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  return meanSimple(xs as number[]);
}

/** Sample standard deviation (n − 1 in the denominator); 0 for a single number or none. */
export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  return sampleStandardDeviation(xs as number[]);
}

/**
 * The q-quantile with linear interpolation between order statistics
 * (position q·(n−1); numpy's and R type 7's default).
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError("quantile of no numbers");
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile level must be in [0, 1], got ${q}`);
  return quantileSorted(sorted as number[], q);
}

export interface Distribution {
  n: number;
  mean: number;
  std: number;
  min: number;
  q05: number;
  q25: number;
  median: number;
  q75: number;
  q95: number;
  max: number;
}

export function describeDistribution(xs: readonly number[]): Distribution {
  const s = [...xs].sort((a, b) => a - b);
  return {
    n: s.length,
    mean: mean(xs),
    std: std(xs),
    min: s[0],
    q05: quantile(s, 0.05),
    q25: quantile(s, 0.25),
    median: quantile(s, 0.5),
    q75: quantile(s, 0.75),
    q95: quantile(s, 0.95),
    max: s[s.length - 1],
  };
}

export interface Histogram {
  /** bins + 1 edges; bin i holds edges[i] ≤ x < edges[i+1] (the last bin also holds its right edge). */
  edges: number[];
  counts: number[];
  /** Values outside [edges[0], edges[bins]] (only when a fixed range was given). */
  outside: number;
}

/** Equal-width histogram over [min, max] of the data, or over a given range (shared axes across models). */
export function histogram(xs: readonly number[], options: { bins?: number; range?: [number, number] } = {}): Histogram {
  const bins = options.bins ?? 20;
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  // A loop, not Math.min(...xs): spreading >125k values into call arguments overflows the stack.
  let [lo, hi] = options.range ?? xs.reduce<[number, number]>(([a, b], x) => [Math.min(x, a), Math.max(x, b)], [Infinity, -Infinity]);
  if (xs.length === 0 && !options.range) [lo, hi] = [0, 1];
  if (hi === lo) hi = lo + 1;
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
  edges[bins] = hi;
  const counts = new Array<number>(bins).fill(0);
  let outside = 0;
  for (const x of xs) {
    if (x < lo || x > hi) {
      outside++;
      continue;
    }
    counts[Math.min(bins - 1, Math.floor((x - lo) / width))]++;
  }
  return { edges, counts, outside };
}

/** Neither sample may be empty, single or constant for a correlation to be defined. */
function correlationDefined(xs: readonly number[], ys: readonly number[]): boolean {
  if (xs.length !== ys.length) throw new RangeError(`samples differ in length: ${xs.length} and ${ys.length}`);
  return xs.length >= 2 && xs.some((v) => v !== xs[0]) && ys.some((v) => v !== ys[0]);
}

/**
 * Pearson's r of two equally long samples (the point-biserial r when one is
 * 0/1): covariance over the product of the standard deviations. NaN when
 * there are fewer than two samples or either sample is constant (no
 * correlation is defined).
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const xs = Array.from(x);
  const ys = Array.from(y);
  if (!correlationDefined(xs, ys)) return NaN;
  // Rounding can push |r| a hair past 1.
  return Math.max(-1, Math.min(1, sampleCorrelation(xs, ys)));
}

/** Spearman rank correlation (average ranks for ties); NaN where Pearson's r would be. */
export function spearman(xs: readonly number[], ys: readonly number[]): number {
  if (!correlationDefined(xs, ys)) return NaN;
  return Math.max(-1, Math.min(1, sampleRankCorrelation(xs as number[], ys as number[])));
}
