/**
 * The kit's settings and paths: one typed object, `env`, read from the
 * process environment at the moment a field is used (so a test or a command
 * that sets a variable first sees it). No other file reads `process.env` for
 * these settings; `kitEnv(source)` reads the same fields from another map
 * (tests, child processes).
 *
 * Variables (unset or empty = the default):
 *   FULCRA_ROOT            the kit's root folder (default: the folder holding package.json)
 *   FULCRA_DATA_DIR        verified raw data files (default <root>/data/raw)
 *   FULCRA_FIGURES_DIR     exported figures and the reproduction report (default <root>/figures)
 *   FULCRA_RUNS_DIR        training runs, checkpoints and caches (default <root>/runs)
 *   FULCRA_PAPER_FIGURES   the paper's own figures, for side-by-side pages (default <root>/../shared/figures/paper)
 *   FULCRA_MIRROR          local data mirror for `fulcra reproduce` / `npm test` (default ../shared/data/fulcra)
 *   FULCRA_QUIET           any value: no progress bars, no backend or retry lines on stderr
 *   FULCRA_DEBUG           any value: the CLI prints stack traces (as `--debug`)
 *   FULCRA_BACKEND         force a tfjs backend (a name of BACKEND_PREFERENCE in runtime/backend)
 *   FULCRA_NOTEBOOK        set by the notebook runner inside a kernel: the notebook's name
 *   FULCRA_CELL_TIMEOUT    seconds a notebook cell may run (default 900)
 *   FULCRA_RENDERER_IDLE   seconds the shared figure browser stays open when idle (default 3, 60 in a notebook)
 *   FULCRA_PYTHON          the Python that runs Jupyter for the notebook runner (default: found on PATH)
 *   FULCRA_HUB_ENDPOINT    Hugging Face hub endpoint for `fulcra models fetch` (falls back to HF_ENDPOINT)
 *   HF_TOKEN               bearer token for gated hub repositories
 *   FULCRA_LLM_BASE_URL    OpenAI-compatible chat endpoint for judges and annotation (falls back to OPENAI_BASE_URL)
 *   FULCRA_LLM_MODEL       the model name sent to that endpoint
 *   FULCRA_LLM_API_KEY     its key, if it needs one (falls back to OPENAI_API_KEY)
 *   FULCRA_JUDGE_PROMPTS   judge only the first N prompts (the CI size; default all)
 *   CHROMIUM_PATH          the Chromium that renders PNG/PDF figures (default /usr/bin/chromium)
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

function findProjectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "src"))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/** The repository root (the folder holding package.json). */
export const PROJECT_ROOT = findProjectRoot();

export interface KitPaths {
  root: string;
  /** Verified raw files, laid out as in the source repository's data folder. */
  rawDir: string;
  /** Exported figures and the reproduction report. */
  figuresDir: string;
  /** Training runs, checkpoints and caches. */
  runsDir: string;
  notebooksDir: string;
}

export interface LlmEndpointEnv {
  /** FULCRA_LLM_BASE_URL, else OPENAI_BASE_URL. */
  baseUrl: string | undefined;
  /** FULCRA_LLM_MODEL. */
  model: string | undefined;
  /** FULCRA_LLM_API_KEY, else OPENAI_API_KEY. */
  apiKey: string | undefined;
}

/** Every setting of the kit; see the list at the top of this file. */
export interface KitEnv {
  readonly paths: KitPaths;
  /** FULCRA_PAPER_FIGURES, resolved; undefined when unset. */
  readonly paperFiguresDir: string | undefined;
  /** FULCRA_MIRROR as given (relative to the root when not absolute); undefined when unset. */
  readonly mirror: string | undefined;
  readonly quiet: boolean;
  readonly debug: boolean;
  /** FULCRA_BACKEND as given (checked by runtime/backend's forcedBackend). */
  readonly backend: string | undefined;
  readonly notebook: string | undefined;
  /** FULCRA_CELL_TIMEOUT when it is a positive number, else undefined. */
  readonly cellTimeoutSeconds: number | undefined;
  /** FULCRA_RENDERER_IDLE when it is a positive number, else undefined. */
  readonly rendererIdleSeconds: number | undefined;
  readonly python: string | undefined;
  /** FULCRA_HUB_ENDPOINT, else HF_ENDPOINT. */
  readonly hubEndpoint: string | undefined;
  readonly hfToken: string | undefined;
  readonly llm: LlmEndpointEnv;
  /** FULCRA_JUDGE_PROMPTS as a whole number ≥ 1, Infinity when unset; a bad value throws. */
  readonly judgePrompts: number;
  /** CHROMIUM_PATH, else /usr/bin/chromium. */
  readonly chromiumPath: string;
}

function positive(raw: string | undefined): number | undefined {
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** The kit's settings read from `source` (default: the live process environment). */
export function kitEnv(source: NodeJS.ProcessEnv = process.env): KitEnv {
  return {
    get paths(): KitPaths {
      const root = source.FULCRA_ROOT ? resolve(source.FULCRA_ROOT) : PROJECT_ROOT;
      return {
        root,
        rawDir: source.FULCRA_DATA_DIR ? resolve(source.FULCRA_DATA_DIR) : join(root, "data", "raw"),
        figuresDir: source.FULCRA_FIGURES_DIR ? resolve(source.FULCRA_FIGURES_DIR) : join(root, "figures"),
        runsDir: source.FULCRA_RUNS_DIR ? resolve(source.FULCRA_RUNS_DIR) : join(root, "runs"),
        notebooksDir: join(root, "notebooks"),
      };
    },
    get paperFiguresDir() {
      return source.FULCRA_PAPER_FIGURES ? resolve(source.FULCRA_PAPER_FIGURES) : undefined;
    },
    get mirror() {
      return source.FULCRA_MIRROR;
    },
    get quiet() {
      return Boolean(source.FULCRA_QUIET);
    },
    get debug() {
      return Boolean(source.FULCRA_DEBUG);
    },
    get backend() {
      return source.FULCRA_BACKEND;
    },
    get notebook() {
      return source.FULCRA_NOTEBOOK || undefined;
    },
    get cellTimeoutSeconds() {
      return positive(source.FULCRA_CELL_TIMEOUT);
    },
    get rendererIdleSeconds() {
      return positive(source.FULCRA_RENDERER_IDLE);
    },
    get python() {
      return source.FULCRA_PYTHON || undefined;
    },
    get hubEndpoint() {
      return source.FULCRA_HUB_ENDPOINT ?? source.HF_ENDPOINT;
    },
    get hfToken() {
      return source.HF_TOKEN;
    },
    get llm() {
      return {
        baseUrl: source.FULCRA_LLM_BASE_URL ?? source.OPENAI_BASE_URL,
        model: source.FULCRA_LLM_MODEL,
        apiKey: source.FULCRA_LLM_API_KEY ?? source.OPENAI_API_KEY,
      };
    },
    get judgePrompts() {
      const raw = source.FULCRA_JUDGE_PROMPTS;
      if (raw === undefined || raw === "") return Infinity;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) throw new Error(`FULCRA_JUDGE_PROMPTS should be a whole number of prompts ≥ 1, got "${raw}"`);
      return n;
    },
    get chromiumPath() {
      return source.CHROMIUM_PATH || "/usr/bin/chromium";
    },
  };
}

/** The kit's settings, read live from `process.env`. */
export const env: KitEnv = kitEnv();

/** Where the kit keeps its data, figures and runs (`env.paths`). */
export function kitPaths(): KitPaths {
  return env.paths;
}
