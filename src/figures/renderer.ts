/**
 * Renders Plotly figures to SVG, PNG and PDF in Debian's Chromium, driven by
 * playwright-core (never a downloaded browser). Launching Chromium and
 * loading plotly.js take a few seconds, so one renderer serves many figures:
 * use `withFigureRenderer`, or the shared renderer that `exportFigure` and
 * `show.plot` use, which closes itself after a short idle time.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { crc32 } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { DEFAULT_SIZE, type Figure } from "../charts/spec.js";
import { env } from "../runtime/env.js";

const require = createRequire(import.meta.url);

/** Chromium flags: headless, no sandbox (containers, root), and no network chatter of its own. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
] as const;

/** The Chromium binary: env CHROMIUM_PATH, else Debian's /usr/bin/chromium. */
export function chromiumPath(): string {
  return env.chromiumPath;
}

/** Path of the plotly.js bundle shipped in node_modules. */
export function plotlyBundlePath(): string {
  return join(dirname(require.resolve("plotly.js-dist/package.json")), "plotly.js");
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

export const PLOTLY_VERSION = packageVersion("plotly.js-dist");

export interface RenderSize {
  /** CSS pixels (default: the figure's layout.width, else 800). */
  width?: number;
  /** CSS pixels (default: the figure's layout.height, else 500). */
  height?: number;
}

/** The size a figure is drawn at. */
export function figureSize(figure: Figure, size: RenderSize = {}): { width: number; height: number } {
  return {
    width: size.width ?? figure.layout.width ?? DEFAULT_SIZE.width,
    height: size.height ?? figure.layout.height ?? DEFAULT_SIZE.height,
  };
}

function hint(): string {
  return "Figure export needs Debian's Chromium: run `npm run setup` (or set CHROMIUM_PATH to a Chromium or Chrome binary).";
}

/**
 * Writes a pHYs chunk into a PNG so that viewers and print tools know its
 * resolution (`dpi` dots per inch). Chromium's PNGs carry none.
 */
export function setPngDpi(png: Buffer, dpi: number): Buffer {
  const signature = 8;
  if (png.length < signature + 25 || png.toString("ascii", 12, 16) !== "IHDR") throw new Error("setPngDpi: not a PNG");
  const afterIhdr = signature + 8 + png.readUInt32BE(signature) + 4;
  // Drop an existing pHYs chunk.
  const chunks: Buffer[] = [png.subarray(0, afterIhdr)];
  let offset = afterIhdr;
  while (offset < png.length) {
    const len = png.readUInt32BE(offset);
    const type = png.toString("ascii", offset + 4, offset + 8);
    const end = offset + 12 + len;
    if (type !== "pHYs") chunks.push(png.subarray(offset, end));
    offset = end;
  }
  const ppm = Math.round(dpi / 0.0254);
  const body = Buffer.alloc(4 + 9);
  body.write("pHYs", 0, "ascii");
  body.writeUInt32BE(ppm, 4);
  body.writeUInt32BE(ppm, 8);
  body.writeUInt8(1, 12); // unit: metre
  const chunk = Buffer.alloc(12 + 9);
  chunk.writeUInt32BE(9, 0);
  body.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(body) >>> 0, 17);
  return Buffer.concat([chunks[0], chunk, ...chunks.slice(1)]);
}

/** One Chromium with plotly.js loaded, rendering figures one at a time. */
export class FigureRenderer {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly browser: Browser,
    private readonly plotPage: Page,
    private readonly pdfPage: Page,
    private readonly workDir: string,
    /** Chromium's version, for provenance. */
    readonly browserVersion: string,
  ) {}

  /** Launches Chromium (headless, fresh temporary profile) and loads plotly.js from node_modules. */
  static async launch(options: { executablePath?: string } = {}): Promise<FigureRenderer> {
    const executablePath = options.executablePath ?? chromiumPath();
    if (!existsSync(executablePath)) throw new Error(`Chromium not found at ${executablePath}. ${hint()}`);
    const { chromium } = await import("playwright-core");
    let browser: Browser;
    try {
      // launch() gives every browser a new temporary profile, removed on close.
      browser = await chromium.launch({ executablePath, args: [...CHROMIUM_ARGS], headless: true });
    } catch (e) {
      throw new Error(`could not start Chromium at ${executablePath}: ${(e as Error).message.split("\n")[0]}. ${hint()}`);
    }
    try {
      const workDir = mkdtempSync(join(tmpdir(), "fulcra-figures-"));
      const pageFile = join(workDir, "plot.html");
      // Loaded from disk by URL: much faster than pushing 11 MB through the protocol.
      writeFileSync(
        pageFile,
        `<!doctype html><html><head><meta charset="utf-8"><script src="${pathToFileURL(plotlyBundlePath()).href}"></script></head><body style="margin:0"></body></html>`,
      );
      const plotPage = await browser.newPage();
      await plotPage.goto(pathToFileURL(pageFile).href);
      const loaded = await plotPage.evaluate(() => typeof (window as unknown as { Plotly?: unknown }).Plotly !== "undefined");
      if (!loaded) throw new Error(`plotly.js did not load from ${plotlyBundlePath()} (run \`npm ci\`)`);
      const pdfPage = await browser.newPage();
      return new FigureRenderer(browser, plotPage, pdfPage, workDir, browser.version());
    } catch (e) {
      await browser.close().catch(() => undefined);
      throw e;
    }
  }

  /** Runs one job at a time: the pages are shared. */
  private serial<T>(job: () => Promise<T>): Promise<T> {
    const next = this.queue.then(job, job);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private toImage(figure: Figure, format: "svg" | "png", width: number, height: number, scale: number): Promise<string> {
    return this.serial(() =>
      this.plotPage.evaluate(
        async ({ fig, format, width, height, scale }) => {
          const P = (window as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } }).Plotly;
          return P.toImage(fig, { format, width, height, scale });
        },
        { fig: { data: figure.data, layout: { ...figure.layout, width, height } }, format, width, height, scale },
      ),
    );
  }

  /** The figure as an SVG document (text). */
  async svg(figure: Figure, size: RenderSize = {}): Promise<string> {
    const { width, height } = figureSize(figure, size);
    const url = await this.toImage(figure, "svg", width, height, 1);
    const comma = url.indexOf(",");
    return decodeURIComponent(url.slice(comma + 1));
  }

  /**
   * The figure as a PNG. `scale` multiplies the pixel size (3 gives 300 dpi
   * when the figure is printed at its CSS size / 100 inches, 2400 × 1500 px
   * for the default 800 × 500); the file records 96 × scale dpi.
   */
  async png(figure: Figure, options: RenderSize & { scale?: number } = {}): Promise<Buffer> {
    const { width, height } = figureSize(figure, options);
    const scale = options.scale ?? 3;
    const url = await this.toImage(figure, "png", width, height, scale);
    const png = Buffer.from(url.slice(url.indexOf(",") + 1), "base64");
    return setPngDpi(png, 96 * scale);
  }

  /** A one-page vector PDF of an SVG (as made by {@link svg}), the page sized to the figure. */
  async pdfFromSvg(svg: string, width: number, height: number): Promise<Buffer> {
    return this.serial(async () => {
      await this.pdfPage.setContent(
        `<!doctype html><html><head><meta charset="utf-8"><style>@page{size:${width}px ${height}px;margin:0}html,body{margin:0;padding:0}svg{display:block}</style></head><body>${svg}</body></html>`,
      );
      return this.pdfPage.pdf({
        width: `${width}px`,
        height: `${height}px`,
        printBackground: true,
        pageRanges: "1",
        margin: { top: "0", right: "0", bottom: "0", left: "0" },
      });
    });
  }

  /** The figure as a one-page vector PDF. */
  async pdf(figure: Figure, size: RenderSize = {}): Promise<Buffer> {
    const { width, height } = figureSize(figure, size);
    return this.pdfFromSvg(await this.svg(figure, { width, height }), width, height);
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** Runs `fn` with a renderer of its own and closes it afterwards. */
export async function withFigureRenderer<T>(fn: (renderer: FigureRenderer) => Promise<T>): Promise<T> {
  const renderer = await FigureRenderer.launch();
  try {
    return await fn(renderer);
  } finally {
    await renderer.close();
  }
}

/**
 * Seconds the shared renderer stays open after its last use. Chromium's pipe
 * keeps node running, so a script would wait this long before it exits
 * (unless it calls closeSharedRenderer); in a notebook kernel, cells come
 * with pauses, so the browser is kept longer there.
 */
function idleSeconds(): number {
  const idle = env.rendererIdleSeconds;
  if (idle !== undefined) return idle;
  return env.notebook || Object.keys(require.cache).some((k) => /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(k)) ? 60 : 3;
}
let shared: Promise<FigureRenderer> | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let inUse = 0;

function scheduleIdleClose(): void {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    if (inUse > 0) scheduleIdleClose();
    else void closeSharedRenderer();
  }, idleSeconds() * 1000);
  idleTimer.unref();
}

/**
 * Runs `fn` with the renderer shared by `exportFigure` and `show.plot`:
 * launched on first use, reused by later calls, and closed after
 * a few seconds without use (a minute in a notebook kernel) or by {@link closeSharedRenderer}.
 */
export async function useSharedRenderer<T>(fn: (renderer: FigureRenderer) => Promise<T>): Promise<T> {
  if (!shared) {
    const launching = FigureRenderer.launch();
    shared = launching;
    launching.catch(() => {
      if (shared === launching) shared = undefined;
    });
  }
  inUse++;
  try {
    return await fn(await shared);
  } finally {
    inUse--;
    scheduleIdleClose();
  }
}

/** Closes the shared renderer now (scripts and tests call this when they are done exporting). */
export async function closeSharedRenderer(): Promise<void> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  const r = shared;
  shared = undefined;
  if (r) await (await r.catch(() => undefined))?.close();
}
