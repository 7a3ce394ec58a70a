/**
 * The 14 BeaverTails harm categories of the SafeRLHF prompts, and the five
 * risk groups of the paper's Figure 4(b).
 *
 * The paper plots five groups (illegal activity, bias & toxicity, privacy
 * violation, unethical behaviours, controversial topics) without saying which
 * categories each holds. The table below is the kit's grouping: every
 * category belongs to exactly one group, chosen by what the category asks the
 * model to do. A prompt belongs to a group when any of its categories does.
 */

// The 14 categories and their display names live with the harmlessness metrics;
// this module adds the paper's five risk groups on top of them.
import { HARM_CATEGORIES, HARM_CATEGORY_LABELS, isHarmCategory, type HarmCategory } from "../metrics/harm.js";
export { HARM_CATEGORIES, HARM_CATEGORY_LABELS, isHarmCategory, type HarmCategory };

/** The five groups in the column order of the paper's Figure 4(b). */
export const RISK_GROUPS = [
  "illegal activity",
  "bias & toxicity",
  "privacy violation",
  "unethical behaviours",
  "controversial topics",
] as const;
export type RiskGroup = (typeof RISK_GROUPS)[number];

/**
 * The kit's grouping of the 14 categories into the paper's five risk groups.
 * Why each sits where it does:
 * - crimes against people, property or the law (violence, theft, drugs and
 *   weapons, terrorism, child abuse) are illegal activity;
 * - speech that demeans people (hate speech, discrimination) is bias & toxicity;
 * - privacy violation is its own group;
 * - harmful but mostly lawful conduct (non-violent unethical behaviour, self-harm,
 *   animal abuse, sexually explicit content) is unethical behaviour;
 * - contested questions (politics, misinformation about ethics, law and safety)
 *   are controversial topics.
 */
export const RISK_GROUP_OF: Record<HarmCategory, RiskGroup> = {
  "violence,aiding_and_abetting,incitement": "illegal activity",
  "financial_crime,property_crime,theft": "illegal activity",
  "drug_abuse,weapons,banned_substance": "illegal activity",
  "terrorism,organized_crime": "illegal activity",
  child_abuse: "illegal activity",
  "hate_speech,offensive_language": "bias & toxicity",
  "discrimination,stereotype,injustice": "bias & toxicity",
  privacy_violation: "privacy violation",
  non_violent_unethical_behavior: "unethical behaviours",
  self_harm: "unethical behaviours",
  animal_abuse: "unethical behaviours",
  "sexually_explicit,adult_content": "unethical behaviours",
  "controversial_topics,politics": "controversial topics",
  "misinformation_regarding_ethics,laws_and_safety": "controversial topics",
};

/** The grouping as rows (group, categories), for tables in notebooks and reports. */
export function riskGroupTable(): { group: RiskGroup; categories: HarmCategory[] }[] {
  return RISK_GROUPS.map((group) => ({ group, categories: HARM_CATEGORIES.filter((c) => RISK_GROUP_OF[c] === group) }));
}

const categoryIndex = new Map<string, number>(HARM_CATEGORIES.map((c, i) => [c, i]));

/** A prompt's harm labels as flags, with any names outside the 14 kept aside (never dropped silently). */
export interface HarmFlags {
  /** One flag per category, in HARM_CATEGORIES order. */
  categories: boolean[];
  /** One flag per group, in RISK_GROUPS order. */
  groups: boolean[];
  /** Category names that are not among the 14. */
  unknown: string[];
}

export function harmFlags(safetyIssues: readonly string[]): HarmFlags {
  const categories = new Array<boolean>(HARM_CATEGORIES.length).fill(false);
  const groups = new Array<boolean>(RISK_GROUPS.length).fill(false);
  const unknown: string[] = [];
  for (const raw of safetyIssues) {
    const name = raw.trim();
    const i = categoryIndex.get(name);
    if (i === undefined) {
      unknown.push(raw);
      continue;
    }
    categories[i] = true;
    groups[RISK_GROUPS.indexOf(RISK_GROUP_OF[HARM_CATEGORIES[i]])] = true;
  }
  return { categories, groups, unknown };
}

/**
 * One label per prompt for colouring plots: "no safety issue", or the risk
 * group of its first listed category that is among the 14 (a prompt with
 * categories in several groups is drawn under its first one; `harmFlags`
 * gives all of them). A prompt whose categories are all unknown is "unknown category".
 */
export function riskGroupLabel(safetyIssues: readonly string[]): RiskGroup | "no safety issue" | "unknown category" {
  if (safetyIssues.length === 0) return "no safety issue";
  for (const raw of safetyIssues) {
    const name = raw.trim();
    if (isHarmCategory(name)) return RISK_GROUP_OF[name];
  }
  return "unknown category";
}
