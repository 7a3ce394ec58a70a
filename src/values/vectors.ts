/** Value vectors: plain number arrays in a fixed order (10 basic, 19 refined or 54 items). */
import { BASIC_VALUES, type BasicValue } from "./taxonomy.js";
import { VALUE_THRESHOLD } from "./threshold.js";

export type ValueVector = number[];

/** Builds a 10-dim vector in the paper's order from a partial name → score map. */
export function valueVector(scores: Partial<Record<BasicValue, number>>): ValueVector {
  return BASIC_VALUES.map((v) => scores[v] ?? 0);
}

/** Names the dimensions of a 10-dim vector. */
export function namedValues(vector: readonly number[]): Record<BasicValue, number> {
  if (vector.length !== BASIC_VALUES.length) {
    throw new RangeError(`expected ${BASIC_VALUES.length} values in the paper's order, got ${vector.length}`);
  }
  return Object.fromEntries(BASIC_VALUES.map((v, i) => [v, vector[i]])) as Record<BasicValue, number>;
}

/** Maps a continuous score to −1 / 0 / +1 with a dead zone of ±threshold (τ in the paper). */
export function polarity(score: number, threshold = VALUE_THRESHOLD): -1 | 0 | 1 {
  if (score > threshold) return 1;
  if (score < -threshold) return -1;
  return 0;
}

/** Element-wise mean of equally long vectors. */
export function meanVector(vectors: readonly (readonly number[])[]): ValueVector {
  if (vectors.length === 0) throw new RangeError("mean of no vectors");
  const d = vectors[0].length;
  const sum = new Array<number>(d).fill(0);
  for (const v of vectors) {
    if (v.length !== d) throw new RangeError(`vectors of different lengths: ${d} and ${v.length}`);
    for (let i = 0; i < d; i++) sum[i] += v[i];
  }
  return sum.map((s) => s / vectors.length);
}

/** The mean value vector (10 numbers, paper order) of a set of answers: the model's value profile. */
export function meanValueVector(vectors: readonly (readonly number[])[]): ValueVector {
  for (const v of vectors) {
    if (v.length !== BASIC_VALUES.length) throw new RangeError(`a value vector has ${v.length} numbers, expected ${BASIC_VALUES.length}`);
  }
  return meanVector(vectors);
}
