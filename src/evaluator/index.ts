/**
 * The value evaluator: the paper's measuring instrument and BaseAlign's
 * reward model. Train it (`trainEvaluator`), score dialogues with it
 * (`evaluator.score`), save and load it (`saveEvaluator`, `loadEvaluator`),
 * and check it against the paper's evaluator and simple baselines (report.ts).
 */
export * from "./data.js";
export * from "./metrics.js";
export * from "./network.js";
export * from "./optimizers.js";
export * from "./io.js";
export * from "./evaluator.js";
export * from "./train.js";
export * from "./baseline.js";
export * from "./report.js";
export * from "./report-markdown.js";
export * from "./annotator.js";
export * from "./present.js";
export * from "./presets.js";
