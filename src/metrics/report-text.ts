/**
 * The HH comparison in words, for the notebook (Markdown): written from
 * what report.ts computed; nothing is computed here.
 */
import type { PairwiseReport } from "./elo.js";
import { judgeLeaders } from "./report.js";

/** A sentence saying that the files are complete, and which released files are not present here. */
export function releasedFilesNote(missing: readonly string[]): string {
  return (
    "These are the **complete** released files (the mirror holds them whole). " +
    (missing.length
      ? `Not present here: ${missing.join(", ")} (larger than the mirror holds; \`npx fulcra data fetch\` gets it with internet, and this notebook then includes it).`
      : "")
  );
}

/**
 * A markdown line per judge naming the leader by win rate, by in-order Elo
 * and by bootstrap median, and saying so when Elo and win rate disagree.
 */
export function leaderSummary(reports: readonly PairwiseReport[]): string {
  return judgeLeaders(reports)
    .map(({ judge, byWins, byElo, byMedian }) => {
      const note = byElo !== byWins ? " (the order of the last comparisons outweighs the win rate)" : "";
      return `* **${judge}**: most wins **${byWins}**; in-order Elo leader **${byElo}**${note}; bootstrap-median leader **${byMedian}**.`;
    })
    .join("\n");
}
