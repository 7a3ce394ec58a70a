/** Hugging Face hub checkpoints (config.json + safetensors + tokenizer files) run through TensorFlow.js. */
export * from "./folder.js";
export * from "./deberta.js";
export * from "./unigram.js";
export * from "./score.js";
export * from "./value-evaluator.js";
export * from "./reward.js";
export * from "./torch-bin.js";
