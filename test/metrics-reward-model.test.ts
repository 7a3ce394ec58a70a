import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { HelpfulnessRewardModel, hhTranscript, splitLastTurn, trainRewardModel } from "../src/metrics/reward-model.js";
import { seededRandom } from "../src/runtime/random.js";
import { tempDir } from "./helpers.js";

test("splitLastTurn finds the final assistant turn in both transcript formats", () => {
  assert.deepEqual(splitLastTurn("\n\nHuman: a?\n\nAssistant: b\n\nHuman: c?\n\nAssistant: d e"), {
    context: "\n\nHuman: a?\n\nAssistant: b\n\nHuman: c?",
    answer: "d e",
  });
  assert.deepEqual(splitLastTurn("Human: hi\nBob: hello there"), { context: "Human: hi", answer: "hello there" });
  assert.deepEqual(splitLastTurn("just an answer"), { context: "", answer: "just an answer" });
  assert.equal(hhTranscript("q", "a"), "\n\nHuman: q\n\nAssistant: a");
});

test("on synthetic pairs where the chosen answer always explains, the model learns it and ranks held-out pairs right; save/load keeps scores", async () => {
  const random = seededRandom(3);
  const topics = ["bread", "taxes", "bikes", "python", "gardens", "chess", "rain", "music"];
  const pairs = Array.from({ length: 120 }, (_, i) => {
    const t = topics[Math.floor(random() * topics.length)];
    const q = `\n\nHuman: how do I get better at ${t}?`;
    return {
      chosen: `${q}\n\nAssistant: step one practise ${t} daily, step two read about ${t}`,
      rejected: `${q}\n\nAssistant: sorry, no idea about ${t}`,
      line: i + 1,
    };
  });
  const model = await trainRewardModel({ pairs, config: { buckets: 512, epochs: 20, batchSize: 16, learningRate: 0.05 }, quiet: true });
  assert.equal(model.metrics.heldOutPairs, 24);
  assert.equal(model.metrics.trainPairs, 96);
  assert.equal(model.metrics.heldOutAccuracy, 1);
  const [good, bad] = model.scorePairs(["how to bake?", "how to bake?"], ["step one read, step two practise", "sorry, no idea"]);
  assert.ok(good > bad, `good ${good} should beat bad ${bad}`);
  // Scores are centred on the training texts.
  const s = model.score(pairs.flatMap((p) => [p.chosen, p.rejected]));
  assert.ok(Math.abs(s.reduce((a, b) => a + b, 0) / s.length) < 0.2);
  const file = model.save(join(tempDir(), "rm", "model.json"));
  const again = HelpfulnessRewardModel.load(file);
  assert.deepEqual(again.score(pairs.slice(0, 5).map((p) => p.chosen)), model.score(pairs.slice(0, 5).map((p) => p.chosen)));
  assert.throws(() => HelpfulnessRewardModel.load(join(tempDir(), "none.json")), /fulcra hh reward-model train/);
});

test("on the released helpful pairs, held-out pairwise accuracy is above chance and at least the length baseline", async () => {
  const model = await trainRewardModel({ quiet: true });
  const m = model.metrics;
  assert.equal(m.trainPairs + m.heldOutPairs, 2354);
  assert.equal(m.heldOutPairs, 471);
  assert.ok(m.heldOutAccuracy > 0.6, `held-out accuracy ${m.heldOutAccuracy}`);
  assert.ok(
    m.heldOutAccuracy >= m.heldOutLengthBaselineAccuracy,
    `accuracy ${m.heldOutAccuracy} vs length baseline ${m.heldOutLengthBaselineAccuracy}`,
  );
  assert.ok(m.heldOutLoss < Math.log(2), "better than a constant score (loss log 2)");
});
