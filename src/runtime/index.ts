export * from "./artifacts.js";
export * from "./backend.js";
export * from "./progress.js";
export * from "./provenance.js";
export * from "./random.js";
export * from "./env.js";
export * from "./stats.js";
