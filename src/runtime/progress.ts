/**
 * A progress bar for long work: cli-progress redraws it in place on a
 * terminal; elsewhere (logs, CI, notebooks) a plain line is printed at every
 * tenth of the way and at the end. Silent with `quiet` or FULCRA_QUIET=1.
 */
import cliProgress from "cli-progress";
import { env } from "./env.js";

export interface ProgressOptions {
  label: string;
  total?: number;
  stream?: NodeJS.WriteStream;
  /** Silences the bar (tests, notebooks that want quiet). */
  quiet?: boolean;
}

const BAR_WIDTH = 24;

/** cli-progress's bar, whose redraw timer never keeps the process alive (a run that throws before `finish` still exits). */
class TerminalBar extends cliProgress.SingleBar {
  override render(): void {
    super.render();
    (this as unknown as { timer?: NodeJS.Timeout | null }).timer?.unref();
  }
}

export class Progress {
  private done = 0;
  private readonly start = Date.now();
  private lastPrinted = -1;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private extra = "";
  /** The terminal bar, started at the first tick. */
  private bar?: TerminalBar;

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
    this.bar?.setTotal(total);
  }

  finish(note?: string): void {
    if (note !== undefined) this.extra = note;
    this.render(true);
  }

  /** What follows the bar: count, seconds, rate and the note. */
  private tail(): { count: string; secs: string; rate: string; note: string } {
    const total = this.options.total;
    const secs = (Date.now() - this.start) / 1000;
    return {
      count: total ? `${this.done}/${total}` : `${this.done}`,
      secs: `${secs.toFixed(1)}s`,
      rate: secs > 0 ? ` ${(this.done / secs).toFixed(1)}/s` : "",
      note: this.extra ? ` ${this.extra}` : "",
    };
  }

  private render(final: boolean): void {
    if (this.options.quiet || env.quiet) return;
    const total = this.options.total;
    if (this.tty) {
      if (!this.bar) {
        this.bar = new TerminalBar({
          stream: this.stream,
          format: `${this.options.label} ${total ? "{bar} " : ""}{count} {secs}{rate}{note}`,
          barsize: BAR_WIDTH,
          barCompleteChar: "█",
          barIncompleteChar: "·",
          hideCursor: false,
          clearOnComplete: false,
          stopOnComplete: false,
          linewrap: true,
          fps: 10,
        });
        this.bar.start(total ?? 0, 0, this.tail());
      }
      this.bar.update(Math.min(this.done, total ?? this.done), this.tail());
      if (final) this.bar.stop();
      return;
    }
    const frac = total ? Math.min(1, this.done / total) : 0;
    const step = Math.floor(frac * 10);
    if (!final && (total === undefined || step === this.lastPrinted)) return;
    this.lastPrinted = step;
    const bar = total ? "█".repeat(Math.round(frac * BAR_WIDTH)).padEnd(BAR_WIDTH, "·") : "";
    const t = this.tail();
    this.stream.write(`${this.options.label} ${bar} ${t.count} ${t.secs}${t.rate}${t.note}\n`);
  }
}
