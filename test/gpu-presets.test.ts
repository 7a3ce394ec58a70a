import { test } from "node:test";
import assert from "node:assert/strict";
import { EVALUATOR_GPU_CONFIG } from "../src/evaluator/presets.js";
import { DEFAULT_EVALUATOR_CONFIG, resolveConfig } from "../src/evaluator/train.js";
import { GPU_BACKENDS, warnIfNotGpu, type BackendInfo } from "../src/runtime/backend.js";

test("the evaluator's GPU preset is a valid configuration, larger than the default where a GPU helps", () => {
  const c = resolveConfig({ ...EVALUATOR_GPU_CONFIG });
  assert.equal(c.hiddenSize, 1024);
  assert.ok(c.hiddenSize > DEFAULT_EVALUATOR_CONFIG.hiddenSize);
  assert.ok(c.batchSize > DEFAULT_EVALUATOR_CONFIG.batchSize);
  // Square-root rule: 4× the batch, 2× the learning rates.
  assert.equal(c.batchSize / DEFAULT_EVALUATOR_CONFIG.batchSize, 4);
  assert.equal(c.learningRate / DEFAULT_EVALUATOR_CONFIG.learningRate, 2);
  assert.equal(c.embeddingLearningRate / DEFAULT_EVALUATOR_CONFIG.embeddingLearningRate, 2);
});

test("GPU presets warn on a CPU backend only", () => {
  assert.deepEqual([...GPU_BACKENDS], ["gpu", "webgpu"]);
  const said: string[] = [];
  const original = console.error;
  console.error = (...a: unknown[]) => void said.push(a.join(" "));
  try {
    const info = (name: BackendInfo["name"]): BackendInfo => ({ name, tfjsBackend: name, skipped: [], tfjsVersion: "4.22.0" });
    warnIfNotGpu(info("webgpu"), "--gpu-config");
    warnIfNotGpu(info("gpu"), "--gpu-config");
    assert.equal(said.length, 0);
    warnIfNotGpu(info("wasm"), "--gpu-config");
  } finally {
    console.error = original;
  }
  assert.equal(said.length, 1);
  assert.match(said[0], /^fulcra: --gpu-config is sized for a GPU backend \(gpu or webgpu\), but this run uses wasm/);
});
