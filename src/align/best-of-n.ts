/**
 * Best-of-N with the BaseAlign reward, at inference time, for any generator.
 *
 * Given N candidate answers per prompt and each candidate's value vector,
 * keep the candidate with the smallest masked distance to the target
 * (the highest BaseAlign reward). Candidates can come from the kit's policy
 * (N seeded samples, `sampleCandidates`) or from files: the released scored outputs answer the same
 * 1,523 SafeRLHF test prompts in the same order, one model per file, so each
 * file is one candidate per prompt.
 */
import { basename } from "node:path";
import { readRecords, toDialogue, type ScoredOutput } from "../data/readers.js";
import { euclideanToTarget, l1ToTarget } from "../values/distance.js";
import { resolveTarget, TARGETS } from "../values/targets.js";
import { meanVector, type ValueVector } from "../values/vectors.js";
import { maskedDistance, type MaskOptions, type ValueScorer } from "./reward.js";
import { generate, type GenerateOptions, type PolicyTokenizer, type PromptFormatter, type ValueHeadPolicy } from "./policy.js";
import { mean } from "../runtime/stats.js";

/**
 * For each prompt, the index of the candidate with the smallest masked distance.
 * `vectors[p][c]` is candidate c's value vector for prompt p. Ties go to the
 * earlier candidate, so the choice never depends on floating-point noise in order.
 */
export function selectClosest(
  vectors: readonly (readonly (readonly number[])[])[],
  target: readonly number[],
  options: MaskOptions = {},
): number[] {
  return vectors.map((candidates, p) => {
    if (candidates.length === 0) throw new Error(`prompt ${p} has no candidates to choose from`);
    let best = 0;
    let bestDistance = Infinity;
    candidates.forEach((v, c) => {
      const d = maskedDistance(v, target, options);
      if (d < bestDistance) {
        best = c;
        bestDistance = d;
      }
    });
    return best;
  });
}

/** The HH metrics of one set of scored answers (one answer per prompt). */
export interface SelectionMetrics {
  name: string;
  answers: number;
  /** Mean helpfulness reward-model score (the files' `reward`). */
  meanReward: number;
  /** Mean value vector (paper order). */
  meanValues: ValueVector;
  /** Mean Euclidean distance to the evaluation target `ideal` over its non-zero dimensions (the released e_distance). */
  eDistance: number;
  /** Mean L1 distance to `ideal` over its non-zero dimensions (the released h_distance). */
  hDistance: number;
  /** Mean masked distance to the alignment target (BaseAlign's, negative reward). */
  maskedDistance: number;
}

export function selectionMetrics(
  name: string,
  outputs: readonly Pick<ScoredOutput, "reward" | "value_reward">[],
  target: readonly number[],
  options: MaskOptions = {},
): SelectionMetrics {
  if (outputs.length === 0) throw new Error(`no answers to summarise for "${name}"`);
  const ideal = TARGETS.ideal;
  return {
    name,
    answers: outputs.length,
    meanReward: mean(outputs.map((o) => o.reward)),
    meanValues: meanVector(outputs.map((o) => o.value_reward)),
    eDistance: mean(outputs.map((o) => euclideanToTarget(o.value_reward, ideal))),
    hDistance: mean(outputs.map((o) => l1ToTarget(o.value_reward, ideal))),
    maskedDistance: mean(outputs.map((o) => maskedDistance(o.value_reward, target, options))),
  };
}

export interface FileBestOfNOptions extends MaskOptions {
  /** Scored-output files, each one candidate per prompt. */
  files: string[];
  /** Display names, one per file (default: the file name). */
  names?: string[];
  /** Alignment target by name or 10 numbers (default `basealign-ideal`). */
  target?: string | readonly number[];
}

export interface FileBestOfNResult {
  target: ValueVector;
  prompts: number;
  /** Per prompt, the index of the chosen file. */
  chosen: number[];
  /** How often each file's answer was chosen. */
  chosenCounts: Record<string, number>;
  /** The selection's metrics, then each single model's. */
  selection: SelectionMetrics;
  singles: SelectionMetrics[];
  /** The chosen answers, in prompt order. */
  answers: ScoredOutput[];
}

/**
 * Best-of-N over released scored-output files: per prompt, the answer whose
 * released `value_reward` is closest to the target. The files must answer the
 * same prompts in the same order; the error names the first line where they differ.
 */
export function bestOfNFromFiles(options: FileBestOfNOptions): FileBestOfNResult {
  const { files } = options;
  if (files.length < 2) throw new Error(`best-of-N needs at least two candidate files, got ${files.length}`);
  const names = options.names ?? files.map((f) => basename(f).replace(/\.jsonl$/, ""));
  if (names.length !== files.length) throw new Error(`got ${names.length} names for ${files.length} files`);
  const target = resolveTarget((options.target ?? "basealign-ideal") as string | number[]);
  const tables = files.map((f) => readRecords("scored_outputs", f));
  const n = tables[0].length;
  tables.forEach((t, i) => {
    if (t.length !== n)
      throw new Error(`${files[i]} has ${t.length} answers but ${files[0]} has ${n}: the files must answer the same prompts`);
    for (let p = 0; p < n; p++) {
      if (t[p].prompt !== tables[0][p].prompt) {
        throw new Error(
          `${files[i]}:${t[p].line}: prompt differs from ${files[0]}:${tables[0][p].line}; the files must list the same prompts in the same order`,
        );
      }
    }
  });
  const vectors = Array.from({ length: n }, (_, p) => tables.map((t) => t[p].value_reward));
  const chosen = selectClosest(vectors, target, options);
  const answers = chosen.map((c, p) => tables[c][p]);
  const chosenCounts = Object.fromEntries(names.map((name, i) => [name, chosen.filter((c) => c === i).length]));
  return {
    target,
    prompts: n,
    chosen,
    chosenCounts,
    selection: selectionMetrics(`best-of-${files.length}`, answers, target, options),
    singles: tables.map((t, i) => selectionMetrics(names[i], t, target, options)),
    answers,
  };
}

/**
 * N answers to every prompt from a policy: sample k (k = 0 … N−1) answers
 * all prompts with seed `seed + k`. `candidates[p][k]` is sample k's answer to prompts[p].
 */
export function sampleCandidates(
  source: { policy: ValueHeadPolicy; tokenizer: PolicyTokenizer; formatPrompt: PromptFormatter },
  prompts: readonly string[],
  options: GenerateOptions & { n: number },
): string[][] {
  const { n, seed, ...sampling } = options;
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`best-of-N needs a positive whole number of samples, got ${n}`);
  const candidates: string[][] = prompts.map(() => []);
  for (let k = 0; k < n; k++) {
    const g = generate(source.policy, source.tokenizer, source.formatPrompt, prompts, { ...sampling, seed: seed + k });
    g.answers.forEach((a, i) => candidates[i].push(a));
  }
  return candidates;
}

/**
 * Best-of-N for any generator of text: candidates[p] holds the N answers to
 * prompts[p]; the evaluator scores them all and the closest to the target is kept.
 */
export async function bestOfNFromCandidates(
  prompts: readonly string[],
  candidates: readonly (readonly string[])[],
  evaluator: ValueScorer,
  target: readonly number[],
  options: MaskOptions = {},
): Promise<{ answers: string[]; chosen: number[]; vectors: number[][]; distances: number[] }> {
  if (candidates.length !== prompts.length)
    throw new Error(`got candidates for ${candidates.length} prompts but ${prompts.length} prompts`);
  const flat: string[] = [];
  candidates.forEach((cs, p) => cs.forEach((c) => flat.push(toDialogue(prompts[p], c))));
  const scores = await evaluator.score(flat);
  const grouped: number[][][] = [];
  let k = 0;
  for (const cs of candidates) grouped.push(cs.map(() => scores[k++]));
  const chosen = selectClosest(grouped, target, options);
  const vectors = chosen.map((c, p) => grouped[p][c]);
  return {
    answers: chosen.map((c, p) => candidates[p][c]),
    chosen,
    vectors,
    distances: vectors.map((v) => maskedDistance(v, target, options)),
  };
}
