/**
 * Spelling normalisation before tokenizing.
 *
 * Different LLMs refuse in different spellings of the same words ("I can't",
 * "I cannot", "I'm unable"); a bag of n-grams sees unrelated features unless
 * the contractions are written out. Possessive 's is left alone (it cannot
 * be told from "is" without parsing).
 */

const RULES: readonly [RegExp, string][] = [
  [/\bcan['’]t\b/gi, "can not"],
  [/\bcannot\b/gi, "can not"],
  [/\bwon['’]t\b/gi, "will not"],
  [/\bshan['’]t\b/gi, "shall not"],
  [/\b(\p{L}+)n['’]t\b/giu, "$1 not"],
  [/\b(i)['’]m\b/gi, "$1 am"],
  [/\b(\p{L}+)['’]re\b/giu, "$1 are"],
  [/\b(\p{L}+)['’]ve\b/giu, "$1 have"],
  [/\b(\p{L}+)['’]ll\b/giu, "$1 will"],
  [/\b(\p{L}+)['’]d\b/giu, "$1 would"],
];

/** Writes English contractions out in full ("can't" → "can not", "I'm" → "I am", "they're" → "they are"). */
export function expandContractions(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}
