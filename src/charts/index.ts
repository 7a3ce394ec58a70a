/**
 * Charts: the figure format (a plain, typed Plotly figure object with the
 * kit's style) and small builders for the kinds of figure the paper draws.
 * Plain data only, no rendering: every floor above may build figures, and
 * src/figures renders and exports them.
 */
export * from "./spec.js";
export * from "./builders.js";
