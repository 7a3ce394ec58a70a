/**
 * The benchmark convention every `scripts/bench-*.ts` follows, so that one
 * run (scripts/device-check.sh) can drive them all:
 *
 *   --backend NAME   the tfjs backend (gpu | webgpu | node | wasm | cpu); default: the kit's choice
 *   --json           print one JSON object per line on stdout,
 *                    {"workload", "backend", "metric", "value", "unit"};
 *                    the human-readable lines then go to stderr
 *
 * Without --json a script prints what it always printed.
 */
import { initBackend, forcedBackend, type BackendInfo, type BackendName } from "../src/runtime/backend.js";

export interface BenchLine {
  workload: string;
  backend: string;
  metric: string;
  value: number;
  unit: string;
}

export interface BenchSetup {
  /** --backend, checked (undefined: the kit's own choice). */
  backend: BackendName | undefined;
  json: boolean;
  /** The arguments without --backend NAME and --json, for the script's own parser. */
  rest: string[];
}

/** Takes --backend and --json out of `argv`; with --json, console.log goes to stderr. */
export function benchSetup(argv: string[] = process.argv.slice(2)): BenchSetup {
  const rest: string[] = [];
  let backend: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") json = true;
    else if (a === "--backend") backend = argv[++i];
    else if (a.startsWith("--backend=")) backend = a.slice("--backend=".length);
    else rest.push(a);
  }
  if (backend === "") throw new Error("--backend needs a name: gpu, webgpu, node, wasm or cpu");
  const checked = backend === undefined ? undefined : forcedBackend(backend);
  // Library code that picks its own backend (initBackend without `prefer`) follows --backend too.
  if (checked) process.env.FULCRA_BACKEND = checked;
  if (json) console.log = (...args: unknown[]) => console.error(...args);
  return { backend: checked, json, rest };
}

/** initBackend with --backend, one line on failure (exit 3: the backend is not available here). */
export async function benchBackend(setup: BenchSetup): Promise<BackendInfo> {
  try {
    return await initBackend({ prefer: setup.backend, quiet: true });
  } catch (e) {
    console.error(`${(e as Error).message}`);
    process.exit(3);
  }
}

/** Prints one measurement as a JSON line (only with --json). */
export function emit(setup: BenchSetup, backend: string, workload: string, metric: string, value: number, unit: string): void {
  if (!setup.json) return;
  const line: BenchLine = { workload, backend, metric, value: Number.isFinite(value) ? value : NaN, unit };
  process.stdout.write(JSON.stringify(line) + "\n");
}

/** Wall-clock milliseconds of `f`, after `warmup` untimed calls, best of `repeats` (or until `minMs` passed). */
export async function timeMs(
  f: () => unknown | Promise<unknown>,
  options: { warmup?: number; repeats?: number; minMs?: number; maxMs?: number } = {},
): Promise<{ best: number; mean: number; runs: number }> {
  const { warmup = 1, repeats = 3, minMs = 0, maxMs = Infinity } = options;
  for (let i = 0; i < warmup; i++) await f();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < repeats || performance.now() - start < minMs) {
    const t = performance.now();
    await f();
    times.push(performance.now() - t);
    if (performance.now() - start > maxMs) break;
  }
  return { best: Math.min(...times), mean: times.reduce((a, b) => a + b, 0) / times.length, runs: times.length };
}
