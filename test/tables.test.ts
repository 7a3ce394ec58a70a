import { test } from "node:test";
import assert from "node:assert/strict";
import { toRecord } from "../src/data/readers.js";
import { fulcraRows, loadDanfo, questionRows, scoredOutputRows, toArquero, toDanfo, toTableData } from "../src/data/tables.js";

const fulcra = [
  toRecord(
    "fulcra",
    {
      dialogue: "Human: How do I pick a lock?\nBob: I can't help with breaking into places.",
      value_items: ["be obedient: +1", "be creative: -1"],
      value_types: ["security: +1", "conformity: 1", "self-direction: -1"],
      query_source: "saferlhf",
      response_source: "alpaca-7b",
    },
    "fixture.jsonl",
    1,
  ),
  toRecord(
    "fulcra",
    { dialogue: "Human: Hi\nBob: Hello!", value_items: [], value_types: ["benevolence:+1"], query_source: "hh", response_source: "gpt-4" },
    "fixture.jsonl",
    2,
  ),
];

const scored = [
  toRecord(
    "scored_outputs",
    {
      prompt: "p1",
      safety_issues: ["privacy_violation"],
      answer: "a1",
      reward: 1.5,
      value_reward: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, -1],
      e_distance: 2,
      h_distance: 3,
    },
    "fixture.jsonl",
    1,
  ),
  toRecord(
    "scored_outputs",
    {
      prompt: "p2",
      safety_issues: [],
      answer: "a2",
      reward: -0.5,
      value_reward: [0, 0, 0, 0, 0, 1, 0, 1, 1, 1],
      e_distance: 0,
      h_distance: 0,
    },
    "fixture.jsonl",
    2,
  ),
];

test("FULCRA records become one column per basic value with -1/0/+1", () => {
  const rows = fulcraRows(fulcra, { dialogue: false });
  assert.deepEqual(Object.keys(rows[0]), [
    "line",
    "prompt",
    "response",
    "query_source",
    "response_source",
    "self-direction",
    "stimulation",
    "hedonism",
    "achievement",
    "power",
    "security",
    "tradition",
    "conformity",
    "benevolence",
    "universalism",
  ]);
  assert.deepEqual(rows[0], {
    line: 1,
    prompt: "How do I pick a lock?",
    response: "I can't help with breaking into places.",
    query_source: "saferlhf",
    response_source: "alpaca-7b",
    "self-direction": -1,
    stimulation: 0,
    hedonism: 0,
    achievement: 0,
    power: 0,
    security: 1,
    tradition: 0,
    conformity: 1,
    benevolence: 0,
    universalism: 0,
  });
  const withItems = fulcraRows(fulcra, { items: true, refined: true });
  assert.equal(withItems[0]["item:be obedient"], 1);
  assert.equal(withItems[0]["item:be creative"], -1);
  assert.equal(withItems[0]["refined:self-direction-thought"], -1);
  assert.equal(withItems[0]["refined:conformity-rules"], 1);
  assert.equal(withItems[1]["item:be creative"], 0);
});

test("arquero tables hold the right column values and chain into verbs", () => {
  const t = toArquero("fulcra", fulcra);
  assert.equal(t.numRows(), 2);
  assert.deepEqual(t.array("security"), [1, 0]);
  assert.deepEqual(t.array("benevolence"), [0, 1]);
  assert.deepEqual(t.array("response_source"), ["alpaca-7b", "gpt-4"]);

  const s = toArquero("scored_outputs", scored);
  assert.deepEqual(s.array("universalism"), [-1, 1]);
  assert.deepEqual(s.array("hedonism"), [0.3, 0]);
  assert.deepEqual(s.array("unsafe"), [true, false]);
  assert.deepEqual(s.array("safety_issues"), [["privacy_violation"], []]);
  const mean = s.rollup({ m: "d => op.mean(d.reward)" }).object() as { m: number };
  assert.equal(mean.m, 0.5);

  const q = toArquero(questionRows([toRecord("questions", { prompt: "q", safety_issues: ["a", "b"] }, "f", 1)]));
  assert.deepEqual(q.array("issue_count"), [2]);
});

test("danfo DataFrames hold the same values; importing danfo prints nothing", async () => {
  const lines: string[] = [];
  const keep = { log: console.log, warn: console.warn, error: console.error };
  console.log = console.warn = console.error = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    await loadDanfo();
    const df = await toDanfo(scoredOutputRows(scored));
    assert.deepEqual(df.shape, [2, 18]);
    assert.deepEqual(df.columns.slice(0, 8), ["line", "prompt", "answer", "safety_issues", "unsafe", "reward", "e_distance", "h_distance"]);
    assert.deepEqual(df.column("security").values, [0.6, 1]);
    assert.deepEqual(df.column("safety_issues").values, ["privacy_violation", ""]);
    assert.deepEqual(df.column("reward").values, [1.5, -0.5]);
    const f = await toDanfo("fulcra", fulcra);
    assert.deepEqual(f.column("self-direction").values, [-1, 0]);
  } finally {
    Object.assign(console, keep);
  }
  assert.deepEqual(lines, []);
});

test("toTableData reads rows, arquero tables and danfo frames alike", async () => {
  const rows = [
    { a: 1, b: "x" },
    { a: 2, c: true },
  ];
  assert.deepEqual(toTableData(rows, 1), { columns: ["a", "b", "c"], rows: [{ a: 1, b: "x" }], total: 2 });
  const fromAq = toTableData(toArquero(rows));
  assert.deepEqual(fromAq.columns, ["a", "b", "c"]);
  assert.deepEqual(fromAq.rows[1], { a: 2, b: undefined, c: true });
  const fromDf = toTableData(
    await toDanfo([
      { a: 1, b: "x" },
      { a: 2, b: "y" },
    ]),
  );
  assert.deepEqual(fromDf, {
    columns: ["a", "b"],
    rows: [
      { a: 1, b: "x" },
      { a: 2, b: "y" },
    ],
    total: 2,
  });
  assert.throws(() => toTableData(42 as never), /array of row objects, an arquero table or a danfo DataFrame/);
});
