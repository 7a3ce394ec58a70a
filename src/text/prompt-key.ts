/** The key under which prompts are compared across files (splits, held-out sets, harm categories). */

/** A whitespace character other than a plain space, or two in a row: what collapsing would change. */
const UNUSUAL_WHITESPACE = /[^\S ]|\s\s/;

export interface PromptKeyOptions {
  /**
   * Keep letter case (default false: lower-cased). Splits, folds and held-out
   * checks fold case; the harm-category lookup of the analysis keeps it, as the
   * SafeRLHF question files spell prompts.
   */
  keepCase?: boolean;
}

/** Prompt text as compared across files: trimmed, inner whitespace collapsed to single spaces, lower-cased unless asked not to. */
export function promptKey(prompt: string, options: PromptKeyOptions = {}): string {
  const t = prompt.trim();
  // Most prompts need no change; testing first is several times faster than always replacing.
  const collapsed = UNUSUAL_WHITESPACE.test(t) ? t.replace(/\s+/g, " ") : t;
  return options.keepCase ? collapsed : collapsed.toLowerCase();
}
