/**
 * Dialogues to hashed n-gram features, one bag per field.
 *
 * The prompt and the answer are hashed in separate namespaces, so "kill" in a
 * question and "kill" in an answer are different features: the same word
 * says different things about values depending on who says it.
 */
import { splitPromptAnswer, type PromptAnswer } from "./dialogue.js";
import { expandContractions } from "./normalize.js";
import { hashedNgrams, tokenize } from "./tokenize.js";

export type DialogueField = "prompt" | "answer";

export interface DialogueFeatureOptions {
  /** Hash buckets (ids are in [0, buckets)); large, so that collisions are rare. */
  buckets: number;
  /** Longest word n-gram (2 = words and bigrams). */
  maxN: number;
  /** Fields to read, each in its own hash namespace. */
  fields: readonly DialogueField[];
  /** Tokens kept per field (the start of the text); longer texts are cut. */
  maxTokens: number;
  /** Write contractions out before tokenizing ("can't" → "can not"). */
  expandContractions: boolean;
  /**
   * Also hash each word's first `prefixLength` letters, in a namespace of
   * their own (0 = off): a crude stem, so "stalk", "stalking" and "stalker"
   * share a feature that rare words can borrow strength from.
   */
  prefixLength: number;
}

export const DEFAULT_FEATURE_OPTIONS: DialogueFeatureOptions = {
  buckets: 1 << 22,
  maxN: 2,
  fields: ["prompt", "answer"],
  maxTokens: 1024,
  expandContractions: true,
  prefixLength: 0,
};

/** A dialogue as text, or already split into prompt and answer. */
export type DialogueInput = string | PromptAnswer;

export function toPromptAnswer(input: DialogueInput): PromptAnswer {
  return typeof input === "string" ? splitPromptAnswer(input) : input;
}

/** Namespace prefix of a field's hashes. */
export function fieldNamespace(field: DialogueField): string {
  return field === "prompt" ? "p|" : "a|";
}

/** Hashed n-gram ids of each requested field, with repeats, in field order. */
export function dialogueFeatures(input: DialogueInput, options: DialogueFeatureOptions): number[][] {
  const pa = toPromptAnswer(input);
  return options.fields.map((field) => {
    const text = field === "prompt" ? pa.prompt : pa.answer;
    const tokens = tokenize(options.expandContractions ? expandContractions(text) : text).slice(0, options.maxTokens);
    const ids = hashedNgrams(tokens, { buckets: options.buckets, maxN: options.maxN, namespace: fieldNamespace(field) });
    const cut = options.prefixLength ?? 0;
    if (cut > 0) {
      const prefixes = tokens.filter((t) => t.length > cut).map((t) => t.slice(0, cut));
      ids.push(...hashedNgrams(prefixes, { buckets: options.buckets, maxN: 1, namespace: `${fieldNamespace(field)}prefix|` }));
    }
    return ids;
  });
}
