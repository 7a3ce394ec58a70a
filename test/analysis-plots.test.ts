import { test } from "node:test";
import assert from "node:assert/strict";
import {
  fig2aFigure,
  fig4aCsvRows,
  fig4bCsvRows,
  fig2aNumbers,
  fig4bNumbers,
  riskCorrelationFigure,
  valueSpaceFigure,
  valueRiskCorrelation,
  PAPER_FIG2A,
  UNKNOWN_RISK,
  type ValueProportion,
  type ValueSpacePoint,
  type ValueSpaceProjection,
} from "../src/analysis/index.js";
import { BASIC_VALUES } from "../src/values/taxonomy.js";

const shares: ValueProportion[] = BASIC_VALUES.map((value, i) => ({
  value,
  aligned: i / 20,
  opposed: i / 100,
  n: 100,
  alignedCount: 5 * i,
  opposedCount: i,
  mixedCount: 0,
}));

test("Figure 2(a) figure draws our shares and the paper's ticks in the paper's value order", () => {
  const fig = fig2aFigure(shares);
  assert.equal(fig.data.length, 4);
  const [aligned, opposed, paperAligned, paperTotal] = fig.data;
  assert.deepEqual(
    aligned.x,
    BASIC_VALUES.map((_, i) => i / 20),
  );
  assert.deepEqual(
    opposed.x,
    BASIC_VALUES.map((_, i) => i / 100),
  );
  assert.equal(aligned.y![0], "Self-direction");
  assert.equal(aligned.y![9], "Universalism");
  assert.deepEqual(
    paperAligned.x,
    PAPER_FIG2A.map((p) => p.aligned),
  );
  assert.deepEqual(
    paperTotal.x,
    PAPER_FIG2A.map((p) => p.alignedOrOpposed),
  );
  assert.equal(fig.layout.xaxis?.title?.text, "share of records (n = 100)");
  assert.equal(fig2aFigure(shares, { paper: false }).data.length, 2);
});

test("Figure 4(b) heatmap prints r with significance stars, rows in the paper's order", () => {
  const security = [0.9, 0.8, 0.1, 0.2, 0.5, 0.3];
  const scores = security.map((s) => BASIC_VALUES.map((v) => (v === "security" ? s : 0)));
  const issues = [["privacy_violation"], ["privacy_violation"], ["child_abuse"], ["child_abuse"], ["privacy_violation"], []];
  const cells = valueRiskCorrelation(scores, issues, "group");
  const fig = riskCorrelationFigure(cells);
  const heat = fig.data[0];
  assert.equal(heat.y![0], "Achievement");
  assert.equal(heat.y![6], "Security");
  // Security × privacy violation: r = 2/√5 = 0.894 (p = 0.016, one star).
  assert.ok(Math.abs((heat.z![6][2] as number) - 2 / Math.sqrt(5)) < 1e-12);
  const notes = fig.layout.annotations as { x: string; y: string; text: string }[];
  assert.deepEqual(notes.find((a) => a.y === "Security" && a.x === "privacy violation")!.text, "0.89*");
  // Constant dimensions have no r: no cell text and an empty cell.
  assert.equal(heat.z![0][0], null);
  // Only security varies, and only two groups are ever flagged: two cells.
  assert.equal(notes.length, 2);
  const rows = fig4bCsvRows(cells);
  const row = rows.find((r) => r.value === "security" && r.risk === "illegal activity")!;
  assert.equal(row.paper, 0.29);
  assert.equal(row.n, 6);
  const numbers = fig4bNumbers(cells);
  assert.equal(numbers.filter((n) => n.reference !== undefined).length, 50);
  const cell = numbers.find((n) => n.name === "Fig. 4(b) r: Security × privacy violation")!;
  assert.equal(cell.value, 0.894);
  assert.equal(cell.reference, -0.15);
});

test("Figure 4(a) figure: one series per colour group, every point drawn once", () => {
  const pt = (source: "FULCRA" | "scored", llm: string, risk: string, safe: boolean | null, line: number): ValueSpacePoint => ({
    source,
    llm,
    risk,
    safe,
    vector: [],
    file: "f",
    line,
  });
  const points = [
    pt("FULCRA", "gemini", UNKNOWN_RISK, null, 1),
    pt("scored", "gpt-4", "no safety issue", true, 2),
    pt("scored", "gpt-4", "illegal activity", false, 3),
    pt("scored", "gpt-4", "illegal activity", false, 4),
  ];
  const projection: ValueSpaceProjection = { method: "pca", x: [0, 1, 2, 3], y: [0, -1, -2, -3], xTitle: "PC1", yTitle: "PC2" };
  const fig = valueSpaceFigure(points, projection, "safety");
  assert.deepEqual(
    fig.data.map((t) => t.name),
    ["FULCRA, answer safety unknown (1)", "safe: no safety issue (1)", "unsafe: illegal activity (2)"],
  );
  assert.deepEqual(fig.data[2].x, [2, 3]);
  const byLlm = valueSpaceFigure(points, projection, "llm");
  assert.deepEqual(
    byLlm.data.map((t) => t.name),
    ["FULCRA: gemini (1)", "scored: gpt-4 (3)"],
  );
  const rows = fig4aCsvRows(points, [projection]);
  assert.deepEqual(rows[2], {
    source: "scored",
    llm: "gpt-4",
    risk: "illegal activity",
    safe: false,
    file: "f",
    line: 3,
    pca_x: 2,
    pca_y: -2,
  });
  assert.throws(() => valueSpaceFigure(points.slice(1), projection, "llm"), /3 points but 4/);
});

test("Figure 2(a) report numbers sit beside the paper's readings", () => {
  const numbers = fig2aNumbers(shares);
  assert.equal(numbers.length, 20);
  const security = numbers.find((n) => n.name === "Fig. 2(a) aligned share: Security")!;
  assert.equal(security.value, 0.25);
  assert.equal(security.reference, 0.223);
  assert.equal(security.tolerance, 0.01);
});
