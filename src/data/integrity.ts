/**
 * Hashes of data files, streamed, and the check that an official file under
 * data/raw/ still matches the manifest before it is read.
 *
 * Hashing a few MB on every read would be wasteful, so a verified file's
 * size and modification time are cached in data/cache/verified.json (beside
 * data/raw/); any change of either makes the next read hash it again. A file
 * that does not match is refused by name.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { writeFileAtomicSync } from "./atomic.js";
import { MANIFEST, type ManifestEntry } from "./manifest.js";
import { kitPaths } from "../runtime/env.js";

export interface Hashes {
  gitBlobSha1: string;
  sha256: string;
  bytes: number;
}

/** git blob id, sha256 and size of a file, read in chunks (constant memory). */
export function hashFile(file: string, chunkBytes = 1 << 20): Hashes {
  const fd = openSync(file, "r");
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new Error(`${file}: is a folder, not a file`);
    const sha1 = createHash("sha1").update(`blob ${st.size}\0`);
    const sha256 = createHash("sha256");
    const buf = Buffer.allocUnsafe(chunkBytes);
    let total = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, chunkBytes, null);
      if (n === 0) break;
      const part = buf.subarray(0, n);
      sha1.update(part);
      sha256.update(part);
      total += n;
    }
    if (total !== st.size) throw new Error(`${file}: changed while being read`);
    return { gitBlobSha1: sha1.digest("hex"), sha256: sha256.digest("hex"), bytes: total };
  } finally {
    closeSync(fd);
  }
}

/** The first manifest field a file's hashes disagree with, or undefined when it matches. */
export function manifestMismatch(
  entry: ManifestEntry,
  h: Hashes,
): { field: "bytes" | "gitBlobSha1" | "sha256"; expected: string | number; actual: string | number } | undefined {
  if (entry.bytes !== undefined && h.bytes !== entry.bytes) return { field: "bytes", expected: entry.bytes, actual: h.bytes };
  if (h.gitBlobSha1 !== entry.gitBlobSha1) return { field: "gitBlobSha1", expected: entry.gitBlobSha1, actual: h.gitBlobSha1 };
  if (entry.sha256 !== undefined && h.sha256 !== entry.sha256) return { field: "sha256", expected: entry.sha256, actual: h.sha256 };
  return undefined;
}

/** An official file whose content no longer matches the manifest. */
export class TamperedFileError extends Error {
  constructor(
    readonly file: string,
    readonly entry: ManifestEntry,
    detail: string,
  ) {
    super(
      `${file}: does not match the manifest entry "${entry.name}" (${detail}); refusing to read it. Run \`npx fulcra data fetch --force\` to restore it.`,
    );
    this.name = "TamperedFileError";
  }
}

/** The manifest entry a path under the data folder stands for, if any. */
export function officialEntryFor(file: string, rawDir = kitPaths().rawDir): ManifestEntry | undefined {
  const rel = relative(resolve(rawDir), resolve(file));
  if (rel.startsWith("..") || rel === "") return undefined;
  const posix = rel.split(sep).join("/");
  return MANIFEST.find((e) => e.localPath === posix);
}

function cacheFile(rawDir: string): string {
  return join(dirname(resolve(rawDir)), "cache", "verified.json");
}

type Cache = Record<string, { bytes: number; mtimeMs: number; gitBlobSha1: string }>;

function readCache(path: string): Cache {
  try {
    const c = JSON.parse(readFileSync(path, "utf8")) as unknown;
    return c && typeof c === "object" && !Array.isArray(c) ? (c as Cache) : {};
  } catch {
    return {};
  }
}

/**
 * Before an official file is read: checks it against the manifest (hash
 * cached by size and mtime). Files outside data/raw/ are not official and
 * pass unchecked. Throws TamperedFileError on a mismatch.
 */
export function checkDataFile(file: string, rawDir = kitPaths().rawDir): void {
  const entry = officialEntryFor(file, rawDir);
  if (!entry || !existsSync(file)) return;
  const st = statSync(file);
  const cachePath = cacheFile(rawDir);
  const cache = readCache(cachePath);
  const key = entry.localPath;
  const hit = cache[key];
  if (hit && hit.bytes === st.size && hit.mtimeMs === st.mtimeMs && hit.gitBlobSha1 === entry.gitBlobSha1) return;
  if (entry.bytes !== undefined && st.size !== entry.bytes)
    throw new TamperedFileError(file, entry, `size ${st.size} bytes, expected ${entry.bytes}`);
  const bad = manifestMismatch(entry, hashFile(file));
  if (bad) throw new TamperedFileError(file, entry, `${bad.field} expected ${bad.expected}, got ${bad.actual}`);
  cache[key] = { bytes: st.size, mtimeMs: st.mtimeMs, gitBlobSha1: entry.gitBlobSha1 };
  try {
    mkdirSync(dirname(cachePath), { recursive: true });
    writeFileAtomicSync(cachePath, JSON.stringify(cache, null, 1) + "\n");
  } catch {
    // The cache only saves time; a read-only data folder still works.
  }
}
