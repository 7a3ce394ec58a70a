export * from "./tokenize.js";
export * from "./normalize.js";
export * from "./dialogue.js";
export * from "./features.js";
export * from "./vocabulary.js";
export * from "./tfidf.js";
export * from "./prompt-key.js";
