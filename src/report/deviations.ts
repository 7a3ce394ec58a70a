/**
 * Links from notebooks and the reproduction report to the rows of
 * DEVIATIONS.md (the ledger of where the kit departs from the original
 * code). Each row has a stable anchor `<a id="ID">`; this module says which
 * rows concern which notebook and writes the links.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { kitPaths } from "../runtime/env.js";

/** The ledger's path relative to the kit's root. */
export const DEVIATIONS_FILE = "DEVIATIONS.md";

/** The rows of DEVIATIONS.md that concern each notebook (by notebook name without .ipynb). */
export const NOTEBOOK_DEVIATIONS: Readonly<Record<string, readonly string[]>> = {
  "02-value-space": ["fig4-basis"],
  "03-values-and-risks": ["fig4-basis", "fig4-risk-groups"],
  "04-evaluator": ["evaluator-recipe"],
  "05-hh-metrics": [
    "elo-rule",
    "elo-reading",
    "judge-unreadable",
    "judge-prompt-count",
    "judge-prompts",
    "judge-models",
    "judge-position",
    "offline-judges",
    "hh-reward-model",
    "missing-helpful-elo",
  ],
  "06-basealign": [
    "ppo-score-scaling",
    "rlhf-score-scaling",
    "ppo-optimisation",
    "ppo-length",
    "ppo-samples-per-prompt",
    "ppo-lora",
    "eval-leakage",
    "guard-evaluator",
    "evaluator-recipe",
    "hh-reward-model",
    "offline-judges",
    "elo-rule",
    "judge-unreadable",
    "missing-judged-policies",
    "missing-data-size",
  ],
  "07-cultural-alignment": [
    "ppo-score-scaling",
    "ppo-optimisation",
    "ppo-length",
    "ppo-samples-per-prompt",
    "ppo-lora",
    "eval-leakage",
    "guard-evaluator",
    "evaluator-recipe",
  ],
};

/** The row anchors present in a DEVIATIONS.md text, in order. */
export function deviationIds(markdown: string): string[] {
  return [...markdown.matchAll(/<a id="([A-Za-z0-9_-]+)"><\/a>/g)].map((m) => m[1]);
}

/** The anchors of the kit's DEVIATIONS.md ([] when the file is absent). */
export function ledgerIds(root = kitPaths().root): string[] {
  const file = join(root, DEVIATIONS_FILE);
  return existsSync(file) ? deviationIds(readFileSync(file, "utf8")) : [];
}

/** Markdown links to the given rows, relative to `fromDir` (default: the figures folder). */
export function deviationLinks(ids: readonly string[], fromDir = kitPaths().figuresDir): string {
  const rel = relative(fromDir, join(kitPaths().root, DEVIATIONS_FILE)).split("\\").join("/");
  return ids.map((id) => `[${id}](${rel}#${id})`).join(" · ");
}

/** A line for a notebook's section of the report, or null when no row concerns it. */
export function notebookDeviationLine(notebook: string, fromDir = kitPaths().figuresDir): string | null {
  const ids = NOTEBOOK_DEVIATIONS[notebook];
  return ids?.length ? `- Deviations from the original code: ${deviationLinks(ids, fromDir)}` : null;
}
