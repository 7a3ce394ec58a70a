/**
 * Getting the official files into data/raw/ and checking them.
 *
 * A file is downloaded (or copied from a mirror folder) to a `.part` file
 * beside its destination, verified against the manifest (git blob id, and
 * sha256 and size where known), and only then renamed into place. A file
 * that fails verification never reaches data/raw/.
 */
import {
  closeSync,
  constants,
  createReadStream,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { openExclusive } from "./atomic.js";
import { hashFile, manifestMismatch, type Hashes } from "./integrity.js";
import { MANIFEST, rawUrl, type ManifestEntry } from "./manifest.js";
import pRetry, { AbortError } from "p-retry";
import { kitPaths } from "../runtime/env.js";
import { Progress } from "../runtime/progress.js";

export type { Hashes } from "./integrity.js";

/** Largest download accepted for a file whose size the manifest does not give. */
export const MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024;

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

/** Checks a file on disk against its manifest entry, reading it in chunks (size first). */
export function verifyFile(entry: ManifestEntry, file: string): Hashes {
  const size = statSync(file).size;
  if (entry.bytes !== undefined && size !== entry.bytes) throw new VerificationError(entry, file, "bytes", entry.bytes, size);
  const h = hashFile(file);
  const bad = manifestMismatch(entry, h);
  if (bad) throw new VerificationError(entry, file, bad.field, bad.expected, bad.actual);
  return h;
}

/**
 * "fetched" / "present": verified in place. "not-offered": a mirror whose
 * MANIFEST.json says it does not hold the file. "missing-at-source": the
 * source lacks it (a failure unless lenient). "failed": anything else.
 */
export type FileStatus = "fetched" | "present" | "not-offered" | "missing-at-source" | "failed";

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
    verifyFile(entry, part);
  } catch (e) {
    rmSync(part, { force: true });
    throw e;
  }
  renameSync(part, dest);
}

/** Size of a resumable partial download at `part`: 0 when none; refuses a symlink or a folder there. */
function partialSize(entry: ManifestEntry, part: string): number {
  let st;
  try {
    st = lstatSync(part);
  } catch {
    return 0;
  }
  if (st.isSymbolicLink()) throw new Error(`${part}: refusing to write through a symlink at the download's temporary path; remove it`);
  if (!st.isFile()) throw new Error(`${part}: not a plain file; remove it`);
  // A partial longer than the whole file cannot be a prefix of it.
  if (entry.bytes !== undefined && st.size >= entry.bytes) {
    rmSync(part);
    return 0;
  }
  return st.size;
}

function openPart(part: string, append: boolean): number {
  if (!append) {
    rmSync(part, { force: true });
    return openExclusive(part);
  }
  return openSync(part, constants.O_WRONLY | constants.O_APPEND | (constants.O_NOFOLLOW ?? 0));
}

function sizeCap(entry: ManifestEntry): number {
  return entry.bytes ?? MAX_DOWNLOAD_BYTES;
}

async function download(entry: ManifestEntry, part: string, options: FetchOptions): Promise<{ resumedFrom: number }> {
  const doFetch = options.fetchImpl ?? fetch;
  const url = rawUrl(entry);
  const retries = options.retries ?? 4;
  const cap = sizeCap(entry);
  let resumedFrom = 0;
  /** An error that ends the download at once (thrown as it is, not as "failed after N attempts"). */
  let final: Error | undefined;
  const stop = (e: unknown) => new AbortError((final = e as Error));
  const attempt = async (): Promise<{ resumedFrom: number }> => {
    // Resume a partial download where the server allows ranges (a symlink or folder in the way is final).
    let have: number;
    try {
      have = partialSize(entry, part);
    } catch (e) {
      throw stop(e);
    }
    try {
      const res = await doFetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {} });
      if (res.status === 404) throw Object.assign(new Error(`not found at source (${url})`), { notFound: true });
      if (!res.ok && res.status !== 206) throw new Error(`HTTP ${res.status} for ${url}`);
      const append = res.status === 206 && have > 0;
      if (append) resumedFrom = have;
      const announced = Number(res.headers.get("content-length") ?? 0) + (append ? have : 0);
      if (announced > cap) throw Object.assign(new Error(`${url} is ${announced} bytes, more than the ${cap} expected`), { fatal: true });
      const fd = openPart(part, append);
      const bar = new Progress({ label: `fetch ${entry.name}`, total: announced || entry.bytes, quiet: options.quiet });
      let written = append ? have : 0;
      try {
        if (append) bar.tick(have);
        const reader = res.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          written += value.length;
          if (written > cap) {
            await reader.cancel().catch(() => undefined);
            throw Object.assign(new Error(`${url} sent more than the ${cap} bytes expected; stopped`), { fatal: true });
          }
          writeSync(fd, value);
          bar.tick(value.length);
        }
      } finally {
        closeSync(fd);
        bar.finish();
      }
      return { resumedFrom };
    } catch (e) {
      // Not at the source, or more bytes than expected: final, no retry.
      if ((e as { notFound?: boolean }).notFound) throw stop(e);
      if ((e as { fatal?: boolean }).fatal) {
        rmSync(part, { force: true });
        throw stop(e);
      }
      // Anything else is tried again (p-retry would give up at once on a TypeError that is not a network error).
      throw e instanceof TypeError ? Object.assign(new Error(e.message), { cause: e }) : e;
    }
  };
  try {
    // Waits of 1, 2, 4, 8 … s (at most 30 s) between attempts.
    return await pRetry(attempt, { retries, minTimeout: 1000, factor: 2, maxTimeout: 30_000 });
  } catch (e) {
    if (e === final) throw e;
    throw new Error(`download of ${entry.name} failed after ${retries + 1} attempts: ${(e as Error).message}`);
  }
}

/** Copies a mirror's file to `part` in chunks, refusing one larger than the manifest says. */
async function copyFromMirror(entry: ManifestEntry, src: string, part: string): Promise<void> {
  const st = statSync(src);
  if (!st.isFile()) throw new Error(`${src}: not a plain file`);
  if (st.size > sizeCap(entry)) throw new Error(`${src} is ${st.size} bytes, more than the ${sizeCap(entry)} expected`);
  partialSize(entry, part); // refuses a symlink at the temporary path
  const fd = openPart(part, false);
  try {
    for await (const chunk of createReadStream(src)) writeSync(fd, chunk as Buffer);
  } finally {
    closeSync(fd);
  }
}

/** The files a mirror folder says it holds (its MANIFEST.json "in_this_mirror"), or undefined without one. */
export function mirrorOffers(from: string): Set<string> | undefined {
  const file = join(from, "MANIFEST.json");
  if (!existsSync(file)) return undefined;
  let m: unknown;
  try {
    m = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const files = (m as { files?: unknown }).files;
  if (!Array.isArray(files)) throw new Error(`${file}: field "files" should be a list`);
  const offered = new Set<string>();
  files.forEach((f: { name?: unknown; in_this_mirror?: unknown }, i) => {
    if (typeof f?.name !== "string") throw new Error(`${file}: files[${i}].name should be a string`);
    if (typeof f.in_this_mirror === "string" && f.in_this_mirror !== "") offered.add(f.name);
  });
  return offered;
}

/**
 * Fetches the selected files into data/raw/. Files a mirror says it does not
 * hold are "not-offered"; files the source lacks are "missing-at-source"
 * ("failed" when asked for by name). No folder is created for a file that
 * cannot be had.
 */
export async function fetchData(options: FetchOptions = {}): Promise<FileResult[]> {
  const rawDir = options.rawDir ?? kitPaths().rawDir;
  const explicit = Boolean(options.names && options.names.length > 0);
  const entries = selectEntries(options.names);
  let offered: Set<string> | undefined;
  if (options.from !== undefined) {
    const from = resolve(options.from);
    if (!existsSync(from) || !statSync(from).isDirectory()) throw new Error(`--from ${options.from}: no such folder`);
    offered = mirrorOffers(from);
  }
  const results: FileResult[] = [];
  for (const entry of entries) {
    const dest = join(rawDir, entry.localPath);
    const part = dest + ".part";
    if (!options.force && existsSync(dest)) {
      try {
        verifyFile(entry, dest);
        results.push({ name: entry.name, status: "present", path: dest });
        continue;
      } catch {
        rmSync(dest); // a stale or damaged copy: fetch it again
      }
    }
    try {
      if (options.from !== undefined) {
        const src = join(options.from, entry.localPath);
        if (offered && !offered.has(entry.name)) {
          results.push({
            name: entry.name,
            status: explicit ? "failed" : "not-offered",
            path: dest,
            message: `the mirror's MANIFEST.json says it does not hold this file`,
          });
          continue;
        }
        if (!existsSync(src)) {
          const listed = offered?.has(entry.name);
          results.push({
            name: entry.name,
            status: explicit || listed ? "failed" : "missing-at-source",
            path: dest,
            message: listed ? `listed in ${join(options.from, "MANIFEST.json")} but ${src} is absent` : `not in mirror ${options.from}`,
          });
          continue;
        }
        mkdirSync(dirname(dest), { recursive: true });
        await copyFromMirror(entry, src, part);
        settle(entry, part, dest);
        results.push({ name: entry.name, status: "fetched", path: dest });
      } else {
        mkdirSync(dirname(dest), { recursive: true });
        let { resumedFrom } = await download(entry, part, options);
        try {
          settle(entry, part, dest);
        } catch (e) {
          // A resumed file that fails its hash had a bad prefix: fetch it once more from the start.
          if (!(e instanceof VerificationError) || resumedFrom === 0) throw e;
          rmSync(part, { force: true });
          ({ resumedFrom } = await download(entry, part, options));
          settle(entry, part, dest);
        }
        results.push({
          name: entry.name,
          status: "fetched",
          path: dest,
          ...(resumedFrom > 0 ? { message: `resumed from byte ${resumedFrom}` } : {}),
        });
      }
    } catch (e) {
      const notFound = (e as { notFound?: boolean }).notFound;
      results.push({
        name: entry.name,
        status: notFound && !explicit ? "missing-at-source" : "failed",
        path: dest,
        message: (e as Error).message,
      });
    }
  }
  return results;
}

export interface VerifyResult {
  name: string;
  path: string;
  /** "partial": no verified file, but an interrupted download (`.part`) is there. */
  status: "ok" | "absent" | "bad" | "partial";
  message?: string;
}

/** Re-checks every file present under data/raw/ against the manifest (reading each in chunks). */
export function verifyData(rawDir = kitPaths().rawDir): VerifyResult[] {
  const out: VerifyResult[] = [];
  for (const entry of MANIFEST) {
    const path = join(rawDir, entry.localPath);
    const part = `${path}.part`;
    let partNote: string | undefined;
    try {
      const st = lstatSync(part);
      partNote = st.isSymbolicLink()
        ? `${part} is a symlink (remove it)`
        : `interrupted download ${part} (${st.size}${entry.bytes ? ` of ${entry.bytes}` : ""} bytes); \`fulcra data fetch\` resumes it`;
    } catch {
      partNote = undefined;
    }
    if (!existsSync(path)) {
      out.push(partNote ? { name: entry.name, path, status: "partial", message: partNote } : { name: entry.name, path, status: "absent" });
      continue;
    }
    try {
      verifyFile(entry, path);
      out.push({ name: entry.name, path, status: "ok", ...(partNote ? { message: `also ${partNote}` } : {}) });
    } catch (e) {
      out.push({ name: entry.name, path, status: "bad", message: (e as Error).message });
    }
  }
  return out;
}
