/**
 * The paper's HH reward: a DeBERTa reward checkpoint in the OpenAssistant
 * format (`OpenAssistant/reward-model-deberta-v3-large-v2`), scoring a
 * (question, answer) pair as tokenizer(question, answer) → the single logit.
 * `hubRewardScorer` plugs it in wherever the kit takes a reward scorer
 * (`fulcra hh score --reward-model DIR`), in place of the kit's offline
 * Bradley–Terry stand-in.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { initBackend } from "../runtime/backend.js";
import { loadHubEncoder, type HubEncoderModel } from "./folder.js";
import { rewardScores } from "./score.js";

const HUMAN = "\n\nHuman: ";
const ASSISTANT = "\n\nAssistant: ";

/** True when `path` is a hub model folder (holds config.json) rather than a kit model file. */
export function isHubFolder(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory() && existsSync(join(path, "config.json"));
}

/**
 * (prompt, answer) back from the kit's HH transcript "\n\nHuman: P\n\nAssistant: A"
 * (the text the kit's reward scorers receive); the first "Assistant:" turn starts the answer.
 */
export function splitHhTranscript(text: string): { prompt: string; answer: string } {
  const at = text.startsWith(HUMAN) ? text.indexOf(ASSISTANT, HUMAN.length) : -1;
  if (at < 0)
    throw new Error(`reward model input is not a "\\n\\nHuman: …\\n\\nAssistant: …" transcript: ${JSON.stringify(text.slice(0, 60))}`);
  return { prompt: text.slice(HUMAN.length, at), answer: text.slice(at + ASSISTANT.length) };
}

export interface HubRewardScorer {
  hub: HubEncoderModel;
  /** Scores HH transcripts (the kit's RewardScorer interface). */
  score(texts: string[]): number[];
  /** Scores (prompt, answer) pairs directly. */
  scorePairs(pairs: { prompt: string; answer: string }[]): number[];
}

/** Loads a reward checkpoint folder as a reward scorer (long pairs are truncated, as the reference pipeline does). */
export async function hubRewardScorer(dir: string, options: { batchSize?: number; quiet?: boolean } = {}): Promise<HubRewardScorer> {
  await initBackend({ quiet: options.quiet });
  const hub = loadHubEncoder(dir);
  if (hub.kind !== "sequence-classification" || hub.labels.length !== 1) {
    throw new Error(
      `${dir}: a reward model is a DebertaV2ForSequenceClassification with one label; this is ${hub.architecture} with ${hub.labels.length} label(s)`,
    );
  }
  const scorePairs = (pairs: { prompt: string; answer: string }[]) =>
    rewardScores(hub, pairs, { batchSize: options.batchSize ?? 8, truncate: true, quiet: true });
  return { hub, scorePairs, score: (texts) => scorePairs(texts.map(splitHhTranscript)) };
}
