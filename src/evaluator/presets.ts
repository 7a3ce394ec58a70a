/**
 * A configuration of the value evaluator for a GPU backend (tfjs-node-gpu or
 * webgpu): `fulcra evaluator train --gpu-config`.
 *
 * What a GPU can speed up here is the dense part (hidden layer and heads) and
 * larger batches; the n-gram embedding bag stays in JavaScript on every
 * backend (network.ts says why), so the preset spends the GPU on a wider
 * network and more n-grams per dialogue rather than on the table. The
 * learning rates follow the batch (×2 for 4× the batch, the square-root rule).
 * Its accuracy has not been measured against the default yet: the default
 * (train.ts) stays the kit's instrument; a model trained with the preset
 * records every value of it in its config.json.
 */
import type { EvaluatorConfig } from "./train.js";

export const EVALUATOR_GPU_CONFIG: Partial<EvaluatorConfig> = {
  maxN: 3,
  embeddingDim: 128,
  hiddenSize: 1024,
  batchSize: 32,
  learningRate: 1,
  embeddingLearningRate: 10,
  epochs: 12,
};
