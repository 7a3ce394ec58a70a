/**
 * Figure 4(a): LLM outputs placed in the value space by their value vectors.
 *
 * Two kinds of point share one space: FULCRA records (the labelled
 * polarities of an LLM's answer) and scored model outputs (the evaluator's
 * `value_reward` for GPT-4, GPT-3.5 and, when fetched, Mistral-large answers
 * to the SafeRLHF test prompts). Each point carries what the plot colours
 * by: the LLM, the prompt's risk group, and a safe/unsafe flag — for FULCRA
 * records the safety of the *answer* itself when the record carries it (the
 * paper's Figure 4(a)), for scored outputs only the safety of the *prompt*
 * (no safety issue), which is a substitute (see `figure4.ts`).
 * The projection (PCA or UMAP) is fitted on all points together.
 */
import type { ColumnTable } from "arquero";
import { riskGroupLabel } from "./harm.js";
import { pca, PCA_DEFAULTS } from "./pca.js";
import { umapProject, type UmapConfig } from "./umap.js";

export const UNKNOWN_RISK = "unknown (prompt not among SafeRLHF questions)";

export type ValueSpacePoint = {
  /** "FULCRA" for labelled records, "scored" for evaluator-scored model outputs. */
  source: "FULCRA" | "scored";
  /** The responding LLM (FULCRA `response_source`) or the scored model. */
  llm: string;
  /** Risk group of the prompt's first category (`riskGroupLabel`), "no safety issue", or UNKNOWN_RISK when the prompt's categories are not known. */
  risk: string;
  /** FULCRA: the answer is safe (true) or not (false); scored outputs: the prompt has no safety issue; null when unknown. */
  safe: boolean | null;
  /** What `safe` describes: the answer itself, only its prompt, or nothing known. */
  safetyOf?: "output" | "prompt" | null;
  vector: number[];
  file: string;
  line: number;
};

/** Gathers the points of Figure 4(a) from a `fulcraTable` and/or a `scoredTable`. */
export function valueSpacePoints(fulcra: ColumnTable | null, scored: ColumnTable | null): ValueSpacePoint[] {
  const points: ValueSpacePoint[] = [];
  if (fulcra) {
    const llm = fulcra.array("response_source") as unknown as string[];
    const basic = fulcra.array("basic") as unknown as number[][];
    const matched = fulcra.array("harm_matched") as unknown as boolean[];
    const issues = fulcra.array("safety_issues") as unknown as string[][];
    const outputSafe = (fulcra.columnNames().includes("output_safe")
      ? fulcra.array("output_safe")
      : new Array(fulcra.numRows()).fill(null)) as unknown as (boolean | null)[];
    const file = fulcra.array("file") as unknown as string[];
    const line = fulcra.array("line") as unknown as number[];
    for (let i = 0; i < fulcra.numRows(); i++) {
      points.push({
        source: "FULCRA",
        llm: llm[i],
        risk: matched[i] ? riskGroupLabel(issues[i]) : UNKNOWN_RISK,
        safe: outputSafe[i],
        safetyOf: outputSafe[i] === null ? null : "output",
        vector: basic[i],
        file: file[i],
        line: line[i],
      });
    }
  }
  if (scored) {
    const model = scored.array("model") as unknown as string[];
    const vectors = scored.array("value_reward") as unknown as number[][];
    const issues = scored.array("safety_issues") as unknown as string[][];
    const file = scored.array("file") as unknown as string[];
    const line = scored.array("line") as unknown as number[];
    for (let i = 0; i < scored.numRows(); i++) {
      points.push({
        source: "scored",
        llm: model[i],
        risk: riskGroupLabel(issues[i]),
        safe: issues[i].length === 0,
        safetyOf: "prompt",
        vector: vectors[i],
        file: file[i],
        line: line[i],
      });
    }
  }
  return points;
}

export interface ValueSpaceProjection {
  method: "pca" | "umap";
  x: number[];
  y: number[];
  /** Axis titles, e.g. "PC1 (41.2% of variance)". */
  xTitle: string;
  yTitle: string;
  /** For PCA: the two directions in value space (paper's order) and their explained variance. */
  pca?: { components: number[][]; explainedRatio: number[] };
  /** For UMAP: distinct vectors embedded and neighbours used. */
  umap?: { distinct: number; nNeighbors: number; config: UmapConfig };
}

/** Projects the points' vectors to 2-D by PCA or (seeded) UMAP. */
export function projectValueSpace(
  points: readonly ValueSpacePoint[],
  method: "pca" | "umap",
  umapConfig: Partial<UmapConfig> = {},
): ValueSpaceProjection {
  const vectors = points.map((p) => p.vector);
  if (method === "pca") {
    const res = pca(vectors, { ...PCA_DEFAULTS, components: 2 });
    const pct = (k: number) => `PC${k + 1} (${(100 * res.explainedRatio[k]).toFixed(1)}% of variance)`;
    return {
      method,
      x: res.coords.map((c) => c[0]),
      y: res.coords.map((c) => c[1]),
      xTitle: pct(0),
      yTitle: pct(1),
      pca: { components: res.components, explainedRatio: res.explainedRatio },
    };
  }
  const res = umapProject(vectors, umapConfig);
  return {
    method,
    x: res.coords.map((c) => c[0]),
    y: res.coords.map((c) => c[1]),
    xTitle: "UMAP 1",
    yTitle: "UMAP 2",
    umap: { distinct: res.distinct, nNeighbors: res.nNeighbors, config: res.config },
  };
}

/** How far apart safe and unsafe prompts' answers sit: centroid of each in the projection, and their distance. */
export function safeUnsafeSeparation(
  points: readonly ValueSpacePoint[],
  projection: Pick<ValueSpaceProjection, "x" | "y">,
): { safe: number; unsafe: number; safeCentroid: number[]; unsafeCentroid: number[]; distance: number } {
  const sum = { safe: [0, 0, 0], unsafe: [0, 0, 0] };
  points.forEach((p, i) => {
    if (p.safe === null) return;
    const s = p.safe ? sum.safe : sum.unsafe;
    s[0] += projection.x[i];
    s[1] += projection.y[i];
    s[2]++;
  });
  const centroid = (s: number[]) => [s[0] / s[2], s[1] / s[2]];
  const a = centroid(sum.safe);
  const b = centroid(sum.unsafe);
  return { safe: sum.safe[2], unsafe: sum.unsafe[2], safeCentroid: a, unsafeCentroid: b, distance: Math.hypot(a[0] - b[0], a[1] - b[1]) };
}
