export * from "./targets.js";
export * from "./distance.js";
