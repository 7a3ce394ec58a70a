/**
 * Named configurations of `fulcra align`.
 *
 *   cpu      — the kit's default for its small CPU policy (the PPO config
 *              table's defaults, ppo.ts): minutes on 2 cores.
 *   original — the original code's settings, one for one, as read from
 *              ../shared/reference/Value_FULCRA/src/value_alignment/main.py
 *              (BaseAlign, method ppo) and ppo.py (the RLHF baseline, method
 *              rlhf). Settings the original leaves to trl's PPOConfig are
 *              trl's defaults of that time. Meant for a real policy; with the
 *              kit's 0.67M-parameter decoder (context 64) it runs, but some
 *              settings cannot take effect (see `notApplicable`).
 *
 * Each original value carries its source, so that `--dry-run --json` and
 * DEVIATIONS.md can say where it came from.
 */
import { PPO_DEFAULTS, resolvePPOConfig, type PPOConfig } from "./ppo.js";
import type { AlignMethod } from "./run.js";

export type PresetName = "cpu" | "original";
export const PRESET_NAMES: readonly PresetName[] = ["cpu", "original"];

const MAIN = "Value_FULCRA/src/value_alignment/main.py";
const PPO_PY = "Value_FULCRA/src/value_alignment/ppo.py";
const TRL = "trl PPOConfig default (not set by the original)";

export interface OriginalSetting {
  value: number | string | boolean;
  source: string;
}

/** The original's PPO settings for a method, with their file:line. `steps` is derived (see originalSteps). */
export function originalSettings(method: "ppo" | "rlhf"): Record<string, OriginalSetting> {
  const f = method === "ppo" ? MAIN : PPO_PY;
  const at = (ppoLine: number, rlhfLine: number) => `${f}:${method === "ppo" ? ppoLine : rlhfLine}`;
  return {
    seed: { value: method === "ppo" ? 2023 : 0, source: at(43, 56) },
    learning_rate: { value: method === "ppo" ? 1e-5 : 1.41e-5, source: at(51, 45) },
    batch_size: { value: 32, source: at(52, 48) },
    // mini_batch_size 4 × gradient_accumulation_steps 8: one optimizer step per 32 rollouts.
    mini_batch_size: { value: 32, source: `${at(53, 47)} and ${at(54, 49)} (4 × 8 accumulation steps = one update per 32)` },
    ppo_epochs: { value: 2, source: at(55, 50) },
    target_kl_early_stop: { value: 0, source: `${at(56, 51)} (early_stopping=False)` },
    target_kl: { value: 6, source: at(57, 52) },
    init_kl_coef: { value: 0.1, source: at(59, 54) },
    adaptive_kl: { value: true, source: at(60, 55) },
    reward_scaling: {
      value: method === "ppo" ? "scale" : "none",
      source: `${at(61, 57)} and ${at(62, 58)} (use_score_scaling=${method === "ppo" ? "True" : "False"}, use_score_norm=False)`,
    },
    reward_clip: { value: 0, source: `${at(63, 59)} (score_clip=None)` },
    response_length: { value: 512, source: at(220, 210) },
    top_k: { value: 0, source: at(216, 206) },
    top_p: { value: 1, source: at(217, 207) },
    temperature: { value: 1, source: `${at(215, 204)} (no temperature in generation_kwargs)` },
    max_grad_norm: { value: 0, source: `${TRL}: max_grad_norm=None, no clipping` },
    cliprange: { value: 0.2, source: TRL },
    cliprange_value: { value: 0.2, source: TRL },
    vf_coef: { value: 0.1, source: TRL },
    gamma: { value: 1, source: TRL },
    lam: { value: 0.95, source: TRL },
    horizon: { value: 10000, source: TRL },
    whiten_advantages: { value: true, source: `${TRL}: advantages always whitened` },
    ent_coef: { value: 0, source: `${TRL}: no entropy bonus` },
    adam_eps: { value: 1e-8, source: `${TRL}: torch.optim.Adam's default eps` },
    samples_per_prompt: { value: 1, source: `${at(250, 214)} (one response per prompt of each dataloader batch, no per-prompt baseline)` },
  };
}

/** The original trains `epochs` passes over the SafeRLHF training prompts in batches of 32 (main.py:81, ppo.py:76: epochs 20). */
export const ORIGINAL_EPOCHS = 20;
export function originalSteps(trainPrompts: number, batchSize = 32, epochs = ORIGINAL_EPOCHS): number {
  return epochs * Math.ceil(trainPrompts / batchSize);
}

/** What the original sets that has no counterpart with the kit's small policy. */
export function notApplicable(method: "ppo" | "rlhf"): Record<string, string> {
  const f = method === "ppo" ? MAIN : PPO_PY;
  return {
    lora: `LoRA r 8, alpha 16 on the policy (${f}:${method === "ppo" ? "72-73" : "68-69"}): the kit's 0.67M-parameter decoder is trained in full`,
    policy: `a 7B instruction model (${f}:${method === "ppo" ? 45 : 42}, PKU-Alignment/alpaca-7b-reproduced); the kit's small decoder has a context of 64 tokens, so at most ${64} − prompt tokens are generated, not 512`,
    gradient_accumulation_steps: `8 (${f}:${method === "ppo" ? 54 : 49}): the kit takes one step on the 32 rollouts directly, which is the same update`,
  };
}

export interface ResolvedPreset {
  preset: PresetName;
  method: AlignMethod;
  ppo: PPOConfig & { num_mini_batches: number };
  /** Where each value of the original preset came from (empty for cpu). */
  sources: Record<string, string>;
  not_applicable: Record<string, string>;
}

/** The PPO configuration of a preset for a method, user overrides on top. */
export function resolvePreset(
  preset: PresetName,
  method: AlignMethod,
  trainPrompts: number,
  overrides: Partial<PPOConfig> = {},
): ResolvedPreset {
  if (!PRESET_NAMES.includes(preset)) throw new Error(`unknown preset "${preset}": use ${PRESET_NAMES.join(" or ")}`);
  if (preset === "cpu" || method === "bon") {
    return { preset, method, ppo: resolvePPOConfig({ ...overrides }), sources: {}, not_applicable: {} };
  }
  const settings = originalSettings(method);
  const values = Object.fromEntries(Object.entries(settings).map(([k, s]) => [k, s.value])) as Partial<PPOConfig>;
  const sources = Object.fromEntries(Object.entries(settings).map(([k, s]) => [k, s.source]));
  const steps = originalSteps(trainPrompts);
  sources.steps = `${MAIN}:81 / ${PPO_PY}:76 (epochs 20) × ⌈${trainPrompts} training prompts / 32⌉`;
  const ppo = resolvePPOConfig({ ...values, steps, save_every: PPO_DEFAULTS.save_every, ...overrides });
  return { preset, method, ppo, sources, not_applicable: notApplicable(method) };
}
