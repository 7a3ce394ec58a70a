/**
 * The tslab TypeScript kernel, registered in a project-local Jupyter data
 * folder (`.jupyter-local/`, git-ignored) so that running the notebooks needs
 * no global Jupyter state: the runner points JUPYTER_PATH there.
 *
 * The kernel spec is (re)written on every run. It names the node binary that
 * runs the kit and the tslab installed by `npm ci`, so a moved checkout or a
 * new node version never leaves a stale spec behind.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { kitPaths, env } from "../runtime/env.js";

/**
 * Writes `text` to `file` unless it already holds it; atomically (temp file
 * + rename), since several runs may start at once.
 */
export function writeIfChanged(file: string, text: string): void {
  if (existsSync(file) && readFileSync(file, "utf8") === text) return;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** Kernel name used in the notebooks' metadata and the spec folder. */
export const KERNEL_NAME = "tslab";

export interface KernelSetup {
  /** Folder to put on JUPYTER_PATH (it holds kernels/tslab/kernel.json). */
  jupyterPath: string;
  kernelName: string;
  /** The kernel.json written. */
  specFile: string;
  /** Environment for a Jupyter process that should see the kernel. */
  env: NodeJS.ProcessEnv;
}

/** The Python that has Debian's nbclient (FULCRA_PYTHON overrides). */
export function jupyterPython(): string {
  if (env.python) return env.python;
  return existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

/** The tslab launcher shipped in node_modules (the project's pinned version). */
export function tslabBin(root = kitPaths().root): string {
  const local = join(root, "node_modules", "tslab", "bin", "tslab");
  if (existsSync(local)) return local;
  try {
    const pkg = createRequire(join(root, "package.json")).resolve("tslab/package.json");
    return join(dirname(pkg), "bin", "tslab");
  } catch {
    throw new Error(`tslab is not installed (looked in ${local}). Run \`npm ci\` in ${root}.`);
  }
}

/**
 * Writes `.jupyter-local/kernels/tslab/kernel.json` (idempotent) and returns
 * the environment under which Jupyter finds it.
 */
export function ensureTslabKernel(root = kitPaths().root): KernelSetup {
  const jupyterPath = join(root, ".jupyter-local");
  const dir = join(jupyterPath, "kernels", KERNEL_NAME);
  const specFile = join(dir, "kernel.json");
  const spec = {
    // `--config-path` and `{connection_file}` are separate arguments, as tslab expects.
    argv: [process.execPath, tslabBin(root), "kernel", "--config-path", "{connection_file}"],
    display_name: "TypeScript (tslab, fulcra-kit)",
    language: "typescript",
  };
  const text = JSON.stringify(spec, null, 2) + "\n";
  mkdirSync(dir, { recursive: true });
  writeIfChanged(specFile, text);
  const runtimeDir = join(jupyterPath, "runtime");
  mkdirSync(runtimeDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: [jupyterPath, process.env.JUPYTER_PATH].filter(Boolean).join(delimiter),
    // Connection files stay inside the project too.
    JUPYTER_RUNTIME_DIR: runtimeDir,
    JUPYTER_PLATFORM_DIRS: "1",
    // ipykernel's debugger prints a warning about frozen modules on some Pythons.
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
    PYTHONWARNINGS: process.env.PYTHONWARNINGS ?? "ignore::DeprecationWarning",
  };
  return { jupyterPath, kernelName: KERNEL_NAME, specFile, env };
}

/** What `npm run setup` installs, for error messages. */
export const SETUP_HINT =
  "Run `npm run setup` (as root it installs Debian's jupyter-nbconvert, jupyter-client, python3-nbclient, python3-ipykernel; otherwise it prints the apt-get command).";

/** Throws a clear error when the Python side of Jupyter is missing. */
export function checkJupyter(python = jupyterPython()): void {
  try {
    execFileSync(python, ["-c", "import nbformat, nbclient, jupyter_client"], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    const why = (e as { stderr?: Buffer }).stderr?.toString().trim().split("\n").pop() ?? (e as Error).message;
    throw new Error(`Jupyter is not usable with ${python} (${why}). ${SETUP_HINT}`);
  }
}
