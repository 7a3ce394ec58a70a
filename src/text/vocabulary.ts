/**
 * A vocabulary over hashed n-gram ids.
 *
 * Hashing into many buckets keeps collisions rare but leaves most buckets
 * unused; a model only needs rows for the ids that occur in enough training
 * documents. The vocabulary numbers those ids 0..size-1 and maps every other
 * id to "unknown" (−1), which the models ignore. It is stored as the sorted
 * list of kept ids, so no strings have to be saved.
 */

export class HashedVocabulary {
  private readonly rows: Map<number, number>;

  /** `ids`: the kept hash ids, sorted ascending; row i belongs to ids[i]. */
  constructor(readonly ids: Int32Array) {
    this.rows = new Map();
    for (let i = 0; i < ids.length; i++) {
      if (i > 0 && ids[i] <= ids[i - 1]) throw new Error(`vocabulary ids must be strictly increasing (position ${i})`);
      this.rows.set(ids[i], i);
    }
  }

  /** Keeps the ids that occur in at least `minDocuments` of the documents (each a list of ids). */
  static fit(documents: Iterable<readonly number[]>, minDocuments: number): HashedVocabulary {
    const df = documentFrequencies(documents);
    const kept = [...df.entries()].filter(([, n]) => n >= minDocuments).map(([id]) => id);
    kept.sort((a, b) => a - b);
    return new HashedVocabulary(Int32Array.from(kept));
  }

  get size(): number {
    return this.ids.length;
  }

  /** Row of a hash id, or −1 when it is not in the vocabulary. */
  row(id: number): number {
    return this.rows.get(id) ?? -1;
  }

  /** Known ids of a document as distinct rows with their counts (unknown ids are left out). */
  bag(ids: readonly number[]): { rows: Int32Array; counts: Float32Array } {
    const counts = new Map<number, number>();
    for (const id of ids) {
      const r = this.rows.get(id);
      if (r !== undefined) counts.set(r, (counts.get(r) ?? 0) + 1);
    }
    const rows = Int32Array.from(counts.keys());
    return { rows, counts: Float32Array.from(rows, (r) => counts.get(r)!) };
  }
}

/** In how many documents each id occurs. */
export function documentFrequencies(documents: Iterable<readonly number[]>): Map<number, number> {
  const df = new Map<number, number>();
  for (const doc of documents) for (const id of new Set(doc)) df.set(id, (df.get(id) ?? 0) + 1);
  return df;
}
