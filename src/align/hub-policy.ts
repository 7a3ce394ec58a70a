/**
 * A GPT-2 checkpoint from a hub folder as BaseAlign's policy: the
 * pretrained GPT2LMHeadModel (src/hub/gpt2.ts) plus a value head, sampled
 * and scored with the folder's own tokenizer (src/hub/bpe.ts).
 *
 *   hidden = GPT-2(ids) after ln_f            [B, T, C]
 *   logits = hidden · wteᵀ                    next-token scores, as transformers computes them
 *   values = hidden · w_v + b_v               one scalar per position (the critic)
 *
 * The value head is new (zeros, as for the kit's own decoder) and trained
 * with the policy, on the same body, like the value-head models of the
 * common PPO/RLHF libraries. Generation uses the model's KV cache.
 *
 * Prompt format: the original passes the raw prompt text to models that
 * are not a chat model it knows (build_prompt returns the text unchanged),
 * so `raw` is the default; `human-assistant` writes "Human: …\nAssistant:"
 * around it. Responses end at GPT-2's end-of-text token.
 */
import * as tf from "@tensorflow/tfjs";
import { dense, stopGradient } from "../lm/model.js";
import { loadGpt2FromHub, type Gpt2LMHeadModel, type Gpt2Cache } from "../hub/gpt2.js";
import { loadHubBpeTokenizer, type HubBpeTokenizer } from "../hub/bpe.js";
import type { PolicyTokenizer, PromptFormatter, ValueHeadPolicy } from "./policy.js";

export const HUB_PROMPT_FORMATS = ["raw", "human-assistant"] as const;
export type HubPromptFormat = (typeof HUB_PROMPT_FORMATS)[number];

let headCounter = 0;

export class HubGpt2Policy implements ValueHeadPolicy {
  readonly valueHead: { weight: tf.Variable; bias: tf.Variable };

  /**
   * @param model the language model (trained in place by PPO)
   * @param valueHead initial value-head weights (default zeros)
   * @param detachValue stop the value loss's gradient at the value head
   */
  constructor(
    readonly model: Gpt2LMHeadModel,
    valueHead?: { weight: tf.Tensor; bias: tf.Tensor },
    public detachValue = false,
  ) {
    const C = model.config.n_embd;
    const id = ++headCounter;
    this.valueHead = {
      weight: tf.variable(valueHead ? valueHead.weight.clone() : tf.zeros([C, 1]), true, `${model.scope}/v_head.weight.${id}`),
      bias: tf.variable(valueHead ? valueHead.bias.clone() : tf.zeros([1]), true, `${model.scope}/v_head.bias.${id}`),
    };
  }

  get contextLength(): number {
    return this.model.contextLength;
  }

  forward(ids: tf.Tensor2D): { logits: tf.Tensor3D; values: tf.Tensor2D } {
    return tf.tidy(() => {
      const hidden = this.model.hiddenStates(ids);
      return { logits: this.model.logits(hidden), values: this.values(hidden) };
    });
  }

  step(ids: tf.Tensor2D, keyMask: tf.Tensor2D, cache?: unknown): { logits: tf.Tensor3D; values: tf.Tensor2D; cache: unknown } {
    const r = this.model.step(ids, keyMask, cache as Gpt2Cache | undefined);
    const out = tf.tidy(() => ({ logits: this.model.logits(r.hidden, true), values: this.values(r.hidden) }));
    r.hidden.dispose();
    return { ...out, cache: r.cache };
  }

  trainableVariables(): tf.Variable[] {
    return [...this.model.trainableVariables, this.valueHead.weight, this.valueHead.bias];
  }

  clone(): HubGpt2Policy {
    return new HubGpt2Policy(this.model.clone(), this.valueHead, this.detachValue);
  }

  dispose(): void {
    this.model.dispose();
    this.valueHead.weight.dispose();
    this.valueHead.bias.dispose();
  }

  private values(hidden: tf.Tensor3D): tf.Tensor2D {
    const [B, T, C] = hidden.shape;
    const h = hidden.reshape([B * T, C]) as tf.Tensor2D;
    return dense(
      this.detachValue ? stopGradient(h) : h,
      this.valueHead.weight as unknown as tf.Tensor2D,
      this.valueHead.bias as unknown as tf.Tensor1D,
    ).reshape([B, T]) as tf.Tensor2D;
  }
}

/** The tokenizer seen as PPO needs it; responses end at EOS. */
export function hubPolicyTokenizer(tok: HubBpeTokenizer): PolicyTokenizer {
  return { encode: (t) => tok.encode(t), decode: (ids) => tok.decode(ids, true), eosId: tok.eosId, vocabSize: tok.vocabSize };
}

/** Prompt ids in the chosen format, the prompt text cut to its last `maxPromptTokens` tokens. */
export function hubPromptFormatter(tok: HubBpeTokenizer, format: HubPromptFormat, maxPromptTokens: number): PromptFormatter {
  const head = format === "human-assistant" ? tok.encode("Human: ") : [];
  const tail = format === "human-assistant" ? tok.encode("\nAssistant:") : [];
  return (prompt) => {
    let ids = tok.encode(prompt);
    if (ids.length > maxPromptTokens) ids = ids.slice(ids.length - maxPromptTokens);
    return [...head, ...ids, ...tail];
  };
}

export interface HubPolicyOptions {
  format?: HubPromptFormat;
  /** Longest prompt text kept, in tokens (default 64). */
  maxPromptTokens?: number;
}

export interface LoadedHubPolicy {
  policy: HubGpt2Policy;
  tokenizer: PolicyTokenizer;
  formatPrompt: PromptFormatter;
  hubTokenizer: HubBpeTokenizer;
  /** One line for run summaries. */
  description: string;
}

/** Loads a GPT-2 hub folder (config.json, safetensors, tokenizer files) as a PPO policy. */
export function loadHubPolicy(dir: string, options: HubPolicyOptions = {}): LoadedHubPolicy {
  const format = options.format ?? "raw";
  if (!(HUB_PROMPT_FORMATS as readonly string[]).includes(format))
    throw new Error(`prompt format "${format}" unknown; use ${HUB_PROMPT_FORMATS.join(" or ")}`);
  const { model, config } = loadGpt2FromHub(dir);
  const tok = loadHubBpeTokenizer(dir);
  if (tok.vocabSize > config.vocab_size) {
    model.dispose();
    throw new Error(`${dir}: the tokenizer (${tok.source}) has ${tok.vocabSize} ids but config.json's vocab_size is ${config.vocab_size}`);
  }
  const policy = new HubGpt2Policy(model);
  const maxPromptTokens = options.maxPromptTokens ?? 64;
  return {
    policy,
    tokenizer: hubPolicyTokenizer(tok),
    formatPrompt: hubPromptFormatter(tok, format, maxPromptTokens),
    hubTokenizer: tok,
    description: `${dir} (GPT-2 hub checkpoint: ${config.n_layer} layers, width ${config.n_embd}, ${model.parameterCount() >= 1e6 ? `${(model.parameterCount() / 1e6).toFixed(1)}M` : `${(model.parameterCount() / 1e3).toFixed(1)}k`} parameters, prompt format ${format})`,
  };
}
