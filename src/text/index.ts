export * from "./tokenize.js";
