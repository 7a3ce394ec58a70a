import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../src/runtime/env.js";
import { PLAN, markdown, speedup, table } from "../scripts/device-run.js";

test("speed-up: rates divide webgpu by wasm, times wasm by webgpu, other metrics have none", () => {
  assert.equal(speedup("GFLOP/s", 11600, 4), 2900);
  assert.equal(speedup("tokens/s", 300, 100), 3);
  assert.equal(speedup("s", 2, 10), 5);
  assert.equal(speedup("ms", 50, 1000), 20);
  assert.equal(speedup("s/epoch", 4, 8), 2);
  assert.equal(speedup("", 1e-5, 5e-7), null);
  assert.equal(speedup("s", 0, 10), null);
  assert.equal(speedup("s", NaN, 10), null);
});

test("the table pairs each workload's measurements by backend and the Markdown shows them", () => {
  const rows = table(
    [
      { workload: "matmul-2048", backend: "webgpu", metric: "throughput", value: 11600, unit: "GFLOP/s" },
      { workload: "matmul-2048", backend: "wasm", metric: "throughput", value: 4, unit: "GFLOP/s" },
      { workload: "ppo-iteration", backend: "wasm", metric: "seconds", value: 37.8, unit: "s" },
    ],
    ["webgpu", "wasm"],
  );
  assert.deepEqual(
    rows.map((r) => [r.workload, r.values, r.speedup]),
    [
      ["matmul-2048", { webgpu: 11600, wasm: 4 }, 2900],
      ["ppo-iteration", { wasm: 37.8 }, null],
    ],
  );
  const md = markdown(
    rows,
    [{ step: "ppo", backend: "webgpu", status: "failed", seconds: 1, note: "exit 1: boom" }],
    ["title"],
    ["webgpu", "wasm"],
  );
  assert.equal(
    md,
    [
      "title",
      "",
      "| workload | metric | webgpu | wasm | unit | speed-up webgpu/wasm |",
      "|---|---|---:|---:|---|---:|",
      "| matmul-2048 | throughput | 11600 | 4.00 | GFLOP/s | 2900× |",
      "| ppo-iteration | seconds | — | 37.8 | s | — |",
      "",
      "Not measured:",
      "",
      "- ppo on webgpu: failed (exit 1: boom)",
      "",
    ].join("\n"),
  );
});

test("every workload of the plan is a benchmark script that follows the convention (bench-hub may come later)", () => {
  const names = PLAN.map((s) => s.name);
  assert.deepEqual(names, ["matmul", "lm", "hub", "evaluator", "ppo"]);
  for (const step of PLAN) {
    const source = join(PROJECT_ROOT, "scripts", step.entry.replace(/\.mjs$/, ".ts"));
    if (step.name === "hub" && !existsSync(source)) continue;
    assert.ok(existsSync(source), source);
    const text = readFileSync(source, "utf8");
    assert.match(text, /benchSetup\(\)|--backend/, `${step.entry} takes --backend and --json`);
  }
  // The device budget (420 s) leaves room for start and unpacking within 8 minutes; each step fits in it.
  for (const step of PLAN) assert.ok(step.seconds <= 90);
  const script = readFileSync(join(PROJECT_ROOT, "scripts", "device-check.sh"), "utf8");
  assert.match(script, /DEVICE_BUDGET_S:-420/);
  assert.match(readFileSync(join(PROJECT_ROOT, ".gitignore"), "utf8"), /^device-bundle\/$/m);
});
