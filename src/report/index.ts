export * from "./numbers.js";
export * from "./reproduction.js";
