import { test } from "node:test";
import assert from "node:assert/strict";
import {
  exactNeighbours,
  pca,
  pcaTransform,
  symmetricEigen,
  umapProject,
  projectValueSpace,
  safeUnsafeSeparation,
  type ValueSpacePoint,
} from "../src/analysis/index.js";
import { seededRandom, normal } from "../src/runtime/random.js";

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: expected ${expected}, got ${actual}`);

test("Jacobi eigen-decomposition of a 2×2 symmetric matrix", () => {
  // [[2, 1], [1, 2]] has eigenvalues 3 (direction (1,1)/√2) and 1 (direction (1,−1)/√2).
  const { values, vectors } = symmetricEigen([
    [2, 1],
    [1, 2],
  ]);
  const order = values.map((_, i) => i).sort((a, b) => values[b] - values[a]);
  close(values[order[0]], 3, 1e-12, "λ1");
  close(values[order[1]], 1, 1e-12, "λ2");
  const v = vectors[order[0]];
  close(Math.abs(v[0]), Math.SQRT1_2, 1e-12, "v1[0]");
  close(v[0] * v[1], 0.5, 1e-12, "v1 along (1,1)");
});

test("PCA on a fixture with a known answer", () => {
  // Points (±2, 0), (0, ±1) rotated by 45°: the first component is (1,1)/√2 with
  // variance Σx²/(n−1) = 8/3, the second (−1,1)/√2 (sign rule: largest loading positive → (1,−1)/√2 or (−1,1)/√2)
  // with variance 2/3; explained ratios 0.8 and 0.2. The third dimension is constant.
  const r = Math.SQRT1_2;
  const base = [
    [2, 0],
    [-2, 0],
    [0, 1],
    [0, -1],
  ];
  const data = base.map(([a, b]) => [r * (a - b), r * (a + b), 5]);
  const res = pca(data, { components: 2 });
  assert.deepEqual(
    res.mean.map((x) => Math.round(x * 1e12) / 1e12),
    [0, 0, 5],
  );
  close(res.variance[0], 8 / 3, 1e-12, "variance PC1");
  close(res.variance[1], 2 / 3, 1e-12, "variance PC2");
  close(res.explainedRatio[0], 0.8, 1e-12, "ratio PC1");
  close(res.explainedRatio[1], 0.2, 1e-12, "ratio PC2");
  close(res.components[0][0], r, 1e-12, "PC1 x");
  close(res.components[0][1], r, 1e-12, "PC1 y");
  close(Math.abs(res.components[1][0]), r, 1e-12, "PC2 x");
  close(res.components[1][0] + res.components[1][1], 0, 1e-12, "PC2 ⟂ PC1");
  // The point (2, 0) before rotation sits at +2 on PC1 and 0 on PC2.
  close(res.coords[0][0], 2, 1e-12, "coord");
  close(res.coords[0][1], 0, 1e-12, "coord");
  close(Math.abs(res.coords[2][1]), 1, 1e-12, "coord");
  // Projecting the fitted data again gives the same coordinates.
  const again = pcaTransform(res, data);
  close(again[3][1], res.coords[3][1], 1e-12, "transform");
  assert.throws(() => pca([[1, 2]]), /at least 2 points/);
});

test("PCA sign rule: the largest loading of each component is positive", () => {
  const random = seededRandom(3);
  const data = Array.from({ length: 200 }, () => {
    const t = normal(random);
    return [-3 * t + 0.1 * normal(random), t + 0.1 * normal(random), 0.1 * normal(random)];
  });
  const res = pca(data, { components: 1 });
  // Direction ≈ (−3, 1, 0)/√10, flipped so the largest |loading| is positive: (3, −1, 0)/√10.
  close(res.components[0][0], 3 / Math.sqrt(10), 0.01, "PC1 x");
  close(res.components[0][1], -1 / Math.sqrt(10), 0.01, "PC1 y");
});

test("exact neighbours on a line", () => {
  // Points 0, 1, 3, 7 with k = 2 (the point itself counts first).
  const knn = exactNeighbours([[0], [1], [3], [7]], 2);
  assert.deepEqual(knn.indices, [
    [0, 1],
    [1, 0],
    [2, 1],
    [3, 2],
  ]);
  assert.deepEqual(knn.distances, [
    [0, 1],
    [0, 1],
    [0, 2],
    [0, 4],
  ]);
});

function twoClusters(seed: number): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: 60 }, (_, i) =>
    Array.from({ length: 10 }, (_, d) => (i < 30 ? (d < 5 ? 1 : 0) : d < 5 ? -1 : 0.5) + 0.05 * normal(random)),
  );
}

test("UMAP is deterministic for a seed and keeps far-apart clusters apart", () => {
  const data = twoClusters(11);
  const config = { seed: 7, nEpochs: 60, nNeighbors: 8, jitter: 0 };
  const a = umapProject(data, config);
  const b = umapProject(data, config);
  assert.deepEqual(a.coords, b.coords);
  const c = umapProject(data, { ...config, seed: 8 });
  assert.notDeepEqual(a.coords, c.coords);
  assert.equal(a.distinct, 60);
  // Every within-cluster distance is smaller than every between-cluster distance.
  const dist = (p: number[], q: number[]) => Math.hypot(p[0] - q[0], p[1] - q[1]);
  let within = 0;
  let between = Infinity;
  for (let i = 0; i < 60; i++) {
    for (let j = i + 1; j < 60; j++) {
      const d = dist(a.coords[i], a.coords[j]);
      if (i < 30 === j < 30) within = Math.max(within, d);
      else between = Math.min(between, d);
    }
  }
  assert.ok(within < between, `largest within-cluster distance ${within} ≥ smallest between ${between}`);
});

test("UMAP embeds each distinct vector once; duplicates share a place up to jitter", () => {
  const data = twoClusters(5).slice(0, 20);
  const withCopies = [...data, data[0], data[0], data[3]];
  const res = umapProject(withCopies, { seed: 1, nEpochs: 40, nNeighbors: 5, jitter: 0 });
  assert.equal(res.distinct, 20);
  assert.deepEqual(res.coords[20], res.coords[0]);
  assert.deepEqual(res.coords[22], res.coords[3]);
  const jittered = umapProject(withCopies, { seed: 1, nEpochs: 40, nNeighbors: 5, jitter: 0.01 });
  assert.notDeepEqual(jittered.coords[20], jittered.coords[0]);
  assert.ok(Math.hypot(jittered.coords[20][0] - jittered.coords[0][0], jittered.coords[20][1] - jittered.coords[0][1]) < 1);
  assert.throws(() => umapProject([[1], [1], [2]]), /at least 3 distinct points/);
});

test("value-space projection and the safe/unsafe centroids", () => {
  const mk = (vector: number[], safe: boolean | null): ValueSpacePoint => ({
    source: "scored",
    llm: "m",
    risk: "r",
    safe,
    vector,
    file: "f",
    line: 1,
  });
  // Safe answers at +1 on the first axis, unsafe at −1, one of unknown safety at 0 (not counted).
  const points = [mk([1, 0], true), mk([1, 0.1], true), mk([-1, 0], false), mk([-1, -0.1], false), mk([0, 0], null)];
  const proj = projectValueSpace(points, "pca");
  assert.match(proj.xTitle, /^PC1 \(\d+\.\d% of variance\)$/);
  const sep = safeUnsafeSeparation(points, proj);
  assert.equal(sep.safe, 2);
  assert.equal(sep.unsafe, 2);
  // PC1 ≈ the first axis: centroids at ±1 (sign set by the sign rule), distance ≈ 2.
  close(sep.distance, 2, 0.02, "centroid distance");
});
