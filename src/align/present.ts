/**
 * Presentation of alignment runs: the tables, figures, report numbers and
 * sentences of notebooks 06 (BaseAlign vs RLHF vs best-of-N, the data-size
 * curve) and 07 (cultural targets). The notebooks load runs, call these and
 * show the result; nothing here trains or scores anything.
 */
import { availableDataFiles, rawPath, requireDataFile } from "../data/paths.js";
import { readRecords } from "../data/readers.js";
import { barChart, heatmap, lineChart, radarChart } from "../charts/builders.js";
import { valueLabels, type Figure } from "../charts/spec.js";
import { resolveTarget } from "../values/targets.js";
import type { ReportNumber } from "../runtime/report-number.js";
import { bestOfNFromFiles, type FileBestOfNResult } from "./best-of-n.js";
import type { DataSizeCurve, DataSizePoint } from "./data-size.js";
import { crossTargetDistances, methodTable, targetMovement, type StoredRun } from "./experiments.js";
import { PPO_DEFAULTS, type PPOConfig } from "./ppo.js";

type Row = Record<string, string | number | boolean | null>;
type Matrix = ReturnType<typeof crossTargetDistances>;
type Movement = ReturnType<typeof targetMovement>;

/** Notebook 06's methods, with their display names. */
export type MethodRuns = Record<"basealign" | "rlhf" | "bon", StoredRun>;

// ─── Shared by 06 and 07 ─────────────────────────────────────────────────────

/** A sentence on how an experiment is configured, every number from its configuration. */
export function configurationLine(o: {
  backend: string;
  target?: string;
  seed: number;
  testPrompts: number;
  n?: number;
  ppo?: Partial<PPOConfig>;
  threshold?: number;
}): string {
  const ppo = { ...PPO_DEFAULTS, ...o.ppo };
  const parts = [
    `Backend **${o.backend}**.`,
    o.target ? `Target **${o.target}** = ${JSON.stringify(resolveTarget(o.target))} (paper order).` : "",
    `PPO: ${ppo.steps} steps × ${ppo.batch_size} rollouts (${ppo.batch_size / ppo.samples_per_prompt} prompts × ${ppo.samples_per_prompt} answers), learning rate ${ppo.learning_rate},`,
    `responses of at most ${ppo.response_length} tokens, KL coefficient ${ppo.init_kl_coef} (${ppo.adaptive_kl ? `adaptive, target ${ppo.target_kl}` : "fixed"}), score scaling ${ppo.reward_scaling};`,
    `reward mask τ = ${o.threshold ?? 0.3}; ${o.testPrompts} held-out test prompts${o.n ? `; best-of-${o.n}` : ""}; seed ${o.seed}.`,
    `CLI default: ${PPO_DEFAULTS.steps} PPO steps.`,
  ];
  return parts.filter(Boolean).join(" ");
}

/** The two SafeRLHF question files, their records and what each is used for. */
export function promptFilesTable(testPrompts: number): Row[] {
  const train = requireDataFile("saferlhf_train_questions");
  const test = requireDataFile("saferlhf_test_questions");
  return [
    { file: "saferlhf_train_questions", records: readRecords("questions", train).length, used_for: "PPO rollout prompts" },
    {
      file: "saferlhf_test_questions",
      records: readRecords("questions", test).length,
      used_for: `evaluation: the half no evaluator trains on (eval-leakage row), first ${testPrompts} prompts`,
    },
  ];
}

/** The notes of a notebook's report section: its configuration and what the numbers are. */
export function reportNotes(configuration: string, ...more: string[]): string[] {
  return [
    `configuration: ${configuration.replace(/\*\*/g, "")}`,
    "CPU-scale reproduction with the kit's small decoder, not the paper's 7B model: compare directions, not magnitudes",
    ...more,
  ];
}

/** One row per run: reused or computed now, seconds, PPO steps, backend. */
export function runStatusTable(runs: Record<string, StoredRun>): Row[] {
  return Object.entries(runs).map(([name, r]) => ({
    run: name,
    reused: r.reused,
    seconds: Math.round(r.summary.seconds),
    steps: r.summary.steps,
    train_prompts: r.summary.train_prompts ?? null,
    backend: r.summary.backend,
  }));
}

/** Where each part of a run came from (cache or trained now). */
export function sourcesTable(run: StoredRun): Row[] {
  return Object.entries(run.summary.sources).map(([part, source]) => ({ part, source }));
}

/** Each run's reward-hacking verdict, one line per run. */
export function guardLines(runs: Record<string, StoredRun>): string {
  return Object.entries(runs)
    .map(([m, r]) => `**${m}**: ${r.summary.reward_hacking_message}.`)
    .join("\n\n");
}

// ─── Notebook 06: methods compared ───────────────────────────────────────────

/** The bar chart of masked distances per method, by both evaluators. */
export function methodDistanceFigure(table: Row[], target: string): Figure {
  return barChart({
    categories: table.map((r) => String(r.method)),
    series: [
      { name: "optimised evaluator", values: table.map((r) => Number(r.distance)) },
      { name: "held-out evaluator", values: table.map((r) => Number(r.heldout_distance)) },
    ],
    yTitle: `mean masked distance to ${target}`,
    title: "Held-out SafeRLHF prompts: distance to the target",
    valueFormat: ".2f",
  });
}

/** Mean value vectors of the reference and each method's answers, with the target. */
export function methodRadarFigure(runs: MethodRuns): Figure {
  const s = runs.basealign.summary;
  return radarChart({
    axes: valueLabels(),
    series: [
      { name: "target", values: s.target },
      { name: "reference", values: s.values_before },
      { name: "BaseAlign", values: s.values_after },
      { name: "RLHF", values: runs.rlhf.summary.values_after },
      { name: `best-of-${runs.bon.summary.n}`, values: runs.bon.summary.values_after },
    ],
    fill: false,
    range: [-1, 1],
    title: "Mean value vector of held-out answers",
  });
}

/** Per-step training statistics of BaseAlign and RLHF. */
export function trainingCurvesFigure(runs: Pick<MethodRuns, "basealign" | "rlhf">): Figure {
  const logB = runs.basealign.trainLog;
  const logR = runs.rlhf.trainLog;
  return lineChart({
    series: [
      { name: "BaseAlign: masked distance of rollouts", x: logB.map((l) => l.step), y: logB.map((l) => l.mean_masked_distance ?? NaN) },
      { name: "BaseAlign: KL to reference", x: logB.map((l) => l.step), y: logB.map((l) => l.kl), dash: "dash" },
      { name: "RLHF: reward-model score", x: logR.map((l) => l.step), y: logR.map((l) => l.mean_reward) },
      { name: "RLHF: KL to reference", x: logR.map((l) => l.step), y: logR.map((l) => l.kl), dash: "dash" },
    ],
    xTitle: "PPO step",
    title: "Per-step training statistics",
  });
}

/** The training logs as rows (the data behind the training-curve figure). */
export function trainingRows(runs: Pick<MethodRuns, "basealign" | "rlhf">): Row[] {
  return (["basealign", "rlhf"] as const).flatMap((method) =>
    runs[method].trainLog.map((l) => ({
      method,
      step: l.step,
      reward: l.mean_reward,
      masked_distance: l.mean_masked_distance ?? null,
      kl: l.kl,
      kl_coef: l.kl_coef,
      entropy: l.entropy,
      clipfrac: l.clipfrac,
      approx_kl: l.approx_kl,
      value_loss: l.vf_loss,
      explained_var: l.explained_variance,
      tokens_per_s: l.tokens_per_second,
    })),
  );
}

/**
 * The held-out answers of every method side by side, one row per prompt
 * (`prompt`, `reference`, then one field per run). The runs must share the
 * prompts and the reference answers; an error names the first that does not.
 */
export function answerRows(runs: Record<string, StoredRun>): Record<string, string>[] {
  const names = Object.keys(runs);
  if (names.length === 0) throw new Error("answerRows: no runs");
  const first = runs[names[0]].answers;
  for (const n of names) {
    const a = runs[n].answers;
    if (a.length !== first.length)
      throw new Error(
        `answerRows: run "${n}" has ${a.length} answers, "${names[0]}" has ${first.length}; compare runs with the same test prompts`,
      );
    a.forEach((row, i) => {
      if (row.prompt !== first[i].prompt || row.reference !== first[i].reference)
        throw new Error(
          `answerRows: answer ${i + 1} of run "${n}" (${runs[n].dir}) has another prompt or reference answer than "${names[0]}"`,
        );
    });
  }
  return first.map((row, i) => ({
    prompt: row.prompt,
    reference: row.reference,
    ...Object.fromEntries(names.map((n) => [n, runs[n].answers[i].aligned])),
  }));
}

/** Best-of-N over the released scored answers that are present (no model of the kit involved). */
export function releasedBestOfN(target: string): { files: string[]; result: FileBestOfNResult } {
  const released = ["harmless_test_gpt-4", "harmless_test_gpt-35-turbo", "harmless_test_mistral-large"].filter((n) =>
    availableDataFiles().some((e) => e.name === n),
  );
  const files = released.map((n) => rawPath(n));
  return { files, result: bestOfNFromFiles({ files, names: released.map((n) => n.replace("harmless_test_", "")), target }) };
}

/** The released best-of-N beside each single file. */
export function releasedBestOfNTable(r: FileBestOfNResult): Row[] {
  return [r.selection, ...r.singles].map((m) => ({
    answers: m.name,
    masked_distance: m.maskedDistance,
    e_distance: m.eDistance,
    h_distance: m.hDistance,
    reward: m.meanReward,
  }));
}

export function releasedBestOfNLine(r: FileBestOfNResult): string {
  return `Chosen per prompt: ${Object.entries(r.chosenCounts)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ")} (ties go to the first file); ${r.prompts} prompts in each of ${r.singles.length} files.`;
}

/** Report numbers of notebook 06's comparison (the judged scores and the data-size curve have their own). */
export function methodNumbers(runs: MethodRuns, released?: FileBestOfNResult, goals = { reduction: 0.3, kl: 6 }): ReportNumber[] {
  const table = methodTable(runs);
  const s = runs.basealign.summary;
  const out: ReportNumber[] = table.flatMap((row) => [
    { name: `${row.method}: masked distance (optimised evaluator)`, value: Number(row.distance) },
    { name: `${row.method}: masked distance (held-out evaluator)`, value: Number(row.heldout_distance) },
    ...(row.method !== "reference (start policy)" ? [{ name: `${row.method}: KL to reference`, value: Number(row.kl) }] : []),
    ...(row.reward_model !== null ? [{ name: `${row.method}: reward-model score`, value: Number(row.reward_model) }] : []),
  ]);
  out.push(
    {
      name: "BaseAlign: relative distance reduction (optimised evaluator)",
      value: s.relative_reduction,
      note: `goal (for the CLI default run): at least ${goals.reduction}`,
    },
    {
      name: "BaseAlign: relative distance reduction (held-out evaluator)",
      value: s.heldout_relative_reduction,
      note: `goal (for the CLI default run): at least ${goals.reduction}`,
    },
    { name: "BaseAlign: KL to reference on held-out answers", value: s.kl_mean, note: `goal (for the CLI default run): under ${goals.kl}` },
  );
  if (released) {
    out.push({ name: `file ${released.selection.name}: masked distance`, value: released.selection.maskedDistance });
    for (const m of released.singles) out.push({ name: `${m.name}: masked distance (released value_reward)`, value: m.maskedDistance });
  }
  return out;
}

// ─── The data-size curve ─────────────────────────────────────────────────────

/** One row per point of the curve. */
export function dataSizeTable(curve: DataSizeCurve): Row[] {
  return curve.points.map((p) => ({
    method: p.method,
    share: p.share,
    train_prompts: p.train_prompts,
    rollouts: p.rollouts,
    distance_after: p.distance_after,
    reduction: p.relative_reduction,
    heldout_distance_after: p.heldout_distance_after,
    heldout_reduction: p.heldout_relative_reduction,
    kl: p.kl,
    reward_model: p.reward_model_after,
    flag: p.reward_hacking_flag,
    reused: p.reused,
  }));
}

/** A share as a percentage without float noise (0.001 → "0.1"). */
const pct = (share: number) => String(Number((share * 100).toPrecision(6)));

const byMethod = (curve: DataSizeCurve): [string, DataSizePoint[]][] =>
  curve.config.methods.map((m) => [m === "basealign" ? "BaseAlign" : "RLHF", curve.points.filter((p) => p.method === m)]);

/** Relative distance reduction against the share of training prompts (log x), per method and evaluator. */
export function dataSizeFigure(curve: DataSizeCurve): Figure {
  const series = byMethod(curve).flatMap(([name, pts], i) => [
    {
      name: `${name} (optimised evaluator)`,
      x: pts.map((p) => Number(pct(p.share))),
      y: pts.map((p) => p.relative_reduction),
      mode: "lines+markers" as const,
      color: ["#1f77b4", "#d62728"][i % 2],
    },
    {
      name: `${name} (held-out evaluator)`,
      x: pts.map((p) => Number(pct(p.share))),
      y: pts.map((p) => p.heldout_relative_reduction),
      mode: "lines+markers" as const,
      dash: "dash" as const,
      color: ["#1f77b4", "#d62728"][i % 2],
    },
  ]);
  const fig = lineChart({
    series,
    xTitle: "share of the SafeRLHF training prompts (%)",
    yTitle: "relative reduction of the masked distance",
    title: `Alignment against training data (same budget: ${curve.points[0]?.rollouts ?? "?"} rollouts per run)`,
  });
  fig.layout.xaxis = { ...fig.layout.xaxis, type: "log" };
  return fig;
}

/** What the curve is and where the budget stops the share from mattering. */
export function dataSizeLine(curve: DataSizeCurve): string {
  const below = curve.points
    .filter((p) => p.method === curve.config.methods[0] && p.train_prompts < curve.budgetPrompts)
    .map((p) => `${pct(p.share)}%`);
  return (
    `Each run draws at most **${curve.budgetPrompts}** distinct prompts (steps × batch ÷ answers per prompt) out of ${curve.available ?? "?"}; ` +
    (below.length
      ? `only the share${below.length > 1 ? "s" : ""} ${below.join(", ")} hold${below.length > 1 ? "" : "s"} fewer prompts than that, so only there can the amount of data limit a run.`
      : "every share holds more prompts than a run draws, so the curve can only show the effect of which prompts, not how many.") +
    ` Configuration "${curve.config.name}": shares ${curve.config.shares.map((s) => `${pct(s)}%`).join(", ")}, ${curve.config.testPrompts} test prompts, seed ${curve.config.seed}.`
  );
}

export function dataSizeNumbers(curve: DataSizeCurve): ReportNumber[] {
  return curve.points.flatMap((p) => {
    const name = `${p.method === "basealign" ? "BaseAlign" : "RLHF"} on ${pct(p.share)}% of the training prompts (${p.train_prompts})`;
    return [
      { name: `${name}: relative distance reduction (optimised evaluator)`, value: p.relative_reduction, note: `${p.rollouts} rollouts` },
      { name: `${name}: relative distance reduction (held-out evaluator)`, value: p.heldout_relative_reduction },
      { name: `${name}: KL to reference`, value: p.kl },
    ];
  });
}

// ─── Notebook 07: cultural targets ───────────────────────────────────────────

/** One row per target: distances before and after by both evaluators, KL, the guard's flag. */
export function culturalRunTable(runs: Record<string, StoredRun>): Row[] {
  return Object.entries(runs).map(([t, r]) => ({
    target: t,
    reused: r.reused,
    seconds: Math.round(r.summary.seconds),
    steps: r.summary.steps,
    distance_before: r.summary.distance_before,
    distance_after: r.summary.distance_after,
    heldout_before: r.summary.heldout_distance_before,
    heldout_after: r.summary.heldout_distance_after,
    kl: r.summary.kl_mean,
    flag: r.summary.reward_hacking_flag,
  }));
}

/** The targets' value vectors, one row each. */
export function targetsTable(targets: readonly string[]): Row[] {
  return targets.map((t) => ({ target: t, ...Object.fromEntries(valueLabels().map((v, i) => [v, resolveTarget(t)[i]])) }));
}

export interface CulturalComparison {
  targets: string[];
  matrices: { optimised: Matrix; heldout: Matrix };
  movement: { optimised: Movement; heldout: Movement };
}

/** Each run's answers against every target, by both evaluators, and how far each profile moved. */
export function culturalComparison(runs: Record<string, StoredRun>, targets: readonly string[]): CulturalComparison {
  const optimised = crossTargetDistances(runs, targets, { evaluator: "optimised" });
  const heldout = crossTargetDistances(runs, targets, { evaluator: "heldout" });
  return {
    targets: [...targets],
    matrices: { optimised, heldout },
    movement: { optimised: targetMovement(optimised), heldout: targetMovement(heldout) },
  };
}

/** The distance matrix of one evaluator as a heatmap. */
export function crossTargetFigure(c: CulturalComparison, evaluator: "optimised" | "heldout"): Figure {
  const m = c.matrices[evaluator];
  return heatmap({
    x: m.columns.map((col) => `to ${col}`),
    y: m.rows.map((r) => (r === "reference" ? "reference" : `aligned to ${r}`)),
    z: m.distances,
    format: (v) => v.toFixed(3),
    colorscale: "Blues",
    colorbarTitle: "distance",
    title: `Masked distance to each target (${evaluator} evaluator)`,
  });
}

/** The matrix of one evaluator as rows (policy, then one column per target). */
export function crossTargetRows(c: CulturalComparison, evaluator: "optimised" | "heldout"): Row[] {
  const m = c.matrices[evaluator];
  return m.rows.map((r, i) => ({ policy: r, ...Object.fromEntries(m.columns.map((col, j) => [col, m.distances[i][j]])) }));
}

export function movementRows(c: CulturalComparison): Row[] {
  return [
    ...c.movement.optimised.map((r) => ({ evaluator: "optimised", ...r })),
    ...c.movement.heldout.map((r) => ({ evaluator: "held-out", ...r })),
  ];
}

export function movementFigure(c: CulturalComparison): Figure {
  return barChart({
    categories: c.targets,
    series: [
      { name: "toward own (optimised)", values: c.movement.optimised.map((r) => r.toward_own) },
      { name: "away from others (optimised)", values: c.movement.optimised.map((r) => r.away_from_others) },
      { name: "toward own (held-out)", values: c.movement.heldout.map((r) => r.toward_own) },
      { name: "away from others (held-out)", values: c.movement.heldout.map((r) => r.away_from_others) },
    ],
    yTitle: "change of mean masked distance",
    title: "Movement of each aligned profile",
    valueFormat: ".3f",
  });
}

/** Value profiles of the reference and each aligned policy (optimised evaluator), with the targets dotted. */
export function culturalRadarFigure(c: CulturalComparison): Figure {
  const m = c.matrices.optimised;
  const fig = radarChart({
    axes: valueLabels(),
    series: [
      { name: "reference", values: m.profiles.reference },
      ...c.targets.map((t) => ({ name: `aligned to ${t}`, values: m.profiles[t] })),
      ...c.targets.map((t) => ({ name: `target ${t}`, values: resolveTarget(t) })),
    ],
    fill: false,
    range: [-1, 1],
    title: "Mean value vectors of held-out answers (optimised evaluator) and the targets",
  });
  for (const tr of fig.data.slice(1 + c.targets.length)) tr.line = { ...(tr.line as object), dash: "dot" };
  return fig;
}

export function culturalNumbers(c: CulturalComparison, runs: Record<string, StoredRun>): ReportNumber[] {
  const out: ReportNumber[] = (["optimised", "heldout"] as const).flatMap((evaluator) =>
    c.movement[evaluator].flatMap((r) => [
      {
        name: `aligned to ${r.run}: distance to own target, before → after (${evaluator})`,
        value: `${r.own_before.toFixed(3)} → ${r.own_after.toFixed(3)}`,
      },
      { name: `aligned to ${r.run}: toward own target (${evaluator})`, value: r.toward_own },
      { name: `aligned to ${r.run}: away from other targets (${evaluator})`, value: r.away_from_others },
    ]),
  );
  for (const [t, r] of Object.entries(runs)) out.push({ name: `aligned to ${t}: KL to reference`, value: r.summary.kl_mean });
  return out;
}

/** A run's summary as a short markdown sentence (computed now or reused). */
export function runLine(name: string, run: StoredRun): string {
  return `${name}: ${run.reused ? "stored run reused" : `trained in ${Math.round(run.summary.seconds)} s`}.`;
}
