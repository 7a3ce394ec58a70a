/** The figure format and the kit's figure style live on the bottom floor (src/charts/spec.ts), so that every experiment can build figures. */
export * from "../charts/spec.js";
