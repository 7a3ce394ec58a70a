/**
 * Atomic file writes: the content goes to a temp file in the destination's
 * own folder (so the rename cannot cross file systems), then is renamed over
 * the destination. The temp file is created with O_EXCL: a symlink or any
 * file already at that path is refused, never followed.
 */
import { closeSync, constants, fsyncSync, lstatSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";

/** Opens `path` for writing only if nothing (not even a dangling symlink) is there. */
export function openExclusive(path: string, mode = 0o644): number {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    st = undefined;
  }
  if (st) throw new Error(`${path}: refusing to write: ${st.isSymbolicLink() ? "a symlink" : "a file"} is already at this temporary path`);
  // O_EXCL with O_CREAT fails on an existing path, symlinks included, without following them.
  return openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), mode);
}

/** Checks that the destination's folder exists, with a message naming it. */
export function checkDestinationFolder(dest: string): void {
  const dir = dirname(dest);
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new Error(`${dest}: the folder ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new Error(`${dest}: ${dir} is not a folder`);
  try {
    if (statSync(dest).isDirectory()) throw new Error(`${dest}: is a folder, not a file`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

/** A file being written atomically: write chunks, then commit (rename into place) or abort (delete). */
export class AtomicFile {
  readonly temp: string;
  private fd: number | null;
  constructor(readonly dest: string) {
    checkDestinationFolder(dest);
    this.temp = join(dirname(dest), `.${basename(dest)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    this.fd = openExclusive(this.temp);
  }
  write(data: string | Uint8Array): void {
    if (this.fd === null) throw new Error(`${this.dest}: write after commit or abort`);
    const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
  }
  commit(): void {
    if (this.fd === null) throw new Error(`${this.dest}: already closed`);
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
    renameSync(this.temp, this.dest);
  }
  abort(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.temp, { force: true });
  }
}

/** Writes `data` to `dest` atomically (temp file in the same folder, then rename). */
export function writeFileAtomicSync(dest: string, data: string | Uint8Array): void {
  const f = new AtomicFile(dest);
  try {
    f.write(data);
    f.commit();
  } catch (e) {
    f.abort();
    throw e;
  }
}
