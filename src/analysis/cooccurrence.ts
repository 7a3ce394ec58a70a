/**
 * Which values are labelled together, and with which signs.
 *
 * Each record carries a set of signed labels ("benevolence +",
 * "universalism −", …; 20 possible). For every pair of signed labels we count
 * the records carrying both, and derive two readings of that count:
 * - conditional[i][j] = P(label j | label i) = count[i][j] / count[i][i];
 * - phi[i][j], the correlation of the two 0/1 indicators over all records
 *   (positive: labelled together more often than chance).
 */
import type { ColumnTable } from "arquero";
import { BASIC_VALUES } from "../values/taxonomy.js";

export interface SignedLabel {
  value: (typeof BASIC_VALUES)[number];
  sign: 1 | -1;
  /** "benevolence +" or "benevolence −". */
  name: string;
}

/** The 20 signed labels: every value aligned, then every value opposed, each in the paper's order. */
export const SIGNED_LABELS: readonly SignedLabel[] = [
  ...BASIC_VALUES.map((value) => ({ value, sign: 1 as const, name: `${value} +` })),
  ...BASIC_VALUES.map((value) => ({ value, sign: -1 as const, name: `${value} −` })),
];

export interface Cooccurrence {
  labels: readonly SignedLabel[];
  /** Records counted. */
  n: number;
  /** count[i][j]: records with both labels; the diagonal holds each label's record count. */
  counts: number[][];
  /** P(j | i); NaN when label i never occurs. */
  conditional: number[][];
  /** Phi coefficient of the two indicators; NaN when either is constant. */
  phi: number[][];
}

/** Co-occurrence from per-record aligned/opposed flags (arrays of 10 booleans each). */
export function signedCooccurrence(aligned: readonly (readonly boolean[])[], opposed: readonly (readonly boolean[])[]): Cooccurrence {
  if (aligned.length !== opposed.length)
    throw new RangeError(`signedCooccurrence: ${aligned.length} aligned rows but ${opposed.length} opposed rows`);
  const k = SIGNED_LABELS.length;
  const d = BASIC_VALUES.length;
  const counts = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const present: number[] = [];
  for (let r = 0; r < aligned.length; r++) {
    present.length = 0;
    for (let v = 0; v < d; v++) if (aligned[r][v]) present.push(v);
    for (let v = 0; v < d; v++) if (opposed[r][v]) present.push(d + v);
    for (const i of present) for (const j of present) counts[i][j]++;
  }
  const n = aligned.length;
  const conditional = counts.map((row, i) => row.map((c) => (counts[i][i] === 0 ? NaN : c / counts[i][i])));
  const phi = counts.map((row, i) =>
    row.map((both, j) => {
      const ci = counts[i][i];
      const cj = counts[j][j];
      const denominator = Math.sqrt(ci * (n - ci) * cj * (n - cj));
      return denominator === 0 ? NaN : (n * both - ci * cj) / denominator;
    }),
  );
  return { labels: SIGNED_LABELS, n, counts, conditional, phi };
}

/** Co-occurrence over the records of a `fulcraTable`. */
export function valueCooccurrence(table: ColumnTable): Cooccurrence {
  return signedCooccurrence(table.array("aligned") as unknown as boolean[][], table.array("opposed") as unknown as boolean[][]);
}

/** The same matrices restricted to labels that occur at least once (for readable heatmaps). */
export function occurringLabels(c: Cooccurrence): Cooccurrence {
  const keep = c.labels.map((_, i) => i).filter((i) => c.counts[i][i] > 0);
  const pick = (m: number[][]) => keep.map((i) => keep.map((j) => m[i][j]));
  return { labels: keep.map((i) => c.labels[i]), n: c.n, counts: pick(c.counts), conditional: pick(c.conditional), phi: pick(c.phi) };
}
