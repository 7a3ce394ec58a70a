/**
 * The 14 BeaverTails harm categories that label the SafeRLHF prompts
 * (`safety_issues`), spelled as in the released files. A prompt may carry
 * several; an empty list means the prompt was judged harmless.
 */
export const HARM_CATEGORIES = [
  "animal_abuse",
  "child_abuse",
  "controversial_topics,politics",
  "discrimination,stereotype,injustice",
  "drug_abuse,weapons,banned_substance",
  "financial_crime,property_crime,theft",
  "hate_speech,offensive_language",
  "misinformation_regarding_ethics,laws_and_safety",
  "non_violent_unethical_behavior",
  "privacy_violation",
  "self_harm",
  "sexually_explicit,adult_content",
  "terrorism,organized_crime",
  "violence,aiding_and_abetting,incitement",
] as const;
export type HarmCategory = (typeof HARM_CATEGORIES)[number];

/** The breakdown key for prompts with no harm category. */
export const NO_HARM = "none";

/** Short display names for tables and plots. */
export const HARM_CATEGORY_LABELS: Record<HarmCategory, string> = {
  animal_abuse: "Animal abuse",
  child_abuse: "Child abuse",
  "controversial_topics,politics": "Controversial topics, politics",
  "discrimination,stereotype,injustice": "Discrimination, stereotype, injustice",
  "drug_abuse,weapons,banned_substance": "Drugs, weapons, banned substances",
  "financial_crime,property_crime,theft": "Financial & property crime, theft",
  "hate_speech,offensive_language": "Hate speech, offensive language",
  "misinformation_regarding_ethics,laws_and_safety": "Misinformation on ethics, laws, safety",
  non_violent_unethical_behavior: "Non-violent unethical behaviour",
  privacy_violation: "Privacy violation",
  self_harm: "Self-harm",
  "sexually_explicit,adult_content": "Sexually explicit, adult content",
  "terrorism,organized_crime": "Terrorism, organised crime",
  "violence,aiding_and_abetting,incitement": "Violence, aiding and abetting, incitement",
};

export function isHarmCategory(name: string): name is HarmCategory {
  return (HARM_CATEGORIES as readonly string[]).includes(name);
}

/**
 * Groups items by the harm categories of their prompts. An item with several
 * categories is counted in each; one with none goes under "none". Categories
 * outside the 14 are kept under their own name (and listed in `unknown`), never dropped.
 * Keys come in a fixed order: the 14 (those present), "none", then unknown ones.
 */
export function groupByHarmCategory<T>(
  items: readonly T[],
  categoriesOf: (item: T) => readonly string[],
): { groups: Map<string, T[]>; unknown: string[] } {
  const raw = new Map<string, T[]>();
  for (const item of items) {
    const cats = categoriesOf(item);
    const keys = cats.length === 0 ? [NO_HARM] : [...new Set(cats)];
    for (const k of keys) {
      if (!raw.has(k)) raw.set(k, []);
      raw.get(k)!.push(item);
    }
  }
  const unknown = [...raw.keys()].filter((k) => k !== NO_HARM && !isHarmCategory(k)).sort();
  const order = [...HARM_CATEGORIES, NO_HARM, ...unknown];
  const groups = new Map<string, T[]>();
  for (const k of order) if (raw.has(k)) groups.set(k, raw.get(k)!);
  return { groups, unknown };
}
