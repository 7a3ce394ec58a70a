/**
 * Running many slow jobs (endpoint calls) so that a crash or Ctrl-C loses
 * nothing: each finished job is appended to a JSONL file at once, and a
 * rerun skips the ids already in that file.
 *
 * Line format: `{"id": "<job id>", "result": <whatever the job returned>}`.
 */
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from "node:fs";
import { readLinesSync } from "../data/readers.js";

/** Whether a file is empty or ends with a newline (reads only its last byte). */
function endsWithNewline(file: string): boolean {
  const size = statSync(file).size;
  if (size === 0) return true;
  const fd = openSync(file, "r");
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}
import { dirname } from "node:path";
import pLimit from "p-limit";
import { Progress } from "../runtime/progress.js";
import { env } from "../runtime/env.js";

export interface ResumableOptions<I, R> {
  /** The JSONL file results are appended to (created if absent). */
  outFile: string;
  /** A stable id per item; items with an id already in `outFile` are skipped. */
  idOf: (item: I, index: number) => string;
  /** The job. Its result must survive JSON.stringify. */
  run: (item: I, index: number) => Promise<R>;
  /** Jobs in flight at once (default 4). */
  concurrency?: number;
  /**
   * "stop" (default): after the first failure start no new job, let running
   * ones finish, then throw (a rerun resumes). "continue": run everything and
   * return the failures.
   */
  onError?: "stop" | "continue";
  /** Progress bar label (default "jobs"); quiet silences it. */
  label?: string;
  quiet?: boolean;
}

export interface ResumableResult<R> {
  /** Every result by id: those found in the file and those run now. */
  results: Map<string, R>;
  /** Items skipped because the file already had them. */
  skipped: number;
  /** Items run in this call and written. */
  ran: number;
  /** Jobs that failed (not written, so a rerun tries them again). */
  failures: { id: string; index: number; error: Error }[];
  /** Lines of `outFile` that could not be read (for example torn by a crash), 1-based. */
  badLines: number[];
}

/** Reads the finished jobs of an output file. */
export function readDoneJobs<R>(outFile: string): { results: Map<string, R>; badLines: number[] } {
  const results = new Map<string, R>();
  const badLines: number[] = [];
  if (!existsSync(outFile)) return { results, badLines };
  for (const [line, text] of readLinesSync(outFile)) {
    if (text.trim() === "") continue;
    try {
      const obj = JSON.parse(text) as { id?: unknown; result?: unknown };
      if (typeof obj.id !== "string" || !("result" in obj)) throw new Error("no id/result");
      results.set(obj.id, obj.result as R);
    } catch {
      badLines.push(line);
    }
  }
  return { results, badLines };
}

/** Runs `items` through `run`, resuming from `outFile`. Results come back by id. */
export async function runResumable<I, R>(items: readonly I[], options: ResumableOptions<I, R>): Promise<ResumableResult<R>> {
  const { outFile, idOf, run } = options;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const onError = options.onError ?? "stop";
  mkdirSync(dirname(outFile), { recursive: true });

  const { results, badLines } = readDoneJobs<R>(outFile);
  if (badLines.length > 0 && !options.quiet && !env.quiet) {
    console.error(
      `fulcra: ${outFile}: ${badLines.length} unreadable line(s) ignored (${badLines.slice(0, 5).join(", ")}${badLines.length > 5 ? ", …" : ""}); those jobs run again`,
    );
  }
  // A file torn mid-line gets a fresh line before anything is appended.
  if (existsSync(outFile)) {
    if (!endsWithNewline(outFile)) appendFileSync(outFile, "\n");
  }

  const ids = items.map((item, i) => idOf(item, i));
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(id)) throw new Error(`job id "${id}" is used by more than one item (second at index ${i}); ids must be unique to resume`);
    seen.add(id);
  });
  const todo = ids.map((id, index) => ({ id, index })).filter((j) => !results.has(j.id));
  const skipped = items.length - todo.length;

  const progress = new Progress({ label: options.label ?? "jobs", total: todo.length, quiet: options.quiet });
  const failures: ResumableResult<R>["failures"] = [];
  let ran = 0;
  let stopped = false;

  // At most `concurrency` jobs in flight, started in item order; after a failure with
  // onError "stop", the jobs not yet started return at once.
  const limit = pLimit(concurrency);
  await Promise.all(
    todo.map(({ id, index }) =>
      limit(async () => {
        if (stopped) return;
        try {
          const result = await run(items[index], index);
          appendFileSync(outFile, JSON.stringify({ id, result }) + "\n");
          results.set(id, result);
          ran++;
        } catch (e) {
          failures.push({ id, index, error: e as Error });
          if (onError === "stop") stopped = true;
        }
        progress.tick();
      }),
    ),
  );
  progress.finish();

  if (onError === "stop" && failures.length > 0) {
    const first = failures[0];
    throw new Error(
      `job "${first.id}" (item ${first.index}) failed: ${first.error.message}\n${results.size} of ${items.length} jobs are saved in ${outFile}; run again to resume from there.`,
    );
  }
  return { results, skipped, ran, failures, badLines };
}

/** Maps `fn` over `items` with at most `concurrency` calls in flight; results in input order. */
export async function mapConcurrent<I, R>(
  items: readonly I[],
  concurrency: number,
  fn: (item: I, index: number) => Promise<R>,
): Promise<R[]> {
  const limit = pLimit(Math.max(1, concurrency));
  return Promise.all(items.map((item, i) => limit(() => fn(item, i))));
}
