import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { eloByRule, parseScoresOriginal, pythonFloat, readJudgeTexts } from "../src/metrics/elo-rules.js";
import { PROJECT_ROOT } from "../src/runtime/env.js";
import { tempDir } from "./helpers.js";

const BIN = join(PROJECT_ROOT, "bin", "fulcra.js");

/*
 * A hand-worked comparison file. Seven lines, read by the original rule
 * (eval.py: text after the last "[" up to the next "]", split at ",", two
 * Python floats; raw scores into the update) and by the kit's rule
 * (last complete [[a, b]], outcome 1 / ½ / 0).
 *
 *  line text                                       original            standard
 *  1    "A is clearer. [[8, 6]]"                   (8, 6)   A wins      A wins
 *  2    "I cannot decide."                          skipped (no "[";   unreadable
 *                                                   "I cannot decide"
 *                                                   has no comma)
 *  3    "Both fine.\n[[5, 5]]"                     (5, 5)   tie         tie
 *  4    [[3, 7]]   (a raw line, not JSON)          (3, 7)   B wins      B wins
 *  5    "Earlier [[9, 2]], on reflection [[4, x]]" skipped ("4, x":    A wins (last complete
 *                                                   float("x") fails)   marker is [[9, 2]])
 *  6    "7.5, 2]"                                   (7.5, 2) A wins     unreadable
 *                                                   (no "[": read from
 *                                                   the start to the
 *                                                   final "]")
 *  7    "[[6, 4, 1]]"                               (6, 4)   A wins     unreadable
 *                                                   (third number
 *                                                   ignored)
 *
 * Original: n = 5 read (1, 3, 4, 6, 7), skipped 2; A wins 3, B wins 1, 1 tie;
 *   win rates 100·3/5 = 60 %, 100·1/5 = 20 % (the tie stays in the denominator).
 *   Elo, K = 32, E from the ratings before each line, raw scores as S:
 *   l1: E_A = E_B = 0.5;  A = 1000 + 32·(8 − 0.5) = 1240;  B = 1000 + 32·(6 − 0.5) = 1176.
 *   l3: 10^((1176 − 1240)/400) = 10^−0.16 = 0.69183097091893…, E_A = 1/1.69183097… = 0.59107559631494,
 *       E_B = 0.40892440368506;  A = 1240 + 32·(5 − 0.59107559631494) = 1381.0855809179218;
 *       B = 1176 + 32·(5 − 0.40892440368506) = 1322.9144190820782.
 *   l4: 10^((1322.91441908 − 1381.08558092)/400) = 10^−0.14542790459 = 0.71543…, E_A = 0.58294144813748,
 *       E_B = 0.41705855186252;  A = 1381.08558092 + 32·(3 − 0.58294144813748) = 1458.4314545775226;
 *       B = 1322.91441908 + 32·(7 − 0.41705855186252) = 1533.5685454224774.
 *   l6: 10^((1533.56854542 − 1458.43145458)/400) = 10^0.18784272711 = 1.54115…, E_A = 0.39352381764034,
 *       E_B = 0.60647618235966;  A = 1458.43145458 + 32·(7.5 − 0.39352381764034) = 1685.8386924130316;
 *       B = 1533.56854542 + 32·(2 − 0.60647618235966) = 1578.1613075869684.
 *   l7: 10^((1578.16130759 − 1685.83869241)/400) = 10^−0.26919346207 = 0.53803…, E_A = 0.65018235218139,
 *       E_B = 0.34981764781861;  A = 1685.83869241 + 32·(6 − 0.65018235218139) = 1857.0328571432271;
 *       B = 1578.16130759 + 32·(4 − 0.34981764781861) = 1694.9671428567729.
 * Standard: n = 4 read (1, 3, 4, 5), skipped 3; A 2 wins, B 1, 1 tie; 50 %, 25 %.
 *   l1 win:  A = 1016, B = 984.
 *   l3 tie:  E_A = 1/(1 + 10^(−32/400)) = 0.54592192278048;  A = 1016 + 32·(0.5 − 0.54592192) = 1014.5304984710245, B = 985.4695015289755.
 *   l4 loss: E_A = 1/(1 + 10^(−29.06099694/400)) = 0.54172487434771;  A = 1014.53049847 − 32·0.54172487 = 997.1953024918979, B = 1002.8046975081021.
 *   l5 win:  E_A = 1/(1 + 10^(5.60939501/400)) = 0.49192813299942;  A = 997.19530249 + 32·(1 − 0.49192813) = 1013.4536022359164, B = 986.5463977640836.
 */
const FILE_LINES = [
  JSON.stringify({ prompt: "q1", scores: "A is clearer. [[8, 6]]" }),
  JSON.stringify({ prompt: "q2", scores: "I cannot decide." }),
  JSON.stringify({ prompt: "q3", scores: "Both fine.\n[[5, 5]]" }),
  "[[3, 7]]",
  JSON.stringify({ prompt: "q5", scores: "Earlier [[9, 2]], on reflection [[4, x]]" }),
  JSON.stringify({ prompt: "q6", scores: "7.5, 2]" }),
  JSON.stringify("[[6, 4, 1]]"),
];

test("the original Elo rule reproduces the hand-worked file exactly", () => {
  const { texts, lines } = readJudgeTexts(FILE_LINES.join("\n") + "\n\n");
  assert.deepEqual(lines, [1, 2, 3, 4, 5, 6, 7]);
  const r = eloByRule(texts, "original");
  assert.equal(r.n, 5);
  assert.equal(r.skipped, 2);
  assert.deepEqual(r.skipped_lines, [2, 5]);
  assert.deepEqual([r.wins_a, r.wins_b, r.ties], [3, 1, 1]);
  assert.equal(r.win_rate_a, 60);
  assert.equal(r.win_rate_b, 20);
  assert.ok(Math.abs(r.elo_a - 1857.0328571432271) < 1e-9, `elo_a ${r.elo_a}`);
  assert.ok(Math.abs(r.elo_b - 1694.9671428567729) < 1e-9, `elo_b ${r.elo_b}`);
  // After the first line alone: 1240 and 1176 (raw scores 8 and 6, E = 0.5).
  const one = eloByRule(texts.slice(0, 1), "original");
  assert.deepEqual([one.elo_a, one.elo_b], [1240, 1176]);
});

test("the kit's standard rule on the same file reads other lines and moves the ratings symmetrically", () => {
  const { texts } = readJudgeTexts(FILE_LINES.join("\n"));
  const r = eloByRule(texts, "standard");
  assert.equal(r.n, 4);
  assert.deepEqual(r.skipped_lines, [2, 6, 7]);
  assert.deepEqual([r.wins_a, r.wins_b, r.ties, r.win_rate_a, r.win_rate_b], [2, 1, 1, 50, 25]);
  assert.ok(Math.abs(r.elo_a - 1013.4536022359164) < 1e-9, `elo_a ${r.elo_a}`);
  assert.ok(Math.abs(r.elo_b - 986.5463977640836) < 1e-9, `elo_b ${r.elo_b}`);
  assert.ok(Math.abs(r.elo_a + r.elo_b - 2000) < 1e-9);
});

test("the original's reading follows Python's slicing and float()", () => {
  assert.deepEqual(parseScoresOriginal("[[ 8 , 6 ]]"), { a: 8, b: 6 });
  // No "]" after the last "[": find() gives −1, so the slice ends at the last-but-one character: "7," → float("") fails.
  assert.equal(parseScoresOriginal("score [7,3"), null);
  assert.deepEqual(parseScoresOriginal("score [7,3 ]"), { a: 7, b: 3 });
  assert.equal(parseScoresOriginal("nothing here"), null);
  assert.equal(parseScoresOriginal("ends with ["), null);
  assert.equal(pythonFloat(" 1_0 "), 10);
  assert.equal(pythonFloat("1e1"), 10);
  assert.ok(Number.isNaN(pythonFloat("nan")!));
  assert.equal(pythonFloat("-inf"), -Infinity);
  assert.equal(pythonFloat("1__0"), null);
  assert.equal(pythonFloat("8/10"), null);
  assert.equal(pythonFloat(""), null);
});

test("readJudgeTexts names the file and line of an object without a scores text", () => {
  assert.throws(() => readJudgeTexts('{"scores": "[[1, 2]]"}\n{"verdict": "x"}', "f.jsonl"), /f\.jsonl:2: field "scores"/);
});

test("fulcra hh elo --json prints the original rule's numbers for the hand-worked file", () => {
  const dir = tempDir();
  const file = join(dir, "comparisons.jsonl");
  writeFileSync(file, FILE_LINES.join("\n") + "\n");
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, "hh", "elo", "--comparisons", file, ...args], {
      encoding: "utf8",
      env: { ...process.env, FULCRA_QUIET: "1" },
    });
  const orig = run("--rule", "original", "--json");
  assert.equal(orig.status, 0, orig.stderr);
  const o = JSON.parse(orig.stdout);
  assert.deepEqual(Object.keys(o), ["elo_a", "elo_b", "win_rate_a", "win_rate_b", "n", "skipped"]);
  assert.ok(Math.abs(o.elo_a - 1857.0328571432271) < 1e-9 && Math.abs(o.elo_b - 1694.9671428567729) < 1e-9);
  assert.deepEqual([o.win_rate_a, o.win_rate_b, o.n, o.skipped], [60, 20, 5, 2]);
  assert.match(orig.stderr, /comparisons\.jsonl:2: no readable scores/);
  const std = JSON.parse(run("--rule", "standard", "--json").stdout);
  assert.deepEqual([std.win_rate_a, std.win_rate_b, std.n, std.skipped], [50, 25, 4, 3]);
  const bad = run("--rule", "elo");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--rule expects one of original, standard/);
});
