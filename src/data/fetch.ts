/**
 * Getting the official files into data/raw/ and checking them.
 *
 * A file is downloaded (or copied from a mirror folder) to a `.part` file
 * beside its destination, verified against the manifest (git blob id, and
 * sha256 and size where known), and only then renamed into place. A file
 * that fails verification never reaches data/raw/.
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, openSync, closeSync, writeSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { MANIFEST, rawUrl, type ManifestEntry } from "./manifest.js";
import { kitPaths } from "./paths.js";
import { Progress } from "../runtime/progress.js";

export interface Hashes {
  gitBlobSha1: string;
  sha256: string;
  bytes: number;
}

/** git's object id of a file: SHA-1 of "blob <bytes>\0<content>". */
export function gitBlobSha1(content: Buffer): string {
  return createHash("sha1").update(`blob ${content.length}\0`).update(content).digest("hex");
}

export function hashesOf(content: Buffer): Hashes {
  return { gitBlobSha1: gitBlobSha1(content), sha256: createHash("sha256").update(content).digest("hex"), bytes: content.length };
}

export class VerificationError extends Error {
  constructor(
    readonly entry: ManifestEntry,
    readonly file: string,
    readonly field: "gitBlobSha1" | "sha256" | "bytes",
    readonly expected: string | number,
    readonly actual: string | number,
  ) {
    super(`${entry.name} (${file}) failed verification: ${field} expected ${expected}, got ${actual}`);
    this.name = "VerificationError";
  }
}

/** Checks a file's content against its manifest entry; throws VerificationError on a mismatch. */
export function verifyContent(entry: ManifestEntry, content: Buffer, file: string): Hashes {
  const h = hashesOf(content);
  if (entry.bytes !== undefined && h.bytes !== entry.bytes) throw new VerificationError(entry, file, "bytes", entry.bytes, h.bytes);
  if (h.gitBlobSha1 !== entry.gitBlobSha1) throw new VerificationError(entry, file, "gitBlobSha1", entry.gitBlobSha1, h.gitBlobSha1);
  if (entry.sha256 !== undefined && h.sha256 !== entry.sha256) throw new VerificationError(entry, file, "sha256", entry.sha256, h.sha256);
  return h;
}

export type FileStatus = "fetched" | "present" | "missing-at-source" | "failed";

export interface FileResult {
  name: string;
  status: FileStatus;
  path: string;
  message?: string;
}

export interface FetchOptions {
  /** Copy from this mirror folder instead of downloading. */
  from?: string;
  /** Only these files (names from the manifest); default all. */
  names?: string[];
  rawDir?: string;
  /** Re-fetch files that are already present and verified. */
  force?: boolean;
  retries?: number;
  quiet?: boolean;
  /** Replaces global fetch (tests). */
  fetchImpl?: typeof fetch;
}

function selectEntries(names?: string[]): ManifestEntry[] {
  if (!names || names.length === 0) return [...MANIFEST];
  return names.map((n) => {
    const e = MANIFEST.find((m) => m.name === n);
    if (!e) throw new Error(`unknown data file "${n}"; known: ${MANIFEST.map((m) => m.name).join(", ")}`);
    return e;
  });
}

/** Moves a verified `.part` file into place, or deletes it and rethrows. */
function settle(entry: ManifestEntry, part: string, dest: string): void {
  try {
    verifyContent(entry, readFileSync(part), dest);
  } catch (e) {
    rmSync(part, { force: true });
    throw e;
  }
  renameSync(part, dest);
}

async function download(entry: ManifestEntry, part: string, options: FetchOptions): Promise<void> {
  const doFetch = options.fetchImpl ?? fetch;
  const url = rawUrl(entry);
  const retries = options.retries ?? 4;
  let lastError: unknown;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)));
    // Resume a partial download where the server allows ranges.
    const have = existsSync(part) ? statSync(part).size : 0;
    try {
      const res = await doFetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {} });
      if (res.status === 404) throw Object.assign(new Error(`not found at source (${url})`), { notFound: true });
      if (!res.ok && res.status !== 206) throw new Error(`HTTP ${res.status} for ${url}`);
      const append = res.status === 206 && have > 0;
      const total = Number(res.headers.get("content-length") ?? 0) + (append ? have : 0);
      const fd = openSync(part, append ? "a" : "w");
      const bar = new Progress({ label: `fetch ${entry.name}`, total: total || entry.bytes, quiet: options.quiet });
      try {
        if (append) bar.tick(have);
        const reader = res.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          writeSync(fd, value);
          bar.tick(value.length);
        }
      } finally {
        closeSync(fd);
        bar.finish();
      }
      return;
    } catch (e) {
      lastError = e;
      if ((e as { notFound?: boolean }).notFound) throw e;
    }
  }
  throw new Error(`download of ${entry.name} failed after ${retries + 1} attempts: ${(lastError as Error).message}`);
}

/**
 * Fetches the selected files into data/raw/. Files the source lacks are reported as
 * "missing-at-source"; they are an error only when asked for by name.
 */
export async function fetchData(options: FetchOptions = {}): Promise<FileResult[]> {
  const rawDir = options.rawDir ?? kitPaths().rawDir;
  const explicit = Boolean(options.names && options.names.length > 0);
  const results: FileResult[] = [];
  for (const entry of selectEntries(options.names)) {
    const dest = join(rawDir, entry.localPath);
    const part = dest + ".part";
    mkdirSync(dirname(dest), { recursive: true });
    if (!options.force && existsSync(dest)) {
      try {
        verifyContent(entry, readFileSync(dest), dest);
        results.push({ name: entry.name, status: "present", path: dest });
        continue;
      } catch {
        rmSync(dest); // a stale or damaged copy: fetch it again
      }
    }
    try {
      if (options.from) {
        const src = join(options.from, entry.localPath);
        if (!existsSync(src)) {
          const r: FileResult = { name: entry.name, status: "missing-at-source", path: dest, message: `not in mirror ${options.from}` };
          if (explicit) r.status = "failed";
          results.push(r);
          continue;
        }
        copyFileSync(src, part);
      } else {
        await download(entry, part, options);
      }
      settle(entry, part, dest);
      results.push({ name: entry.name, status: "fetched", path: dest });
    } catch (e) {
      const notFound = (e as { notFound?: boolean }).notFound;
      results.push({ name: entry.name, status: notFound && !explicit ? "missing-at-source" : "failed", path: dest, message: (e as Error).message });
    }
  }
  return results;
}

export interface VerifyResult {
  name: string;
  path: string;
  status: "ok" | "absent" | "bad";
  message?: string;
}

/** Re-checks every file present under data/raw/ against the manifest. */
export function verifyData(rawDir = kitPaths().rawDir): VerifyResult[] {
  return MANIFEST.map((entry) => {
    const path = join(rawDir, entry.localPath);
    if (!existsSync(path)) return { name: entry.name, path, status: "absent" as const };
    try {
      verifyContent(entry, readFileSync(path), path);
      return { name: entry.name, path, status: "ok" as const };
    } catch (e) {
      return { name: entry.name, path, status: "bad" as const, message: (e as Error).message };
    }
  });
}
