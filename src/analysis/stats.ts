/**
 * Correlation and its significance, written out so that every step can be checked.
 *
 * Pearson's r between a value score and a 0/1 category flag is the
 * point-biserial correlation. Its two-sided p-value under "no correlation"
 * comes from Student's t with n − 2 degrees of freedom:
 *
 *   t = r · sqrt((n − 2) / (1 − r²)),   p = I_{ν/(ν+t²)}(ν/2, 1/2),  ν = n − 2,
 *
 * where I_x(a, b) is the regularized incomplete beta function, evaluated here
 * by its continued fraction (modified Lentz's method).
 *
 * Pearson's r itself is the kit's one implementation in runtime/stats.ts.
 *
 * Why not jStat's distributions: its ln Γ (6-term Lanczos) and incomplete
 * beta are good to about 1e-9 to 1e-11 where this file's are good to
 * 1e-13 (measured on the fixtures of test/analysis-stats.test.ts: I_½(40.5,
 * 40.5) off by 5e-9, P(|T| > 1) with one degree of freedom by 3e-9), and
 * the p-values of Fig. 4(b) would move.
 */
import { pearson } from "../runtime/stats.js";

/** ln Γ(x) for x > 0, by the Lanczos approximation (g = 7, 9 terms; ~15 significant digits). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma needs x > 0, got ${x}`);
  // Reflection keeps the series accurate for small x: Γ(x)Γ(1−x) = π / sin(πx).
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let sum = coefficients[0];
  for (let i = 1; i < coefficients.length; i++) sum += coefficients[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/**
 * Continued fraction for I_x(a, b), without its prefactor:
 * 1 / (1 + d1 / (1 + d2 / (1 + …))) with
 *   d_{2m+1} = −(a+m)(a+b+m) x / ((a+2m)(a+2m+1)),
 *   d_{2m}   =  m(b−m) x / ((a+2m−1)(a+2m)).
 * It converges fast for x < (a+1)/(a+b+2); the caller uses symmetry otherwise.
 */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const epsilon = 1e-15;
  const maxTerms = 10_000;
  // Modified Lentz: f = C·D products, guarding zeros with `tiny`.
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let f = d;
  for (let m = 1; m <= maxTerms; m++) {
    const m2 = 2 * m;
    // Even step d_{2m}.
    let coef = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + coef * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + coef / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    f *= d * c;
    // Odd step d_{2m+1}.
    coef = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + coef * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + coef / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    f *= delta;
    if (Math.abs(delta - 1) < epsilon) return f;
  }
  throw new Error(`incomplete beta did not converge for x=${x}, a=${a}, b=${b}`);
}

/** The regularized incomplete beta function I_x(a, b) for 0 ≤ x ≤ 1, a, b > 0. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`incomplete beta needs a, b > 0, got a=${a}, b=${b}`);
  if (!(x >= 0 && x <= 1)) throw new RangeError(`incomplete beta needs 0 ≤ x ≤ 1, got ${x}`);
  if (x === 0) return 0;
  if (x === 1) return 1;
  // Prefactor x^a (1−x)^b / B(a, b), in logs to avoid overflow.
  const front = Math.exp(a * Math.log(x) + b * Math.log1p(-x) - logBeta(a, b));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  // I_x(a, b) = 1 − I_{1−x}(b, a).
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** Two-sided p-value of Student's t statistic with `df` degrees of freedom: P(|T| ≥ |t|). */
export function studentTTwoSidedP(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be positive, got ${df}`);
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
}

export interface CorrelationTest {
  /** Pearson's r; NaN when either variable is constant (no correlation is defined). */
  r: number;
  /** Student's t for H0: r = 0 (NaN when undefined). */
  t: number;
  /** Two-sided p-value (NaN when undefined). */
  p: number;
  /** Samples behind the number. */
  n: number;
}

/** Pearson's r with its t statistic and two-sided p-value. */
export function correlationTest(x: ArrayLike<number>, y: ArrayLike<number>): CorrelationTest {
  const n = x.length;
  const r = pearson(x, y);
  if (Number.isNaN(r) || n < 3) return { r, t: NaN, p: NaN, n };
  const df = n - 2;
  if (Math.abs(r) === 1) return { r, t: r * Infinity, p: 0, n };
  const t = r * Math.sqrt(df / (1 - r * r));
  return { r, t, p: studentTTwoSidedP(t, df), n };
}

/** Stars for a p-value, as printed in the heatmaps: *** < 0.001, ** < 0.01, * < 0.05. */
export function significanceStars(p: number): string {
  if (!(p >= 0)) return "";
  if (p < 0.001) return "***";
  if (p < 0.01) return "**";
  if (p < 0.05) return "*";
  return "";
}
