/**
 * The full default BaseAlign run, timed: `fulcra align --method ppo --target
 * basealign-ideal` in a fresh runs folder (so the SFT policy, both evaluators
 * and the reward model are trained first, as on a new checkout), for each
 * seed asked, one after the other, then the numbers of its summary.json.
 *
 *   npm run bench:align -- [--seeds 1,2,3] [--backend wasm] [--json] [--keep DIR]
 *
 * With --json, one line per figure:
 *   {"workload", "backend", "metric", "value", "unit"}
 * Wall time depends on what else runs on the machine; cpu_seconds (user +
 * system of the whole command) is the steadier figure.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const { values: opt } = parseArgs({
  options: {
    seeds: { type: "string" },
    backend: { type: "string" },
    json: { type: "boolean" },
    keep: { type: "string" },
    help: { type: "boolean" },
  },
});
if (opt.help) {
  console.log(
    "npm run bench:align -- [--seeds 1,2,3] [--backend NAME] [--json] [--keep DIR]: the default fulcra align run from a fresh runs folder, per seed",
  );
  process.exit(0);
}
const seeds = (opt.seeds ?? "1").split(",").map((s) => Number(s.trim()));
const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
const emit = (workload: string, backend: string, metric: string, value: number, unit: string) => {
  if (opt.json) console.log(JSON.stringify({ workload, backend, metric, value, unit }));
  else
    console.log(`${workload.padEnd(28)} ${metric.padEnd(30)} ${value.toFixed(unit === "%" || unit === "s" ? 1 : 3).padStart(9)} ${unit}`);
};
for (const seed of seeds) {
  const runs = opt.keep ? join(opt.keep, `seed-${seed}`) : mkdtempSync(join(tmpdir(), "fulcra-bench-align-"));
  const out = join(runs, "align", "bench");
  const env = { ...process.env, FULCRA_RUNS_DIR: runs, ...(opt.backend ? { FULCRA_BACKEND: opt.backend } : {}) };
  const r = spawnSync(
    process.execPath,
    [
      join(root, "bin", "fulcra.js"),
      "align",
      "--method",
      "ppo",
      "--target",
      "basealign-ideal",
      "--seed",
      String(seed),
      "--out",
      out,
      "--quiet",
    ],
    { env, stdio: ["ignore", opt.json ? "ignore" : "inherit", "inherit"] },
  );
  if (r.status !== 0) {
    console.error(`bench-align: fulcra align exited with ${r.status} for seed ${seed}`);
    process.exit(1);
  }
  const s = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
  const w = `align-ppo-default-seed${seed}`;
  const b = s.backend ?? "unknown";
  emit(w, b, "distance_reduction_optimised", 100 * s.relative_reduction, "%");
  emit(w, b, "distance_reduction_heldout", 100 * s.heldout_relative_reduction, "%");
  // Absolute reductions too: an evaluator whose scores stop short of ±1 keeps a floor under its distance, so equal gains can be unequal shares.
  emit(w, b, "distance_reduction_optimised_absolute", s.distance_before - s.distance_after, "");
  emit(w, b, "distance_reduction_heldout_absolute", s.heldout_distance_before - s.heldout_distance_after, "");
  emit(w, b, "distance_before", s.distance_before, "");
  emit(w, b, "distance_after", s.distance_after, "");
  emit(w, b, "heldout_distance_before", s.heldout_distance_before, "");
  emit(w, b, "heldout_distance_after", s.heldout_distance_after, "");
  emit(w, b, "kl_mean", s.kl_mean, "nats");
  emit(w, b, "wall_seconds", s.wall_seconds, "s");
  emit(w, b, "cpu_seconds", s.cpu_seconds, "s");
  for (const [k, v] of Object.entries(s.time_split as Record<string, number>)) emit(w, b, `seconds_${k}`, v, "s");
  if (!opt.keep) rmSync(runs, { recursive: true, force: true });
}
