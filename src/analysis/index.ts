/**
 * The paper's analysis of FULCRA (Section 3 and Figures 2(a), 4(a), 4(b)):
 * loading the released files into tables, composition, value proportions,
 * value profiles, co-occurrence, projections of the value space, and the
 * correlation of values with harm categories; with the paper's numbers as
 * reference data.
 */
export * from "./dataset.js";
export * from "./composition.js";
export * from "./proportions.js";
export * from "./profiles.js";
export * from "./cooccurrence.js";
export * from "./quality.js";
export * from "./harm.js";
export * from "./stats.js";
export * from "./risk-correlation.js";
export * from "./pca.js";
export * from "./umap.js";
export * from "./value-space.js";
export * from "./reference.js";
export * from "./report.js";
export * from "./plots.js";
export * from "./figure4.js";
