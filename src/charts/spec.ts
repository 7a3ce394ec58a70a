/**
 * The figure format: a plain Plotly figure object ({ data, layout, config })
 * with just enough typing to catch mistakes, plus the kit's shared style.
 *
 * Plotly.js 3 wants every title as an object (`{ text: "…" }`); the builders
 * always produce that form.
 */
import { BASIC_VALUES, BASIC_VALUE_LABELS, HIGHER_ORDER_OF, type BasicValue, type HigherOrderGroup } from "../values/taxonomy.js";

/** A title as Plotly 3 expects it. */
export interface Title {
  text: string;
  font?: Partial<Font>;
  [key: string]: unknown;
}

export interface Font {
  family: string;
  size: number;
  color: string;
}

export interface Axis {
  title?: Title;
  range?: [number, number];
  type?: "linear" | "log" | "category" | "date";
  /** Category order; the builders set "array" with the paper's value order. */
  categoryorder?: string;
  categoryarray?: readonly (string | number)[];
  autorange?: boolean | "reversed";
  tickformat?: string;
  zeroline?: boolean;
  [key: string]: unknown;
}

export interface Layout {
  title?: Title;
  width?: number;
  height?: number;
  xaxis?: Axis;
  yaxis?: Axis;
  font?: Partial<Font>;
  barmode?: "group" | "stack" | "overlay" | "relative";
  showlegend?: boolean;
  legend?: Record<string, unknown>;
  margin?: { l?: number; r?: number; t?: number; b?: number; pad?: number };
  annotations?: Record<string, unknown>[];
  polar?: Record<string, unknown>;
  [key: string]: unknown;
}

/** One Plotly trace. `type` is required so that a figure says what it draws. */
export interface Trace {
  type: "bar" | "scatter" | "scattergl" | "heatmap" | "scatterpolar" | "histogram" | "box" | "violin";
  name?: string;
  x?: readonly unknown[];
  y?: readonly unknown[];
  z?: readonly (readonly (number | null)[])[];
  r?: readonly number[];
  theta?: readonly string[];
  text?: string | readonly string[];
  [key: string]: unknown;
}

export interface Figure {
  data: Trace[];
  layout: Layout;
  config?: Record<string, unknown>;
}

/** Default size of an exported figure, in CSS pixels (at scale 3 the PNG is 300 dpi at this size / 100). */
export const DEFAULT_SIZE = { width: 800, height: 500 } as const;

/** Fonts: DejaVu Sans is what `npm run setup` installs for Chromium, so exports look the same everywhere. */
export const FONT_FAMILY = "DejaVu Sans, Arial, Helvetica, sans-serif";

/** Colour-blind-safe series palette (Okabe and Ito). */
export const SERIES_COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"] as const;

/** One colour per higher-order group of Schwartz's circle. */
export const GROUP_COLORS: Record<HigherOrderGroup, string> = {
  "openness to change": "#E69F00",
  "self-enhancement": "#D55E00",
  conservation: "#0072B2",
  "self-transcendence": "#009E73",
};

/** Each basic value coloured by its higher-order group. */
export const VALUE_COLORS: Record<BasicValue, string> = Object.fromEntries(
  BASIC_VALUES.map((v) => [v, GROUP_COLORS[HIGHER_ORDER_OF[v]]]),
) as Record<BasicValue, string>;

/** Colours with a fixed meaning across the kit's figures. */
export const MEANING_COLORS = {
  /** A label +1 (the answer upholds the value). */
  aligned: "#0072B2",
  /** A label −1 (the answer goes against the value). */
  opposed: "#D55E00",
  /** Safe answers in the value space (the paper draws them blue). */
  safe: "#0072B2",
  /** Unsafe answers (the paper draws them orange). */
  unsafe: "#E69F00",
  neutral: "#999999",
} as const;

/** The 10 basic values' display names, in the paper's vector order. */
export function valueLabels(): string[] {
  return BASIC_VALUES.map((v) => BASIC_VALUE_LABELS[v]);
}

/** A category axis that keeps the given order (Plotly otherwise orders categories by first appearance). */
export function orderedAxis(categories: readonly string[], title?: string): Axis {
  return { ...(title ? { title: { text: title } } : {}), type: "category", categoryorder: "array", categoryarray: categories };
}

export interface CommonOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  width?: number;
  height?: number;
  /** Show the legend (default: when there is more than one series). */
  showLegend?: boolean;
}

/** The kit's base layout: white background, light grid, DejaVu Sans, room for axis titles. */
export function baseLayout(options: CommonOptions, seriesCount = 1): Layout {
  return {
    ...(options.title ? { title: { text: options.title, x: 0.02, xanchor: "left" } } : {}),
    width: options.width ?? DEFAULT_SIZE.width,
    height: options.height ?? DEFAULT_SIZE.height,
    font: { family: FONT_FAMILY, size: 13, color: "#222222" },
    paper_bgcolor: "#ffffff",
    plot_bgcolor: "#ffffff",
    colorway: [...SERIES_COLORS],
    showlegend: options.showLegend ?? seriesCount > 1,
    legend: { orientation: "h", x: 0, y: -0.18, yanchor: "top" },
    margin: { l: 70, r: 20, t: options.title ? 50 : 20, b: 70 },
    xaxis: {
      ...(options.xTitle ? { title: { text: options.xTitle } } : {}),
      gridcolor: "#e5e5e5",
      linecolor: "#444444",
      zeroline: false,
      automargin: true,
    },
    yaxis: {
      ...(options.yTitle ? { title: { text: options.yTitle } } : {}),
      gridcolor: "#e5e5e5",
      linecolor: "#444444",
      zeroline: false,
      automargin: true,
    },
  };
}

/** Static-looking defaults for the interactive view (no Plotly logo, no editing). */
export const DEFAULT_CONFIG = { displaylogo: false, responsive: false } as const;

/** Texts of a figure's titles (figure, x and y axis), for checks and captions. */
export function figureTitles(figure: Figure): { title?: string; xTitle?: string; yTitle?: string } {
  return { title: figure.layout.title?.text, xTitle: figure.layout.xaxis?.title?.text, yTitle: figure.layout.yaxis?.title?.text };
}
