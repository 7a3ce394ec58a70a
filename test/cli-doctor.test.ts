import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT, kitPaths } from "../src/runtime/env.js";
import { MANIFEST } from "../src/data/manifest.js";
import { verifyData } from "../src/data/fetch.js";
import { satisfiesEngine, type DoctorReport } from "../src/cli/doctor.js";

const BIN = join(PROJECT_ROOT, "bin", "fulcra.js");

function doctor(env: Record<string, string | undefined> = {}, args = ["--json"]) {
  const e: NodeJS.ProcessEnv = { ...process.env, FULCRA_QUIET: "1", ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete e[k];
  return spawnSync(process.execPath, [BIN, "doctor", ...args], { encoding: "utf8", env: e });
}

test("fulcra doctor --json on this machine: the backends in order, webgpu unavailable with Dawn's reason, wasm selected", (t) => {
  const r = doctor({ FULCRA_BACKEND: undefined });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as DoctorReport;
  assert.deepEqual(Object.keys(report), ["selected", "forced", "backends", "node", "jupyter", "chromium", "data", "runs", "problems"]);
  assert.deepEqual(
    report.backends.map((b) => b.name),
    ["gpu", "webgpu", "node", "wasm", "cpu"],
  );
  for (const b of report.backends) {
    assert.deepEqual(Object.keys(b).slice(0, 3), ["name", "available", "reason"]);
    assert.equal(typeof b.available, "boolean");
    assert.ok(b.reason.length > 0, `${b.name} has a reason`);
  }
  const by = Object.fromEntries(report.backends.map((b) => [b.name, b]));
  if (by.webgpu.available || by.gpu.available) return t.skip("this machine has a GPU");
  assert.match(by.webgpu.reason, /^Dawn found no WebGPU adapter/);
  assert.equal(by.gpu.available, false);
  assert.match(by.gpu.reason, /tfjs-node-gpu not installed/);
  assert.equal(by.wasm.available, true);
  assert.equal(by.cpu.available, true);
  assert.equal(report.selected, "wasm");
  assert.equal(report.forced, null);
  assert.equal(report.node.version, process.version);
  assert.equal(report.node.ok, true);
  // Data: one entry per manifest file, in the states `fulcra data verify` finds.
  assert.deepEqual(
    report.data.files.map((f) => f.name),
    MANIFEST.map((e) => e.name),
  );
  const verify = verifyData(kitPaths().rawDir);
  assert.equal(report.data.verified, verify.filter((v) => v.status === "ok").length);
  assert.equal(report.data.missing, verify.filter((v) => v.status === "absent").length);
  assert.equal(report.data.verified + report.data.present + report.data.missing, MANIFEST.length);
  assert.equal(report.runs.dir, kitPaths().runsDir);
});

test("fulcra doctor with FULCRA_BACKEND=webgpu: nothing selected, the problem named", (t) => {
  const r = doctor({ FULCRA_BACKEND: "webgpu" });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as DoctorReport;
  if (report.backends.find((b) => b.name === "webgpu")!.available) return t.skip("this machine has a WebGPU adapter");
  assert.equal(report.forced, "webgpu");
  assert.equal(report.selected, null);
  assert.ok(report.problems.some((p) => /^FULCRA_BACKEND=webgpu cannot be used: Dawn found no WebGPU adapter/.test(p)));
});

test("fulcra doctor prints one line per backend for people", () => {
  const r = doctor({ FULCRA_BACKEND: undefined }, []);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n");
  for (const name of ["gpu", "webgpu", "node", "wasm", "cpu"])
    assert.ok(
      lines.some((l) => new RegExp(`^  ${name}\\s+(yes|no)\\s+\\S`).test(l)),
      `line for ${name}`,
    );
  assert.match(r.stdout, /^selected {2}\S+$/m);
});

test("a forced webgpu with no adapter stops a command at once, in one line", (t) => {
  const probe = doctor({ FULCRA_BACKEND: undefined });
  const report = JSON.parse(probe.stdout) as DoctorReport;
  if (report.backends.find((b) => b.name === "webgpu")!.available) return t.skip("this machine has a WebGPU adapter");
  const r = spawnSync(
    process.execPath,
    [BIN, "evaluator", "train", "--out", join(kitPaths().runsDir, "never-written"), "--max-per-file", "4", "--epochs", "1"],
    {
      encoding: "utf8",
      env: { ...process.env, FULCRA_QUIET: "1", FULCRA_BACKEND: "webgpu" },
    },
  );
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^fulcra evaluator: FULCRA_BACKEND=webgpu cannot be used: Dawn found no WebGPU adapter .*Unset FULCRA_BACKEND/);
});

test("Node engine ranges", () => {
  assert.equal(satisfiesEngine("v20.19.0", ">=20.19"), true);
  assert.equal(satisfiesEngine("v20.18.3", ">=20.19"), false);
  assert.equal(satisfiesEngine("v22.1.0", ">=20.19"), true);
  assert.equal(satisfiesEngine("v20.19.0", ">=20.19.1"), false);
});
