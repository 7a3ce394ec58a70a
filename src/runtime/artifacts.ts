/**
 * The artifact store: one rule for everything the kit trains and keeps under
 * runs/ (the SFT policy, the value evaluators, the helpfulness reward model).
 *
 * An artifact is a folder or one file, identified by its key: the
 * configuration it was built with, a hash of the data it learned from and a
 * hash of the code that built it. Every artifact records its own key in its
 * own metadata (sft.json, config.json + provenance.json, model.json); the
 * store reads it back through the artifact's `recorded` function.
 *
 * `ensureArtifact(spec)`:
 *   1. reuses the stored artifact when the key it records equals the wanted one;
 *   2. otherwise takes the artifact's lock (`<path>.lock`, proper-lockfile), so
 *      that two processes (a notebook and the CLI, say) never build it at once:
 *      a process that finds the lock taken waits, then reuses what the other
 *      built. A lock left by a process that died is taken over;
 *   3. builds into `<path>.building` and renames that into place once complete,
 *      so a crash mid-build never leaves half an artifact at `path`. A folder
 *      build left by a crash is resumed when it was started for the same key
 *      (the builders keep checkpoints in it), removed otherwise;
 *   4. says on stderr what it builds again and why (which part of the key differs).
 *
 *     const { value, status } = await ensureArtifact({
 *       what: "reward model", path, kind: "file",
 *       key: { config, data: hashParts(fileHashes([dataFile])), code: codeHash([here]) },
 *       recorded: (p) => readKeyFrom(p), build: (target) => train(target), load: (p) => read(p),
 *     });
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join, relative } from "node:path";
import lockfile from "proper-lockfile";
import { writeFileAtomicSync } from "./atomic.js";
import { sha256File } from "./provenance.js";

// ------------------------------------------------------------------ keys

/** What identifies a built artifact. */
export interface ArtifactKey {
  /** The settings that change the artifact (not where it is written, nor how loudly it runs). */
  config: Record<string, unknown>;
  /** Hash of the data it learns from (see `hashParts`, `fileHashes`). */
  data: string;
  /** Hash of the code that builds it (see `codeHash`). */
  code: string;
}

/** JSON with object keys sorted at every depth, so that equal settings give equal text whatever their order. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** A short hash (16 hex digits) of strings, in order. */
export function hashParts(parts: readonly string[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\u0000");
  return h.digest("hex").slice(0, 16);
}

/** The short hash of a key: equal keys, equal hashes. */
export function keyHash(key: ArtifactKey): string {
  return hashParts([stableJson(key.config), key.data, key.code]);
}

/** sha256 of each file that exists, in order (memoised per path for the life of the process). */
export function fileHashes(files: readonly string[]): string[] {
  return files.filter((f) => existsSync(f)).map((f) => sha256File(f).sha256);
}

/**
 * A short hash of the code in `paths`: files, and the `.js` files of folders
 * (recursively, sorted), names relative to `root` included. Paths that do not
 * exist are skipped (the kit bundled into one file has no folders to hash).
 */
export function codeHash(paths: readonly string[], root: string = dirname(paths[0] ?? ".")): string {
  const files: string[] = [];
  const visit = (p: string) => {
    if (!existsSync(p)) return;
    if (statSync(p).isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        const child = join(p, name);
        if (statSync(child).isDirectory() || name.endsWith(".js")) visit(child);
      }
    } else files.push(p);
  };
  for (const p of paths) visit(p);
  const h = createHash("sha256");
  for (const f of files) h.update(relative(root, f)).update("\u0000").update(readFileSync(f)).update("\u0001");
  return h.digest("hex").slice(0, 16);
}

/** The parts of `recorded` that differ from `wanted`, in words ([] when the keys are equal). */
export function keyDifference(wanted: ArtifactKey, recorded: ArtifactKey | undefined): string[] {
  if (!recorded) return ["no readable key: an older or damaged artifact"];
  const out: string[] = [];
  const fields = [...new Set([...Object.keys(wanted.config), ...Object.keys(recorded.config)])].filter(
    (k) => stableJson(wanted.config[k]) !== stableJson(recorded.config[k]),
  );
  if (fields.length) out.push(`configuration: ${fields.join(", ")}`);
  if (wanted.data !== recorded.data) out.push("data");
  if (wanted.code !== recorded.code) out.push(recorded.code ? "code" : "code not recorded");
  return out;
}

// ------------------------------------------------------------------ the store

export interface ArtifactSpec<T> {
  /** What it is, for messages ("SFT policy"). */
  what: string;
  /** Where it lives: a folder (default) or one file. */
  path: string;
  kind?: "folder" | "file";
  /** The key it must have. */
  key: ArtifactKey;
  /** The key the artifact at `path` records; undefined when there is none or it cannot be read. */
  recorded(path: string): ArtifactKey | undefined;
  /**
   * Builds the artifact at `target` (a folder, empty or holding the build of
   * the same key a crash interrupted; or a file path to write) and returns it.
   * The store moves `target` into place when this resolves.
   */
  build(target: string): Promise<T>;
  /** Reads a complete artifact. */
  load(path: string): T | Promise<T>;
  /**
   * Where the artifact being replaced is kept (anything there before is
   * removed). Default `<path>.replaced`: nothing found at `path` is ever
   * deleted outright, since a folder given by hand may hold other things.
   */
  keepReplaced?: (path: string) => string;
  /** Build again even when the key matches. */
  force?: boolean;
  /** No notes on stderr. */
  quiet?: boolean;
  /** Where notes go (default: stderr). */
  log?: (line: string) => void;
}

/** reused: loaded as stored; built: there was none; rebuilt: the stored one had another key (or `force`). */
export type ArtifactStatus = "reused" | "built" | "rebuilt";

export interface ArtifactResult<T> {
  value: T;
  status: ArtifactStatus;
  /** keyHash of the key. */
  key: string;
  /** Why it was built again (status "rebuilt"). */
  reason?: string;
}

/** How long a lock may go without its holder touching it before another process takes it over (see `lockArtifact`). */
export const LOCK_STALE_MS = 60 * 60 * 1000;

/** Something is at `path`: a file, or a folder that is not empty. */
function present(path: string): boolean {
  if (!existsSync(path)) return false;
  return !statSync(path).isDirectory() || readdirSync(path).length > 0;
}

function readRecorded<T>(spec: ArtifactSpec<T>, path: string): ArtifactKey | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return spec.recorded(path);
  } catch {
    return undefined;
  }
}

/** The artifact for `spec.key`: the stored one when its key matches, built (under the lock) otherwise. */
export async function ensureArtifact<T>(spec: ArtifactSpec<T>): Promise<ArtifactResult<T>> {
  const key = keyHash(spec.key);
  const log = spec.quiet ? () => {} : (spec.log ?? ((line: string) => console.error(line)));
  const matches = () => keyDifference(spec.key, readRecorded(spec, spec.path)).length === 0;
  if (!spec.force && matches()) return { value: await spec.load(spec.path), status: "reused", key };

  const release = await lockArtifact(spec.path, spec.what, log);
  try {
    // Another process may have built it while we waited for the lock.
    if (!spec.force && matches()) return { value: await spec.load(spec.path), status: "reused", key };
    const had = present(spec.path);
    const reason = had ? (spec.force ? "force" : keyDifference(spec.key, readRecorded(spec, spec.path)).join("; ")) : undefined;
    if (had) log(`${spec.what}: ${spec.path} differs from the one asked for (${reason}); building it again (key ${key})`);
    const value = await buildInPlace(spec, key, log);
    return { value, status: had ? "rebuilt" : "built", key, reason };
  } finally {
    await release();
  }
}

/** Builds into `<path>.building`, checks the key the build records, and moves it into place. */
async function buildInPlace<T>(spec: ArtifactSpec<T>, key: string, log: (line: string) => void): Promise<T> {
  const staging = `${spec.path}.building`;
  const marker = `${staging}.key`;
  mkdirSync(dirname(spec.path), { recursive: true });
  if (spec.kind === "file") {
    rmSync(staging, { force: true });
  } else {
    let resumable = false;
    try {
      resumable = !spec.force && existsSync(staging) && readFileSync(marker, "utf8") === key;
    } catch {
      resumable = false;
    }
    if (resumable) log(`${spec.what}: continuing the interrupted build in ${staging}`);
    else rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    writeFileAtomicSync(marker, key);
  }
  const value = await spec.build(staging);
  const built = readRecorded(spec, staging);
  const differs = keyDifference(spec.key, built);
  if (differs.length) {
    throw new Error(`${spec.what}: the build in ${staging} records another key than the one asked for (${differs.join("; ")})`);
  }
  if (present(spec.path)) {
    const keep = spec.keepReplaced?.(spec.path) ?? `${spec.path}.replaced`;
    rmSync(keep, { recursive: true, force: true });
    renameSync(spec.path, keep);
    log(`${spec.what}: the replaced one is kept in ${keep}`);
  } else {
    rmSync(spec.path, { recursive: true, force: true });
  }
  renameSync(staging, spec.path);
  rmSync(marker, { force: true });
  return value;
}

// ------------------------------------------------------------------ the lock

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function processGone(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** The lock's holder died on this machine: its owner file names a process that no longer runs. */
function ownerDied(lockDir: string, ownerFile: string): boolean {
  try {
    // A lock file of the kit's earlier format (a plain file holding the pid).
    if (!statSync(lockDir).isDirectory()) return processGone(Number(readFileSync(lockDir, "utf8")));
  } catch {
    return false; // released meanwhile
  }
  let owner: LockOwner;
  try {
    owner = JSON.parse(readFileSync(ownerFile, "utf8")) as LockOwner;
  } catch {
    return false; // not written yet (or being written): the holder is alive
  }
  return owner.host === hostname() && processGone(owner.pid);
}

/**
 * Takes the lock `<path>.lock` (a folder made by proper-lockfile), waiting
 * while another process holds it; returns the function that releases it.
 * Beside it, `<path>.lock.owner` names the holder, so that a lock left by a
 * process that died on this machine is taken over at once (any other is taken
 * over after LOCK_STALE_MS without a touch). A process that exits normally or
 * on a signal releases its lock.
 */
export async function lockArtifact(
  path: string,
  what: string,
  log: (line: string) => void = (l) => console.error(l),
): Promise<() => Promise<void>> {
  const lockDir = `${path}.lock`;
  const ownerFile = `${lockDir}.owner`;
  mkdirSync(dirname(path), { recursive: true });
  const options = {
    realpath: false,
    lockfilePath: lockDir,
    stale: LOCK_STALE_MS,
    update: 30_000,
    onCompromised: (e: Error) => log(`${what}: the lock ${lockDir} was taken over by another process (${e.message})`),
  };
  let said = false;
  for (let wait = 100; ; wait = Math.min(wait * 2, 5000)) {
    try {
      const release = await lockfile.lock(path, options);
      writeFileAtomicSync(ownerFile, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
      return async () => {
        rmSync(ownerFile, { force: true });
        await release().catch(() => {});
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ELOCKED") throw e;
      if (ownerDied(lockDir, ownerFile)) {
        log(`${what}: ${lockDir} was left by a process that no longer runs; taking it over`);
        rmSync(ownerFile, { force: true });
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (!said) log(`${what}: another process is building ${path} (see ${lockDir}); waiting for it`);
      said = true;
      await sleep(wait);
    }
  }
}
