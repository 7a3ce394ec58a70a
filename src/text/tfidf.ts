/**
 * TF-IDF vectors over hashed n-grams: the classic sparse text representation,
 * used by the kit's linear baselines.
 *
 * weight(t, d) = (1 + ln tf(t, d)) · ln((1 + N) / (1 + df(t))) + 1, then the
 * document vector is scaled to unit length. (Sublinear tf and smoothed idf,
 * the usual choices for short texts.)
 */
import { HashedVocabulary, documentFrequencies } from "./vocabulary.js";

export interface SparseVector {
  /** Vocabulary rows, ascending. */
  indices: Int32Array;
  values: Float32Array;
}

export class TfIdf {
  constructor(
    readonly vocabulary: HashedVocabulary,
    /** idf of each vocabulary row. */
    readonly idf: Float32Array,
  ) {}

  /** Learns the vocabulary (ids in ≥ minDocuments documents) and the idf weights. */
  static fit(documents: readonly (readonly number[])[], minDocuments = 2): TfIdf {
    const df = documentFrequencies(documents);
    const vocabulary = HashedVocabulary.fit(documents, minDocuments);
    const n = documents.length;
    const idf = Float32Array.from(vocabulary.ids, (id) => Math.log((1 + n) / (1 + (df.get(id) ?? 0))) + 1);
    return new TfIdf(vocabulary, idf);
  }

  transform(ids: readonly number[]): SparseVector {
    const { rows, counts } = this.vocabulary.bag(ids);
    const order = Array.from(rows.keys()).sort((a, b) => rows[a] - rows[b]);
    const indices = Int32Array.from(order, (k) => rows[k]);
    const values = Float32Array.from(order, (k) => (1 + Math.log(counts[k])) * this.idf[rows[k]]);
    let norm = 0;
    for (const v of values) norm += v * v;
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = 0; i < values.length; i++) values[i] /= norm;
    return { indices, values };
  }
}
