/**
 * The kit's statistics: mean, spread, quantiles, histograms and correlation
 * coefficients (score distributions, distances, agreement, training logs).
 * One implementation of each; analysis/stats.ts adds the significance tests.
 */

/** Arithmetic mean, summed left to right; NaN for an empty list (no mean is defined). */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (n − 1 in the denominator); 0 for a single number. */
export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/**
 * The q-quantile with linear interpolation between order statistics
 * (position q·(n−1); numpy's and R type 7's default).
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError("quantile of no numbers");
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile level must be in [0, 1], got ${q}`);
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
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

/**
 * Pearson's r of two equally long samples (the point-biserial r when one is
 * 0/1): Σ dx·dy / √(Σ dx² · Σ dy²) with d the deviations from the means.
 * NaN when there are no samples or either sample is constant (no
 * correlation is defined).
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new RangeError(`samples differ in length: ${x.length} and ${y.length}`);
  const n = x.length;
  if (n === 0) return NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  // Rounding can push |r| a hair past 1.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** Spearman rank correlation (average ranks for ties). */
export function spearman(xs: readonly number[], ys: readonly number[]): number {
  return pearson(ranks(xs), ranks(ys));
}

function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}
