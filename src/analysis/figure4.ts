/**
 * Figure 4 as the paper defines it, or a plainly labelled substitute.
 *
 * The paper's Figure 4 is drawn from FULCRA records: (a) the records' value
 * vectors in a 2-D map, coloured by whether the record's *answer* is safe,
 * and (b) the correlation of the records' value labels with the risk
 * categories of their prompts. That needs two things per record:
 *
 * - the answer's safety: the BeaverTails label `is_safe` of the
 *   question–answer pair (read into `output_safe` by the FULCRA reader);
 * - the risk categories: the record's own `category` flags when it carries
 *   them, otherwise the `safety_issues` of its prompt among the SafeRLHF
 *   questions (`fulcraTable`'s `safety_issues`, `risk_source`).
 *
 * The mirror's subset (trustworthy_data, DecodingTrust prompts) carries
 * neither, and none of its prompts is a SafeRLHF question. Whether the
 * full release's BeaverTails-sourced files keep `is_safe` / `category`
 * could not be checked without them (the data README lists five fields);
 * if they do not, their categories still come from the SafeRLHF prompts
 * and panel (a) stays a substitute. Then the figure
 * falls back to the released scored outputs (GPT-4 / GPT-3.5 answers with
 * the evaluator's `value_reward`), coloured by the *prompt's* safety and
 * correlated with the prompt's categories — a substitute, and every title,
 * caption and note says so.
 */
import type { ColumnTable } from "arquero";
import { fulcraValueRisk, scoredValueRisk, type RiskCorrelationCell, type RiskLevel } from "./risk-correlation.js";
import { valueSpacePoints, type ValueSpacePoint } from "./value-space.js";

export type Figure4Mode = "paper" | "substitute";

export interface Figure4Basis {
  /** How panel (a) is drawn: FULCRA records by their answer's safety, or the substitute. */
  a: Figure4Mode;
  /** How panel (b) is computed: FULCRA labels against their risk categories, or the substitute. */
  b: Figure4Mode;
  fulcraRecords: number;
  /** FULCRA records that say whether their answer is safe. */
  withOutputSafety: number;
  /** FULCRA records whose risk categories are known (carried, or through their SafeRLHF prompt). */
  withRiskCategories: number;
  titleA: string;
  captionA: string;
  titleB: string;
  captionB: string;
  /** A markdown paragraph for notebooks and the report. */
  note: string;
}

/** The DEVIATIONS.md row about Figure 4. */
export const FIGURE4_DEVIATION = "DEVIATIONS.md#fig4-basis";

/**
 * Decides how Figure 4 can be drawn from a `fulcraTable`: the paper's way
 * for a panel when at least `minRecords` FULCRA records carry what it
 * needs, the substitute otherwise.
 */
export function figure4Basis(fulcra: ColumnTable, options: { minRecords?: number } = {}): Figure4Basis {
  const min = options.minRecords ?? 30;
  const n = fulcra.numRows();
  const outputSafe =
    n && fulcra.columnNames().includes("output_safe") ? (fulcra.array("output_safe") as unknown as (boolean | null)[]) : [];
  const withOutputSafety = outputSafe.filter((x) => x !== null).length;
  const withRiskCategories = n ? (fulcra.array("harm_matched") as unknown as boolean[]).filter(Boolean).length : 0;
  const a: Figure4Mode = withOutputSafety >= min ? "paper" : "substitute";
  const b: Figure4Mode = withRiskCategories >= min ? "paper" : "substitute";
  const titleA =
    a === "paper"
      ? `Fig. 4(a): FULCRA answers, safe vs unsafe (n = ${withOutputSafety})`
      : "SUBSTITUTE for Fig. 4(a): GPT outputs by their PROMPT's safety";
  const captionA =
    a === "paper"
      ? "FULCRA records placed by their labelled value vectors, coloured by whether the answer is safe (the record's is_safe), marker by the risk group of its categories — the paper's definition."
      : "Substitute, not the paper's Figure 4(a): the FULCRA records present carry no answer-safety label, so the released scored outputs are coloured by whether their prompt has a safety issue; safe and unsafe answers are not separated this way. FULCRA records are drawn grey. See DEVIATIONS.md#fig4-basis.";
  const titleB =
    b === "paper"
      ? `Fig. 4(b): FULCRA value labels × risk (n = ${withRiskCategories})`
      : "SUBSTITUTE for Fig. 4(b): GPT outputs' value_reward × prompt risk";
  const captionB =
    b === "paper"
      ? "Point-biserial r of FULCRA records' value labels (−1/0/+1) with the risk categories of their prompts — the paper's definition."
      : "Substitute, not the paper's Figure 4(b): no FULCRA record present has known risk categories, so the released evaluator's value_reward of the GPT-4/GPT-3.5 answers is correlated with their prompts' risk groups. Signs can differ from the paper. See DEVIATIONS.md#fig4-basis.";
  const note =
    a === "paper" && b === "paper"
      ? `**Figure 4 as the paper defines it**: ${withOutputSafety} of ${n} FULCRA records say whether their answer is safe, and ${withRiskCategories} have known risk categories.`
      : `**Substitute figure${a === "substitute" && b === "substitute" ? "s" : ""}.** Of the ${n} FULCRA records present, ${withOutputSafety} say whether their answer is safe and ${withRiskCategories} have known risk categories` +
        ` (the paper's Figure 4 needs both: BeaverTails labels each answer's safety and categories, and the kit reads them from records that keep them; the mirror's trustworthy_data has none). ` +
        `${a === "substitute" ? "Panel (a) colours the released scored outputs by their *prompt's* safety. " : ""}${b === "substitute" ? "Panel (b) correlates the released evaluator scores, not FULCRA labels. " : ""}` +
        `These are substitutes, not the paper's figure: see [DEVIATIONS.md, fig4-basis](../DEVIATIONS.md#fig4-basis).`;
  return { a, b, fulcraRecords: n, withOutputSafety, withRiskCategories, titleA, captionA, titleB, captionB, note };
}

/** The points of Figure 4(a): FULCRA records with a known answer safety (paper), or all FULCRA records and the scored outputs (substitute). */
export function figure4aPoints(basis: Figure4Basis, fulcra: ColumnTable, scored: ColumnTable | null): ValueSpacePoint[] {
  if (basis.a === "paper")
    return valueSpacePoints(
      fulcra.filter((d: { output_safe: boolean | null }) => d.output_safe !== null),
      null,
    );
  return valueSpacePoints(fulcra, scored);
}

/** The cells of Figure 4(b): FULCRA labels × risk (paper), or scored outputs' value_reward × risk (substitute). */
export function figure4bCells(
  basis: Figure4Basis,
  fulcra: ColumnTable,
  scored: ColumnTable | null,
  level: RiskLevel = "group",
): RiskCorrelationCell[] {
  if (basis.b === "paper") return fulcraValueRisk(fulcra, level);
  if (!scored) throw new Error("figure4bCells: no FULCRA record has risk categories and no scored outputs were given for the substitute");
  return scoredValueRisk(scored, level);
}
