/**
 * Choosing the TensorFlow.js backend at run time.
 *
 * Preference: native GPU (@tensorflow/tfjs-node-gpu), WebGPU
 * (@tensorflow/tfjs-backend-webgpu on Dawn from the `webgpu` package: Vulkan,
 * Metal or D3D12, no CUDA toolchain needed), native CPU (@tensorflow/tfjs-node),
 * wasm, cpu. The native bindings and WebGPU are optional installs; whichever
 * is present and works is used. FULCRA_BACKEND (gpu | webgpu | node | wasm |
 * cpu) forces a choice and fails at once, in one line, if it cannot be had.
 * The chosen backend (and for WebGPU the adapter) goes into every run's
 * provenance.
 *
 * Everything the choice touches from outside (loading modules, the GPU
 * adapter, tfjs itself) comes in through `BackendDeps`, so that the tests can
 * put fakes in its place.
 */
import * as tf from "@tensorflow/tfjs";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { env } from "./env.js";

export type BackendName = "gpu" | "webgpu" | "node" | "wasm" | "cpu";
export const BACKEND_PREFERENCE: readonly BackendName[] = ["gpu", "webgpu", "node", "wasm", "cpu"];

/** What the WebGPU adapter says about itself (GPUAdapterInfo). */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface BackendInfo {
  name: BackendName;
  /** The tfjs backend name (tensorflow, webgpu, wasm, cpu). */
  tfjsBackend: string;
  /** Why the better ones were not used. */
  skipped: { name: BackendName; reason: string }[];
  tfjsVersion: string;
  /** The GPU adapter, for webgpu. */
  adapter?: AdapterInfo;
}

/** Result of looking for a WebGPU adapter and a device on it. */
export interface WebGpuProbe {
  adapter: AdapterInfo | null;
  /** Set when the adapter exists but requestDevice() failed. */
  deviceError?: string;
  /** What Dawn printed while looking (e.g. why Vulkan could not be loaded). */
  note?: string;
}

/** The subset of navigator.gpu the kit touches. */
export interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
export interface AdapterLike {
  info?: Partial<AdapterInfo>;
  requestDevice(descriptor?: unknown): Promise<{ destroy(): void }>;
}

type TfLike = Pick<typeof tf, "findBackend" | "findBackendFactory" | "setBackend" | "ready" | "getBackend">;

export interface BackendDeps {
  /** require() of a CommonJS binding (the tfjs-node packages). */
  requireModule(pkg: string): unknown;
  /** import() of an ES or CommonJS module. */
  importModule(pkg: string): Promise<Record<string, unknown>>;
  /** require.resolve(). */
  resolveModule(pkg: string): string;
  /**
   * Looks for an adapter in a separate process first, so that Dawn's own
   * warnings (printed straight to stderr by native code) and a crashing
   * driver stay out of this one; null skips that step.
   */
  probeInChild: (() => Promise<WebGpuProbe>) | null;
  tf: TfLike;
  /** Milliseconds to wait for an adapter or a device before giving up. */
  timeoutMs: number;
}

const require = createRequire(import.meta.url);

/**
 * import() with the optional packages written out literally, so that a
 * bundler (scripts/device-check.sh uses esbuild) puts the tfjs backends in
 * the bundle, next to the one copy of tfjs-core they must register with.
 */
function importByName(pkg: string): Promise<Record<string, unknown>> {
  switch (pkg) {
    case "webgpu":
      // @ts-ignore: an optional dependency, absent when its install failed
      return import("webgpu") as unknown as Promise<Record<string, unknown>>;
    case "@tensorflow/tfjs-backend-webgpu":
      // @ts-ignore: an optional dependency, absent when its install failed
      return import("@tensorflow/tfjs-backend-webgpu") as unknown as Promise<Record<string, unknown>>;
    case "@tensorflow/tfjs-backend-wasm":
      return import("@tensorflow/tfjs-backend-wasm") as unknown as Promise<Record<string, unknown>>;
    default:
      return import(pkg) as Promise<Record<string, unknown>>;
  }
}

/** The real modules, adapter and tfjs. */
export function defaultBackendDeps(): BackendDeps {
  return {
    requireModule: (pkg) => require(pkg),
    importModule: importByName,
    resolveModule: (pkg) => require.resolve(pkg),
    probeInChild: () => probeWebGpuInChild(),
    tf,
    timeoutMs: 20000,
  };
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split("\n")[0];
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
    }),
  ]);
}

function adapterInfo(adapter: AdapterLike): AdapterInfo {
  const i = adapter.info ?? {};
  return { vendor: i.vendor ?? "", architecture: i.architecture ?? "", device: i.device ?? "", description: i.description ?? "" };
}

/** "nvidia hopper (NVIDIA H200)": vendor, architecture and description, whichever are known. */
export function describeAdapter(a: AdapterInfo): string {
  const head = [a.vendor, a.architecture].filter(Boolean).join(" ") || "unknown vendor";
  const detail = a.description || a.device;
  return detail ? `${head} (${detail})` : head;
}

/** Asks `gpu` for a high-performance adapter and a device on it (then drops the device). */
export async function probeGpu(gpu: GpuLike, timeoutMs = 20000): Promise<WebGpuProbe> {
  const adapter = await withTimeout(gpu.requestAdapter({ powerPreference: "high-performance" }), timeoutMs, "requestAdapter()");
  if (!adapter) return { adapter: null };
  const info = adapterInfo(adapter);
  try {
    const device = await withTimeout(adapter.requestDevice(), timeoutMs, "requestDevice()");
    device.destroy();
    return { adapter: info };
  } catch (e) {
    return { adapter: info, deviceError: firstLine(e) };
  }
}

// The child process: the same steps as probeGpu, printing one JSON line.
const CHILD_PROBE = `
const { create } = await import(process.argv[1]);
const say = (o) => { process.stdout.write("\\nFULCRA_PROBE " + JSON.stringify(o) + "\\n"); process.exit(0); };
const adapter = await create([]).requestAdapter({ powerPreference: "high-performance" });
if (!adapter) say({ adapter: null });
const i = adapter.info ?? {};
const info = { vendor: i.vendor ?? "", architecture: i.architecture ?? "", device: i.device ?? "", description: i.description ?? "" };
try { const d = await adapter.requestDevice(); d.destroy(); say({ adapter: info }); }
catch (e) { say({ adapter: info, deviceError: String(e?.message ?? e).split("\\n")[0] }); }
`;

/** Runs the adapter probe in a child Node process and reads its answer. */
export async function probeWebGpuInChild(timeoutMs = 30000): Promise<WebGpuProbe> {
  const entry = pathToFileURL(require.resolve("webgpu")).href;
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      ["--input-type=module", "-e", CHILD_PROBE, entry],
      { timeout: timeoutMs, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        const line = stdout.split("\n").find((l) => l.startsWith("FULCRA_PROBE "));
        // Dawn's lines look like "Warning: Couldn't load Vulkan: …" followed by a source location.
        const note = stderr
          .split("\n")
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith("at "))
          .map((l) => l.replace(/^Warning:\s*/, ""))
          .slice(0, 2)
          .join("; ");
        if (line) {
          const probe = JSON.parse(line.slice("FULCRA_PROBE ".length)) as WebGpuProbe;
          resolvePromise(note ? { ...probe, note } : probe);
        } else {
          const why = err?.killed ? `no answer within ${timeoutMs / 1000} s` : err ? `exit ${err.code ?? err.signal}` : "no answer";
          reject(new Error(`the WebGPU probe process failed (${why})${note ? `: ${note}` : ""}`));
        }
      },
    );
  });
}

/** Puts `gpu` at navigator.gpu (Node 21+ has a getter-only navigator, hence defineProperty). */
function installNavigatorGpu(gpu: GpuLike, globals: Record<string, unknown> | undefined): void {
  const g = globalThis as Record<string, unknown>;
  const current = (g.navigator ?? {}) as Record<string, unknown>;
  if (current.gpu === gpu) return;
  if (globals) for (const [k, v] of Object.entries(globals)) if (!(k in g)) g[k] = v;
  Object.defineProperty(globalThis, "navigator", { value: { ...current, gpu }, configurable: true, writable: true });
}

type Attempt = { reason?: string; adapter?: AdapterInfo };

async function tryNative(pkg: string, deps: BackendDeps): Promise<Attempt> {
  try {
    // A binding whose binary failed to download throws here.
    deps.requireModule(pkg);
  } catch (e) {
    return { reason: `${pkg} not installed or not loadable (${firstLine(e)})` };
  }
  if (!deps.tf.findBackend("tensorflow")) {
    // danfojs-node's dependency on tfjs-node is mapped to plain @tensorflow/tfjs in package.json's overrides.
    let alias = "";
    try {
      const name = (deps.requireModule(`${pkg}/package.json`) as { name?: string }).name;
      if (name && name !== pkg) alias = ` (the name resolves to ${name}: the native binding is not installed)`;
    } catch {
      // no package.json to read: say what we know
    }
    return { reason: `${pkg} loaded but registered no native backend${alias}` };
  }
  const ok = await deps.tf.setBackend("tensorflow");
  return ok ? {} : { reason: `${pkg} backend failed to initialise` };
}

async function tryWebGpu(deps: BackendDeps): Promise<Attempt> {
  let webgpu: Record<string, unknown>;
  try {
    webgpu = await deps.importModule("webgpu");
  } catch (e) {
    return { reason: `the webgpu package is not installed or its dawn.node does not load (${firstLine(e)})` };
  }
  const noAdapter = (note?: string) => ({
    reason: `Dawn found no WebGPU adapter${note ? ` (${note})` : ""}; it needs a GPU with a Vulkan, Metal or D3D12 driver (on Linux the Vulkan loader libvulkan1 and the vendor's ICD)`,
  });
  const noDevice = (a: AdapterInfo, why: string) => ({
    reason: `the WebGPU adapter ${describeAdapter(a)} failed to create a device: ${why}`,
    adapter: a,
  });
  if (deps.probeInChild) {
    let probe: WebGpuProbe;
    try {
      probe = await deps.probeInChild();
    } catch (e) {
      return { reason: firstLine(e) };
    }
    if (!probe.adapter) return noAdapter(probe.note);
    if (probe.deviceError !== undefined) return noDevice(probe.adapter, probe.deviceError);
  }
  // The order matters: navigator.gpu must exist before the tfjs backend is imported, or it never registers.
  const create = webgpu.create as ((flags: string[]) => GpuLike) | undefined;
  if (typeof create !== "function") return { reason: "the webgpu package has no create() function" };
  let probe: WebGpuProbe;
  let gpu: GpuLike;
  try {
    gpu = create([]);
    probe = await probeGpu(gpu, deps.timeoutMs);
  } catch (e) {
    return { reason: `WebGPU failed while looking for an adapter: ${firstLine(e)}` };
  }
  if (!probe.adapter) return noAdapter(probe.note);
  if (probe.deviceError !== undefined) return noDevice(probe.adapter, probe.deviceError);
  installNavigatorGpu(gpu, webgpu.globals as Record<string, unknown> | undefined);
  try {
    await deps.importModule("@tensorflow/tfjs-backend-webgpu");
  } catch (e) {
    return { reason: `@tensorflow/tfjs-backend-webgpu is not installed (${firstLine(e)})`, adapter: probe.adapter };
  }
  if (!deps.tf.findBackendFactory("webgpu")) {
    return {
      reason: "@tensorflow/tfjs-backend-webgpu loaded but did not register (was it imported before navigator.gpu existed?)",
      adapter: probe.adapter,
    };
  }
  const ok = await deps.tf.setBackend("webgpu").catch(() => false);
  if (ok) guardSyncReads(deps.tf.findBackend("webgpu"));
  return ok
    ? { adapter: probe.adapter }
    : { reason: `the tfjs webgpu backend failed to initialise on ${describeAdapter(probe.adapter)}`, adapter: probe.adapter };
}

/** What a synchronous read of a GPU tensor says on webgpu under Node. */
export const SYNC_READ_MESSAGE =
  "dataSync()/arraySync() cannot read a tensor that lives on the GPU with the webgpu backend under Node " +
  "(tfjs reads it back through OffscreenCanvas, which Node lacks); read it with `await tensor.data()` or `await tensor.array()`";

/**
 * tfjs-backend-webgpu reads GPU tensors synchronously through an
 * OffscreenCanvas; Node has none, and the error would be a bare
 * "OffscreenCanvas is not defined". This puts a message that says what to do
 * in its place (reads of tensors still on the CPU keep working).
 */
export function guardSyncReads(backend: unknown): void {
  const b = backend as { readSync?: (dataId: unknown) => unknown; fulcraGuarded?: boolean } | null;
  if (!b || typeof b.readSync !== "function" || b.fulcraGuarded) return;
  const original = b.readSync.bind(b);
  b.readSync = (dataId: unknown) => {
    try {
      return original(dataId);
    } catch (e) {
      if (typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas === "undefined") throw new Error(SYNC_READ_MESSAGE);
      throw e;
    }
  };
  b.fulcraGuarded = true;
}

async function tryWasm(deps: BackendDeps): Promise<Attempt> {
  try {
    const wasm = await deps.importModule("@tensorflow/tfjs-backend-wasm");
    const dir = dirname(deps.resolveModule("@tensorflow/tfjs-backend-wasm/package.json"));
    // A bundler may put a CommonJS module's exports under `default`.
    const setWasmPaths = (wasm.setWasmPaths ?? (wasm.default as Record<string, unknown> | undefined)?.setWasmPaths) as (p: string) => void;
    setWasmPaths(join(dir, "dist") + "/");
    const ok = await deps.tf.setBackend("wasm");
    return ok ? {} : { reason: "wasm backend failed to initialise" };
  } catch (e) {
    return { reason: `wasm backend unavailable (${firstLine(e)})` };
  }
}

/** Tries one backend and, when it works, makes it tfjs's current backend. */
export async function tryBackend(name: BackendName, deps: BackendDeps = defaultBackendDeps()): Promise<Attempt> {
  switch (name) {
    case "gpu":
      return tryNative("@tensorflow/tfjs-node-gpu", deps);
    case "webgpu":
      return tryWebGpu(deps);
    case "node":
      return tryNative("@tensorflow/tfjs-node", deps);
    case "wasm":
      return tryWasm(deps);
    case "cpu":
      return (await deps.tf.setBackend("cpu")) ? {} : { reason: "cpu backend failed" };
  }
}

/** A backend that was asked for and cannot be had: one line, for people. */
export class BackendUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackendUnavailableError";
  }
}

/** Reads FULCRA_BACKEND (or `prefer`), checking the name. */
export function forcedBackend(prefer?: string): BackendName | undefined {
  const forced = prefer ?? env.backend;
  if (forced === undefined || forced === "") return undefined;
  if (!BACKEND_PREFERENCE.includes(forced as BackendName)) {
    throw new BackendUnavailableError(`FULCRA_BACKEND="${forced}" is not a backend; use one of ${BACKEND_PREFERENCE.join(", ")}`);
  }
  return forced as BackendName;
}

/**
 * Walks the preference order (or just the forced backend) and returns the
 * first that works, initialised. No caching and nothing printed: see initBackend.
 */
export async function selectBackend(options: { prefer?: BackendName; deps?: BackendDeps } = {}): Promise<BackendInfo> {
  const deps = options.deps ?? defaultBackendDeps();
  const forced = options.prefer;
  const order = forced ? [forced] : BACKEND_PREFERENCE;
  const skipped: BackendInfo["skipped"] = [];
  for (const name of order) {
    const attempt = await tryBackend(name, deps);
    if (attempt.reason === undefined) {
      await deps.tf.ready();
      const info: BackendInfo = { name, tfjsBackend: deps.tf.getBackend(), skipped, tfjsVersion: tf.version.tfjs };
      if (attempt.adapter) info.adapter = attempt.adapter;
      return info;
    }
    skipped.push({ name, reason: attempt.reason });
  }
  if (forced) {
    throw new BackendUnavailableError(
      `FULCRA_BACKEND=${forced} cannot be used: ${skipped[0].reason}. Unset FULCRA_BACKEND to use the best backend present (\`fulcra doctor\` lists them).`,
    );
  }
  throw new BackendUnavailableError(`no usable tfjs backend: ${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")}`);
}

let chosen: BackendInfo | undefined;

/**
 * Selects and initialises the best backend present (once per process).
 * `prefer` (or FULCRA_BACKEND) forces one; `quiet` suppresses the printed line.
 */
export async function initBackend(options: { prefer?: BackendName; quiet?: boolean } = {}): Promise<BackendInfo> {
  const forced = forcedBackend(options.prefer);
  if (chosen && (!forced || forced === chosen.name)) return chosen;
  chosen = await selectBackend({ prefer: forced });
  if (!options.quiet && !env.quiet) {
    console.error(
      `fulcra: tfjs backend ${chosen.name} (${chosen.tfjsBackend}${chosen.adapter ? `, ${describeAdapter(chosen.adapter)}` : ""})`,
    );
  }
  return chosen;
}

/** The backends that compute on a GPU, for which the `--gpu-config` presets are meant. */
export const GPU_BACKENDS: readonly BackendName[] = ["gpu", "webgpu"];

/** Warns (one line) when a GPU preset is about to run on a CPU backend. */
export function warnIfNotGpu(info: BackendInfo, what: string): void {
  if (!GPU_BACKENDS.includes(info.name))
    console.error(
      `fulcra: ${what} is sized for a GPU backend (gpu or webgpu), but this run uses ${info.name}: expect it to take hours (\`fulcra doctor\` says why no GPU backend is available)`,
    );
}

/** The backend chosen so far, if any. */
export function currentBackend(): BackendInfo | undefined {
  return chosen;
}
