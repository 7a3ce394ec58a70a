/**
 * Text to features, shared by the kit's text models (value evaluator,
 * helpfulness reward model, baselines).
 *
 * Words are lower-cased runs of letters/digits (apostrophes kept inside
 * words) and single punctuation marks. Features are word n-grams hashed
 * into a fixed number of buckets (the "hashing trick"), so no vocabulary
 * has to be stored and unseen words still land somewhere.
 */

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)*|[^\s\p{L}\p{N}]/gu;

export function tokenize(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** 32-bit FNV-1a hash of a string. */
export function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export interface HashingOptions {
  /** Number of hash buckets (feature ids are in [0, buckets)). */
  buckets: number;
  /** Longest n-gram (1 = words only, 2 = words and bigrams, ...). */
  maxN?: number;
  /** Prefix mixed into the hash, so that different fields (prompt, answer) get different ids. */
  namespace?: string;
}

/** The hashed n-gram ids of a token list, in order of appearance (with repeats). */
export function hashedNgrams(tokens: readonly string[], options: HashingOptions): number[] {
  const maxN = options.maxN ?? 2;
  const ns = options.namespace ?? "";
  const out: number[] = [];
  for (let n = 1; n <= maxN; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const gram = n === 1 ? tokens[i] : tokens.slice(i, i + n).join(" ");
      out.push(fnv1a(`${ns}${n}:${gram}`) % options.buckets);
    }
  }
  return out;
}

/** Hashed n-gram counts as a sparse map id → count. */
export function hashedCounts(text: string, options: HashingOptions): Map<number, number> {
  const counts = new Map<number, number>();
  for (const id of hashedNgrams(tokenize(text), options)) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}
