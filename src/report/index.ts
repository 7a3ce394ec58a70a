export * from "./numbers.js";
export * from "./reproduction.js";
export * from "./deviations.js";
