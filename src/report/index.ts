export * from "./numbers.js";
