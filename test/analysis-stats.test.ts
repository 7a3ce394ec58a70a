import { test } from "node:test";
import assert from "node:assert/strict";
import {
  correlationTest,
  logGamma,
  regularizedIncompleteBeta,
  significanceStars,
  studentTTwoSidedP,
  valueRiskCorrelation,
  correlationMatrix,
  compareWithPaperFig4b,
  harmFlags,
  riskGroupLabel,
  riskGroupTable,
  HARM_CATEGORIES,
  RISK_GROUPS,
  RISK_GROUP_OF,
  PAPER_FIG4B,
  PAPER_FIG2A,
} from "../src/analysis/index.js";
import { BASIC_VALUES } from "../src/values/taxonomy.js";
import { pearson } from "../src/runtime/stats.js";

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: expected ${expected}, got ${actual}`);

test("logGamma matches known values of Γ", () => {
  close(logGamma(5), Math.log(24), 1e-13, "ln Γ(5)");
  close(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-13, "ln Γ(1/2)");
  close(logGamma(1), 0, 1e-13, "ln Γ(1)");
  // biome-ignore lint/correctness/noPrecisionLoss: the reference value as printed to 17 digits
  close(logGamma(10.5), Math.log(1133278.3889487855), 1e-11, "ln Γ(10.5)");
  close(logGamma(0.1), Math.log(9.513507698668732), 1e-12, "ln Γ(0.1)");
});

test("regularized incomplete beta matches closed forms", () => {
  // I_x(1,1) = x; I_x(a,1) = x^a; I_x(1,b) = 1 − (1−x)^b; I_x(2,2) = 3x² − 2x³; I_½(a,a) = ½.
  close(regularizedIncompleteBeta(0.3, 1, 1), 0.3, 1e-14, "I_0.3(1,1)");
  close(regularizedIncompleteBeta(0.3, 2, 1), 0.09, 1e-14, "I_0.3(2,1)");
  close(regularizedIncompleteBeta(0.3, 1, 3), 0.657, 1e-14, "I_0.3(1,3)");
  close(regularizedIncompleteBeta(0.25, 2, 2), 0.15625, 1e-14, "I_0.25(2,2)");
  close(regularizedIncompleteBeta(0.5, 3, 3), 0.5, 1e-14, "I_0.5(3,3)");
  close(regularizedIncompleteBeta(0.5, 40.5, 40.5), 0.5, 1e-12, "I_0.5(40.5,40.5)");
  // Symmetry I_x(a,b) = 1 − I_{1−x}(b,a), on both sides of the switch point.
  close(regularizedIncompleteBeta(0.9, 2.5, 0.5), 1 - regularizedIncompleteBeta(0.1, 0.5, 2.5), 1e-13, "symmetry");
  assert.equal(regularizedIncompleteBeta(0, 2, 3), 0);
  assert.equal(regularizedIncompleteBeta(1, 2, 3), 1);
  assert.throws(() => regularizedIncompleteBeta(1.5, 2, 3), /0 ≤ x ≤ 1/);
});

test("Student t two-sided p-values match closed forms and table critical values", () => {
  // ν = 1 is the Cauchy distribution: P(|T| > 1) = ½.
  close(studentTTwoSidedP(1, 1), 0.5, 1e-13, "t=1, ν=1");
  // ν = 2: P(|T| > t) = 1 − t / sqrt(2 + t²).
  close(studentTTwoSidedP(2, 2), 1 - 2 / Math.sqrt(6), 1e-13, "t=2, ν=2");
  close(studentTTwoSidedP(-2, 2), 1 - 2 / Math.sqrt(6), 1e-13, "two-sided is symmetric");
  // Printed critical values of the t table.
  close(studentTTwoSidedP(2.228138851986, 10), 0.05, 1e-9, "t(0.975, 10)");
  close(studentTTwoSidedP(2.776445105198, 4), 0.05, 1e-9, "t(0.975, 4)");
  close(studentTTwoSidedP(4.032142983557, 5), 0.01, 1e-9, "t(0.995, 5)");
  close(studentTTwoSidedP(2.042272456301, 30), 0.05, 1e-9, "t(0.975, 30)");
  // Large ν approaches the normal: 1.959964 → 0.05.
  close(studentTTwoSidedP(1.959963984540054, 1e7), 0.05, 1e-6, "normal limit");
  assert.equal(studentTTwoSidedP(0, 7), 1);
  assert.equal(studentTTwoSidedP(Infinity, 7), 0);
});

test("Pearson r and its test on a hand-computed fixture", () => {
  // x̄ = ȳ = 3; Σdxdy = 8, Σdx² = Σdy² = 10 → r = 0.8; t = 0.8·sqrt(3/0.36) = 2.3094;
  // ν = 3: p = 1 − (2/π)(u/(1+u²) + atan u), u = t/√3 = 4/3 → 0.1040880387.
  const x = [1, 2, 3, 4, 5];
  const y = [2, 1, 4, 3, 5];
  close(pearson(x, y), 0.8, 1e-15, "r");
  const t = correlationTest(x, y);
  close(t.t, 2.3094010767585034, 1e-12, "t");
  close(t.p, 0.10408803866182781, 1e-12, "p");
  assert.equal(t.n, 5);
  // A constant variable has no correlation.
  const c = correlationTest([1, 1, 1], [1, 2, 3]);
  assert.ok(Number.isNaN(c.r) && Number.isNaN(c.p));
  assert.equal(c.n, 3);
  // Perfect correlation: p = 0.
  assert.equal(correlationTest([1, 2, 3, 4], [2, 4, 6, 8]).p, 0);
  assert.throws(() => pearson([1, 2], [1]), /differ in length/);
});

test("significance stars", () => {
  assert.equal(significanceStars(0.0004), "***");
  assert.equal(significanceStars(0.004), "**");
  assert.equal(significanceStars(0.04), "*");
  assert.equal(significanceStars(0.06), "");
  assert.equal(significanceStars(NaN), "");
});

test("the 14 harm categories fall into exactly one of the five risk groups", () => {
  assert.equal(HARM_CATEGORIES.length, 14);
  assert.deepEqual(
    [...RISK_GROUPS],
    ["illegal activity", "bias & toxicity", "privacy violation", "unethical behaviours", "controversial topics"],
  );
  const table = riskGroupTable();
  assert.equal(
    table.reduce((s, g) => s + g.categories.length, 0),
    14,
  );
  assert.deepEqual(table.find((g) => g.group === "privacy violation")!.categories, ["privacy_violation"]);
  assert.deepEqual(table.find((g) => g.group === "bias & toxicity")!.categories, [
    "discrimination,stereotype,injustice",
    "hate_speech,offensive_language",
  ]);
  assert.equal(RISK_GROUP_OF.child_abuse, "illegal activity");
  assert.equal(RISK_GROUP_OF["misinformation_regarding_ethics,laws_and_safety"], "controversial topics");
  const f = harmFlags(["privacy_violation", "self_harm", "space piracy"]);
  assert.deepEqual(f.unknown, ["space piracy"]);
  assert.deepEqual(f.groups, [false, false, true, true, false]);
  assert.equal(f.categories.filter(Boolean).length, 2);
  assert.equal(riskGroupLabel([]), "no safety issue");
  assert.equal(riskGroupLabel(["animal_abuse", "self_harm"]), "unethical behaviours");
  assert.equal(riskGroupLabel(["privacy_violation", "animal_abuse"]), "privacy violation");
  assert.equal(riskGroupLabel(["space piracy", "animal_abuse"]), "unethical behaviours");
  assert.equal(riskGroupLabel(["space piracy"]), "unknown category");
});

test("value–risk correlation cells on a hand-computed fixture", () => {
  // Security scores [0.9, 0.8, 0.1, 0.2, 0.5, 0.3]; privacy flags [1,1,0,0,1,0]:
  // M1 = 0.7333, M0 = 0.2, s_n = 0.298142, p = q = ½ → r_pb = (M1 − M0)/s_n·sqrt(pq) = 2/√5 = 0.894427;
  // t = r·sqrt(4/(1 − r²)) = 4, ν = 4 → p = 1 − I_0.8(½, 2) = 0.0161300899.
  // Illegal-activity flags [0,0,1,1,0,0] (theft, child abuse): r = −0.751041, p = 0.0852556.
  const security = [0.9, 0.8, 0.1, 0.2, 0.5, 0.3];
  const scores = security.map((s) => BASIC_VALUES.map((v) => (v === "security" ? s : v === "power" ? 0.5 : 0)));
  const issues = [
    ["privacy_violation"],
    ["privacy_violation"],
    ["financial_crime,property_crime,theft"],
    ["child_abuse"],
    ["privacy_violation"],
    [],
  ];
  const cells = valueRiskCorrelation(scores, issues, "group");
  assert.equal(cells.length, 50);
  const cell = (v: string, g: string) => cells.find((c) => c.value === v && c.risk === g)!;
  close(cell("security", "privacy violation").r, 2 / Math.sqrt(5), 1e-14, "r security × privacy");
  close(cell("security", "privacy violation").p, 0.01613008990009246, 1e-10, "p security × privacy");
  assert.equal(cell("security", "privacy violation").n, 6);
  assert.equal(cell("security", "privacy violation").flagged, 3);
  assert.equal(cell("security", "privacy violation").stars, "*");
  close(cell("security", "illegal activity").r, -0.75104094428999, 1e-12, "r security × illegal");
  close(cell("security", "illegal activity").p, 0.08525559988430109, 1e-10, "p security × illegal");
  assert.equal(cell("security", "illegal activity").flagged, 2);
  // A constant value dimension, and a group nobody is flagged with, give no correlation.
  assert.ok(Number.isNaN(cell("power", "privacy violation").r));
  assert.ok(Number.isNaN(cell("security", "bias & toxicity").r));
  // Category level: 14 columns; the privacy category equals the privacy group here.
  const byCategory = valueRiskCorrelation(scores, issues, "category");
  assert.equal(byCategory.length, 140);
  close(byCategory.find((c) => c.value === "security" && c.risk === "privacy_violation")!.r, 2 / Math.sqrt(5), 1e-14, "category cell");
  const m = correlationMatrix(cells, ["security"], ["privacy violation", "illegal activity"]);
  assert.deepEqual(m.n, [[6, 6]]);
  close(m.r[0][1], -0.75104094428999, 1e-12, "matrix cell");
  const cmp = compareWithPaperFig4b(cells).find((c) => c.value === "security" && c.group === "illegal activity")!;
  assert.equal(cmp.paper, 0.29);
  assert.equal(cmp.sameSign, false);
});

test("reference numbers from the paper's figures", () => {
  assert.equal(PAPER_FIG2A.length, 10);
  const security = PAPER_FIG2A.find((r) => r.value === "security")!;
  assert.equal(security.aligned, 0.223);
  assert.equal(security.opposed, 0.087);
  assert.equal(PAPER_FIG4B.hedonism["controversial topics"], 0.39);
  assert.equal(PAPER_FIG4B.tradition["privacy violation"], -0.0029);
  for (const v of BASIC_VALUES) assert.equal(Object.keys(PAPER_FIG4B[v]).length, 5, v);
});
