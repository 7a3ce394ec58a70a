/**
 * Choosing the TensorFlow.js backend at run time.
 *
 * Preference: native GPU (@tensorflow/tfjs-node-gpu), native CPU
 * (@tensorflow/tfjs-node), wasm, cpu. The native bindings are optional
 * installs; whichever is present and works is used. FULCRA_BACKEND
 * (gpu | node | wasm | cpu) forces a choice and fails loudly if it cannot
 * be had. The chosen backend goes into every run's provenance.
 */
import * as tf from "@tensorflow/tfjs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export type BackendName = "gpu" | "node" | "wasm" | "cpu";
export const BACKEND_PREFERENCE: readonly BackendName[] = ["gpu", "node", "wasm", "cpu"];

export interface BackendInfo {
  name: BackendName;
  /** The tfjs backend name (tensorflow, wasm, cpu). */
  tfjsBackend: string;
  /** Why the better ones were not used. */
  skipped: { name: BackendName; reason: string }[];
  tfjsVersion: string;
}

let chosen: BackendInfo | undefined;
const require = createRequire(import.meta.url);

async function tryNative(pkg: string): Promise<string | undefined> {
  try {
    // A binding whose binary failed to download throws here.
    require(pkg);
  } catch (e) {
    return `${pkg} not installed or not loadable (${((e as Error).message || "").split("\n")[0]})`;
  }
  if (!tf.findBackend("tensorflow")) return `${pkg} loaded but registered no native backend`;
  const ok = await tf.setBackend("tensorflow");
  return ok ? undefined : `${pkg} backend failed to initialise`;
}

async function tryWasm(): Promise<string | undefined> {
  try {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    const dir = dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"));
    wasm.setWasmPaths(join(dir, "dist") + "/");
    const ok = await tf.setBackend("wasm");
    return ok ? undefined : "wasm backend failed to initialise";
  } catch (e) {
    return `wasm backend unavailable (${(e as Error).message})`;
  }
}

async function tryBackend(name: BackendName): Promise<string | undefined> {
  switch (name) {
    case "gpu":
      return tryNative("@tensorflow/tfjs-node-gpu");
    case "node":
      return tryNative("@tensorflow/tfjs-node");
    case "wasm":
      return tryWasm();
    case "cpu":
      return (await tf.setBackend("cpu")) ? undefined : "cpu backend failed";
  }
}

/**
 * Selects and initialises the best backend present (once per process).
 * `prefer` (or FULCRA_BACKEND) forces one; `quiet` suppresses the printed line.
 */
export async function initBackend(options: { prefer?: BackendName; quiet?: boolean } = {}): Promise<BackendInfo> {
  const forced = options.prefer ?? (process.env.FULCRA_BACKEND as BackendName | undefined);
  if (chosen && (!forced || forced === chosen.name)) return chosen;
  if (forced && !BACKEND_PREFERENCE.includes(forced)) {
    throw new Error(`FULCRA_BACKEND="${forced}" is not a backend; use one of ${BACKEND_PREFERENCE.join(", ")}`);
  }
  const order = forced ? [forced] : BACKEND_PREFERENCE;
  const skipped: BackendInfo["skipped"] = [];
  for (const name of order) {
    const why = await tryBackend(name);
    if (why === undefined) {
      await tf.ready();
      chosen = { name, tfjsBackend: tf.getBackend(), skipped, tfjsVersion: tf.version.tfjs };
      if (!options.quiet && !process.env.FULCRA_QUIET) console.error(`fulcra: tfjs backend ${name} (${chosen.tfjsBackend})`);
      return chosen;
    }
    skipped.push({ name, reason: why });
  }
  throw new Error(`no usable tfjs backend: ${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")}`);
}

/** The backend chosen so far, if any. */
export function currentBackend(): BackendInfo | undefined {
  return chosen;
}
