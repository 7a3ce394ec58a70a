/**
 * Figures: small typed Plotly figure builders in the kit's style, and
 * publication export (SVG, PNG, PDF + CSV data + provenance JSON) through
 * Debian's Chromium.
 *
 * ```ts
 * const fig = figures.stackedBarH({ categories: figures.valueLabels(), series: [...], xTitle: "share of records" });
 * await figures.exportFigure(fig, "fig2a-value-composition", { data: rows, dataFiles: [file] });
 * ```
 */
export * from "../charts/index.js";
export * from "./csv.js";
export * from "./renderer.js";
export * from "./export.js";
