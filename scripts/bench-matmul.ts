/**
 * fp32 matrix product speed of a tfjs backend: square n × n products for
 * n = 512 … 4096, in GFLOP/s (2n³ operations each), and how far a small
 * 64×128×32 product lands from the same product done in plain JavaScript
 * (float64), as a check that a GPU backend computes what the CPU does.
 *
 *   npm run build && node dist/scripts/bench-matmul.js [--backend NAME] [--json] [--sizes 512,1024] [--max-seconds 60]
 *
 * Each size is timed until 3 runs or 1 s, whichever is longer; a size whose
 * predicted time (8× the previous size's) would overrun --max-seconds is
 * skipped and said so. The timing waits for the result (a scalar read back),
 * so a GPU backend is measured to completion.
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { benchBackend, benchSetup, emit, timeMs } from "./bench-common.js";

const setup = benchSetup();
const { values } = parseArgs({ args: setup.rest, options: { sizes: { type: "string" }, "max-seconds": { type: "string" } } });
const sizes = (values.sizes ?? "512,1024,2048,4096").split(",").map(Number);
const maxSeconds = Number(values["max-seconds"] ?? 60);
if (sizes.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--sizes expects whole numbers, got "${values.sizes}"`);

const backend = await benchBackend(setup);
const started = performance.now();
console.log(`bench-matmul: backend ${backend.name} (${backend.tfjsBackend}), tfjs ${backend.tfjsVersion}, budget ${maxSeconds} s`);

// Correctness: a small product against float64 JavaScript.
{
  const [m, k, n] = [64, 128, 32];
  const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37));
  const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.11));
  const got = tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])).dataSync());
  let maxDiff = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t] * b[t * n + j];
      maxDiff = Math.max(maxDiff, Math.abs(s - got[i * n + j]));
    }
  }
  console.log(`  64×128×32 product: max |${backend.name} − float64 JS| = ${maxDiff.toExponential(2)}`);
  emit(setup, backend.name, "matmul-check", "max_abs_diff", maxDiff, "");
}

let previousMs = 0;
for (const n of sizes) {
  const left = maxSeconds * 1000 - (performance.now() - started);
  const predicted = previousMs * 8;
  if (previousMs > 0 && predicted * 2 > left) {
    console.log(
      `  ${n}×${n}: skipped (one product would take about ${(predicted / 1000).toFixed(1)} s, ${(left / 1000).toFixed(0)} s of the budget left)`,
    );
    continue;
  }
  const a = tf.randomNormal([n, n], 0, 1, "float32", 1);
  const b = tf.randomNormal([n, n], 0, 1, "float32", 2);
  // A slow size (over 2 s predicted) is timed once, without a warm-up run.
  const slow = predicted > 2000;
  const t = await timeMs(
    async () => {
      const s = tf.tidy(() => tf.sum(tf.matMul(a, b)));
      await s.data();
      s.dispose();
    },
    { warmup: slow ? 0 : 1, repeats: slow ? 1 : 3, minMs: slow ? 0 : 1000, maxMs: Math.max(1000, left / 4) },
  );
  tf.dispose([a, b]);
  previousMs = t.best;
  const gflops = (2 * n ** 3) / (t.best / 1000) / 1e9;
  console.log(`  ${n}×${n}: ${t.best.toFixed(1)} ms (best of ${t.runs}), ${gflops.toFixed(1)} GFLOP/s`);
  emit(setup, backend.name, `matmul-${n}`, "throughput", gflops, "GFLOP/s");
}
