export * from "./manifest.js";
export * from "./paths.js";
export * from "./readers.js";
export * from "./splits.js";
export * from "./fetch.js";
export * from "./tables.js";
export * from "./integrity.js";
export * from "./atomic.js";
