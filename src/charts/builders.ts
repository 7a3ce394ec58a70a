/**
 * Small builders for the kinds of figure the paper draws. Each takes plain
 * arrays (categories in the order they should appear, usually the paper's
 * value order from `valueLabels()`), applies the kit's style and returns a
 * Plotly figure object that can be shown inline (`show.plot`) or exported
 * (`exportFigure`). Anything a builder does not cover can be set on the
 * returned object afterwards: it is a plain Plotly figure.
 */
import { baseLayout, DEFAULT_CONFIG, orderedAxis, SERIES_COLORS, type CommonOptions, type Figure, type Trace } from "./spec.js";

export interface Series {
  name: string;
  values: readonly number[];
  /** Bar/marker colour: one for the series, or one per category. */
  color?: string | readonly string[];
  /** Hover text per point. */
  text?: readonly string[];
  /**
   * Error bars (bar charts), one pair per category: how far the bar's upper
   * end lies above the value and the lower end below it, e.g. to the ends of
   * a confidence interval. They may differ (asymmetric intervals).
   */
  errors?: { plus: readonly number[]; minus: readonly number[] };
}

function check(what: string, expected: number, got: number, series: string): void {
  if (expected !== got) throw new Error(`${what}: series "${series}" has ${got} values but there are ${expected} categories`);
}

function colorOf(s: { color?: string | readonly string[] }, i: number): string | readonly string[] {
  return s.color ?? SERIES_COLORS[i % SERIES_COLORS.length];
}

export interface BarOptions extends CommonOptions {
  /** Categories, in display order (e.g. `valueLabels()`). */
  categories: readonly string[];
  series: readonly Series[];
  /** "v" (default): categories along x; "h": categories along y, first at the top. */
  orientation?: "v" | "h";
  /** "group" (default) puts series side by side, "stack" on top of each other. */
  barmode?: "group" | "stack";
  /** Print each bar's value on it, with this d3 format (e.g. ".2f", ".0%"). */
  valueFormat?: string;
  /** Value axis range. */
  range?: [number, number];
  /** d3 format of the value axis ticks (e.g. ".0%"). */
  tickFormat?: string;
}

/** Plotly's asymmetric error bars from distances above and below each value. */
function errorBars(e: { plus: readonly number[]; minus: readonly number[] }, categories: number, series: string): Record<string, unknown> {
  check("barChart error bars (plus)", categories, e.plus.length, series);
  check("barChart error bars (minus)", categories, e.minus.length, series);
  return { type: "data", symmetric: false, array: [...e.plus], arrayminus: [...e.minus], color: "#444" };
}

/** Bar chart: one bar per category and series, grouped or stacked, vertical or horizontal (optionally with error bars). */
export function barChart(o: BarOptions): Figure {
  const horizontal = o.orientation === "h";
  const data: Trace[] = o.series.map((s, i) => {
    check("barChart", o.categories.length, s.values.length, s.name);
    const cats = [...o.categories];
    return {
      type: "bar",
      name: s.name,
      orientation: horizontal ? "h" : "v",
      x: horizontal ? [...s.values] : cats,
      y: horizontal ? cats : [...s.values],
      marker: { color: colorOf(s, i) },
      ...(s.text ? { hovertext: [...s.text] } : {}),
      ...(o.valueFormat
        ? { texttemplate: `%{${horizontal ? "x" : "y"}:${o.valueFormat}}`, textposition: o.barmode === "stack" ? "inside" : "outside" }
        : {}),
      ...(s.errors ? { [horizontal ? "error_x" : "error_y"]: errorBars(s.errors, o.categories.length, s.name) } : {}),
    };
  });
  const layout = baseLayout(o, o.series.length);
  layout.barmode = o.barmode ?? "group";
  const catAxis = orderedAxis(o.categories);
  const valueAxis = { ...(o.range ? { range: o.range } : {}), ...(o.tickFormat ? { tickformat: o.tickFormat } : {}) };
  if (horizontal) {
    // First category at the top, as one reads a table.
    layout.yaxis = { ...layout.yaxis, ...catAxis, autorange: "reversed" };
    layout.xaxis = { ...layout.xaxis, ...valueAxis };
  } else {
    layout.xaxis = { ...layout.xaxis, ...catAxis };
    layout.yaxis = { ...layout.yaxis, ...valueAxis };
  }
  return { data, layout, config: { ...DEFAULT_CONFIG } };
}

/** Horizontal stacked bars (e.g. Fig. 2(a): per value, the share aligned and opposed). */
export function stackedBarH(o: Omit<BarOptions, "orientation" | "barmode">): Figure {
  return barChart({ ...o, orientation: "h", barmode: "stack" });
}

export interface PointSeries {
  name: string;
  x: readonly number[];
  y: readonly number[];
  color?: string | readonly string[];
  /** Plotly marker symbol, e.g. "circle", "x", "triangle-up", "diamond". */
  symbol?: string;
  size?: number;
  opacity?: number;
  text?: readonly string[];
}

export interface ScatterOptions extends CommonOptions {
  series: readonly PointSeries[];
  xRange?: [number, number];
  yRange?: [number, number];
  /**
   * Draw with WebGL (default false). Faster in the browser for tens of
   * thousands of points, but the exported SVG/PDF then holds a raster image.
   */
  webgl?: boolean;
}

/** Scatter plot of one or more point sets (e.g. Fig. 4(a): answers in a 2-D map of the value space). */
export function scatterPlot(o: ScatterOptions): Figure {
  const type = o.webgl ? "scattergl" : "scatter";
  const data: Trace[] = o.series.map((s, i) => {
    if (s.x.length !== s.y.length) throw new Error(`scatterPlot: series "${s.name}" has ${s.x.length} x values but ${s.y.length} y values`);
    return {
      type,
      mode: "markers",
      name: s.name,
      x: [...s.x],
      y: [...s.y],
      marker: { color: colorOf(s, i), symbol: s.symbol ?? "circle", size: s.size ?? 6, opacity: s.opacity ?? 0.75 },
      ...(s.text ? { text: [...s.text], hoverinfo: "text+name" } : {}),
    };
  });
  const layout = baseLayout(o, o.series.length);
  if (o.xRange) layout.xaxis = { ...layout.xaxis, range: o.xRange };
  if (o.yRange) layout.yaxis = { ...layout.yaxis, range: o.yRange };
  return { data, layout, config: { ...DEFAULT_CONFIG } };
}

export interface HeatmapOptions extends CommonOptions {
  /** Column labels (left to right). */
  x: readonly string[];
  /** Row labels (top to bottom). */
  y: readonly string[];
  /** z[row][column]; null for an empty cell. */
  z: readonly (readonly (number | null)[])[];
  /** Write each cell's value in it (default true). */
  annotate?: boolean;
  /** Formats an annotation (default: 2 significant digits, as the paper prints them). */
  format?: (v: number) => string;
  zmin?: number;
  zmax?: number;
  /** Plotly colour scale name or stops (default a diverging red–white–blue, centred on 0 when zmin = −zmax). */
  colorscale?: string | [number, string][];
  colorbarTitle?: string;
}

/** Heatmap with the value printed in each cell (e.g. Fig. 4(b): correlation of values with risk groups). */
export function heatmap(o: HeatmapOptions): Figure {
  if (o.z.length !== o.y.length) throw new Error(`heatmap: z has ${o.z.length} rows but there are ${o.y.length} row labels`);
  o.z.forEach((row, r) => {
    if (row.length !== o.x.length)
      throw new Error(`heatmap: row ${r} ("${o.y[r]}") has ${row.length} cells but there are ${o.x.length} columns`);
  });
  const flat = o.z.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const extent = Math.max(1e-9, ...flat.map(Math.abs));
  const zmin = o.zmin ?? -extent;
  const zmax = o.zmax ?? extent;
  const format = o.format ?? ((v: number) => (v === 0 ? "0" : Number(v.toPrecision(2)).toString()));
  const data: Trace[] = [
    {
      type: "heatmap",
      x: [...o.x],
      y: [...o.y],
      z: o.z.map((r) => [...r]),
      zmin,
      zmax,
      colorscale: o.colorscale ?? [
        [0, "#2166ac"],
        [0.5, "#f7f7f7"],
        [1, "#b2182b"],
      ],
      colorbar: o.colorbarTitle ? { title: { text: o.colorbarTitle } } : {},
      hoverongaps: false,
    },
  ];
  const layout = baseLayout(o, 1);
  layout.xaxis = { ...layout.xaxis, ...orderedAxis(o.x), showgrid: false };
  layout.yaxis = { ...layout.yaxis, ...orderedAxis(o.y), autorange: "reversed", showgrid: false };
  if (o.annotate ?? true) {
    const mid = (zmin + zmax) / 2;
    const span = zmax - zmin || 1;
    layout.annotations = o.z.flatMap((row, r) =>
      row.flatMap((v, c) =>
        v === null || !Number.isFinite(v)
          ? []
          : [
              {
                x: o.x[c],
                y: o.y[r],
                text: format(v),
                showarrow: false,
                // Light text on dark cells.
                font: { size: 11, color: Math.abs(v - mid) / span > 0.3 ? "#ffffff" : "#222222" },
              },
            ],
      ),
    );
  }
  return { data, layout, config: { ...DEFAULT_CONFIG } };
}

export interface RadarOptions extends CommonOptions {
  /** Axis labels around the circle, clockwise from the top (e.g. `valueLabels()`). */
  axes: readonly string[];
  series: readonly Series[];
  /** Radial range (default from the data, including 0). */
  range?: [number, number];
  /** Fill each polygon (default true). */
  fill?: boolean;
}

/** Radar (polar) chart of value profiles, one polygon per series. */
export function radarChart(o: RadarOptions): Figure {
  const data: Trace[] = o.series.map((s, i) => {
    check("radarChart", o.axes.length, s.values.length, s.name);
    const color = typeof colorOf(s, i) === "string" ? (colorOf(s, i) as string) : SERIES_COLORS[i % SERIES_COLORS.length];
    // Repeat the first point so that the polygon closes.
    return {
      type: "scatterpolar",
      name: s.name,
      r: [...s.values, s.values[0]],
      theta: [...o.axes, o.axes[0]],
      mode: "lines+markers",
      line: { color },
      marker: { color, size: 5 },
      ...((o.fill ?? true) ? { fill: "toself", opacity: 0.6 } : {}),
    };
  });
  const all = o.series.flatMap((s) => s.values);
  const range = o.range ?? [Math.min(0, ...all), Math.max(0, ...all)];
  const layout = baseLayout(o, o.series.length);
  delete layout.xaxis;
  delete layout.yaxis;
  layout.polar = {
    radialaxis: { range, gridcolor: "#dddddd", angle: 90, tickangle: 90 },
    angularaxis: { direction: "clockwise", rotation: 90, gridcolor: "#dddddd", categoryorder: "array", categoryarray: [...o.axes] },
  };
  return { data, layout, config: { ...DEFAULT_CONFIG } };
}

export interface HistogramSeries {
  name: string;
  values: readonly number[];
  color?: string;
}

export interface HistogramOptions extends CommonOptions {
  series: readonly HistogramSeries[];
  /** Bin width; default Plotly's automatic binning (the same for all series). */
  binSize?: number;
  /** Start of the first bin (with binSize). */
  binStart?: number;
  /** "count" (default), "probability" or "percent". */
  normalize?: "count" | "probability" | "percent";
  /** "overlay" (default, translucent) or "stack". */
  barmode?: "overlay" | "stack" | "group";
}

/** Histogram of one or more distributions (e.g. reward or distance distributions per model). */
export function histogram(o: HistogramOptions): Figure {
  const data: Trace[] = o.series.map((s, i) => ({
    type: "histogram",
    name: s.name,
    x: [...s.values],
    marker: { color: s.color ?? SERIES_COLORS[i % SERIES_COLORS.length] },
    opacity: (o.barmode ?? "overlay") === "overlay" && o.series.length > 1 ? 0.6 : 1,
    ...(o.normalize && o.normalize !== "count" ? { histnorm: o.normalize } : {}),
    ...(o.binSize ? { xbins: { size: o.binSize, ...(o.binStart !== undefined ? { start: o.binStart } : {}) } } : {}),
    ...(o.binSize === undefined ? { bingroup: 1 } : {}),
  }));
  const layout = baseLayout(
    { yTitle: o.normalize === "probability" ? "share" : o.normalize === "percent" ? "percent" : "count", ...o },
    o.series.length,
  );
  layout.barmode = o.barmode ?? "overlay";
  return { data, layout, config: { ...DEFAULT_CONFIG } };
}

export interface LineSeries {
  name: string;
  x: readonly (number | string)[];
  y: readonly number[];
  color?: string;
  /** "lines" (default) or "lines+markers". */
  mode?: "lines" | "lines+markers" | "markers";
  dash?: "solid" | "dash" | "dot" | "dashdot";
}

export interface LineOptions extends CommonOptions {
  series: readonly LineSeries[];
  yRange?: [number, number];
  xRange?: [number, number];
  /** Log scale on the y axis. */
  logY?: boolean;
}

/** Line chart (e.g. training curves: loss, reward or distance against step). */
export function lineChart(o: LineOptions): Figure {
  const data: Trace[] = o.series.map((s, i) => {
    if (s.x.length !== s.y.length) throw new Error(`lineChart: series "${s.name}" has ${s.x.length} x values but ${s.y.length} y values`);
    return {
      type: "scatter",
      name: s.name,
      x: [...s.x],
      y: [...s.y],
      mode: s.mode ?? "lines",
      line: { color: s.color ?? SERIES_COLORS[i % SERIES_COLORS.length], dash: s.dash ?? "solid", width: 2 },
    };
  });
  const layout = baseLayout(o, o.series.length);
  if (o.yRange) layout.yaxis = { ...layout.yaxis, range: o.yRange };
  if (o.xRange) layout.xaxis = { ...layout.xaxis, range: o.xRange };
  if (o.logY) layout.yaxis = { ...layout.yaxis, type: "log" };
  return { data, layout, config: { ...DEFAULT_CONFIG } };
}
