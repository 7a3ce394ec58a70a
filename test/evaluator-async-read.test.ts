import { test } from "node:test";
import assert from "node:assert/strict";
import { initBackend } from "../src/runtime/backend.js";
import { ValueNetwork, type WeightedBag } from "../src/evaluator/network.js";
import { seededRandom } from "../src/runtime/random.js";

// The asynchronous read-back (what the webgpu backend needs) gives the very numbers of the synchronous one.
test("ValueNetwork.predictAsync equals predict, number for number", async () => {
  await initBackend({ quiet: true });
  const net = ValueNetwork.init({ vocabularySize: 50, fields: 2, embeddingDim: 8, hiddenSize: 6, annotators: 2 }, 3);
  const random = seededRandom(5);
  const bag = (): WeightedBag => {
    const rows = Int32Array.from({ length: 7 }, () => Math.floor(random() * 50));
    return { rows, weights: Float32Array.from(rows, () => random()) };
  };
  const batch = Array.from({ length: 5 }, () => [bag(), bag()]);
  for (const annotator of [0, 1]) {
    const a = net.predict(batch, annotator);
    const b = await net.predictAsync(batch, annotator);
    assert.equal(b.probabilities.length, 5 * 10 * 3);
    assert.deepEqual(Array.from(b.probabilities), Array.from(a.probabilities));
    assert.deepEqual(Array.from(b.scores), Array.from(a.scores));
  }
  // Probabilities of each (item, value) sum to 1.
  const { probabilities } = await net.predictAsync(batch, 0);
  for (let i = 0; i < 50; i++) assert.ok(Math.abs(probabilities[3 * i] + probabilities[3 * i + 1] + probabilities[3 * i + 2] - 1) < 1e-6);
  assert.deepEqual(await net.predictAsync([], 0), { probabilities: new Float32Array(0), scores: new Float32Array(0) });
  net.dispose();
});
