/** The figure builders live on the bottom floor (src/charts/builders.ts), so that every experiment can build figures. */
export * from "../charts/builders.js";
