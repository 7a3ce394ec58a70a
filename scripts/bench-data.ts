/**
 * Times the dataset experiments end to end: reads every file in data/raw,
 * builds the tables and computes every statistic of notebooks 01–03,
 * printing the wall time of each stage. UMAP is timed on its own line
 * because it dominates and is not part of the 1-second goal.
 *
 * Usage: npm run bench:data [-- --no-umap] [-- --repeat N]
 *   --no-umap   skip the UMAP stages
 *   --repeat N  run the statistics N times and report the fastest of each stage (default 1: a cold run)
 *   --backend NAME, --json  the benchmark convention (bench-common.ts): with --json, one line per
 *               stage (workload "data: STAGE", wall ms) and "data-statistics-total"
 */
import { parseArgs } from "node:util";
import { MANIFEST } from "../src/data/manifest.js";
import { availableDataFiles, rawPath } from "../src/data/paths.js";
import { kitPaths } from "../src/runtime/env.js";
import { readRecords } from "../src/data/readers.js";
import * as analysis from "../src/analysis/index.js";
import { benchSetup, emit } from "./bench-common.js";

const setup = benchSetup();
const { values: opts } = parseArgs({ args: setup.rest, options: { "no-umap": { type: "boolean" }, repeat: { type: "string" } } });
const repeat = Math.max(1, Number(opts.repeat ?? 1));

// Wall time, and this process's CPU time (user + system): on a shared machine the
// wall time grows with the other jobs' load while the CPU time stays put.
const times = new Map<string, number>();
const cpuTimes = new Map<string, number>();
function stage<T>(name: string, work: () => T): T {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const out = work();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  times.set(name, Math.min(times.get(name) ?? Infinity, ms));
  cpuTimes.set(name, Math.min(cpuTimes.get(name) ?? Infinity, (used.user + used.system) / 1000));
  return out;
}

const present = availableDataFiles();
if (present.length === 0) {
  console.error(`No data under ${kitPaths().rawDir}. Run \`npx fulcra data fetch\` (or with --from ../shared/data/fulcra) first.`);
  process.exit(1);
}
const fulcraIsFull = present.some((e) => e.name === analysis.FULL_FULCRA_FILE);

for (let round = 0; round < repeat; round++) {
  // Reading: FULCRA records (labels parsed), questions, scored outputs, and every other file present.
  const fulcra = stage("read FULCRA records (+ label parsing)", () => analysis.loadFulcra());
  const questions = stage("read SafeRLHF questions (prompt index)", () => analysis.loadQuestionIndex());
  const scored = stage("read scored outputs", () => analysis.loadScoredOutputs());
  stage("read other files (preference pairs)", () => {
    for (const e of present.filter((m) => m.kind === "preference_pairs")) readRecords("preference_pairs", rawPath(e));
  });

  // Tables.
  const records = stage("build record table (+ prompt matching)", () => analysis.fulcraTable(fulcra.records, questions));
  const answers = stage("build scored-output table", () => analysis.scoredTable(scored));

  // 01-dataset.
  stage("composition", () => {
    analysis.recordsBy(records, "query_source");
    analysis.recordsBy(records, "response_source");
    analysis.labelsPerRecord(records, "n_types");
    analysis.labelsPerRecord(records, "n_items");
    analysis.meanLabelsPerRecord(records);
    analysis.polarityCounts(records);
    analysis.valueCounts(records);
  });
  stage("Fig. 2(a) value proportions (+ paper comparison)", () => analysis.compareWithPaperFig2a(analysis.valueProportions(records)));
  stage("value profiles (LLM, query source, scored model)", () => {
    analysis.valueProfiles(records, "response_source");
    analysis.valueProfiles(records, "query_source");
    analysis.valueProfiles(answers, "model", "value_reward");
  });
  stage("co-occurrence", () => analysis.valueCooccurrence(records));
  stage("data quality tables", () => {
    analysis.labelQualityTable(fulcra);
    analysis.labelIssueDetails(fulcra);
    analysis.qualitySummary(fulcra);
  });

  // 02-value-space (PCA part).
  const points = stage("value-space points + PCA", () => {
    const p = analysis.valueSpacePoints(records, answers);
    const proj = analysis.projectValueSpace(p, "pca");
    analysis.safeUnsafeSeparation(p, proj);
    return p;
  });

  // 03-values-and-risks.
  stage("Fig. 4(b) correlations (groups + 14 categories, pooled + per model, FULCRA matched)", () => {
    const cells = analysis.scoredValueRisk(answers, "group");
    analysis.scoredValueRisk(answers, "category");
    for (const m of scored.byModel) analysis.scoredValueRisk(answers, "group", m.model);
    analysis.fulcraValueRisk(records, "group");
    analysis.fulcraValueRisk(records, "category");
    analysis.agreementWithPaperFig4b(analysis.compareWithPaperFig4b(cells));
  });

  if (round === repeat - 1 && !opts["no-umap"]) {
    stage("UMAP: FULCRA records only", () =>
      analysis.projectValueSpace(
        points.filter((p) => p.source === "FULCRA"),
        "umap",
      ),
    );
    stage("UMAP: FULCRA records + scored outputs", () => analysis.projectValueSpace(points, "umap"));
  }
}

const umapStages = [...times.keys()].filter((k) => k.startsWith("UMAP"));
const statStages = [...times.keys()].filter((k) => !k.startsWith("UMAP"));
const total = statStages.reduce((s, k) => s + times.get(k)!, 0);
const totalCpu = statStages.reduce((s, k) => s + cpuTimes.get(k)!, 0);
const width = Math.max(...[...times.keys()].map((k) => k.length));
const row = (k: string, wall: number, cpu: number, note = "") =>
  console.log(`${k.padEnd(width)}  ${wall.toFixed(1).padStart(8)}  ${cpu.toFixed(1).padStart(8)}${note}`);
console.log(`Data: ${present.map((e) => e.name).join(", ")}`);
console.log(
  `FULCRA: ${fulcraIsFull ? "full release (data_hybrid)" : "part only (the full release is not present)"}; ${MANIFEST.length - present.length} manifest file(s) absent`,
);
const load = (await import("node:os")).loadavg()[0];
console.log(
  `Node ${process.version}, ${repeat === 1 ? "one cold run" : `fastest of ${repeat} runs`}, load average ${load.toFixed(1)} on ${(await import("node:os")).cpus().length} cores\n`,
);
console.log(`${"stage".padEnd(width)}  ${"wall ms".padStart(8)}  ${"CPU ms".padStart(8)}`);
for (const k of statStages) row(k, times.get(k)!, cpuTimes.get(k)!);
console.log(`${"-".repeat(width)}  --------  --------`);
row("total without UMAP", total, totalCpu, "   (goal < 1000 ms)");
for (const k of umapStages) row(k, times.get(k)!, cpuTimes.get(k)!);

if (setup.json) {
  const { currentBackend } = await import("../src/runtime/backend.js");
  const backend = currentBackend()?.name ?? setup.backend ?? "js";
  for (const k of [...statStages, ...umapStages]) emit(setup, backend, `data: ${k}`, "wall_time", times.get(k)!, "ms");
  emit(setup, backend, "data-statistics-total", "wall_time", total, "ms");
}
