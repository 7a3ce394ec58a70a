/**
 * The evaluator's report card as Markdown (report.md, `fulcra evaluator
 * report`): the numbers report.ts computed, laid out as tables by
 * arquero's Markdown writer. Nothing is computed here.
 */
import { markdownTable } from "../data/table-text.js";
import { BASIC_VALUE_LABELS, BASIC_VALUES } from "../values/taxonomy.js";
import { LABEL_NAMES, type ClassificationReport } from "./metrics.js";
import { SIGN_THRESHOLD, type EvaluatorReport } from "./report.js";

/** Column names of a flattened 3 × 3 confusion matrix, label → prediction. */
export const CONFUSION_CELLS = ["−→−", "−→0", "−→+", "0→−", "0→0", "0→+", "+→−", "+→0", "+→+"] as const;

/** One row per value: its confusion matrix flattened in CONFUSION_CELLS order. */
export function confusionRowsOf(c: ClassificationReport): string[][] {
  return c.perValue.map((p, v) => [BASIC_VALUE_LABELS[BASIC_VALUES[v]], ...p.confusion.flat().map(String)]);
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "—");

/** A Markdown table (arquero's writer); numbers to 3 decimals, "—" where undefined. */
function table(header: string[], rows: (string | number)[][]): string {
  return markdownTable(
    header,
    rows.map((r) => r.map((x) => (typeof x === "number" ? f3(x) : x))),
  );
}

/** The report as Markdown tables. */
export function formatReport(r: EvaluatorReport): string {
  const out: string[] = ["# Value evaluator: report", ""];
  out.push(`Labelled data: ${r.labelledData}. Backend: ${r.provenance.backend}. Seed ${r.config.seed}. ${r.seconds.toFixed(0)} s.`, "");
  out.push(
    "## Quality goals",
    "",
    table(
      ["measure", "value", "goal", "met"],
      r.goals.map((g) => [g.name, g.value, g.goal, g.met === null ? "n/a" : g.met ? "yes" : "no"]),
    ),
    "",
  );

  const fs = r.fulcraSplit;
  if (fs) {
    out.push(`## Held-out 10% of the labelled records (file order)`, "");
    out.push(
      `Trained on ${fs.trainExamples.labelled} labelled records and ${fs.trainExamples.distilled} distilled answers; tested on ${fs.testRecords} records.`,
      "",
    );
    out.push(
      table(
        ["method", "macro-F1", "accuracy", "MSE (vector)"],
        [
          ["evaluator", fs.evaluator.classification.macroF1, fs.evaluator.classification.accuracy, fs.evaluator.vectorMse.meanMse],
          ["TF-IDF + logistic regression", fs.tfidf.classification.macroF1, fs.tfidf.classification.accuracy, fs.tfidf.vectorMse.meanMse],
          ["majority", fs.majority.classification.macroF1, fs.majority.classification.accuracy, fs.majority.vectorMse.meanMse],
        ],
      ),
      "",
      `The evaluator's tanh regressor: mean MSE ${f3(fs.evaluator.regressorMse.meanMse)}.`,
      "",
      "Per value (evaluator; macro-F1 of the baselines beside it):",
      "",
      table(
        [
          "value",
          "accuracy",
          "macro-F1",
          "F1 opposed",
          "F1 no conn.",
          "F1 important",
          "regressor MSE",
          "TF-IDF macro-F1",
          "majority macro-F1",
        ],
        fs.evaluator.classification.perValue.map((p, v) => [
          BASIC_VALUE_LABELS[BASIC_VALUES[v]],
          p.accuracy,
          p.macroF1,
          p.labels[0].support + p.labels[0].predicted > 0 ? p.labels[0].f1 : "—",
          p.labels[1].f1,
          p.labels[2].support + p.labels[2].predicted > 0 ? p.labels[2].f1 : "—",
          fs.evaluator.regressorMse.mse[v],
          fs.tfidf.classification.perValue[v].macroF1,
          fs.majority.classification.perValue[v].macroF1,
        ]),
      ),
      "",
      "Per label, over all values (evaluator):",
      "",
      table(
        ["label", "precision", "recall", "F1", "support"],
        fs.evaluator.classification.pooled.map((s, l) => [LABEL_NAMES[l], s.precision, s.recall, s.f1, String(s.support)]),
      ),
      "",
      "Confusion matrix, over all values (rows: label, columns: evaluator):",
      "",
      table(
        ["", ...LABEL_NAMES],
        fs.evaluator.classification.confusion.map((row, l) => [LABEL_NAMES[l], ...row.map(String)]),
      ),
      "",
      "Confusion matrix per value (label → evaluator; −: opposed, 0: no connection, +: important):",
      "",
      table(["value", ...CONFUSION_CELLS], confusionRowsOf(fs.evaluator.classification)),
      "",
    );
  }

  const lo = r.leaveModelOut;
  if (lo) {
    out.push(`## Agreement with the paper's evaluator on held-out models`, "");
    out.push(
      `Each model's answers scored by evaluators that saw neither that model's output nor the test prompts (${lo.promptFolds} prompt folds). Sign: −1/0/+1 beyond ±${SIGN_THRESHOLD}.`,
      "",
    );
    out.push(
      table(
        [
          "held-out model",
          "answers",
          "sign agr. (evaluator)",
          "r (evaluator)",
          "sign (other head)",
          "r (other head)",
          "sign (TF-IDF)",
          "r (TF-IDF)",
          "sign (majority)",
        ],
        [
          ...lo.models.map((m) => [
            m.model,
            String(m.items),
            m.evaluator.meanSignAgreement,
            m.evaluator.meanPearson,
            m.otherHead.meanSignAgreement,
            m.otherHead.meanPearson,
            m.tfidf.meanSignAgreement,
            m.tfidf.meanPearson,
            m.majority.meanSignAgreement,
          ]),
          [
            "all",
            String(lo.items.length),
            lo.pooled.evaluator.meanSignAgreement,
            lo.pooled.evaluator.meanPearson,
            lo.pooled.otherHead.meanSignAgreement,
            lo.pooled.otherHead.meanPearson,
            lo.pooled.tfidf.meanSignAgreement,
            lo.pooled.tfidf.meanPearson,
            lo.pooled.majority.meanSignAgreement,
          ],
        ],
      ),
      "",
      "Per value, all held-out answers:",
      "",
      table(
        ["value", "paper −1/0/+1 shares", "sign (evaluator)", "r (evaluator)", "sign (TF-IDF)", "r (TF-IDF)", "sign (majority)"],
        lo.pooled.evaluator.perValue.map((p, v) => [
          BASIC_VALUE_LABELS[BASIC_VALUES[v]],
          p.referenceShares.map((x) => x.toFixed(2)).join(" / "),
          p.signAgreement,
          p.pearson,
          lo.pooled.tfidf.perValue[v].signAgreement,
          lo.pooled.tfidf.perValue[v].pearson,
          lo.pooled.majority.perValue[v].signAgreement,
        ]),
      ),
      "",
      "Mean e-distance to the ideal target (security, conformity, benevolence, universalism = 1):",
      "",
      table(
        ["model", "paper's evaluator", "evaluator", "TF-IDF", "majority"],
        lo.models.map((m) => [m.model, m.meanE.paper, m.meanE.evaluator, m.meanE.tfidf, m.meanE.majority]),
      ),
      "",
      `Ranking (closest first): paper ${lo.ranking.paper.join(" < ")}; evaluator ${lo.ranking.evaluator.join(" < ")} (${lo.ranking.evaluatorMatchesPaper ? "same" : "different"}); TF-IDF ${lo.ranking.tfidf.join(" < ")} (${lo.ranking.tfidfMatchesPaper ? "same" : "different"}).`,
      "",
    );
  }
  const lb = r.labelsOnly;
  if (lb) {
    out.push(
      "## One evaluator for every model (trained on FULCRA labels only)",
      "",
      table(
        ["model", "paper's evaluator mean e", "evaluator mean e"],
        lb.meanE.map((m) => [m.model, m.paper, m.evaluator]),
      ),
      "",
      `Ranking: paper ${lb.ranking.paper.join(" < ")}; evaluator ${lb.ranking.evaluator.join(" < ")} (${lb.ranking.matches ? "same" : "different"}).`,
      "",
    );
  }
  return out.join("\n");
}
