/**
 * UMAP projection of value vectors to 2-D, seeded and deterministic.
 *
 * umap-js draws all its randomness (random-projection trees, neighbour
 * descent, initial layout, negative sampling) from the `random` function we
 * give it, so one seed gives one layout on every machine.
 *
 * FULCRA's labelled vectors take values in {−1, 0, +1}: a few hundred
 * distinct vectors stand for thousands of records. Identical points give
 * UMAP zero distances and make it slow, so the distinct vectors are embedded
 * once and every record takes its vector's position, plus a small seeded
 * jitter (a share of the layout's extent) so that stacked records stay visible.
 *
 * The nearest neighbours are found exactly, by brute force: for a few
 * thousand 10-dim points that is faster than umap-js's approximate search,
 * and exact neighbours leave one less approximation in the picture.
 */
import { UMAP } from "umap-js";
import { normal, seededRandom } from "../runtime/random.js";

export interface UmapConfig {
  /** Seed of every random draw (layout, neighbour search, sampling, jitter). */
  seed: number;
  /** Neighbours that define the local structure (lowered when there are fewer distinct points). */
  nNeighbors: number;
  /** How tightly points may pack in the layout. */
  minDist: number;
  /** Optimisation epochs (umap-js would pick 500 for small data; 200 is visually the same here and faster). */
  nEpochs: number;
  /** Standard deviation of the display jitter, as a share of the layout's larger extent (0 = none). */
  jitter: number;
}

export const UMAP_DEFAULTS: UmapConfig = { seed: 20240601, nNeighbors: 15, minDist: 0.1, nEpochs: 200, jitter: 0.01 };

export interface UmapResult {
  /** One 2-D point per input row. */
  coords: number[][];
  /** Distinct vectors that were embedded. */
  distinct: number;
  /** Neighbours actually used. */
  nNeighbors: number;
  config: UmapConfig;
}

/** Embeds the rows of `data` in 2-D with UMAP. */
export function umapProject(data: readonly (readonly number[])[], config: Partial<UmapConfig> = {}): UmapResult {
  const cfg: UmapConfig = { ...UMAP_DEFAULTS, ...config };

  // 1. Distinct vectors, and which one each row is.
  const indexOf = new Map<string, number>();
  const distinct: number[][] = [];
  const rowToDistinct = data.map((row) => {
    const key = row.join(",");
    let k = indexOf.get(key);
    if (k === undefined) {
      k = distinct.length;
      indexOf.set(key, k);
      distinct.push([...row]);
    }
    return k;
  });
  if (distinct.length < 3) {
    throw new RangeError(`umapProject needs at least 3 distinct points, got ${distinct.length} (from ${data.length} rows)`);
  }

  // 2. Exact neighbours (each point is its own first neighbour, as UMAP expects).
  const nNeighbors = Math.min(cfg.nNeighbors, distinct.length - 1);
  const knn = exactNeighbours(distinct, nNeighbors);

  // 3. Embed the distinct vectors; one seeded generator drives all of UMAP's draws.
  const umap = new UMAP({ nComponents: 2, nNeighbors, minDist: cfg.minDist, nEpochs: cfg.nEpochs, random: seededRandom(cfg.seed) });
  umap.setPrecomputedKNN(knn.indices, knn.distances);
  const layout = umap.fit(distinct);

  // 4. Back to rows, with seeded jitter scaled to the layout.
  let extent = 0;
  for (let axis = 0; axis < 2; axis++) {
    const xs = layout.map((p) => p[axis]);
    extent = Math.max(extent, Math.max(...xs) - Math.min(...xs));
  }
  const sd = cfg.jitter * extent;
  const random = seededRandom(cfg.seed ^ 0x5bd1e995);
  const coords = rowToDistinct.map((k) => {
    const [x, y] = layout[k];
    return sd > 0 ? [x + sd * normal(random), y + sd * normal(random)] : [x, y];
  });
  return { coords, distinct: distinct.length, nNeighbors, config: cfg };
}

/**
 * The k nearest neighbours of every point by Euclidean distance, counting
 * the point itself as the first (UMAP's convention: k includes the point).
 * Ties go to the lower index, so the result is fully determined.
 */
export function exactNeighbours(points: readonly (readonly number[])[], k: number): { indices: number[][]; distances: number[][] } {
  const n = points.length;
  if (k < 1 || k >= n) throw new RangeError(`exactNeighbours: k must be between 1 and ${n - 1}, got ${k}`);
  const d = points[0].length;
  const flat = new Float64Array(n * d);
  points.forEach((p, i) => {
    if (p.length !== d) throw new RangeError(`exactNeighbours: point ${i} has ${p.length} dimensions, expected ${d}`);
    for (let j = 0; j < d; j++) flat[i * d + j] = p[j];
  });
  const size = k;
  const bestIndex = new Int32Array(size);
  const bestDist = new Float64Array(size);
  const indices: number[][] = [];
  const distances: number[][] = [];
  for (let i = 0; i < n; i++) {
    let filled = 0;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) {
        const z = flat[i * d + c] - flat[j * d + c];
        s += z * z;
      }
      // The point itself sorts first: distance −1 stands in for its 0.
      const key = j === i ? -1 : s;
      if (filled === size && key >= bestDist[size - 1]) continue;
      // Insertion into the sorted short list (j grows, so equal keys keep the lower index first).
      let p = filled < size ? filled++ : size - 1;
      while (p > 0 && bestDist[p - 1] > key) {
        bestDist[p] = bestDist[p - 1];
        bestIndex[p] = bestIndex[p - 1];
        p--;
      }
      bestDist[p] = key;
      bestIndex[p] = j;
    }
    indices.push(Array.from(bestIndex));
    distances.push(Array.from(bestDist, (x) => (x < 0 ? 0 : Math.sqrt(x))));
  }
  return { indices, distances };
}
