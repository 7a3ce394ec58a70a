/**
 * fulcra-kit: the library behind the notebooks and the `fulcra` command.
 *
 * The foundation (value taxonomy, data, runtime, text features, report
 * numbers) is exported flat; each experiment area is a namespace named
 * after its section of the paper.
 */
export * from "./values/index.js";
export * from "./data/index.js";
export * from "./runtime/index.js";
export * from "./text/index.js";
export * from "./report/index.js";
export * as figures from "./figures/index.js";
export * as notebooks from "./notebooks/index.js";
export * as analysis from "./analysis/index.js";
export * as metrics from "./metrics/index.js";
export * as evaluator from "./evaluator/index.js";
export * as lm from "./lm/index.js";
export * as llm from "./llm/index.js";
export * as align from "./align/index.js";
export * as hub from "./hub/index.js";
