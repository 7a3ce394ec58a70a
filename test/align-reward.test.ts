import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  baseAlignReward,
  dimensionMask,
  helpfulnessReward,
  keywordReward,
  maskedDistance,
  meanScorer,
  toTranscript,
  valueReward,
} from "../src/align/reward.js";
import { bestOfNFromCandidates, bestOfNFromFiles, selectClosest } from "../src/align/best-of-n.js";
import { TARGETS } from "../src/values/targets.js";
import { componentPaths } from "../src/align/components.js";
import { ensembleMemberConfigs, secondEvaluatorConfig } from "../src/evaluator/train.js";
import { dataFile, tempDir } from "./helpers.js";

// One value vector, worked by hand against basealign-ideal (1 on achievement, security,
// conformity, benevolence, universalism):
//   achievement 0.9 → |0.9−1| = 0.1; security 0.8 → 0.2; conformity 0.25 ≤ 0.3 → masked;
//   benevolence −0.4 → 1.4; universalism 0.31 → 0.69; the rest have t = 0.  Sum 2.39.
const V = [0.5, -0.2, 0.1, 0.9, -0.6, 0.8, 0, 0.25, -0.4, 0.31];
const IDEAL = [...TARGETS["basealign-ideal"]];

test("BaseAlign reward on a hand-computed vector, with the threshold and the mask", () => {
  assert.ok(Math.abs(baseAlignReward(V, IDEAL) - -2.39) < 1e-12);
  // A lower threshold lets conformity 0.25 count: + |0.25 − 1| = 0.75.
  assert.ok(Math.abs(maskedDistance(V, IDEAL, { threshold: 0.2 }) - 3.14) < 1e-12);
  // A higher one masks benevolence and universalism: 0.1 + 0.2.
  assert.ok(Math.abs(maskedDistance(V, IDEAL, { threshold: 0.5 }) - 0.3) < 1e-12);
  // Only security and benevolence switched on: 0.2 + 1.4.
  assert.ok(Math.abs(maskedDistance(V, IDEAL, { dimensions: ["security", "Benevolence"] }) - 1.6) < 1e-12);
  assert.deepEqual(dimensionMask(["power"]), [false, false, false, false, true, false, false, false, false, false]);
  assert.throws(() => dimensionMask(["kindness"]), /unknown value "kindness"/);
  // Target weights |t_d| scale the cost: power −0.6 vs −0.5 (weight 0.5) → 0.05; universalism 0.31 vs 2 (weight 2) → 3.38.
  const custom = [0, 0, 0, 0, -0.5, 0, 0, 0, 0, 2];
  assert.ok(Math.abs(maskedDistance(V, custom) - 3.43) < 1e-12);
  // A perfectly neutral answer costs nothing: the mask is why.
  assert.equal(maskedDistance(new Array(10).fill(0.3), IDEAL), 0);
});

test("value reward builds dialogues, resolves targets by name or numbers, and keeps the vectors", async () => {
  const seen: string[] = [];
  const evaluator = {
    score: (d: string[]) => {
      seen.push(...d);
      return d.map(() => V);
    },
  };
  const r = valueReward(evaluator, { target: "basealign-ideal" });
  const out = await r(["Hi?", "Why?"], ["Hello.", "Because."]);
  assert.deepEqual(seen, ["Human: Hi?\nBob: Hello.", "Human: Why?\nBob: Because."]);
  assert.ok(Math.abs(out[0] - -2.39) < 1e-12 && Math.abs(out[1] - -2.39) < 1e-12);
  assert.deepEqual(r.lastVectors, [V, V]);
  const byNumbers = valueReward(evaluator, { target: "0,0,0,1,0,1,0,1,1,1", threshold: 0.5 });
  assert.ok(Math.abs((await byNumbers(["a"], ["b"]))[0] - -0.3) < 1e-12);
  assert.throws(() => valueReward(evaluator, { target: "atlantis" }), /unknown target "atlantis"/);
  await assert.rejects(r(["a"], []), /one prompt per response/);
});

test("helpfulness and keyword rewards", async () => {
  const texts: string[] = [];
  const rm = {
    score: async (t: string[]) => {
      texts.push(...t);
      return t.map((x) => x.length);
    },
  };
  const h = await helpfulnessReward(rm)(["Q"], ["A"]);
  assert.deepEqual(texts, ["\n\nHuman: Q\n\nAssistant: A"]);
  assert.deepEqual(h, [toTranscript("Q", "A").length]);
  assert.deepEqual(await keywordReward("safe")(["", "", ""], ["safe safe no", "", "Safe"]), [2 / 3, 0, 1]);
});

test("selectClosest keeps the smallest masked distance, ties to the earlier candidate", () => {
  const far = [0, 0, 0, 0, 0, -0.9, 0, 0, 0, 0]; // security −0.9 → 1.9
  const near = [0, 0, 0, 0, 0, 0.6, 0, 0, 0, 0]; // → 0.4
  const neutral = new Array(10).fill(0); // → 0
  assert.deepEqual(
    selectClosest(
      [
        [far, near],
        [near, far],
        [near, neutral, neutral],
      ],
      IDEAL,
    ),
    [1, 0, 1],
  );
});

function scored(prompt: string, reward: number, vr: number[]): string {
  return JSON.stringify({
    prompt,
    safety_issues: [],
    answer: `${prompt}:${reward}`,
    reward,
    value_reward: vr,
    e_distance: 0,
    h_distance: 0,
  });
}

test("file-based best-of-N on a hand fixture: choice, counts and the selection's metrics", () => {
  const dir = tempDir();
  const z = (i: number, x: number) => Object.assign(new Array(10).fill(0), { [i]: x }) as number[];
  // Prompt 1: model A has security 0.5 (distance 0.5), B security −0.5 (1.5) → A.
  // Prompt 2: A benevolence −0.9 (1.9), B benevolence 0.9 (0.1) → B.
  const a = join(dir, "a.jsonl");
  const b = join(dir, "b.jsonl");
  writeFileSync(a, [scored("p1", 1, z(5, 0.5)), scored("p2", 3, z(8, -0.9))].join("\n") + "\n");
  writeFileSync(b, [scored("p1", 2, z(5, -0.5)), scored("p2", 5, z(8, 0.9))].join("\n") + "\n");
  const r = bestOfNFromFiles({ files: [a, b], names: ["A", "B"] });
  assert.deepEqual(r.chosen, [0, 1]);
  assert.deepEqual(r.chosenCounts, { A: 1, B: 1 });
  assert.equal(r.selection.meanReward, (1 + 5) / 2);
  assert.ok(Math.abs(r.selection.maskedDistance - (0.5 + 0.1) / 2) < 1e-12);
  // Distances to `ideal` (security, conformity, benevolence, universalism), unmasked:
  // selection p1: security 0.5 → L1 0.5+1+1+1 = 3.5; p2: benevolence 0.9 → 1+1+0.1+1 = 3.1.
  assert.ok(Math.abs(r.selection.hDistance - 3.3) < 1e-12);
  assert.ok(Math.abs(r.selection.eDistance - (Math.sqrt(0.25 + 3) + Math.sqrt(3 + 0.01)) / 2) < 1e-12);
  assert.equal(r.singles[0].meanReward, 2);
  assert.ok(Math.abs(r.singles[1].maskedDistance - (1.5 + 0.1) / 2) < 1e-12);
  assert.ok(Math.abs(r.selection.meanValues[5] - 0.25) < 1e-12);
  // Files that answer different prompts are refused with the line.
  const c = join(dir, "c.jsonl");
  writeFileSync(c, [scored("p1", 1, z(5, 0)), scored("other", 1, z(5, 0))].join("\n") + "\n");
  assert.throws(() => bestOfNFromFiles({ files: [a, c] }), /c\.jsonl:2: prompt differs/);
});

test("file-based best-of-N on the released GPT-4 and GPT-3.5 answers", () => {
  const files = [dataFile("harmless_test_gpt-4"), dataFile("harmless_test_gpt-35-turbo")];
  const r = bestOfNFromFiles({ files, names: ["gpt-4", "gpt-35-turbo"] });
  assert.equal(r.prompts, 1523);
  assert.equal(r.chosenCounts["gpt-4"] + r.chosenCounts["gpt-35-turbo"], 1523);
  // Choosing per prompt can only lower the mean masked distance below both single models.
  for (const s of r.singles) assert.ok(r.selection.maskedDistance <= s.maskedDistance);
  assert.ok(r.selection.maskedDistance < Math.min(...r.singles.map((s) => s.maskedDistance)));
  // The recomputed e_distance of a single model is the mean of the released field.
  const released = r.singles[0];
  assert.ok(released.eDistance > 0 && released.eDistance < 2);
});

test("best-of-N over generated candidates scores every candidate once", async () => {
  const good = [0, 0, 0, 0, 0, 0.9, 0, 0.9, 0.9, 0.9];
  const bad = [0, 0, 0, 0, 0, -0.9, 0, 0, 0, 0];
  let calls = 0;
  const evaluator = {
    score: (d: string[]) => {
      calls += d.length;
      return d.map((x) => (x.includes("kind") ? good : bad));
    },
  };
  const r = await bestOfNFromCandidates(
    ["q1", "q2"],
    [
      ["rude", "kind"],
      ["kind", "rude", "rude"],
    ],
    evaluator,
    [...TARGETS.ideal],
  );
  assert.equal(calls, 5);
  assert.deepEqual(r.chosen, [1, 0]);
  assert.deepEqual(r.answers, ["kind", "kind"]);
  assert.ok(Math.abs(r.distances[0] - 0.4) < 1e-12);
});

test("the reward's evaluator ensemble: the mean of the members' vectors, seeds that never meet the guard's, one folder each", async () => {
  const member = (scale: number) => ({ score: (ds: string[]) => ds.map((_, i) => [scale * (i + 1), -scale, 0, 0, 0, 0, 0, 0, 0, 1]) });
  const one = member(0.3);
  assert.equal(meanScorer([one]), one);
  // (0.3 + 0.6 + 0.9) / 3 = 0.6 for the first dialogue, 1.2 for the second; −0.6 on the second value.
  const v = await meanScorer([member(0.3), member(0.6), member(0.9)]).score(["a", "b"]);
  assert.deepEqual(
    v.map((row) => row.slice(0, 2).map((x) => Number(x.toFixed(12)))),
    [
      [0.6, -0.6],
      [1.2, -0.6],
    ],
  );
  assert.throws(() => meanScorer([]), /at least one member/);
  const members = ensembleMemberConfigs({ seed: 4, dataHalf: "first" }, 3);
  assert.deepEqual(
    members.map((m) => [m.seed, m.dataHalf]),
    [
      [4, "first"],
      [6, "first"],
      [8, "first"],
    ],
  );
  assert.equal(secondEvaluatorConfig({ seed: 4, dataHalf: "first" }).seed, 5);
  assert.throws(() => ensembleMemberConfigs({}, 0), /whole number ≥ 1/);
  const p = componentPaths({ evaluatorDir: "/x/reward", rewardEnsemble: 3 });
  assert.deepEqual(p.evaluatorDirs, ["/x/reward", "/x/reward-2", "/x/reward-3"]);
});
