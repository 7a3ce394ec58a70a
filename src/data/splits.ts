/** Train / validation splits of labelled records. */
import { seededRandom, shuffled } from "../runtime/random.js";

export interface Split<T> {
  train: T[];
  valid: T[];
}

/** The original's split: the first `trainFraction` of the file (in file order) trains, the rest validates. */
export function fileOrderSplit<T>(records: readonly T[], trainFraction = 0.9): Split<T> {
  checkFraction(trainFraction);
  const cut = Math.floor(records.length * trainFraction);
  return { train: records.slice(0, cut), valid: records.slice(cut) };
}

/** A seeded shuffled split; the same seed gives the same split on every machine. */
export function shuffledSplit<T>(records: readonly T[], seed: number, trainFraction = 0.9): Split<T> {
  checkFraction(trainFraction);
  return fileOrderSplit(shuffled(records, seededRandom(seed)), trainFraction);
}

/** Splits by a key: every record of the held-out group goes to `valid` (e.g. leave one model out). */
export function leaveGroupOut<T>(records: readonly T[], group: (r: T) => string, heldOut: string): Split<T> {
  const train: T[] = [];
  const valid: T[] = [];
  for (const r of records) (group(r) === heldOut ? valid : train).push(r);
  return { train, valid };
}

function checkFraction(f: number): void {
  if (!(f > 0 && f < 1)) throw new RangeError(`trainFraction must be between 0 and 1, got ${f}`);
}
