/**
 * Value metrics of a set of answers: the mean value vector (the model's
 * value profile) and each answer's distance to a target, in the paper's
 * three forms.
 */
import { BASIC_VALUES } from "../values/taxonomy.js";
import { meanVector, type ValueVector } from "../values/vectors.js";
import { euclideanToTarget, l1ToTarget, maskedValueDistance } from "./distance.js";

export interface ValueDistances {
  /** Euclidean distance over the target's non-zero dimensions (released `e_distance`). */
  e_distance: number;
  /** L1 distance over the target's non-zero dimensions (released `h_distance`). */
  h_distance: number;
  /** BaseAlign's Σ |v−t|·[|v| > τ]·|t|. */
  masked_distance: number;
}

/** The three distances of one value vector to a target. */
export function valueDistances(v: readonly number[], target: readonly number[], threshold = 0.3): ValueDistances {
  return {
    e_distance: euclideanToTarget(v, target),
    h_distance: l1ToTarget(v, target),
    masked_distance: maskedValueDistance(v, target, threshold),
  };
}

/** The mean value vector (10 numbers, paper order) of a set of answers. */
export function meanValueVector(vectors: readonly (readonly number[])[]): ValueVector {
  for (const v of vectors) {
    if (v.length !== BASIC_VALUES.length) throw new RangeError(`a value vector has ${v.length} numbers, expected ${BASIC_VALUES.length}`);
  }
  return meanVector(vectors);
}
