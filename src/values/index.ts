export * from "./taxonomy.js";
export * from "./labels.js";
export * from "./vectors.js";
export * from "./threshold.js";
export * from "./targets.js";
export * from "./distance.js";
