/**
 * The dataset figures, built from the analyses' results with the figures
 * module's builders, so that the notebooks only load, call and show.
 *
 * - fig2aFigure: Figure 2(a), aligned/opposed share per value (stacked
 *   horizontal bars) with the paper's readings as tick marks;
 * - profileFigure: mean value vector per group (radar);
 * - cooccurrenceFigure: phi between signed labels (heatmap);
 * - valueSpaceFigure: Figure 4(a), points in a 2-D projection, coloured by
 *   LLM, by risk group, or safe vs unsafe with markers by risk group;
 * - riskCorrelationFigure: Figure 4(b), values × risks heatmap with stars.
 */
import { heatmap, radarChart, scatterPlot, stackedBarH } from "../charts/builders.js";
import { MEANING_COLORS, SERIES_COLORS, valueLabels, type Figure, type Trace } from "../charts/spec.js";
import { BASIC_VALUE_LABELS, BASIC_VALUES, type BasicValue } from "../values/taxonomy.js";
import type { Cooccurrence } from "./cooccurrence.js";
import { HARM_CATEGORY_LABELS, RISK_GROUPS, isHarmCategory } from "./harm.js";
import type { ValueProfile } from "./profiles.js";
import type { ValueProportion } from "./proportions.js";
import { PAPER_FIG2A, PAPER_FIG4B, PAPER_FIG4B_VALUE_ORDER } from "./reference.js";
import { correlationMatrix, type RiskCorrelationCell } from "./risk-correlation.js";
import { UNKNOWN_RISK, type ValueSpacePoint, type ValueSpaceProjection } from "./value-space.js";

/** Figure 2(a): per value, the share labelled aligned and opposed, with the paper's bar ends as ticks. */
export function fig2aFigure(rows: readonly ValueProportion[], options: { title?: string; paper?: boolean } = {}): Figure {
  const byValue = new Map(rows.map((r) => [r.value, r]));
  const get = (v: BasicValue) => {
    const r = byValue.get(v);
    if (!r) throw new Error(`fig2aFigure: no share for "${v}"`);
    return r;
  };
  const categories = valueLabels();
  const fig = stackedBarH({
    categories,
    series: [
      { name: "aligned (+1)", values: BASIC_VALUES.map((v) => get(v).aligned), color: MEANING_COLORS.aligned },
      { name: "opposed (−1)", values: BASIC_VALUES.map((v) => get(v).opposed), color: MEANING_COLORS.opposed },
    ],
    xTitle: `share of records (n = ${rows[0]?.n ?? 0})`,
    tickFormat: ".0%",
    title: options.title ?? "Value composition: records labelled aligned / opposed per value",
    height: 480,
  });
  // Legend in drawing order (Plotly reverses it for stacked bars otherwise).
  fig.layout.legend = { ...fig.layout.legend, traceorder: "normal" };
  if (options.paper ?? true) {
    const paper = new Map(PAPER_FIG2A.map((p) => [p.value, p]));
    const tick = (name: string, x: number[], color: string): Trace => ({
      type: "scatter",
      mode: "markers",
      name,
      x,
      y: categories,
      marker: { symbol: "line-ns-open", size: 16, line: { width: 3, color }, color },
    });
    fig.data.push(
      tick(
        "paper: aligned",
        BASIC_VALUES.map((v) => paper.get(v)!.aligned),
        "#333333",
      ),
      tick(
        "paper: aligned + opposed",
        BASIC_VALUES.map((v) => paper.get(v)!.alignedOrOpposed),
        "#999999",
      ),
    );
  }
  return fig;
}

/** Radar chart of value profiles (one polygon per group, at most `maxGroups`, largest first). */
export function profileFigure(
  profiles: readonly ValueProfile[],
  options: { title?: string; maxGroups?: number; range?: [number, number] } = {},
): Figure {
  const shown = profiles.slice(0, options.maxGroups ?? 8);
  return radarChart({
    axes: valueLabels(),
    series: shown.map((p, i) => ({ name: `${p.group} (n = ${p.n})`, values: p.mean, color: SERIES_COLORS[i % SERIES_COLORS.length] })),
    range: options.range,
    fill: false,
    title: options.title ?? "Mean value vector per group",
    height: 560,
  });
}

/** Heatmap of phi between the signed labels that occur (pass `occurringLabels(c)` for readability). */
export function cooccurrenceFigure(c: Cooccurrence, options: { title?: string } = {}): Figure {
  const names = c.labels.map((l) => `${BASIC_VALUE_LABELS[l.value]} ${l.sign > 0 ? "+" : "−"}`);
  // The diagonal (a label with itself) is always 1 and says nothing: leave it blank.
  const z = c.phi.map((row, i) => row.map((v, j) => (i === j || !Number.isFinite(v) ? null : v)));
  return heatmap({
    x: names,
    y: names,
    z,
    zmin: -1,
    zmax: 1,
    annotate: names.length <= 14,
    colorbarTitle: "phi",
    title: options.title ?? "Which values are labelled together (phi of the signed labels)",
    width: 820,
    height: 720,
  });
}

export type ValueSpaceColouring = "llm" | "risk" | "safety";

const RISK_SYMBOLS: Record<string, string> = {
  "no safety issue": "circle",
  "illegal activity": "x",
  "bias & toxicity": "triangle-up",
  "privacy violation": "square",
  "unethical behaviours": "diamond",
  "controversial topics": "star",
  "unknown category": "cross",
  [UNKNOWN_RISK]: "circle-open",
};

const RISK_COLORS: Record<string, string> = {
  "no safety issue": MEANING_COLORS.safe,
  "illegal activity": SERIES_COLORS[3],
  "bias & toxicity": SERIES_COLORS[1],
  "privacy violation": SERIES_COLORS[2],
  "unethical behaviours": SERIES_COLORS[4],
  "controversial topics": SERIES_COLORS[5],
  "unknown category": "#000000",
  [UNKNOWN_RISK]: MEANING_COLORS.neutral,
};

/**
 * Figure 4(a): the points in a 2-D projection.
 * - "llm": colour by responding LLM; FULCRA records as circles, scored outputs as crosses;
 * - "risk": colour and marker by the prompt's risk group;
 * - "safety": safe blue, unsafe orange, unknown grey; marker by risk group. The legend says whether the
 *   flag is the answer's own safety (the paper's Fig. 4(a)) or only its prompt's (a substitute).
 */
export function valueSpaceFigure(
  points: readonly ValueSpacePoint[],
  projection: ValueSpaceProjection,
  colouring: ValueSpaceColouring,
  options: { title?: string } = {},
): Figure {
  if (points.length !== projection.x.length)
    throw new Error(`valueSpaceFigure: ${points.length} points but ${projection.x.length} projected coordinates`);
  const groups = new Map<string, number[]>();
  const keyOf = (p: ValueSpacePoint): string => {
    if (colouring === "llm") return `${p.source === "FULCRA" ? "FULCRA" : "scored"}: ${p.llm}`;
    if (colouring === "risk" || p.safe === null) return p.risk === UNKNOWN_RISK ? "FULCRA, answer safety unknown" : p.risk;
    const side = p.safe ? "safe" : "unsafe";
    const of = p.safetyOf === "output" ? " answer" : p.safetyOf === "prompt" ? " prompt" : "";
    return `${side}${of}: ${p.risk}`;
  };
  points.forEach((p, i) => {
    const k = keyOf(p);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(i);
  });
  // Points of unknown safety first, so they are drawn underneath; then by risk group.
  const riskOrder = [UNKNOWN_RISK, "no safety issue", ...RISK_GROUPS, "unknown category"];
  const keys = [...groups.keys()].sort((a, b) => {
    if (colouring === "llm") return a.localeCompare(b);
    const ra = riskOrder.indexOf(points[groups.get(a)![0]].risk);
    const rb = riskOrder.indexOf(points[groups.get(b)![0]].risk);
    return ra - rb || a.localeCompare(b);
  });
  const series = keys.map((k, s) => {
    const idx = groups.get(k)!;
    const first = points[idx[0]];
    const risk = first.risk;
    const unknown = first.safe === null;
    const color =
      colouring === "llm"
        ? SERIES_COLORS[s % SERIES_COLORS.length]
        : colouring === "risk"
          ? RISK_COLORS[risk]
          : unknown
            ? MEANING_COLORS.neutral
            : first.safe
              ? MEANING_COLORS.safe
              : MEANING_COLORS.unsafe;
    const symbol = colouring === "llm" ? (first.source === "FULCRA" ? "circle" : "x") : (RISK_SYMBOLS[risk] ?? "circle");
    return {
      name: `${k} (${idx.length})`,
      x: idx.map((i) => projection.x[i]),
      y: idx.map((i) => projection.y[i]),
      color,
      symbol,
      size: unknown && colouring !== "llm" ? 4 : 5,
      opacity: unknown && colouring !== "llm" ? 0.25 : 0.7,
      text: idx.map((i) => `${points[i].file}:${points[i].line} (${points[i].llm})`),
    };
  });
  const what =
    colouring === "llm" ? "by LLM" : colouring === "risk" ? "by risk group of the prompt" : "safe vs unsafe prompts, marker by risk group";
  const fig = scatterPlot({
    series,
    xTitle: projection.xTitle,
    yTitle: projection.yTitle,
    title: options.title ?? `LLM outputs in the value space (${projection.method.toUpperCase()}), ${what}`,
    width: 900,
    height: 640,
  });
  fig.layout.legend = { orientation: "v", x: 1.02, y: 1, yanchor: "top", font: { size: 10 } };
  return fig;
}

/** Display name of a risk column: group names as they are, categories by their short label. */
export function riskLabel(risk: string): string {
  return isHarmCategory(risk) ? HARM_CATEGORY_LABELS[risk] : risk;
}

/**
 * Figure 4(b): correlation of each value dimension with each risk, r printed
 * in the cell with stars for significance (* p < 0.05, ** < 0.01, *** < 0.001).
 * Rows in the paper's Fig. 4(b) order.
 */
export function riskCorrelationFigure(
  cells: readonly RiskCorrelationCell[],
  options: { title?: string; columns?: readonly string[]; rows?: readonly BasicValue[] } = {},
): Figure {
  const m = correlationMatrix(cells, options.rows ?? PAPER_FIG4B_VALUE_ORDER, options.columns);
  const x = m.columns.map(riskLabel);
  const y = m.rows.map((v) => BASIC_VALUE_LABELS[v]);
  const z = m.r.map((row) => row.map((v) => (Number.isFinite(v) ? v : null)));
  const fig = heatmap({
    x,
    y,
    z,
    zmin: -0.5,
    zmax: 0.5,
    annotate: false,
    colorbarTitle: "r",
    title: options.title ?? "Correlation of value dimensions with risk (point-biserial r)",
    width: Math.max(760, 160 + 70 * x.length),
    height: 560,
  });
  fig.layout.annotations = m.r.flatMap((row, i) =>
    row.flatMap((v, j) =>
      Number.isFinite(v)
        ? [
            {
              x: x[j],
              y: y[i],
              text: `${Number(v.toPrecision(2))}${m.stars[i][j]}`,
              showarrow: false,
              font: { size: 11, color: Math.abs(v) > 0.3 ? "#ffffff" : "#222222" },
            },
          ]
        : [],
    ),
  );
  return fig;
}

/** The paper's Figure 4(b) numbers drawn the same way, for side-by-side comparison. */
export function paperFig4bFigure(): Figure {
  const rows = PAPER_FIG4B_VALUE_ORDER;
  const x = [...RISK_GROUPS];
  return heatmap({
    x,
    y: rows.map((v) => BASIC_VALUE_LABELS[v]),
    z: rows.map((v) => x.map((g) => PAPER_FIG4B[v][g])),
    zmin: -0.5,
    zmax: 0.5,
    colorbarTitle: "r",
    title: "Paper, Fig. 4(b) (printed values)",
    width: 760,
    height: 560,
  });
}
