/** `fulcra doctor`: what this machine offers the kit — Node, each tfjs backend, Jupyter, Chromium, the data, the runs folder. */
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { dirname, join, relative } from "node:path";
import { defineCommand } from "./program.js";
import {
  BACKEND_PREFERENCE,
  BackendUnavailableError,
  describeAdapter,
  forcedBackend,
  tryBackend,
  type AdapterInfo,
  type BackendName,
} from "../runtime/backend.js";
import { verifyData } from "../data/fetch.js";
import { kitPaths, PROJECT_ROOT, env } from "../runtime/env.js";
import { chromiumPath } from "../figures/renderer.js";
import { checkJupyter, jupyterPython } from "../notebooks/kernel.js";

export interface BackendCheck {
  name: BackendName;
  available: boolean;
  /** Why it cannot be used, or what it runs on when it can. */
  reason: string;
  adapter?: AdapterInfo;
}

export interface DoctorReport {
  /** The backend the kit would use now (FULCRA_BACKEND respected); null when the forced one is unavailable. */
  selected: BackendName | null;
  /** FULCRA_BACKEND, when set. */
  forced: string | null;
  /** Every backend, in order of preference. */
  backends: BackendCheck[];
  node: { version: string; required: string; ok: boolean };
  jupyter: { available: boolean; python: string; reason: string };
  chromium: { available: boolean; path: string; reason: string };
  data: {
    dir: string;
    files: { name: string; status: "verified" | "present" | "missing"; path: string; message?: string }[];
    verified: number;
    /** Present but failing the manifest's hashes. */
    present: number;
    missing: number;
  };
  runs: { dir: string; exists: boolean; writable: boolean; entries: string[] };
  /** One line per thing that keeps part of the kit from working, with what to do. */
  problems: string[];
}

/** True when `version` (x.y.z) satisfies a ">=a.b" engines range. */
export function satisfiesEngine(version: string, range: string): boolean {
  const want = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  if (!want) return true;
  const have = version.replace(/^v/, "").split(".").map(Number);
  const need = [Number(want[1]), Number(want[2] ?? 0), Number(want[3] ?? 0)];
  for (let i = 0; i < 3; i++) if ((have[i] ?? 0) !== need[i]) return (have[i] ?? 0) > need[i];
  return true;
}

function checkChromium(): DoctorReport["chromium"] {
  const path = chromiumPath();
  if (!existsSync(path))
    return {
      available: false,
      path,
      reason: `${path} not found; figure export needs Chromium: run \`npm run setup\` or set CHROMIUM_PATH`,
    };
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return { available: false, path, reason: `${path} is not executable` };
  }
  try {
    const version = execFileSync(path, ["--version"], { timeout: 15000, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
    return { available: true, path, reason: version || "runs" };
  } catch (e) {
    return { available: false, path, reason: `${path} --version failed (${String((e as Error).message).split("\n")[0]})` };
  }
}

function checkJupyterPython(): DoctorReport["jupyter"] {
  const python = jupyterPython();
  try {
    checkJupyter(python);
    return { available: true, python, reason: "nbformat, nbclient and jupyter_client import" };
  } catch (e) {
    return { available: false, python, reason: (e as Error).message };
  }
}

function nearestExisting(dir: string): string {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

function checkRuns(): DoctorReport["runs"] {
  const dir = kitPaths().runsDir;
  const exists = existsSync(dir) && statSync(dir).isDirectory();
  let writable = false;
  try {
    accessSync(nearestExisting(dir), constants.W_OK);
    writable = true;
  } catch {
    writable = false;
  }
  return { dir, exists, writable, entries: exists ? readdirSync(dir).sort() : [] };
}

/** Tries each backend in turn (each one is initialised, then left), then everything else. */
export async function doctorReport(): Promise<DoctorReport> {
  const problems: string[] = [];
  let forced: BackendName | undefined;
  const forcedRaw = env.backend || null;
  try {
    forced = forcedBackend();
  } catch (e) {
    if (!(e instanceof BackendUnavailableError)) throw e;
    problems.push(e.message);
  }
  const backends: BackendCheck[] = [];
  for (const name of BACKEND_PREFERENCE) {
    const attempt = await tryBackend(name);
    const check: BackendCheck =
      attempt.reason === undefined
        ? {
            name,
            available: true,
            reason: attempt.adapter
              ? `adapter ${describeAdapter(attempt.adapter)}`
              : `tfjs backend ${name === "gpu" || name === "node" ? "tensorflow" : name} initialises`,
          }
        : { name, available: false, reason: attempt.reason };
    if (attempt.adapter) check.adapter = attempt.adapter;
    backends.push(check);
  }
  let selected: BackendName | null;
  if (forced) {
    const f = backends.find((b) => b.name === forced)!;
    selected = f.available ? forced : null;
    if (!f.available) problems.push(`FULCRA_BACKEND=${forced} cannot be used: ${f.reason}`);
  } else {
    selected = backends.find((b) => b.available)?.name ?? null;
  }

  const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { engines?: { node?: string } };
  const required = pkg.engines?.node ?? ">=20";
  const node = { version: process.version, required, ok: satisfiesEngine(process.version, required) };
  if (!node.ok) problems.push(`Node ${process.version} is older than the kit needs (${required})`);

  const jupyter = checkJupyterPython();
  if (!jupyter.available) problems.push(`notebooks cannot run: ${jupyter.reason}`);
  const chromium = checkChromium();
  if (!chromium.available) problems.push(`figures cannot be exported: ${chromium.reason}`);

  const dataDir = kitPaths().rawDir;
  const files = verifyData(dataDir).map((r) => ({
    name: r.name,
    status: r.status === "ok" ? ("verified" as const) : r.status === "bad" ? ("present" as const) : ("missing" as const),
    path: r.path,
    ...(r.message ? { message: r.message } : {}),
  }));
  const data = {
    dir: dataDir,
    files,
    verified: files.filter((f) => f.status === "verified").length,
    present: files.filter((f) => f.status === "present").length,
    missing: files.filter((f) => f.status === "missing").length,
  };
  if (data.present) problems.push(`${data.present} data file(s) fail verification: run \`npx fulcra data fetch --force\``);
  if (data.verified === 0) problems.push("no data yet: run `npx fulcra data fetch`");

  const runs = checkRuns();
  if (!runs.writable) problems.push(`the runs folder ${runs.dir} is not writable (set FULCRA_RUNS_DIR)`);
  return { selected, forced: forcedRaw, backends, node, jupyter, chromium, data, runs, problems };
}

const yesNo = (b: boolean) => (b ? "yes" : "no ");

/** The report as people read it. */
export function formatDoctor(r: DoctorReport): string {
  const rel = (p: string) => relative(process.cwd(), p) || ".";
  const lines = [
    `node      ${r.node.version} (kit needs ${r.node.required}) ${r.node.ok ? "ok" : "TOO OLD"}`,
    `backends  in order of preference${r.forced ? `; FULCRA_BACKEND=${r.forced}` : ""}:`,
    ...r.backends.map((b) => `  ${b.name.padEnd(7)} ${yesNo(b.available)}  ${b.reason}`),
    `selected  ${r.selected ?? "none"}`,
    `jupyter   ${yesNo(r.jupyter.available)}  ${r.jupyter.available ? `${r.jupyter.python}: ${r.jupyter.reason}` : r.jupyter.reason}`,
    `chromium  ${yesNo(r.chromium.available)}  ${r.chromium.path}: ${r.chromium.reason}`,
    `data      ${r.data.verified} verified, ${r.data.present} present but failing verification, ${r.data.missing} missing (${rel(r.data.dir)})`,
    ...r.data.files
      .filter((f) => f.status !== "verified")
      .map((f) => `  ${f.status.padEnd(8)} ${f.name}${f.message ? `  ${f.message}` : ""}`),
    `runs      ${rel(r.runs.dir)} (${r.runs.exists ? `${r.runs.entries.length} entries` : "not created yet"}, ${r.runs.writable ? "writable" : "NOT writable"})`,
  ];
  if (r.problems.length) lines.push("", "to fix:", ...r.problems.map((p) => `  - ${p}`));
  return lines.join("\n");
}

export const command = defineCommand({
  name: "doctor",
  summary: "what this machine offers the kit: backends, Jupyter, Chromium, data",
  description: `Checks Node's version, tries each tfjs backend in the order the kit prefers
them (gpu, webgpu, node, wasm, cpu) and says which works and why the others
do not, which one the kit would select (FULCRA_BACKEND respected), whether
Jupyter's nbclient (FULCRA_PYTHON) and Chromium (CHROMIUM_PATH) are usable,
the state of each official data file (verified, present but failing its
hashes, missing), and the runs folder (FULCRA_RUNS_DIR).`,
  flags: {
    json: {
      type: "boolean",
      help: 'one JSON object: {"selected", "forced", "backends": [{"name", "available", "reason", "adapter"?}...], "node", "jupyter", "chromium", "data", "runs", "problems"}',
    },
  },
  after: "Exit code 0, also when something is missing: the report says what.",
  async action(values) {
    const report = await doctorReport();
    console.log(values.json ? JSON.stringify(report, null, 2) : formatDoctor(report));
    return 0;
  },
});
