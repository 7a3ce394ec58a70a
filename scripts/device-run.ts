/**
 * The device check's driver: runs every benchmark entry of the bundle on
 * webgpu and on wasm, side by side in one run, within a time budget, and
 * writes device-check.json and device-check.md (speed-up webgpu/wasm per
 * workload) under $OUT. It is bundled by scripts/device-check.sh and started
 * there on the GPU machine; it also runs here (webgpu is then reported
 * unavailable and only wasm is measured).
 *
 *   node device-bundle/device-run.mjs [--budget-seconds 420] [--backends webgpu,wasm] [--only matmul,lm]
 *
 * Each (workload, backend) is its own process with its own time limit, so a
 * crash or a hang on one backend costs only its share of the budget; results
 * are written after every process, so a run cut short still leaves its files.
 */
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { describeAdapter, probeWebGpuInChild, type WebGpuProbe } from "../src/runtime/backend.js";
import type { BenchLine } from "./bench-common.js";

interface Step {
  name: string;
  entry: string;
  args: string[];
  /** Seconds this step may take on one backend. */
  seconds: number;
  what: string;
}

/** The plan, most telling first. A step never runs past the overall budget: what does not fit is reported as skipped. */
export const PLAN: Step[] = [
  {
    name: "matmul",
    entry: "bench-matmul.mjs",
    args: ["--sizes", "512,1024,2048,4096", "--max-seconds", "30"],
    seconds: 40,
    what: "fp32 n×n matmul, n = 512 … 4096",
  },
  {
    name: "lm",
    entry: "bench-lm.mjs",
    args: ["--quick", "--configs", "default,gpu", "--batch", "4", "--no-generate"],
    seconds: 90,
    what: "LM forward and SFT step (forward + backward + AdamW), default and GPU_LM_CONFIG decoders, batch 4 (batch 8 of GPU_LM_CONFIG overflows wasm's memory)",
  },
  { name: "hub", entry: "bench-hub.mjs", args: [], seconds: 60, what: "forward/backward at GPT-2-small and DeBERTa-v3-large shapes" },
  {
    name: "evaluator",
    entry: "bench-evaluator.mjs",
    args: ["--epochs", "1", "--max-per-file", "1500", "--repeats", "2"],
    seconds: 40,
    what: "value evaluator: one training epoch, inference throughput",
  },
  {
    name: "ppo",
    entry: "bench-align-phases.mjs",
    args: ["--repeats", "1", "--ppo-iteration"],
    seconds: 45,
    what: "one PPO iteration at the default configuration",
  },
];

interface RunRecord {
  step: string;
  backend: string;
  status: "ok" | "unavailable" | "failed" | "timed out" | "skipped";
  seconds: number;
  note?: string;
}

const here = dirname(fileURLToPath(import.meta.url));

function clock(start: number): string {
  const s = Math.round((performance.now() - start) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

function runOne(
  entry: string,
  args: string[],
  limitSeconds: number,
  logFile: string,
): Promise<{ lines: BenchLine[]; code: number | null; timedOut: boolean; lastError: string; seconds: number }> {
  return new Promise((resolvePromise) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(here, entry), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, FULCRA_QUIET: "1" },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, limitSeconds * 1000);
    child.on("close", (code) => {
      clearTimeout(timer);
      writeFileSync(logFile, `$ node ${entry} ${args.join(" ")}\n--- stdout\n${out}\n--- stderr\n${err}`);
      const lines = out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as BenchLine];
          } catch {
            return [];
          }
        });
      // The line that names the error (a crash prints the source line and Node's version after it).
      const errLines = err
        .trim()
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && l.length < 2000);
      const lastError = (errLines.filter((l) => /Error|cannot be used|not available/.test(l)).pop() ?? errLines.pop() ?? "").slice(0, 400);
      resolvePromise({ lines, code, timedOut, lastError, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

/** Higher is better for rates (unit ends in "/s"); lower for times. */
export function speedup(unit: string, gpu: number, cpu: number): number | null {
  if (!Number.isFinite(gpu) || !Number.isFinite(cpu) || gpu <= 0 || cpu <= 0) return null;
  if (unit.endsWith("/s")) return gpu / cpu;
  if (["s", "ms", "s/epoch"].includes(unit)) return cpu / gpu;
  return null;
}

export interface Row {
  workload: string;
  metric: string;
  unit: string;
  values: Record<string, number>;
  speedup: number | null;
}

export function table(lines: BenchLine[], backends: string[]): Row[] {
  const rows = new Map<string, Row>();
  for (const l of lines) {
    const key = `${l.workload}\u0000${l.metric}`;
    const row = rows.get(key) ?? { workload: l.workload, metric: l.metric, unit: l.unit, values: {}, speedup: null };
    row.values[l.backend] = l.value;
    rows.set(key, row);
  }
  for (const r of rows.values()) {
    const [a, b] = backends;
    r.speedup = a in r.values && b in r.values ? speedup(r.unit, r.values[a], r.values[b]) : null;
  }
  return [...rows.values()];
}

function fmt(x: number | undefined): string {
  if (x === undefined) return "—";
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 0.01 || Math.abs(x) >= 1e6)) return x.toExponential(2);
  return x >= 100 ? x.toFixed(0) : x.toPrecision(3);
}

export function markdown(rows: Row[], runs: RunRecord[], header: string[], backends: string[]): string {
  const [a, b] = backends;
  const out = [
    ...header,
    "",
    `| workload | metric | ${backends.join(" | ")} | unit | speed-up ${a}/${b} |`,
    `|---|---|${backends.map(() => "---:").join("|")}|---|---:|`,
  ];
  for (const r of rows)
    out.push(
      `| ${r.workload} | ${r.metric} | ${backends.map((k) => fmt(r.values[k])).join(" | ")} | ${r.unit} | ${r.speedup === null ? "—" : `${r.speedup >= 10 ? r.speedup.toFixed(0) : r.speedup.toFixed(2)}×`} |`,
    );
  const notes = runs.filter((r) => r.status !== "ok");
  if (notes.length) {
    out.push("", "Not measured:", "");
    for (const n of notes) out.push(`- ${n.step} on ${n.backend}: ${n.status}${n.note ? ` (${n.note})` : ""}`);
  }
  return out.join("\n") + "\n";
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { "budget-seconds": { type: "string" }, backends: { type: "string" }, only: { type: "string" }, out: { type: "string" } },
  });
  const budget = Number(values["budget-seconds"] ?? 420);
  const backends = (values.backends ?? "webgpu,wasm").split(",");
  const only = values.only?.split(",");
  const outDir = values.out ?? process.env.OUT ?? join(process.cwd(), "device-check-out");
  mkdirSync(join(outDir, "logs"), { recursive: true });
  const start = performance.now();
  const deadline = start + budget * 1000;

  let gpuName = "";
  try {
    gpuName = execFileSync("nvidia-smi", ["--query-gpu=name,driver_version", "--format=csv,noheader"], {
      timeout: 10000,
      stdio: ["ignore", "pipe", "ignore"],
    })
      .toString()
      .trim();
  } catch {
    gpuName = "no nvidia-smi";
  }
  let probe: WebGpuProbe | { error: string };
  try {
    probe = await probeWebGpuInChild();
  } catch (e) {
    probe = { error: (e as Error).message };
  }
  const adapter = "adapter" in probe && probe.adapter ? describeAdapter(probe.adapter) : null;
  console.log(
    `[${clock(start)}] device check: node ${process.version}, GPU ${gpuName}, WebGPU adapter ${adapter ?? `none (${"error" in probe ? probe.error : (probe.note ?? "no adapter")})`}, budget ${budget} s`,
  );

  const lines: BenchLine[] = [];
  const runs: RunRecord[] = [];
  const unavailable = new Map<string, string>();
  const header = () => [
    `Device check of ${new Date().toISOString().slice(0, 10)}: ${gpuName}; WebGPU adapter: ${adapter ?? "none"}; node ${process.version}; ${Math.round((performance.now() - start) / 1000)} s in all.`,
    "Each workload ran in its own process on each backend, in one run; speed-up = rate ratio, or time ratio for times.",
  ];
  const write = () => {
    const rows = table(lines, backends);
    const json = {
      date: new Date().toISOString(),
      node: process.version,
      gpu: gpuName,
      probe,
      adapter,
      budgetSeconds: budget,
      backends,
      plan: PLAN,
      runs,
      rows,
      lines,
    };
    writeFileSync(join(outDir, "device-check.json"), JSON.stringify(json, null, 2) + "\n");
    writeFileSync(join(outDir, "device-check.md"), markdown(rows, runs, header(), backends));
  };

  for (const step of PLAN) {
    if (only && !only.includes(step.name)) continue;
    if (!existsSync(join(here, step.entry))) {
      console.log(`[${clock(start)}] ${step.name}: ${step.entry} is not in the bundle, skipped`);
      for (const b of backends)
        runs.push({ step: step.name, backend: b, status: "skipped", seconds: 0, note: `${step.entry} not bundled` });
      continue;
    }
    for (const backend of backends) {
      const left = (deadline - performance.now()) / 1000;
      if (unavailable.has(backend)) {
        runs.push({ step: step.name, backend, status: "unavailable", seconds: 0, note: unavailable.get(backend) });
        continue;
      }
      if (left < 10) {
        console.log(`[${clock(start)}] ${step.name} on ${backend}: skipped, the budget is spent`);
        runs.push({ step: step.name, backend, status: "skipped", seconds: 0, note: "time budget spent" });
        continue;
      }
      const limit = Math.min(step.seconds, left);
      console.log(`[${clock(start)}] ${step.name} on ${backend}: ${step.what} (at most ${limit.toFixed(0)} s)`);
      const r = await runOne(
        step.entry,
        ["--backend", backend, "--json", ...step.args],
        limit,
        join(outDir, "logs", `${step.name}-${backend}.log`),
      );
      lines.push(...r.lines);
      let status: RunRecord["status"] = "ok";
      let note: string | undefined;
      if (r.code === 3) {
        status = "unavailable";
        note = r.lastError;
        unavailable.set(backend, r.lastError);
      } else if (r.timedOut) {
        status = "timed out";
        note = `after ${limit.toFixed(0)} s, ${r.lines.length} measurement(s) kept`;
      } else if (r.code !== 0) {
        status = "failed";
        note = `exit ${r.code}: ${r.lastError}`;
      }
      runs.push({ step: step.name, backend, status, seconds: r.seconds, note });
      console.log(`[${clock(start)}]   ${status}, ${r.lines.length} measurement(s) in ${r.seconds.toFixed(1)} s${note ? `: ${note}` : ""}`);
      for (const l of r.lines) console.log(`             ${l.workload} ${l.metric} = ${fmt(l.value)} ${l.unit}`);
      write();
    }
  }
  write();
  console.log(`[${clock(start)}] wrote ${join(outDir, "device-check.json")} and device-check.md`);
  console.log(markdown(table(lines, backends), runs, header(), backends));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    console.error(`device check: ${(e as Error).message}`);
    process.exit(1);
  });
}
