import { test } from "node:test";
import assert from "node:assert/strict";
import { Progress } from "../src/runtime/progress.js";

/** Runs `body` with FULCRA_QUIET unset (the test command sets it), restoring it afterwards. */
function loud(body: () => void): void {
  const saved = process.env.FULCRA_QUIET;
  delete process.env.FULCRA_QUIET;
  try {
    body();
  } finally {
    if (saved !== undefined) process.env.FULCRA_QUIET = saved;
  }
}

/** A stream that records what is written; `isTTY` as asked. */
function recorder(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = {
    isTTY,
    columns: 200,
    write: (s: string) => (chunks.push(String(s)), true),
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
  } as unknown as NodeJS.WriteStream;
  return { stream, text: () => chunks.join("") };
}

test("progress off a terminal: one line per tenth of the way and one at the end; quiet prints nothing", () =>
  loud(() => {
    const { stream, text } = recorder(false);
    const bar = new Progress({ label: "demo", total: 20, stream });
    for (let i = 0; i < 20; i++) bar.tick(1, i === 19 ? "last" : undefined);
    bar.finish();
    const lines = text().trimEnd().split("\n");
    // Ticks 1, 2, 4, …, 20 start a new tenth (steps 0 to 10), then the end.
    assert.equal(lines.length, 12, text());
    assert.match(lines[0], /^demo █·{23} 1\/20 \d+\.\ds/);
    assert.match(lines[5], /^demo █{12}·{12} 10\/20 /);
    assert.match(lines[11], /^demo █{24} 20\/20 \d+\.\ds( [\d.]+\/s)? last$/);
    const open = recorder(false);
    const counter = new Progress({ label: "open", stream: open.stream });
    counter.tick(3);
    counter.tick(4);
    counter.finish("done");
    assert.match(open.text(), /^open {2}7 \d+\.\ds( [\d.]+\/s)? done\n$/, "without a total only the end is printed");
    const quiet = recorder(false);
    const q = new Progress({ label: "q", total: 2, stream: quiet.stream, quiet: true });
    q.tick(2);
    q.finish();
    assert.equal(quiet.text(), "");
    process.env.FULCRA_QUIET = "1";
    const env = recorder(false);
    const e = new Progress({ label: "e", total: 2, stream: env.stream });
    e.tick(2);
    e.finish();
    assert.equal(env.text(), "", "FULCRA_QUIET=1 silences every bar");
    delete process.env.FULCRA_QUIET;
  }));

test("progress on a terminal: the bar is redrawn in place and ends full, with the note", () =>
  loud(() => {
    const { stream, text } = recorder(true);
    const bar = new Progress({ label: "tty", total: 4, stream });
    for (let i = 0; i < 4; i++) bar.tick(1, `loss ${i}`);
    bar.finish();
    const out = text();
    assert.ok(out.includes(`tty ${"█".repeat(24)} 4/4`), out);
    assert.match(out, /4\/4 \d+\.\ds( [\d.]+\/s)? loss 3/);
    assert.doesNotMatch(out, /^tty .*\n/, "not the plain lines written off a terminal");
  }));
