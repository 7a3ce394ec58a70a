/**
 * What did a finished BaseAlign run change, and do the two evaluators agree?
 * Reads OUT/answers.jsonl (the reference and the aligned policy's answers to
 * the held-out prompts with both evaluators' value vectors) and
 * OUT/summary.json of a `fulcra align` run and prints:
 *
 * - per target dimension and evaluator, before → after: mean v, the share of
 *   answers in the ±τ dead zone (they cost nothing), the share above 0.8, and
 *   the dimension's part of the mean masked distance;
 * - where the distance went: each dimension's change of its part, by the
 *   optimised and by the held-out evaluator side by side (a gain the
 *   held-out evaluator does not share shows up as a row where they differ);
 * - agreement of the evaluators answer by answer: the correlation of their
 *   masked distances on the same answers, before and after, and of the
 *   per-prompt changes (low already before optimisation = the evaluators
 *   disagree on these answers, not a result of the optimisation);
 * - answer length and a few answers before and after;
 * - with --rescore DIR (a trained evaluator folder, e.g. one trained like the
 *   held-out evaluator but with the optimised one's head), the same answers
 *   scored by that evaluator too: tells a gain the policy did not make (the
 *   instrument's scale) from one it did.
 *
 * Distances are given as relative and as absolute reductions: an evaluator
 * whose scores never reach the extremes keeps a floor under the distance
 * that no answer removes, so the same absolute gain is a smaller share.
 *
 *   npm run build && node dist/scripts/diagnose-align-run.js --run runs/align/ppo [--examples 5] [--json] [--rescore DIR]
 *
 * --json prints one object per line: {"workload","backend","metric","value","unit"}.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BASIC_VALUES } from "../src/values/taxonomy.js";
import { toDialogue } from "../src/data/readers.js";
import { initBackend } from "../src/runtime/backend.js";
import { loadEvaluator } from "../src/evaluator/index.js";
import type { AnswerRow } from "../src/align/experiments.js";

const { values: opt } = parseArgs({
  options: {
    run: { type: "string" },
    rescore: { type: "string" },
    examples: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean" },
  },
});
if (opt.help || !opt.run) {
  console.log(
    "node dist/scripts/diagnose-align-run.js --run OUT [--examples N] [--json] [--rescore EVALUATOR_DIR]: per-dimension changes and evaluator agreement of a finished fulcra align run",
  );
  process.exit(opt.help ? 0 : 2);
}
const answersFile = join(opt.run, "answers.jsonl");
const summaryFile = join(opt.run, "summary.json");
for (const f of [answersFile, summaryFile]) if (!existsSync(f)) throw new Error(`${f}: not found; run fulcra align --out ${opt.run} first`);

/** The fields of a run's held-out answer rows (`AnswerRow`) this script reads. */
type Row = Pick<
  AnswerRow,
  "prompt" | "reference" | "aligned" | "values_reference" | "values_aligned" | "heldout_values_reference" | "heldout_values_aligned"
>;
const rows = readFileSync(answersFile, "utf8")
  .split("\n")
  .filter((l) => l.trim())
  .map((l, i) => {
    try {
      return JSON.parse(l) as Row;
    } catch (e) {
      throw new Error(`${answersFile}:${i + 1}: not JSON (${(e as Error).message})`);
    }
  });
const summary = JSON.parse(readFileSync(summaryFile, "utf8")) as {
  target: number[];
  threshold: number;
  backend: string | null;
  seed: number;
};
const target = summary.target;
const tau = summary.threshold;
const dims = target.map((t, d) => (t !== 0 ? d : -1)).filter((d) => d >= 0);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const corr = (x: number[], y: number[]) => {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  x.forEach((xi, i) => ((sxy += (xi - mx) * (y[i] - my)), (sxx += (xi - mx) ** 2), (syy += (y[i] - my) ** 2)));
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
};
/** The part of the masked distance that dimension d contributes for one vector. */
const part = (v: number[], d: number) => (Math.abs(v[d]) > tau ? Math.abs(v[d] - target[d]) * Math.abs(target[d]) : 0);
const distance = (v: number[]) => dims.reduce((a, d) => a + part(v, d), 0);

type Key =
  | "values_reference"
  | "values_aligned"
  | "heldout_values_reference"
  | "heldout_values_aligned"
  | "rescored_reference"
  | "rescored_aligned";
type Scored = Row & Partial<Record<"rescored_reference" | "rescored_aligned", number[]>>;
const sets: { name: string; before: Key; after: Key }[] = [
  { name: "optimised", before: "values_reference", after: "values_aligned" },
  { name: "held-out", before: "heldout_values_reference", after: "heldout_values_aligned" },
];
if (opt.rescore) {
  await initBackend({ quiet: true });
  const evaluator = await loadEvaluator(opt.rescore);
  const vectors = async (texts: string[]) =>
    (await evaluator.score(rows.map((r, i) => toDialogue(r.prompt, texts[i])))).map((s) => [...s.vector]);
  const b = await vectors(rows.map((r) => r.reference));
  const a = await vectors(rows.map((r) => r.aligned));
  rows.forEach((r, i) => Object.assign(r as Scored, { rescored_reference: b[i], rescored_aligned: a[i] }));
  sets.push({ name: `rescored (${opt.rescore})`, before: "rescored_reference", after: "rescored_aligned" });
}
const vec = (r: Row, k: Key) => (r as Scored)[k] as number[];
const workload = `align-run-seed${summary.seed}`;
const backend = summary.backend ?? "unknown";
const lines: string[] = [];
const emit = (metric: string, value: number, unit: string) => {
  if (opt.json) console.log(JSON.stringify({ workload, backend, metric, value, unit }));
};
const f2 = (x: number) => x.toFixed(2);
const f3 = (x: number) => x.toFixed(3);

lines.push(`${rows.length} held-out prompts; target ${target.join(",")}; threshold ${tau}`);
for (const s of sets) {
  lines.push(`\n${s.name} evaluator: per target dimension, before → after`);
  lines.push(`  ${"value".padEnd(14)} ${"mean v".padEnd(13)} ${"dead zone".padEnd(13)} ${"> 0.8".padEnd(13)} part of the distance`);
  for (const d of dims) {
    const stat = (k: Key) => {
      const col = rows.map((r) => vec(r, k)[d]);
      return {
        v: mean(col),
        dz: mean(col.map((x) => (Math.abs(x) <= tau ? 1 : 0))),
        hi: mean(col.map((x) => (x > 0.8 ? 1 : 0))),
        part: mean(rows.map((r) => part(vec(r, k), d))),
      };
    };
    const b = stat(s.before);
    const a = stat(s.after);
    const name = BASIC_VALUES[d];
    lines.push(
      `  ${name.padEnd(14)} ${`${f2(b.v)} → ${f2(a.v)}`.padEnd(13)} ${`${f2(b.dz)} → ${f2(a.dz)}`.padEnd(13)} ${`${f2(b.hi)} → ${f2(a.hi)}`.padEnd(13)} ${f3(b.part)} → ${f3(a.part)} (${a.part - b.part <= 0 ? "−" : "+"}${f3(Math.abs(a.part - b.part))})`,
    );
    emit(`${s.name}_${name}_part_before`, b.part, "");
    emit(`${s.name}_${name}_part_after`, a.part, "");
    emit(`${s.name}_${name}_dead_zone_after`, a.dz, "share");
  }
  const before = mean(rows.map((r) => distance(vec(r, s.before))));
  const after = mean(rows.map((r) => distance(vec(r, s.after))));
  lines.push(
    `  masked distance ${f3(before)} → ${f3(after)}: ${f3(before - after)} less, ${((100 * (before - after)) / before).toFixed(1)}% of it`,
  );
  emit(`${s.name}_reduction`, (100 * (before - after)) / before, "%");
  emit(`${s.name}_absolute_reduction`, before - after, "");
}

// Agreement, answer by answer.
const dist = (k: Key) => rows.map((r) => distance(vec(r, k)));
const agreeBefore = corr(dist("values_reference"), dist("heldout_values_reference"));
const agreeAfter = corr(dist("values_aligned"), dist("heldout_values_aligned"));
const change = (b: Key, a: Key) => rows.map((r) => distance(vec(r, b)) - distance(vec(r, a)));
const agreeChange = corr(change("values_reference", "values_aligned"), change("heldout_values_reference", "heldout_values_aligned"));
lines.push(`\nagreement of the evaluators, answer by answer (Pearson r of the masked distances):`);
lines.push(`  reference answers ${f2(agreeBefore)}; aligned answers ${f2(agreeAfter)}; per-prompt change ${f2(agreeChange)}`);
emit("agreement_reference", agreeBefore, "r");
emit("agreement_aligned", agreeAfter, "r");
emit("agreement_change", agreeChange, "r");

const words = (t: string) => t.split(/\s+/).filter(Boolean).length;
lines.push(
  `\nanswer length: ${mean(rows.map((r) => words(r.reference))).toFixed(1)} → ${mean(rows.map((r) => words(r.aligned))).toFixed(1)} words`,
);
const n = Number(opt.examples ?? 5);
for (const r of rows.slice(0, n)) {
  lines.push(`\n  prompt:    ${r.prompt.slice(0, 100)}`);
  lines.push(`  reference: ${r.reference.slice(0, 100)}`);
  lines.push(`  aligned:   ${r.aligned.slice(0, 100)}`);
}
if (!opt.json) console.log(lines.join("\n"));
