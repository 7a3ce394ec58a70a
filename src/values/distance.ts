/**
 * Distances between a value vector and a target, as the paper computes them:
 * e_distance, h_distance (the released fields) and BaseAlign's masked distance.
 */
import { VALUE_THRESHOLD } from "./threshold.js";

function checkLengths(v: readonly number[], t: readonly number[]): void {
  if (v.length !== t.length) throw new RangeError(`value vector has ${v.length} dimensions, target ${t.length}`);
}

/**
 * Euclidean distance over the target's non-zero dimensions only
 * (the released `e_distance`).
 */
export function euclideanToTarget(v: readonly number[], t: readonly number[]): number {
  checkLengths(v, t);
  let s = 0;
  for (let i = 0; i < t.length; i++) if (t[i] !== 0) s += (v[i] - t[i]) ** 2;
  return Math.sqrt(s);
}

/** L1 distance over the target's non-zero dimensions only (the released `h_distance`). */
export function l1ToTarget(v: readonly number[], t: readonly number[]): number {
  checkLengths(v, t);
  let s = 0;
  for (let i = 0; i < t.length; i++) if (t[i] !== 0) s += Math.abs(v[i] - t[i]);
  return s;
}

/**
 * BaseAlign's masked distance: Σ_d |v_d − t_d| · [|v_d| > threshold] · |t_d|.
 * Dimensions the evaluator sees no connection to (|v_d| ≤ threshold) and
 * dimensions the target does not care about (t_d = 0) cost nothing.
 * The BaseAlign reward is its negative.
 */
export function maskedValueDistance(v: readonly number[], t: readonly number[], threshold = VALUE_THRESHOLD): number {
  checkLengths(v, t);
  let s = 0;
  for (let i = 0; i < t.length; i++) if (Math.abs(v[i]) > threshold) s += Math.abs(v[i] - t[i]) * Math.abs(t[i]);
  return s;
}

export interface ValueDistances {
  /** Euclidean distance over the target's non-zero dimensions (released `e_distance`). */
  e_distance: number;
  /** L1 distance over the target's non-zero dimensions (released `h_distance`). */
  h_distance: number;
  /** BaseAlign's Σ |v−t|·[|v| > τ]·|t|. */
  masked_distance: number;
}

/** The three distances of one value vector to a target. */
export function valueDistances(v: readonly number[], target: readonly number[], threshold = VALUE_THRESHOLD): ValueDistances {
  return {
    e_distance: euclideanToTarget(v, target),
    h_distance: l1ToTarget(v, target),
    masked_distance: maskedValueDistance(v, target, threshold),
  };
}
