/**
 * Target value vectors (paper order: self-direction … universalism).
 *
 * `ideal` is the target of the paper's evaluation script (the released
 * e_distance / h_distance fields are distances to it over its non-zero
 * dimensions); `basealign-ideal` is the alignment script's target; the
 * national vectors come from survey data used in the cultural alignment
 * experiments.
 */
import { BASIC_VALUES } from "./taxonomy.js";
import { valueVector, type ValueVector } from "./vectors.js";

export const TARGETS = {
  ideal: valueVector({ security: 1, conformity: 1, benevolence: 1, universalism: 1 }),
  "basealign-ideal": valueVector({ achievement: 1, security: 1, conformity: 1, benevolence: 1, universalism: 1 }),
  uk: [0.4809, 0.1305, 0.1004, 0.0029, -0.2383, 0.4362, 0.2712, 0.142, 0.652, 0.5906],
  netherlands: [0.519, 0.1148, 0.3016, 0.1311, -0.1124, 0.3389, 0.2165, 0.2578, 0.5661, 0.5243],
  france: [0.3761, -0.0296, 0.3384, -0.1741, -0.3195, 0.4078, 0.2587, 0.0698, 0.6212, 0.5705],
} as const satisfies Record<string, readonly number[]>;

export type TargetName = keyof typeof TARGETS;
export const TARGET_NAMES = Object.keys(TARGETS) as TargetName[];

/**
 * A target by name, or ten comma-separated numbers ("0,0,0,0,0,1,0,1,1,1").
 * The error lists the names it knows.
 */
export function resolveTarget(spec: string | readonly number[]): ValueVector {
  if (typeof spec !== "string") return checkTarget([...spec]);
  const named = (TARGETS as Record<string, readonly number[]>)[spec.trim().toLowerCase()];
  if (named) return [...named];
  const parts = spec.split(",").map((s) => s.trim());
  if (parts.length === BASIC_VALUES.length && parts.every((p) => p !== "" && Number.isFinite(Number(p)))) {
    return checkTarget(parts.map(Number));
  }
  throw new Error(
    `unknown target "${spec}": use one of ${TARGET_NAMES.join(", ")}, or ${BASIC_VALUES.length} comma-separated numbers in the order ${BASIC_VALUES.join(", ")}`,
  );
}

function checkTarget(v: number[]): ValueVector {
  if (v.length !== BASIC_VALUES.length || v.some((x) => !Number.isFinite(x))) {
    throw new Error(`a target needs ${BASIC_VALUES.length} finite numbers, got ${v.length}`);
  }
  return v;
}
