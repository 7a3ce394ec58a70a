/**
 * The data-size experiment from the command line: BaseAlign and RLHF trained
 * on seeded shares of the SafeRLHF training prompts with the same PPO budget
 * per point (src/align/data-size.ts), then the curve as a table, JSON lines
 * and, with --figure, the exported figure.
 *
 *   node dist/scripts/data-size.js [--config default|notebook] [--seed N] [--backend NAME] [--json] [--figure] [--force]
 *
 * `default` is the full configuration (8 runs of the CPU preset, about as long
 * as 8 `fulcra align` runs); `notebook` is notebook 06's CI-sized one. Runs are
 * stored under runs/align/data-size-<config>/ and reused.
 * With --json, one line per figure: {"workload", "backend", "metric", "value", "unit"}.
 */
import { parseArgs } from "node:util";
import { DATA_SIZE_DEFAULTS, DATA_SIZE_NOTEBOOK, dataSizeCurve } from "../src/align/data-size.js";
import { lazyAlignComponents, notebookComponentOptions } from "../src/align/components.js";
import { dataSizeFigure, dataSizeLine, dataSizeTable } from "../src/align/present.js";
import { exportFigure } from "../src/figures/export.js";
import { initBackend } from "../src/runtime/backend.js";

const HELP = `node dist/scripts/data-size.js [--config default|notebook] [--seed N] [--backend NAME] [--json] [--figure] [--force]
  --config   default (10/25/50/100% of the training prompts, the CPU preset's PPO) or notebook (notebook 06's CI size); default: default
  --seed     seed of PPO and of the prompt subsets (default: the configuration's)
  --backend  tfjs backend (default: FULCRA_BACKEND or the kit's choice)
  --json     one JSON line per number
  --figure   export figures/data-size-<config>.{svg,png,pdf,csv,json}
  --force    recompute stored runs`;

const { values: opt } = parseArgs({
  options: {
    config: { type: "string" },
    seed: { type: "string" },
    backend: { type: "string" },
    json: { type: "boolean" },
    figure: { type: "boolean" },
    force: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
});
if (opt.help) {
  console.log(HELP);
  process.exit(0);
}
const configs = { default: DATA_SIZE_DEFAULTS, notebook: DATA_SIZE_NOTEBOOK } as const;
const name = opt.config ?? "default";
if (!(name in configs)) {
  console.error(`data-size: --config should be default or notebook, got "${name}"`);
  process.exit(2);
}
const seed = opt.seed === undefined ? undefined : Number(opt.seed);
if (seed !== undefined && !Number.isInteger(seed)) {
  console.error(`data-size: --seed should be a whole number, got "${opt.seed}"`);
  process.exit(2);
}
if (opt.backend) process.env.FULCRA_BACKEND = opt.backend;
const backend = await initBackend({ quiet: true });
const base = configs[name as keyof typeof configs];
const config = seed === undefined ? base : { ...base, seed, name: `${base.name}-seed${seed}` };
const curve = await dataSizeCurve(lazyAlignComponents({ ...notebookComponentOptions(), quiet: opt.json ?? false }), config, {
  quiet: opt.json ?? false,
  force: opt.force,
});
if (opt.json) {
  for (const p of curve.points) {
    const w = `data-size-${config.name}-${p.method}-${Number((p.share * 100).toPrecision(6))}pct`;
    const emit = (metric: string, value: number, unit: string) =>
      console.log(JSON.stringify({ workload: w, backend: backend.name, metric, value, unit }));
    emit("train_prompts", p.train_prompts, "prompts");
    emit("distance_reduction_optimised", 100 * p.relative_reduction, "%");
    emit("distance_reduction_heldout", 100 * p.heldout_relative_reduction, "%");
    emit("kl_mean", p.kl, "nats");
    emit("seconds", p.seconds, "s");
  }
} else {
  console.table(dataSizeTable(curve));
  console.log(dataSizeLine(curve).replace(/\*\*/g, ""));
}
if (opt.figure) {
  const e = await exportFigure(dataSizeFigure(curve), `data-size-${config.name}`, {
    data: dataSizeTable(curve),
    seed: config.seed,
    caption:
      "Relative reduction of the masked distance against the share of training prompts, BaseAlign and RLHF, same PPO budget per point.",
  });
  if (!opt.json) console.log(`figure: ${e.relativeFiles.join(", ")}`);
}
process.exit(0);
