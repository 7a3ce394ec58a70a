/**
 * Runs the kit's notebooks headless: Debian's nbclient drives the tslab
 * kernel (registered project-locally, see kernel.ts), one notebook at a time,
 * cell by cell, and stops at the first cell that fails. The executed copy
 * (with outputs, also when it failed) is written to figures/notebooks/NAME.ipynb
 * and, for reading in a browser, NAME.html.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from "node:path";
import { createInterface } from "node:readline";
import { kitPaths, env } from "../runtime/env.js";
import { Progress } from "../runtime/progress.js";
import { DRIVER_PY } from "./driver.js";
import { checkJupyter, ensureTslabKernel, jupyterPython, writeIfChanged } from "./kernel.js";

export interface RunNotebookOptions {
  /** Seconds one cell may run before the run fails (default 900, or env FULCRA_CELL_TIMEOUT). */
  cellTimeout?: number;
  /** Seconds the kernel may take to start (default 60). */
  startupTimeout?: number;
  /** Where the executed copies go (default figures/notebooks/). */
  outputDir?: string;
  /** Also write an HTML rendering beside the executed notebook (default true). */
  html?: boolean;
  /** Working directory of the kernel (default the project's notebooks/ folder). */
  cwd?: string;
  /** No progress bar. */
  quiet?: boolean;
}

export interface CellTiming {
  /** 0-based position of the cell in the notebook. */
  index: number;
  seconds: number;
}

export interface NotebookRunResult {
  /** File name without .ipynb, e.g. "00-quickstart". */
  name: string;
  /** The notebook that was run. */
  path: string;
  ok: boolean;
  /** Wall time from kernel start to the end, in seconds. */
  seconds: number;
  /** Seconds until the kernel answered (null when it never did). */
  kernelSeconds: number | null;
  /** Time of each code cell that finished. */
  cells: CellTiming[];
  /** The executed copy with outputs. */
  output: string;
  /** Its HTML rendering, when asked for and written. */
  html?: string;
  error?: NotebookError;
}

export type NotebookFailureKind = "error" | "timeout" | "kernel-died" | "kernel";

/** A notebook that did not run through: names the notebook, the cell and what went wrong. */
export class NotebookError extends Error {
  constructor(
    /** The notebook's file path. */
    readonly notebook: string,
    readonly kind: NotebookFailureKind,
    /** 1-based position of the failing cell among all cells of the file (null: the kernel failed before any cell). */
    readonly cell: number | null,
    /** First line of the failing cell's source. */
    readonly firstLine: string | null,
    /** The error as the kernel reported it (tslab internals removed). */
    readonly detail: string,
    /** The executed copy, for inspection. */
    readonly output?: string,
  ) {
    const where =
      cell === null
        ? `could not run (${kind})`
        : `failed at cell ${cell}${kind === "timeout" ? " (timed out)" : kind === "kernel-died" ? " (the kernel died)" : ""}: ${firstLine ?? ""}`;
    const indented = detail
      .split("\n")
      .map((l) => "    " + l)
      .join("\n");
    super(
      `notebook ${basename(notebook)} ${where}\n${indented}${output ? `\n  executed copy with outputs: ${relative(process.cwd(), output) || output}` : ""}`,
    );
    this.name = "NotebookError";
  }
}

/** Lines of tslab's and node's own stack frames, which say nothing about the notebook. */
const INTERNAL_FRAME = /^\s*at .*(node_modules[\\/]tslab[\\/]|node:vm|node:internal|sigintHandlersWrap|processTicksAndRejections)/;

/** Tidies the text tslab writes to stderr for a failing cell. */
export function cleanKernelError(text: string): string {
  return text
    .split("\n")
    .filter((l) => !INTERNAL_FRAME.test(l))
    .join("\n")
    .trim();
}

/** The notebooks in a folder (default notebooks/), sorted by file name. */
export function listNotebooks(dir = kitPaths().notebooksDir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".ipynb") && !f.startsWith("."))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * Finds a notebook by path, file name, name without extension, or unique
 * prefix ("00" → notebooks/00-quickstart.ipynb).
 */
export function resolveNotebook(nameOrPath: string, dir = kitPaths().notebooksDir): string {
  const asPath = isAbsolute(nameOrPath) ? nameOrPath : resolve(nameOrPath);
  if (nameOrPath.endsWith(".ipynb") && existsSync(asPath)) return asPath;
  const all = listNotebooks(dir);
  const exact = all.find((p) => basename(p) === nameOrPath || basename(p, ".ipynb") === nameOrPath);
  if (exact) return exact;
  const prefixed = all.filter((p) => basename(p).startsWith(nameOrPath));
  if (prefixed.length === 1) return prefixed[0];
  const known = all.map((p) => basename(p, ".ipynb")).join(", ") || "(none)";
  if (prefixed.length > 1) throw new Error(`"${nameOrPath}" matches several notebooks: ${prefixed.map((p) => basename(p)).join(", ")}`);
  throw new Error(`no notebook "${nameOrPath}" in ${dir}. Notebooks: ${known}`);
}

function defaultCellTimeout(): number {
  return env.cellTimeoutSeconds ?? 900;
}

interface DriverResult {
  ok: boolean;
  kernelSeconds: number | null;
  seconds: number;
  cells: CellTiming[];
  error: { kind: NotebookFailureKind; cellIndex: number | null; source: string | null; text: string } | null;
}

/**
 * Executes one notebook headless and resolves when every cell has run.
 * Rejects with a {@link NotebookError} naming the notebook and the failing
 * cell (its position and first line) and the kernel's error text: a thrown
 * exception, a rejected promise, a TypeScript type error (tslab type-checks
 * each cell), a timeout or a dead kernel all fail the run.
 */
export async function runNotebook(nameOrPath: string, options: RunNotebookOptions = {}): Promise<NotebookRunResult> {
  const result = await executeNotebook(nameOrPath, options);
  if (result.error) throw result.error;
  return result;
}

/** Like {@link runNotebook} but resolves with the failure in `result.error` instead of rejecting. */
export async function executeNotebook(nameOrPath: string, options: RunNotebookOptions = {}): Promise<NotebookRunResult> {
  const path = resolveNotebook(nameOrPath);
  const name = basename(path, extname(path));
  const python = jupyterPython();
  checkJupyter(python);
  const kernel = ensureTslabKernel();
  const outputDir = options.outputDir ?? join(kitPaths().figuresDir, "notebooks");
  mkdirSync(outputDir, { recursive: true });
  const output = join(outputDir, `${name}.ipynb`);
  const html = options.html === false ? undefined : join(outputDir, `${name}.html`);
  const cwd = options.cwd ?? (existsSync(kitPaths().notebooksDir) ? kitPaths().notebooksDir : dirname(path));
  const args = {
    input: path,
    output,
    html: html ?? null,
    kernel: kernel.kernelName,
    cwd,
    timeout: options.cellTimeout ?? defaultCellTimeout(),
    startupTimeout: options.startupTimeout ?? 60,
  };

  // The notebooks import the compiled kit; say so before a cell fails on it.
  const compiled = join(kitPaths().root, "dist", "src", "index.js");
  if (!existsSync(compiled)) throw new Error(`the kit is not built (${compiled} is missing): run \`npm run build\` first`);
  // The driver lives beside the kernel spec, so that \`ps\` shows a file name rather than the script.
  const driver = join(kernel.jupyterPath, "fulcra_run_notebook.py");
  writeIfChanged(driver, DRIVER_PY);

  const child = spawn(python, [driver, JSON.stringify(args)], {
    cwd,
    env: { ...kernel.env, FULCRA_NOTEBOOK: name },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => {
    stderr += b.toString();
    if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
  });
  let progress: Progress | undefined;
  let final: DriverResult | undefined;
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  lines.on("line", (line) => {
    let ev: { event?: string; [k: string]: unknown };
    try {
      ev = JSON.parse(line);
    } catch {
      return; // not ours
    }
    if (ev.event === "start") progress = new Progress({ label: `notebook ${name}`, total: ev.code_cells as number, quiet: options.quiet });
    else if (ev.event === "cell") progress?.tick(1);
    else if (ev.event === "result") final = ev as unknown as DriverResult;
  });
  const code = await new Promise<number>((done, fail) => {
    child.on("error", fail);
    child.on("close", (c) => done(c ?? 1));
  });
  if (!final) {
    const detail = stderr.trim().split("\n").slice(-15).join("\n") || `the Jupyter driver exited with code ${code} and no result`;
    const error = new NotebookError(path, "kernel", null, null, detail);
    return { name, path, ok: false, seconds: 0, kernelSeconds: null, cells: [], output, error };
  }
  const res: DriverResult = final;
  progress?.finish(res.ok ? "ok" : "failed");
  const run: NotebookRunResult = {
    name,
    path,
    ok: res.ok,
    seconds: res.seconds,
    kernelSeconds: res.kernelSeconds,
    cells: res.cells,
    output,
    html: html && existsSync(html) ? html : undefined,
  };
  if (res.error) {
    const e = res.error;
    const firstLine = e.source === null ? null : firstSourceLine(e.source);
    let detail = cleanKernelError(e.text) || "(the kernel gave no error text)";
    if (e.kind === "kernel" && stderr.trim()) detail += "\n" + stderr.trim().split("\n").slice(-10).join("\n");
    run.error = new NotebookError(
      path,
      e.kind,
      e.cellIndex === null ? null : e.cellIndex + 1,
      firstLine,
      detail,
      existsSync(output) ? output : undefined,
    );
  }
  return run;
}

function firstSourceLine(source: string): string {
  const line = source.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.length > 100 ? line.slice(0, 100) + "…" : line;
}

/** Number of cells in a notebook file (for messages and tests). */
export function notebookCellCount(path: string): number {
  return (JSON.parse(readFileSync(path, "utf8")) as { cells: unknown[] }).cells.length;
}

/**
 * Runs notebooks one after the other (they share the cores with everything
 * else). With `stopOnError` (default false) the first failure ends the
 * sequence; otherwise every notebook runs and the failures are in the results.
 */
export async function runNotebooks(
  namesOrPaths: string[] = listNotebooks(),
  options: RunNotebookOptions & { stopOnError?: boolean } = {},
): Promise<NotebookRunResult[]> {
  const results: NotebookRunResult[] = [];
  for (const n of namesOrPaths) {
    const r = await executeNotebook(n, options);
    results.push(r);
    if (!r.ok && options.stopOnError) break;
  }
  return results;
}
