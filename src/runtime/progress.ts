/** A plain progress bar for long work: redraws in place on a terminal, prints every 10% otherwise. */
import { env } from "./env.js";

export interface ProgressOptions {
  label: string;
  total?: number;
  stream?: NodeJS.WriteStream;
  /** Silences the bar (tests, notebooks that want quiet). */
  quiet?: boolean;
}

export class Progress {
  private done = 0;
  private readonly start = Date.now();
  private lastPrinted = -1;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private extra = "";

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
  }

  /** Advances by `n` units; `note` is shown after the bar (for example the current loss). */
  tick(n = 1, note?: string): void {
    this.done += n;
    if (note !== undefined) this.extra = note;
    this.render(false);
  }

  setTotal(total: number): void {
    this.options.total = total;
  }

  finish(note?: string): void {
    if (note !== undefined) this.extra = note;
    this.render(true);
  }

  private render(final: boolean): void {
    if (this.options.quiet || env.quiet) return;
    const total = this.options.total;
    const secs = (Date.now() - this.start) / 1000;
    const frac = total ? Math.min(1, this.done / total) : 0;
    const step = Math.floor(frac * 10);
    if (!this.tty && !final && (total === undefined || step === this.lastPrinted)) return;
    this.lastPrinted = step;
    const width = 24;
    const bar = total ? "█".repeat(Math.round(frac * width)).padEnd(width, "·") : "";
    const count = total ? `${this.done}/${total}` : `${this.done}`;
    const rate = secs > 0 ? ` ${(this.done / secs).toFixed(1)}/s` : "";
    const text = `${this.options.label} ${bar} ${count} ${secs.toFixed(1)}s${rate}${this.extra ? " " + this.extra : ""}`;
    if (this.tty) this.stream.write(`\r${text}\x1b[K${final ? "\n" : ""}`);
    else this.stream.write(text + "\n");
  }
}
