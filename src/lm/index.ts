/**
 * The kit's causal language model: the policy that BaseAlign aligns.
 *
 * - tokenizer.ts  byte-level BPE trained on the kit's text (and a GPT-2 vocabulary reader)
 * - model.ts      GPT-style decoder with a value head, plain tfjs variables, built from
 *   attention.ts (causal self-attention), mlp.ts and block.ts (pre-norm block, LayerNorm)
 * - ops.ts        products, embedding lookup and log-probabilities with hand-written gradients
 * - generate.ts   the kit's one sampling stack: seeded sampling (temperature, top-k, top-p, KV cache),
 *                 log-probs of a sampled continuation, rollout tensors (PPO, best-of-N and `generate` use it)
 * - optim.ts      AdamW and gradient clipping (TensorFlow's or PyTorch's formula)
 * - safetensors.ts / gpt2.ts  reading published GPT-2-family weights
 * - sft.ts        supervised fine-tuning on the kit's dialogues (the starting policy, cached by the
 *                 artifact store); sft-config / sft-data / sft-loop / sft-checkpoint.ts hold its parts
 */
export * from "./tokenizer.js";
export * from "./ops.js";
export * from "./attention.js";
export * from "./mlp.js";
export * from "./block.js";
export * from "./model.js";
export * from "./generate.js";
export * from "./safetensors.js";
export * from "./optim.js";
export * from "./sft.js";
export * from "./gpt2.js";
