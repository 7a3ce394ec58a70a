/** Chat endpoints (OpenAI-compatible) for LLM judges and annotators, and resumable batch runs. */
export * from "./client.js";
export * from "./jobs.js";
