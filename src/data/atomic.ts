/** Atomic file writes live in runtime/atomic.ts (the artifact store uses them too); kept here for the existing imports. */
export * from "../runtime/atomic.js";
