import { test } from "node:test";
import assert from "node:assert/strict";
import type { Aspect, PairItem, PairVerdict, PairwiseJudge, SafetyItem, SafetyJudge, SafetyVerdict } from "../src/metrics/judges.js";
import {
  helpfulPrompts,
  judgeAnswerSets,
  judgedPairsTable,
  judgedSafetyTable,
  judgedScoresNumbers,
  negDistanceToTenPoint,
  preferenceAnswerSets,
  rewardToTenPoint,
  TenPointJudge,
  type AnswerSet,
} from "../src/metrics/judged-scores.js";

/** Scores each answer by its length, written the way an LLM judge ends its text. */
const lengthJudge: PairwiseJudge = {
  name: "length",
  aspects: ["helpfulness"],
  async judgePairs(items: readonly PairItem[]): Promise<PairVerdict[]> {
    return items.map((it) => ({
      id: it.id,
      modelA: it.modelA,
      modelB: it.modelB,
      scores: { a: it.answerA.length, b: it.answerB.length },
      raw: `Longer is better. [[${it.answerA.length}, ${it.answerB.length}]]`,
    }));
  },
};

/** "d" in an answer → unsafe; "ccc" → an unreadable verdict; anything else safe. */
const letterJudge: SafetyJudge = {
  name: "letters",
  async judgeSafety(items: readonly SafetyItem[]): Promise<SafetyVerdict[]> {
    return items.map((it) => ({ id: it.id, label: it.answer === "ccc" ? null : it.answer.includes("d") ? "unsafe" : "safe", raw: "" }));
  },
};

const P: AnswerSet = {
  name: "p",
  answers: [
    { prompt: "q1", answer: "aaaa" },
    { prompt: "q2", answer: "bb" },
    { prompt: "q3", answer: "ccc" },
  ],
};
const Q: AnswerSet = {
  name: "q",
  answers: [
    { prompt: "q1", answer: "b" },
    { prompt: "q2", answer: "dddd" },
    { prompt: "q3", answer: "ccc" },
  ],
};

test("judged scores of two answer sets: both Elo rules, oriented, and both safety rules", async () => {
  const s = await judgeAnswerSets([P, Q], { pairJudge: lengthJudge, safetyJudge: letterJudge, baseline: "q" });
  assert.equal(s.prompts, 3);
  const [pair] = s.pairs;
  // Prompt 2 is shown q first: the judge writes [[4, 2]], read back as p 2, q 4.
  assert.deepEqual(
    pair.verdicts.map((v) => [v.modelA, v.modelB]),
    [
      ["p", "q"],
      ["q", "p"],
      ["p", "q"],
    ],
  );
  /*
   * Original rule, p against q, scores (4, 1), (2, 4), (3, 3):
   *   1. E = 0.5: p = 1000 + 32·3.5 = 1112, q = 1000 + 32·0.5 = 1016.
   *   2. E_p = 1/(1 + 10^(−96/400)) = 0.6347433350523167: p = 1112 + 32·(2 − 0.63474334) = 1155.6882132783257,
   *      q = 1016 + 32·(4 − 0.36525666) = 1132.3117867216743.
   *   3. E_p = 1/(1 + 10^(−23.37642660/400)) = 0.5335907093155886: p = 1155.68821328 + 32·(3 − 0.53359071) = 1234.6133105802269,
   *      q = 1132.31178672 + 32·(3 − 0.46640929) = 1213.3866894197731.
   * Standard rule, outcomes 1, 0, ½: p = 1016 → 1016 − 32·0.54592192 = 998.5304984710245 →
   *   998.53049847 + 32·(0.5 − 0.49577054) = 998.6658413353916; q = 2000 − p = 1001.3341586646084.
   */
  assert.ok(Math.abs(pair.original.elo_a - 1234.6133105802269) < 1e-9);
  assert.ok(Math.abs(pair.original.elo_b - 1213.3866894197731) < 1e-9);
  assert.ok(Math.abs(pair.standard.elo_a - 998.6658413353916) < 1e-9);
  assert.ok(Math.abs(pair.standard.elo_b - 1001.3341586646084) < 1e-9);
  assert.deepEqual([pair.original.wins_a, pair.original.wins_b, pair.original.ties, pair.original.n], [1, 1, 1, 3]);
  assert.equal(judgedPairsTable(s).length, 2);
  // Safety: p → safe, safe, unreadable; q → safe, unsafe, unreadable.
  assert.deepEqual(judgedSafetyTable(s), [
    { system: "p", judge: "letters", total: 3, safe: 2, unsafe: 0, unreadable: 1, safety_rate_kit: 1, safety_rate_original: 1 },
    { system: "q", judge: "letters", total: 3, safe: 1, unsafe: 1, unreadable: 1, safety_rate_kit: 0.5, safety_rate_original: 2 / 3 },
  ]);
  const numbers = judgedScoresNumbers(s, "t");
  assert.equal(numbers.length, 2 * 3 + 2 * 2);
  assert.deepEqual(numbers[numbers.length - 1], {
    name: "t: safety rate, original rule: q",
    value: 2 / 3,
    note: "1 unreadable of 3, counted safe",
  });
});

test("the prompt limit, the baseline check and different prompt orders", async () => {
  const s = await judgeAnswerSets([P, Q], { pairJudge: lengthJudge, prompts: 1 });
  assert.deepEqual([s.prompts, s.pairs[0].original.elo_a, s.pairs[0].original.elo_b], [1, 1112, 1016]);
  await assert.rejects(judgeAnswerSets([P, Q], { baseline: "r" }), /baseline "r" is not one of p, q/);
  const R: AnswerSet = { name: "r", answers: [{ prompt: "other", answer: "x" }] };
  await assert.rejects(judgeAnswerSets([P, R], { pairJudge: lengthJudge }), /answer 1 of "p" and "r" are to different prompts/);
});

test("the helpful prompts are read as the original reads them, and offline scores are put on 0–10", async () => {
  const pair = {
    chosen: "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: how do I bake bread?\n\nAssistant: Use an oven.",
    rejected: "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: how do I bake bread?\n\nAssistant: No.",
    line: 7,
  };
  assert.deepEqual(helpfulPrompts([pair]), [{ prompt: "how do I bake bread?", line: 7 }]);
  const [chosen, rejected] = preferenceAnswerSets([pair]);
  assert.deepEqual(
    [chosen.answers[0], rejected.answers[0]],
    [
      { prompt: "how do I bake bread?", answer: "Use an oven." },
      { prompt: "how do I bake bread?", answer: "No." },
    ],
  );
  assert.equal(rewardToTenPoint(0), 5.5);
  assert.equal(negDistanceToTenPoint(-0), 10);
  assert.equal(negDistanceToTenPoint(-2), 5);
  assert.equal(negDistanceToTenPoint(-5), 0);
  const scaled = new TenPointJudge({ ...lengthJudge, name: "len" }, (x) => x / 2, 1);
  const [v] = await scaled.judgePairs(
    [{ id: "1", prompt: "q", modelA: "a", modelB: "b", answerA: "abc", answerB: "a" }],
    "helpfulness" as Aspect,
  );
  assert.deepEqual(v.scores, { a: 1.5, b: 0.5 });
  assert.match(v.raw, /\[\[1\.5, 0\.5\]\]$/);
  assert.equal(scaled.name, "len (0–10)");
});

test("the helpfulness comparison judges chosen against rejected on the kept pairs only", async () => {
  const { helpfulnessComparison, heldOutPairLines } = await import("../src/metrics/judged-scores.js");
  const pair = (q: string, good: string, bad: string, line: number) => ({
    chosen: `\n\nHuman: ${q}\n\nAssistant: ${good}`,
    rejected: `\n\nHuman: ${q}\n\nAssistant: ${bad}`,
    line,
  });
  const pairs = [pair("a?", "long answer", "no", 1), pair("b?", "x", "much longer one", 2), pair("c?", "fine", "ok", 3)];
  // Lines 1 and 3: chosen is longer both times (11 vs 2, then 4 vs 2; the second shown rejected-first).
  const s = await helpfulnessComparison(pairs, lengthJudge, { lines: [1, 3] });
  assert.deepEqual([s.pairs[0].a, s.pairs[0].b, s.pairs[0].original.wins_a, s.pairs[0].original.n], ["chosen", "rejected", 2, 2]);
  assert.deepEqual(s.pairs[0].verdicts[0].raw, "Longer is better. [[11, 2]]");
  await assert.rejects(helpfulnessComparison(pairs, lengthJudge, { lines: [9] }), /no preference pairs/);
  assert.deepEqual(heldOutPairLines({ saved: { provenance: { heldOutPairLines: [2, 5] } } }), [2, 5]);
  assert.equal(heldOutPairLines({ saved: {} }), null);
});

test("the original's fixed order, and an endpoint judge with the user's own request and reader", async () => {
  const fixed = await judgeAnswerSets([P, Q], { pairJudge: lengthJudge, order: "fixed" });
  assert.deepEqual(
    fixed.pairs[0].verdicts.map((v) => [v.modelA, v.modelB]),
    [
      ["p", "q"],
      ["p", "q"],
      ["p", "q"],
    ],
  );
  // The counts do not depend on the order for a judge without a position bias.
  assert.deepEqual([fixed.pairs[0].original.wins_a, fixed.pairs[0].original.wins_b], [1, 1]);

  const { startChatServer } = await import("./llm-server.js");
  const { ChatClient } = await import("../src/llm/client.js");
  const { EndpointJudge } = await import("../src/metrics/judges.js");
  const { originalSafetyScore } = await import("../src/metrics/verdicts.js");
  const { tempDir } = await import("./helpers.js");
  // A judge that answers in the original's format: the verdict word first, then a reason.
  const server = await startChatServer((req) => ({
    content: /ANSWER: d/.test(req.body.messages![0].content) ? "Unsafe. It helps." : "Safe. It declines.",
  }));
  try {
    const client = new ChatClient({ baseUrl: server.baseUrl, model: "m", cacheDir: tempDir(), log: () => {} });
    const judge = new EndpointJudge(client, {
      safetyRequest: (item) => [{ role: "user", content: `ANSWER: ${item.answer}` }],
      readSafety: (t) => (originalSafetyScore(t, "startswith") ? "safe" : "unsafe"),
    });
    const s = await judgeAnswerSets([Q], { safetyJudge: judge });
    // q's answers "b", "dddd", "ccc": safe, unsafe, safe.
    assert.deepEqual([s.safety[0].rate.safe, s.safety[0].rate.unsafe, s.safety[0].rate.malformed], [2, 1, 0]);
  } finally {
    await server.close();
  }
});

test("answer sets from aligned-run rows", async () => {
  const { answerSetsFromRows } = await import("../src/metrics/judged-scores.js");
  const rows = [
    { prompt: "q1", reference: "r1", aligned: "a1", values_aligned: [] },
    { prompt: "q2", reference: "r2", aligned: "a2" },
  ];
  const [ref, al] = answerSetsFromRows(rows, { reference: "reference", BaseAlign: "aligned" });
  assert.deepEqual(
    [ref.name, ref.answers[1], al.name, al.answers[0]],
    ["reference", { prompt: "q2", answer: "r2" }, "BaseAlign", { prompt: "q1", answer: "a1" }],
  );
  assert.throws(
    () => answerSetsFromRows([{ prompt: "q", aligned: 3 }], { x: "aligned" }),
    /answer row 1: field "aligned" \(answers of "x"\)/,
  );
});
