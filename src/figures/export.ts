/**
 * Publication export: one call writes, under figures/ and a stable name,
 *   NAME.svg   vector, as drawn by Plotly
 *   NAME.png   raster at print resolution (scale 3: 2400 × 1500 px for 800 × 500,
 *              288 dpi at the figure's CSS size, which is also the PDF page size)
 *   NAME.pdf   one vector page sized to the figure
 *   NAME.csv   the data behind the figure, one row per record given
 *   NAME.json  provenance: kit version, git commit, data file hashes, seed,
 *              backend, timestamp, renderer versions and the files written
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { kitPaths, env } from "../runtime/env.js";
import { provenance, type Provenance } from "../runtime/provenance.js";
import { figureDataRows, toCsv } from "./csv.js";
import { figureSize, PLOTLY_VERSION, useSharedRenderer, type FigureRenderer } from "./renderer.js";
import type { Figure } from "../charts/spec.js";

export type ImageFormat = "svg" | "png" | "pdf";

export interface ExportOptions {
  /**
   * The data behind the figure, as rows (written to NAME.csv). Default: the
   * numbers the figure draws, one row per point (see `figureDataRows`).
   */
  data?: readonly object[];
  /** Column order of the CSV (default: keys in order of first appearance). */
  columns?: string[];
  /** Data files the figure was computed from (hashed into the provenance). */
  dataFiles?: string[];
  /** Seed of any randomness behind the figure (sampling, projection, training). */
  seed?: number;
  /** Output folder (default figures/, or FULCRA_FIGURES_DIR). */
  dir?: string;
  /** CSS pixel size (default the layout's, else 800 × 500). */
  width?: number;
  height?: number;
  /** PNG pixel multiplier (default 3). */
  scale?: number;
  /** Image formats to write (default all three). */
  formats?: ImageFormat[];
  /** A sentence on what the figure shows, kept in the provenance JSON. */
  caption?: string;
  /** A renderer to use instead of the shared one (see `withFigureRenderer`). */
  renderer?: FigureRenderer;
}

export interface ExportedFigure {
  name: string;
  /** Absolute paths of the files written. */
  files: { svg?: string; png?: string; pdf?: string; csv: string; json: string };
  /** The same files relative to the figures folder, for `recordNumbers({ figures })`. */
  relativeFiles: string[];
  provenance: Provenance;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Checks an export name: letters, digits, ".", "_", "-"; no folders, no extension. */
export function checkFigureName(name: string): void {
  if (!NAME.test(name) || /\.(svg|png|pdf|csv|json)$/i.test(name)) {
    throw new Error(
      `figure name "${name}" should be a plain stable name like "fig2a-value-composition" (letters, digits, ".", "_", "-"; no folder, no extension)`,
    );
  }
}

/**
 * Exports a figure to SVG, PNG, PDF, CSV and provenance JSON under `NAME.*`.
 * Uses the shared Chromium renderer (reused across calls), or `options.renderer`.
 */
export async function exportFigure(figure: Figure, name: string, options: ExportOptions = {}): Promise<ExportedFigure> {
  checkFigureName(name);
  const dir = options.dir ?? kitPaths().figuresDir;
  mkdirSync(dir, { recursive: true });
  const formats = options.formats ?? ["svg", "png", "pdf"];
  const { width, height } = figureSize(figure, options);
  const scale = options.scale ?? 3;
  const files: ExportedFigure["files"] = { csv: join(dir, `${name}.csv`), json: join(dir, `${name}.json`) };

  const render = async (r: FigureRenderer): Promise<string> => {
    if (formats.includes("svg") || formats.includes("pdf")) {
      const svg = await r.svg(figure, { width, height });
      if (formats.includes("svg")) writeFileSync((files.svg = join(dir, `${name}.svg`)), svg);
      if (formats.includes("pdf")) writeFileSync((files.pdf = join(dir, `${name}.pdf`)), await r.pdfFromSvg(svg, width, height));
    }
    if (formats.includes("png")) writeFileSync((files.png = join(dir, `${name}.png`)), await r.png(figure, { width, height, scale }));
    return r.browserVersion;
  };
  const browserVersion = formats.length === 0 ? null : options.renderer ? await render(options.renderer) : await useSharedRenderer(render);

  const rows = options.data ?? figureDataRows(figure);
  writeFileSync(files.csv, toCsv(rows, options.columns));

  const prov = provenance({
    dataFiles: options.dataFiles,
    seed: options.seed,
    extra: {
      figure: name,
      title: figure.layout.title?.text ?? null,
      ...(options.caption ? { caption: options.caption } : {}),
      files: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, basename(v)])),
      size: { width, height, pngScale: scale, pngDpi: 96 * scale },
      dataRows: rows.length,
      renderer: { chromium: browserVersion, plotly: PLOTLY_VERSION },
    },
  });
  writeFileSync(files.json, JSON.stringify(prov, null, 2) + "\n");
  const relativeFiles = Object.values(files).map((f) => relative(kitPaths().figuresDir, f));
  return { name, files, relativeFiles, provenance: prov };
}

/**
 * Exports figures one at a time and keeps a list of what was written, so
 * that a notebook can name its figure files in `recordNumbers({ figures })`
 * at the end:
 *
 * ```ts
 * const exported = new figures.FigureExports();
 * await exported.add(fig, "hh-elo", { data: rows });
 * recordNumbers({ ..., figures: exported.files });
 * ```
 */
export class FigureExports {
  /** The exports so far, in order. */
  readonly exported: ExportedFigure[] = [];

  /**
   * Exports one figure (as `exportFigure`) and remembers it; the result is
   * in `exported`. Returns nothing, so that a notebook cell ending with it
   * shows nothing more.
   */
  async add(figure: Figure, name: string, options: ExportOptions = {}): Promise<void> {
    this.exported.push(await exportFigure(figure, name, options));
  }

  /** Every file written so far, relative to the figures folder, in export order. */
  get files(): string[] {
    return this.exported.flatMap((e) => e.relativeFiles);
  }
}

/** Exports several figures in a row with the shared browser (launched at most once). */
export async function exportFigures(
  items: readonly { figure: Figure; name: string; options?: ExportOptions }[],
): Promise<ExportedFigure[]> {
  const out: ExportedFigure[] = [];
  await useSharedRenderer(async (renderer) => {
    for (const it of items) out.push(await exportFigure(it.figure, it.name, { renderer, ...it.options }));
  });
  return out;
}

/**
 * Where the paper's published figures are kept for comparison (not part of
 * the kit): env FULCRA_PAPER_FIGURES, else ../shared/figures/paper beside the
 * repository. Returns the path of `file` there, or undefined when absent.
 */
export function paperFigurePath(file: string): string | undefined {
  const dir = env.paperFiguresDir ?? join(kitPaths().root, "..", "shared", "figures", "paper");
  const path = join(dir, file);
  return existsSync(path) ? path : undefined;
}
