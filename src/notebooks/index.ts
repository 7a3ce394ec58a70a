/**
 * Notebook infrastructure: the project-local tslab kernel, the headless
 * runner behind `fulcra notebooks run`, and the display helpers notebooks use
 * to show tables and interactive figures inline (`show.table`, `show.plot`, …).
 */
export * from "./kernel.js";
export * from "./runner.js";
export * from "./show.js";
export * from "./taxonomy.js";
