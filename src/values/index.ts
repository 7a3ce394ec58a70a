export * from "./taxonomy.js";
export * from "./labels.js";
export * from "./vectors.js";
