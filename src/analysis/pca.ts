/**
 * Principal component analysis of value vectors (10 dimensions, a few
 * thousand points), on ml-pca.
 *
 * Steps: centre the data; form the sample covariance C = XᵀX / (n − 1) and
 * diagonalise it (ml-pca's "covarianceMatrix" method: ml-matrix's symmetric
 * eigen-decomposition, components ordered by variance); fix each
 * component's sign so its largest loading is positive (eigenvectors are
 * only defined up to sign, and a fixed rule keeps plots from flipping);
 * project the centred data on the leading components.
 */
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { PCA } from "ml-pca";

export interface PcaConfig {
  /** Number of components to keep. */
  components: number;
}

export const PCA_DEFAULTS: PcaConfig = { components: 2 };

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

/** Eigen-decomposition of a symmetric matrix (ml-matrix). Eigenvalues unsorted; vectors[k] belongs to values[k]. */
export function symmetricEigen(matrix: readonly (readonly number[])[]): { values: number[]; vectors: number[][] } {
  const d = matrix.length;
  for (const row of matrix) if (row.length !== d) throw new RangeError(`symmetricEigen: expected a ${d}×${d} matrix`);
  const evd = new EigenvalueDecomposition(new Matrix(matrix.map((row) => [...row])), { assumeSymmetric: true });
  const v = evd.eigenvectorMatrix;
  return { values: [...evd.realEigenvalues], vectors: Array.from({ length: d }, (_, k) => v.getColumn(k)) };
}

/** The sign rule: the loading of largest magnitude is positive (the first one on a near tie). */
function signFixed(vec: readonly number[]): number[] {
  let big = 0;
  for (let j = 1; j < vec.length; j++) if (Math.abs(vec[j]) > Math.abs(vec[big]) + 1e-12) big = j;
  return vec[big] < 0 ? vec.map((x) => -x) : [...vec];
}

/** PCA of the rows of `data` (n points × d dimensions). */
export function pca(data: readonly (readonly number[])[], config: Partial<PcaConfig> = {}): PcaResult {
  const cfg = { ...PCA_DEFAULTS, ...config };
  const n = data.length;
  if (n < 2) throw new RangeError(`pca needs at least 2 points, got ${n}`);
  const d = data[0].length;
  if (cfg.components < 1 || cfg.components > d) throw new RangeError(`pca: components must be between 1 and ${d}, got ${cfg.components}`);
  for (const [i, row] of data.entries()) {
    if (row.length !== d) throw new RangeError(`pca: point ${i} has ${row.length} dimensions, expected ${d}`);
  }
  const model = new PCA(
    data.map((row) => [...row]),
    { method: "covarianceMatrix", center: true, scale: false },
  );
  const eigenvectors = model.getEigenvectors();
  // Rounding can leave a zero-variance direction a hair below 0.
  const eigenvalues = model.getEigenvalues().map((x) => Math.max(0, x));
  const total = eigenvalues.reduce((s, x) => s + x, 0);
  const components = Array.from({ length: cfg.components }, (_, k) => signFixed(eigenvectors.getColumn(k)));
  const variance = eigenvalues.slice(0, cfg.components);
  const mean = [...(model.toJSON().means as number[])];
  return {
    mean,
    components,
    variance,
    explainedRatio: variance.map((x) => (total > 0 ? x / total : NaN)),
    coords: pcaTransform({ mean, components }, data),
  };
}

/** Projects new points into an existing PCA space (same mean and components). */
export function pcaTransform(model: Pick<PcaResult, "mean" | "components">, data: readonly (readonly number[])[]): number[][] {
  return data.map((row, i) => {
    if (row.length !== model.mean.length)
      throw new RangeError(`pcaTransform: point ${i} has ${row.length} dimensions, expected ${model.mean.length}`);
    return model.components.map((c) => c.reduce((s, cj, j) => s + cj * (row[j] - model.mean[j]), 0));
  });
}
