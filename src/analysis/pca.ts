/**
 * Principal component analysis of value vectors (10 dimensions, a few
 * thousand points): small enough to do exactly.
 *
 * Steps: centre the data; form the sample covariance C = XᵀX / (n − 1);
 * diagonalise C with cyclic Jacobi rotations (C is symmetric, so its
 * eigenvectors are orthonormal); order components by variance; fix each
 * component's sign so its largest loading is positive (eigenvectors are
 * only defined up to sign, and a fixed rule keeps plots from flipping);
 * project the centred data on the leading components.
 */

export interface PcaConfig {
  /** Number of components to keep. */
  components: number;
  /** Stop the Jacobi sweeps when the off-diagonal mass falls below this. */
  tolerance: number;
  /** Upper bound on Jacobi sweeps (each sweep visits every off-diagonal pair once). */
  maxSweeps: number;
}

export const PCA_DEFAULTS: PcaConfig = { components: 2, tolerance: 1e-12, maxSweeps: 100 };

export interface PcaResult {
  /** Column means subtracted before projecting. */
  mean: number[];
  /** components[k] is the k-th unit direction (length = input dimension). */
  components: number[][];
  /** Variance along each kept component (an eigenvalue of C). */
  variance: number[];
  /** variance / total variance. */
  explainedRatio: number[];
  /** Projected points: coords[i][k] = (x_i − mean) · components[k]. */
  coords: number[][];
}

/** Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations. Eigenvalues unsorted. */
export function symmetricEigen(
  matrix: readonly (readonly number[])[],
  tolerance = PCA_DEFAULTS.tolerance,
  maxSweeps = PCA_DEFAULTS.maxSweeps,
): { values: number[]; vectors: number[][] } {
  const d = matrix.length;
  const a = matrix.map((row) => {
    if (row.length !== d) throw new RangeError(`symmetricEigen: expected a ${d}×${d} matrix`);
    return [...row];
  });
  // v accumulates the rotations; its columns become the eigenvectors.
  const v: number[][] = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)));
  const scale = Math.max(
    1e-300,
    a.reduce((s, row, i) => s + Math.abs(row[i]), 0),
  );
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p][q] * a[p][q];
    if (Math.sqrt(off) <= tolerance * scale) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        if (a[p][q] === 0) continue;
        // Choose the rotation angle that zeroes a[p][q]: tan(2θ) = 2a_pq / (a_qq − a_pp).
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          // Columns p and q of A ← A·J.
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          // Rows p and q of A ← Jᵀ·A.
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: a.map((row, i) => row[i]), vectors: Array.from({ length: d }, (_, j) => v.map((row) => row[j])) };
}

/** PCA of the rows of `data` (n points × d dimensions). */
export function pca(data: readonly (readonly number[])[], config: Partial<PcaConfig> = {}): PcaResult {
  const cfg = { ...PCA_DEFAULTS, ...config };
  const n = data.length;
  if (n < 2) throw new RangeError(`pca needs at least 2 points, got ${n}`);
  const d = data[0].length;
  if (cfg.components < 1 || cfg.components > d) throw new RangeError(`pca: components must be between 1 and ${d}, got ${cfg.components}`);

  // 1. Centre.
  const mean = new Array<number>(d).fill(0);
  for (const [i, row] of data.entries()) {
    if (row.length !== d) throw new RangeError(`pca: point ${i} has ${row.length} dimensions, expected ${d}`);
    for (let j = 0; j < d; j++) mean[j] += row[j] / n;
  }
  // 2. Sample covariance C = XᵀX / (n − 1) of the centred data.
  const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  const centred = new Float64Array(d);
  for (const row of data) {
    for (let j = 0; j < d; j++) centred[j] = row[j] - mean[j];
    for (let j = 0; j < d; j++) for (let k = j; k < d; k++) cov[j][k] += centred[j] * centred[k];
  }
  for (let j = 0; j < d; j++) {
    for (let k = j; k < d; k++) {
      cov[j][k] /= n - 1;
      cov[k][j] = cov[j][k];
    }
  }
  // 3. Eigen-decomposition, 4. sorted by variance.
  const eig = symmetricEigen(cov, cfg.tolerance, cfg.maxSweeps);
  const order = eig.values.map((_, i) => i).sort((a, b) => eig.values[b] - eig.values[a]);
  const total = eig.values.reduce((s, x) => s + Math.max(0, x), 0);
  const keep = order.slice(0, cfg.components);
  // 5. Sign rule: the loading of largest magnitude is positive.
  const components = keep.map((i) => {
    const vec = eig.vectors[i];
    let big = 0;
    for (let j = 1; j < d; j++) if (Math.abs(vec[j]) > Math.abs(vec[big]) + 1e-12) big = j;
    return vec[big] < 0 ? vec.map((x) => -x) : [...vec];
  });
  const variance = keep.map((i) => Math.max(0, eig.values[i]));
  // 6. Project.
  const coords = data.map((row) => components.map((c) => c.reduce((s, cj, j) => s + cj * (row[j] - mean[j]), 0)));
  return { mean, components, variance, explainedRatio: variance.map((x) => (total > 0 ? x / total : NaN)), coords };
}

/** Projects new points into an existing PCA space (same mean and components). */
export function pcaTransform(model: Pick<PcaResult, "mean" | "components">, data: readonly (readonly number[])[]): number[][] {
  return data.map((row, i) => {
    if (row.length !== model.mean.length)
      throw new RangeError(`pcaTransform: point ${i} has ${row.length} dimensions, expected ${model.mean.length}`);
    return model.components.map((c) => c.reduce((s, cj, j) => s + cj * (row[j] - model.mean[j]), 0));
  });
}
