/** What produced a result: kit version, commit, data hashes, seed, backend, time. */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { PROJECT_ROOT } from "./env.js";
import { currentBackend } from "./backend.js";

export interface Provenance {
  kit: string;
  kitVersion: string;
  gitCommit: string | null;
  gitDirty: boolean | null;
  dataFiles: { path: string; sha256: string; bytes: number }[];
  seed: number | null;
  backend: string | null;
  /** The WebGPU adapter (vendor, architecture, device, description), when the backend is webgpu. */
  backendAdapter?: { vendor: string; architecture: string; device: string; description: string };
  node: string;
  platform: string;
  timestamp: string;
  [extra: string]: unknown;
}

export function kitVersion(): string {
  try {
    return JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")).version as string;
  } catch {
    return "unknown";
  }
}

function git(args: string[]): string | null {
  try {
    return execFileSync("git", args, { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

const hashCache = new Map<string, { sha256: string; bytes: number }>();

export function sha256File(path: string): { sha256: string; bytes: number } {
  const hit = hashCache.get(path);
  if (hit) return hit;
  const buf = readFileSync(path);
  const out = { sha256: createHash("sha256").update(buf).digest("hex"), bytes: buf.length };
  hashCache.set(path, out);
  return out;
}

/** Builds a provenance record for a result made from `dataFiles` with `seed`. */
export function provenance(options: { dataFiles?: string[]; seed?: number; extra?: Record<string, unknown> } = {}): Provenance {
  const status = git(["status", "--porcelain", "--untracked-files=no"]);
  const backend = currentBackend();
  return {
    kit: "fulcra-kit",
    kitVersion: kitVersion(),
    gitCommit: git(["rev-parse", "HEAD"]),
    gitDirty: status === null ? null : status.length > 0,
    dataFiles: (options.dataFiles ?? []).filter((f) => existsSync(f)).map((f) => ({ path: relative(PROJECT_ROOT, f), ...sha256File(f) })),
    seed: options.seed ?? null,
    backend: backend ? `${backend.name} (${backend.tfjsBackend}, tfjs ${backend.tfjsVersion})` : null,
    // Only a GPU backend has an adapter; the key is absent otherwise.
    ...(backend?.adapter ? { backendAdapter: { ...backend.adapter } } : {}),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    timestamp: new Date().toISOString(),
    ...(options.extra ?? {}),
  };
}
