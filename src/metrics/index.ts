/** HH metrics: value distances to targets, reward distributions, harm-category breakdowns, judges and Elo. */
// Targets and distances live in src/values (exported flat from the package);
// they stay reachable as `metrics.*` too, where the notebooks and readers know them.
export * from "../values/targets.js";
export * from "../values/distance.js";
export { meanValueVector } from "../values/vectors.js";
export * from "./harm.js";
export * from "./summary.js";
export * from "./reward-model.js";
export * from "./score.js";
export * from "./elo.js";
export * from "./elo-rules.js";
export * from "./verdicts.js";
export * from "./judges.js";
export * from "./report.js";
export * from "./report-text.js";
export * from "./judge-runs.js";
export * from "./plots.js";
export * from "./judged-scores.js";
