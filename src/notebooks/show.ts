/**
 * Display helpers for the notebooks (tslab kernel): tables, interactive
 * Plotly figures, markdown and images, shown inline.
 *
 * Each helper sends one Jupyter display bundle (several MIME types of the
 * same thing; the frontend picks the richest it can show):
 *   - `show.plot`: text/html with the interactive figure, which starts out as
 *     a static PNG inside the figure's box (so a viewer that runs no
 *     JavaScript, or an untrusted notebook, still shows the figure), plus
 *     image/png and text/plain. plotly.js itself is embedded once per kernel
 *     session, gzip-compressed (about 2.6 MB of base64 instead of 11 MB),
 *     and unpacked in the browser, so the notebook works offline.
 *   - `show.table`: text/html table plus a plain-text table.
 * Outside a kernel (a script, a test) the plain-text form is printed instead.
 *
 * In a notebook cell: `await show.plot(fig)`: the static image is rendered
 * by Chromium, so the call is asynchronous; without `await` the output could
 * land in a later cell.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { extname } from "node:path";
import { gzipSync } from "node:zlib";
import { plotlyBundlePath, useSharedRenderer, figureSize } from "../figures/renderer.js";
import { paperFigurePath } from "../figures/export.js";
import { DEFAULT_CONFIG, type Figure } from "../charts/spec.js";
import { htmlTable } from "../data/table-text.js";
import { toTableData, type TableLike } from "../data/tables.js";
import { manifestEntry } from "../data/manifest.js";
import { dataScope, formatDifference, formatMatch, formatValue, matchCounts } from "../report/reproduction.js";
import type { ExperimentNumbers } from "../report/numbers.js";

const require = createRequire(import.meta.url);

/** A Jupyter MIME bundle: MIME type → content (base64 for binary types). */
export type MimeBundle = Record<string, string>;

export interface DisplayMessage {
  data: MimeBundle;
  metadata: Record<string, unknown>;
}

type DisplaySink = (message: DisplayMessage) => void;

interface TslabJupyter {
  lastWriteDisplayData:
    | ((data: { data: MimeBundle; metadata: Record<string, unknown>; transient: Record<string, unknown> }, update: boolean) => void)
    | null;
}

/** tslab's kernel module, when this process is a tslab kernel (never loads tslab otherwise). */
function tslabKernel(): TslabJupyter | undefined {
  const key = Object.keys(require.cache).find((k) => /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(k));
  const mod = key ? (require.cache[key]?.exports as TslabJupyter | undefined) : undefined;
  return mod && typeof mod.lastWriteDisplayData === "function" ? mod : undefined;
}

let sinkOverride: DisplaySink | undefined;

/**
 * Sends display messages somewhere else (tests use this to capture them).
 * Returns a function that restores the previous sink.
 */
export function setDisplaySink(sink: DisplaySink | undefined): () => void {
  const previous = sinkOverride;
  sinkOverride = sink;
  return () => (sinkOverride = previous);
}

/** Whether displays go to a live Jupyter frontend (a tslab kernel). */
export function inNotebook(): boolean {
  return tslabKernel() !== undefined;
}

/** Sends one MIME bundle to the notebook (or prints its text form outside one). */
export function displayBundle(data: MimeBundle, metadata: Record<string, unknown> = {}): void {
  if (sinkOverride) {
    sinkOverride({ data, metadata });
    return;
  }
  const kernel = tslabKernel();
  if (kernel?.lastWriteDisplayData) {
    kernel.lastWriteDisplayData({ data, metadata, transient: {} }, false);
    return;
  }
  console.log(data["text/plain"] ?? data["text/markdown"] ?? `[${Object.keys(data).join(", ")}]`);
}

/** Text safe to place inside HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** JSON that can sit inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

// ---------------------------------------------------------------- tables

export interface TableOptions {
  /** Rows shown (default 20); the rest are counted below the table. */
  limit?: number;
  /** Decimals of non-integer numbers (default 3). */
  digits?: number;
  /** A caption above the table. */
  caption?: string;
}

function formatCell(v: unknown, digits: number): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : Number.isFinite(v) ? v.toFixed(digits) : String(v);
  if (typeof v === "string") return v;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v) && v.every((x) => typeof x === "number")) return `[${v.map((x) => formatCell(x, digits)).join(", ")}]`;
  return JSON.stringify(v);
}

function truncate(s: string, n = 120): string {
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

/** The display bundle of a table (HTML and plain text). */
export function tableBundle(table: TableLike, options: TableOptions = {}): MimeBundle {
  const { columns, rows, total } = toTableData(table, options.limit ?? 20);
  const digits = options.digits ?? 3;
  const cells = rows.map((r) => columns.map((c) => truncate(formatCell(r[c], digits))));
  const numeric = columns.map((c) => rows.length > 0 && rows.every((r) => typeof r[c] === "number" || r[c] === null || r[c] === undefined));
  const more = total > rows.length ? `${total - rows.length} more rows (${total} in all)` : "";

  const html =
    `<div class="fulcra-table">` +
    (options.caption ? `<p><b>${escapeHtml(options.caption)}</b></p>` : "") +
    htmlTable(
      columns.map((name, j) => ({ name, align: numeric[j] ? "r" : "l" })),
      cells,
    ) +
    (more ? `<p><i>… ${escapeHtml(more)}</i></p>` : "") +
    `</div>`;

  const widths = columns.map((c, j) => Math.max(c.length, ...cells.map((r) => r[j].length)));
  const line = (vals: string[]) =>
    vals
      .map((v, j) => (numeric[j] ? v.padStart(widths[j]) : v.padEnd(widths[j])))
      .join("  ")
      .trimEnd();
  const text = [
    ...(options.caption ? [options.caption] : []),
    line(columns),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.map(line),
    ...(more ? [`… ${more}`] : []),
  ].join("\n");
  return { "text/html": html, "text/plain": text };
}

/** Shows a table: an array of row objects, an arquero table or a danfo DataFrame. */
export function table(data: TableLike, options: TableOptions = {}): void {
  displayBundle(tableBundle(data, options));
}

// ---------------------------------------------------------------- figures

let plotlyEmbedded = false;
let plotlyGzipBase64: string | undefined;

/** The script that puts plotly.js into the page (once), unpacked from gzip in the browser. */
export function plotlyLoaderHtml(): string {
  plotlyGzipBase64 ??= gzipSync(readFileSync(plotlyBundlePath()), { level: 6 }).toString("base64");
  return `<script type="text/javascript">
(function () {
  if (window.Plotly || window.__fulcraPlotly || typeof DecompressionStream === "undefined") return;
  var packed = "${plotlyGzipBase64}";
  window.__fulcraPlotly = (async function () {
    var bin = atob(packed), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var source = await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
    var s = document.createElement("script");
    s.text = source;
    document.head.appendChild(s);
    return window.Plotly;
  })();
})();
</script>`;
}

/**
 * Forgets that plotly.js was embedded, so the next `show.plot` embeds it
 * again (for when the output that carried it was cleared).
 */
export function resetPlotlyEmbedding(): void {
  plotlyEmbedded = false;
}

let plotCounter = 0;

export interface PlotOptions {
  /** Render a static PNG fallback with Chromium (default true; skipped with a note when Chromium is missing). */
  staticImage?: boolean;
  /** Embed plotly.js in this output whatever was embedded before. */
  embedPlotly?: boolean;
}

/** The display bundle of a figure: interactive HTML over a static image, the PNG, and a text line. */
export function plotBundle(figure: Figure, png?: Buffer, options: { embedPlotly: boolean } = { embedPlotly: true }): MimeBundle {
  const { width, height } = figureSize(figure);
  const id = `fulcra-plot-${process.pid}-${++plotCounter}-${Date.now().toString(36)}`;
  const title = figure.layout.title?.text ?? "figure";
  const pngB64 = png?.toString("base64");
  const fallback = pngB64
    ? `<img src="data:image/png;base64,${pngB64}" width="${width}" height="${height}" style="max-width:100%;height:auto" alt="${escapeHtml(title)} (static image)">`
    : `<p><i>${escapeHtml(title)}: interactive figure (needs JavaScript)</i></p>`;
  const fig = { data: figure.data, layout: figure.layout, config: { ...DEFAULT_CONFIG, ...(figure.config ?? {}) } };
  const html = `${options.embedPlotly ? plotlyLoaderHtml() : ""}<div id="${id}" class="fulcra-plot" style="width:${width}px;max-width:100%;min-height:${height}px">${fallback}</div>
<script type="text/javascript">
(function () {
  var fig = ${scriptJson(fig)};
  var tries = 0;
  function draw() {
    var el = document.getElementById("${id}");
    if (!el || !window.Plotly) return;
    el.innerHTML = "";
    window.Plotly.newPlot(el, fig.data, fig.layout, fig.config);
  }
  function wait() {
    if (window.Plotly) return draw();
    if (window.__fulcraPlotly) return window.__fulcraPlotly.then(draw);
    if (++tries < 50) setTimeout(wait, 200); // the static image stays when plotly.js never arrives
  }
  wait();
})();
</script>`;
  const x = figure.layout.xaxis?.title?.text;
  const y = figure.layout.yaxis?.title?.text;
  const text = `[figure: ${title}${x ? `; x: ${x}` : ""}${y ? `; y: ${y}` : ""}; ${figure.data.length} trace${figure.data.length === 1 ? "" : "s"}]`;
  return { "text/html": html, ...(pngB64 ? { "image/png": pngB64 } : {}), "text/plain": text };
}

let chromiumWarned = false;

/**
 * Shows a Plotly figure inline: interactive (offline: plotly.js is embedded
 * with the first figure of the session) over a static PNG fallback.
 */
export async function plot(figure: Figure, options: PlotOptions = {}): Promise<void> {
  let png: Buffer | undefined;
  if (options.staticImage ?? true) {
    try {
      png = await useSharedRenderer((r) => r.png(figure, { scale: 1 }));
    } catch (e) {
      if (!chromiumWarned) console.error(`show.plot: no static image (${(e as Error).message.split("\n")[0]})`);
      chromiumWarned = true;
    }
  }
  const embed = options.embedPlotly ?? !plotlyEmbedded;
  const bundle = plotBundle(figure, png, { embedPlotly: embed && inNotebook() });
  if (embed && inNotebook()) plotlyEmbedded = true;
  const { width, height } = figureSize(figure);
  displayBundle(bundle, png ? { "image/png": { width, height } } : {});
}

// ---------------------------------------------------------------- text and images

/** Shows markdown. */
export function markdown(text: string): void {
  displayBundle({ "text/markdown": text, "text/plain": text });
}

/** Shows raw HTML (with a plain-text alternative). */
export function html(content: string, text = "[html]"): void {
  displayBundle({ "text/html": content, "text/plain": text });
}

const IMAGE_TYPES: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".svg": "image/svg+xml",
};

function imageDataUrl(path: string): { mime: string; data: string; url: string } {
  const mime = IMAGE_TYPES[extname(path).toLowerCase()];
  if (!mime) throw new Error(`show.image: ${path} is not a PNG, JPEG, GIF or SVG file`);
  const data = mime === "image/svg+xml" ? readFileSync(path, "utf8") : readFileSync(path).toString("base64");
  const url =
    mime === "image/svg+xml" ? `data:image/svg+xml;base64,${Buffer.from(data).toString("base64")}` : `data:${mime};base64,${data}`;
  return { mime, data, url };
}

export interface ImageOptions {
  /** Display width in pixels (default the image's own). */
  width?: number;
  caption?: string;
}

/** Shows an image file (PNG, JPEG, GIF or SVG), e.g. an exported figure or one of the paper's. */
export function image(path: string, options: ImageOptions = {}): void {
  const { mime, data } = imageDataUrl(path);
  displayBundle(
    { [mime]: data, "text/plain": options.caption ?? `[image: ${path}]` },
    options.width ? { [mime]: { width: options.width } } : {},
  );
  if (options.caption) markdown(`*${options.caption}*`);
}

/**
 * Shows images side by side with captions, e.g. the kit's regenerated
 * figure beside the paper's (`{ path: "../../shared/figures/paper/fig2-dataset.png", caption: "paper" }`).
 */
export function images(items: readonly { path: string; caption?: string }[], options: { width?: number } = {}): void {
  const width = options.width ?? Math.floor(960 / Math.max(1, items.length));
  const cells = items
    .map((it) => {
      const { url } = imageDataUrl(it.path);
      return `<figure style="margin:4px;flex:1 1 ${width}px;max-width:${width}px"><img src="${url}" style="width:100%;height:auto">${it.caption ? `<figcaption style="text-align:center">${escapeHtml(it.caption)}</figcaption>` : ""}</figure>`;
    })
    .join("");
  displayBundle({
    "text/html": `<div style="display:flex;flex-wrap:wrap;align-items:flex-start">${cells}</div>`,
    "text/plain": items.map((it) => `[image: ${it.caption ?? it.path}]`).join("  "),
  });
}

/**
 * Shows the kit's exported figure beside the paper's published one
 * (`paperFile` in the paper-figures folder, see `figures.paperFigurePath`);
 * when the paper's figure is not available, shows the kit's alone with a note.
 */
export function besidePaper(
  ours: string,
  paperFile: string,
  options: { width?: number; oursCaption?: string; paperCaption?: string } = {},
): void {
  const paper = paperFigurePath(paperFile);
  const mine = { path: ours, caption: options.oursCaption ?? "regenerated by the kit" };
  if (paper) {
    images([mine, { path: paper, caption: options.paperCaption ?? "published in the paper" }], { width: options.width });
    return;
  }
  images([mine], { width: options.width });
  markdown(
    `*The paper's figure (${paperFile}) is not available here; set FULCRA_PAPER_FIGURES to the folder that holds it to compare side by side.*`,
  );
}

// ---------------------------------------------------------------- data used

/** One data file a notebook read, with the number of records it got from it. */
export interface DataUse {
  /** Manifest name, e.g. "trustworthy_data". */
  name: string;
  /** Records read. */
  records: number;
}

/**
 * Rows saying which data files were used: manifest name, path, records read,
 * the manifest's record count and the file's sha256 (prefix).
 */
export function dataUseRows(
  used: readonly DataUse[],
): { file: string; path: string; records: number; manifest_records: number | string; sha256: string }[] {
  const scope = dataScope();
  return used.map((u) => {
    const entry = manifestEntry(u.name);
    const present = scope.present.find((p) => p.name === u.name);
    return {
      file: u.name,
      path: present?.path ?? entry.localPath,
      records: u.records,
      manifest_records: entry.records ?? "not listed",
      sha256: present ? present.sha256.slice(0, 16) + "…" : "absent",
    };
  });
}

/**
 * Shows the data files a notebook used (with record counts) and whether the
 * run is on the mirror subset or the full files. Every notebook calls this
 * once after loading its data.
 */
export function data(used: readonly DataUse[]): void {
  const scope = dataScope();
  markdown(
    scope.scope === "full"
      ? "**Data: the full released files.** Results are comparable with the paper's."
      : "**Data: the mirror subset.** The full FULCRA set (data_hybrid.jsonl) is not present; results computed from FULCRA records use trustworthy_data.jsonl only, whose composition differs from the full set, so they differ from the paper's.",
  );
  table(dataUseRows(used), { caption: "Data files used" });
}

/**
 * Shows an experiment's numbers as the reproduction report will: each
 * beside its reference, the difference and ✓/✗ where a tolerance is given.
 */
export function numbers(entry: Pick<ExperimentNumbers, "title" | "numbers">): void {
  const rows = entry.numbers.map((n) => ({
    number: n.name,
    value: formatValue(n.value),
    reference: formatValue(n.reference),
    difference: formatDifference(n),
    match: formatMatch(n),
    source: n.referenceSource ?? "",
  }));
  const c = matchCounts(entry.numbers);
  table(rows, { caption: `${entry.title}${c.compared ? ` (${c.matched} of ${c.compared} match)` : ""}`, limit: rows.length });
}

/**
 * Everything a notebook shows, in one namespace:
 * `show.table(rows)`, `await show.plot(fig)`, `show.markdown(md)`, `show.image(path)`, `show.images([...])`, `show.besidePaper(png, "fig2-dataset.png")`,
 * `show.data([...])`, `show.numbers(entry)`.
 */
export const show = { table, plot, markdown, html, image, images, besidePaper, data, numbers } as const;
