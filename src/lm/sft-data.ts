/**
 * SFT data: the (prompt, response) pairs the policy learns from, the texts
 * its tokenizer learns from, and tokenised, right-padded batches.
 * See sft.ts for the method.
 */
import * as tf from "@tensorflow/tfjs";
import { createHash } from "node:crypto";
import { availableDataFiles, rawPath } from "../data/paths.js";
import { readRecords } from "../data/readers.js";
import { kitPaths } from "../runtime/env.js";
import { seededRandom, shuffled } from "../runtime/random.js";
import { splitPromptAnswer } from "../text/dialogue.js";
import { promptKey } from "../text/prompt-key.js";
import type { SftConfig } from "./sft-config.js";
import type { Tokenizer } from "./tokenizer.js";

// ------------------------------------------------------------------ examples

export interface SftExample {
  prompt: string;
  response: string;
  /** Data file name (manifest name) it came from. */
  source: string;
}

export interface SftData {
  examples: SftExample[];
  /** Files read (paths), for provenance. */
  files: string[];
  /** What was left out and why, by reason. */
  dropped: Record<string, number>;
}

/**
 * Collects (prompt, response) pairs from the data files present. Never reads
 * the scored-output files; drops dialogues whose prompt is a SafeRLHF test prompt.
 */
export function collectSftExamples(options: { useFulcra?: boolean; useHelpful?: boolean; rawDir?: string } = {}): SftData {
  const rawDir = options.rawDir ?? kitPaths().rawDir;
  const present = new Set(availableDataFiles(rawDir).map((e) => e.name));
  const files: string[] = [];
  const dropped: Record<string, number> = {};
  const drop = (why: string) => (dropped[why] = (dropped[why] ?? 0) + 1);

  const heldOut = new Set<string>();
  if (present.has("saferlhf_test_questions")) {
    const f = rawPath("saferlhf_test_questions", rawDir);
    files.push(f);
    for (const q of readRecords("questions", f)) heldOut.add(promptKey(q.prompt));
  }

  const examples: SftExample[] = [];
  const seen = new Set<string>();
  const add = (prompt: string, response: string, source: string) => {
    if (!response.trim()) return drop("empty response");
    if (heldOut.has(promptKey(prompt))) return drop("prompt is a SafeRLHF test prompt");
    const key = `${prompt}\u0000${response}`;
    if (seen.has(key)) return drop("duplicate");
    seen.add(key);
    examples.push({ prompt: prompt.trim(), response: response.trim(), source });
  };

  if (options.useFulcra ?? true) {
    // data_hybrid holds all FULCRA pairs; the smaller splits add nothing when it is there (duplicates are dropped anyway).
    for (const name of ["data_hybrid", "evaluator_data", "generated_data", "trustworthy_data"]) {
      if (!present.has(name)) continue;
      const f = rawPath(name, rawDir);
      files.push(f);
      for (const r of readRecords("fulcra", f)) {
        const { prompt, answer } = splitPromptAnswer(r.dialogue);
        add(prompt, answer, name);
      }
    }
  }
  if ((options.useHelpful ?? true) && present.has("helpful_test")) {
    const f = rawPath("helpful_test", rawDir);
    files.push(f);
    for (const pair of readRecords("preference_pairs", f)) {
      const first = firstExchange(pair.chosen);
      if (first) add(first.prompt, first.response, "helpful_test");
      else drop("no Human/Assistant exchange");
    }
  }
  if (examples.length === 0) {
    throw new Error(
      `SFT: no training examples found under ${rawDir}; run \`npx fulcra data fetch\` (trustworthy_data and helpful_test are enough)`,
    );
  }
  return { examples, files, dropped };
}

/** The first "\n\nHuman: …\n\nAssistant: …" exchange of an HH-RLHF transcript (the first answer depends on nothing later). */
export function firstExchange(transcript: string): { prompt: string; response: string } | undefined {
  const m = /^\s*Human:\s*([\s\S]*?)\n\nAssistant:\s?([\s\S]*?)(?:\n\nHuman:|$)/.exec(transcript);
  if (!m) return undefined;
  return { prompt: m[1].trim(), response: m[2].trim() };
}

/** A short hash of the examples (order included). */
export function dataFingerprint(data: SftData): string {
  const h = createHash("sha256");
  for (const e of data.examples) h.update(e.prompt).update("\u0000").update(e.response).update("\u0001");
  return h.digest("hex").slice(0, 16);
}

/** Texts the tokenizer learns from: training prompts and answers, and the PPO training prompts; a seeded sample up to the character budget. */
export function tokenizerCorpus(train: readonly SftExample[], c: Pick<SftConfig, "seed" | "tokenizerSampleChars">): string[] {
  const texts: string[] = [];
  for (const e of train) texts.push(e.prompt, e.response);
  const questions = availableDataFiles().find((e) => e.name === "saferlhf_train_questions");
  if (questions) for (const q of readRecords("questions", rawPath(questions))) texts.push(q.prompt);
  const sample = shuffled(texts, seededRandom(c.seed + 1));
  const out: string[] = [];
  let chars = 0;
  for (const t of sample) {
    if (chars >= c.tokenizerSampleChars) break;
    out.push(t);
    chars += t.length;
  }
  return out;
}

// ------------------------------------------------------------------ tokenised batches

export interface Encoded {
  ids: number[];
  /** First response position (loss from here on). */
  responseStart: number;
}

export function encodeExamples(
  tokenizer: Tokenizer,
  examples: readonly SftExample[],
  contextLength: number,
  maxPromptTokens: number,
): Encoded[] {
  return examples.map((e) => tokenizer.formatExample(e.prompt, e.response, contextLength, maxPromptTokens));
}

/**
 * A right-padded batch: ids [B, T], targets [B·(T−1)] (the next token) and
 * loss weights [B·(T−1)] (1 where the next token is a response token).
 */
export function makeBatch(
  items: readonly Encoded[],
  pad: number,
): { ids: tf.Tensor2D; targets: tf.Tensor1D; weights: tf.Tensor1D; B: number; T: number } {
  const B = items.length;
  const T = Math.max(...items.map((e) => e.ids.length));
  const ids = new Int32Array(B * T).fill(pad);
  const targets = new Int32Array(B * (T - 1)).fill(pad);
  const weights = new Float32Array(B * (T - 1));
  items.forEach((e, b) => {
    ids.set(e.ids, b * T);
    for (let j = 0; j + 1 < e.ids.length; j++) {
      targets[b * (T - 1) + j] = e.ids[j + 1];
      if (j + 1 >= e.responseStart) weights[b * (T - 1) + j] = 1;
    }
  });
  return { ids: tf.tensor2d(ids, [B, T], "int32"), targets: tf.tensor1d(targets, "int32"), weights: tf.tensor1d(weights), B, T };
}

/** A batch made by `makeBatch`. */
export type SftBatch = ReturnType<typeof makeBatch>;
