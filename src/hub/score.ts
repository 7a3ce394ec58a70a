/**
 * Scoring texts with a hub model: tokenise (text, text_pair) items, run them
 * in padded batches, return the ids and the label logits. The HH reward of
 * the paper (OpenAssistant's reward-model-deberta-v3-large-v2) is the single
 * logit of such a model on (question, answer).
 */
import * as tf from "@tensorflow/tfjs";
import { Progress } from "../runtime/progress.js";
import type { HubEncoderModel } from "./folder.js";

export interface ScoreItem {
  text: string;
  text_pair?: string;
}

export interface ScoredItem {
  input_ids: number[];
  /** The label logits (sequence classification), or the first token's hidden state (encoder only). */
  logits: number[];
}

export interface ScoreOptions {
  /** Items per forward pass (default 8). */
  batchSize?: number;
  /** Cut texts longer than the model allows (longest first for pairs) instead of failing. */
  truncate?: boolean;
  /** Progress bar label; none when quiet. */
  label?: string;
  quiet?: boolean;
  /** Names the input in error messages ("file.jsonl"): items are reported as FILE:line. */
  source?: string;
  /** Line number of each item in `source` (default: index + 1). */
  lines?: number[];
}

/** Ids and logits for every item, in order. Items are sorted by length into batches so padding stays small. */
export function scoreWithModel(hub: HubEncoderModel, items: ScoreItem[], options: ScoreOptions = {}): ScoredItem[] {
  const batchSize = options.batchSize ?? 8;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`batch size must be a whole number > 0, got ${batchSize}`);
  const where = (i: number) => `${options.source ?? "input"}:${options.lines?.[i] ?? i + 1}`;
  const encoded = items.map((it, i) => {
    try {
      return hub.tokenizer.encode(it.text, it.text_pair, { maxLength: hub.maxLength, truncation: options.truncate });
    } catch (e) {
      throw new Error(`${where(i)}: ${(e as Error).message} (${hub.dir}); pass --truncate to cut it`);
    }
  });
  const order = encoded.map((_, i) => i).sort((a, b) => encoded[a].ids.length - encoded[b].ids.length);
  const out: ScoredItem[] = new Array(items.length);
  const bar = new Progress({ label: options.label ?? "scoring", total: items.length, quiet: options.quiet });
  for (let start = 0; start < order.length; start += batchSize) {
    const idx = order.slice(start, start + batchSize);
    const L = Math.max(...idx.map((i) => encoded[i].ids.length));
    const pad = (row: number[], fill: number) => [...row, ...new Array<number>(L - row.length).fill(fill)];
    const inputIds = idx.map((i) => pad(encoded[i].ids, hub.tokenizer.padId));
    const attentionMask = idx.map((i) =>
      pad(
        encoded[i].ids.map(() => 1),
        0,
      ),
    );
    const tokenTypeIds = idx.map((i) => pad(encoded[i].typeIds, 0));
    const rows = tf.tidy(() => {
      const r = hub.model.forward({ inputIds, attentionMask, tokenTypeIds });
      const head = r.logits ?? tf.reshape(tf.slice(r.lastHiddenState, [0, 0, 0], [idx.length, 1, -1]), [idx.length, -1]);
      return head.arraySync() as number[][];
    });
    idx.forEach((i, k) => (out[i] = { input_ids: encoded[i].ids, logits: rows[k] }));
    bar.tick(idx.length);
  }
  bar.finish();
  return out;
}

/**
 * Reward of each (prompt, answer) pair under a reward checkpoint in the
 * OpenAssistant format: text = question, text_pair = answer, one label whose
 * logit is the score.
 */
export function rewardScores(hub: HubEncoderModel, pairs: { prompt: string; answer: string }[], options: ScoreOptions = {}): number[] {
  if (hub.kind !== "sequence-classification" || hub.labels.length !== 1) {
    throw new Error(
      `${hub.dir}: a reward model has one label (DebertaV2ForSequenceClassification, num_labels 1); this one is ${hub.architecture} with ${hub.labels.length} label(s)`,
    );
  }
  return scoreWithModel(
    hub,
    pairs.map((p) => ({ text: p.prompt, text_pair: p.answer })),
    { label: "reward model", ...options },
  ).map((s) => s.logits[0]);
}
