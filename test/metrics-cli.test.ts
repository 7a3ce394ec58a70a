import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../src/runtime/env.js";
import { dataFile, tempDir } from "./helpers.js";

const BIN = join(PROJECT_ROOT, "bin", "fulcra.js");
function fulcra(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, FULCRA_QUIET: "1" } });
}

test("hh summary --json prints one object with the recomputed means of the released file", () => {
  const out = execFileSync(process.execPath, [BIN, "hh", "summary", dataFile("harmless_test_gpt-4"), "--json"], { encoding: "utf8" });
  const s = JSON.parse(out);
  assert.equal(s.n, 1523);
  // Independent values (see metrics.test.ts for how they were computed).
  assert.ok(Math.abs(s.reward_mean - 0.2571717539563477) < 1e-9);
  assert.ok(Math.abs(s.e_distance_mean - 1.0734150560168487) < 1e-9);
  assert.ok(Math.abs(s.h_distance_mean - 1.3833722930421513) < 1e-9);
  assert.ok(Math.abs(s.value_mean[5] - 0.7915816506489075) < 1e-9);
  assert.equal(s.value_mean.length, 10);
});

test("hh summary: bad lines reported by line number and a non-zero exit; a bad target is a usage error", () => {
  const lines = readFileSync(dataFile("harmless_test_gpt-35-turbo"), "utf8").split("\n").slice(0, 3);
  const file = join(tempDir(), "broken.jsonl");
  writeFileSync(
    file,
    [lines[0], '{"prompt": "x"', lines[1], JSON.stringify({ ...JSON.parse(lines[2]), value_reward: [1, 2] })].join("\n") + "\n",
  );
  const r = fulcra(["hh", "summary", file]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /broken\.jsonl:2: bad JSON/);
  assert.match(r.stderr, /broken\.jsonl:4: field "value_reward" should be 10 finite numbers/);
  assert.match(r.stdout, /records\s+2 \(2 unreadable/);
  assert.match(r.stdout, /self-direction/);
  const t = fulcra(["hh", "summary", file, "--target", "mars"]);
  assert.equal(t.status, 2);
  assert.match(t.stderr, /unknown target "mars".*ideal, basealign-ideal, uk/);
  const custom = fulcra(["hh", "summary", dataFile("harmless_test_gpt-4"), "--json", "--target", "0,0,0,0,0,1,0,1,1,1"]);
  assert.equal(custom.status, 0);
  assert.ok(
    Math.abs(JSON.parse(custom.stdout).e_distance_mean - 1.0734150560168487) < 1e-9,
    "10 numbers equal to ideal give ideal's distances",
  );
});

test("hh reward-model train saves a model that loads and reports its held-out accuracy", async () => {
  const dir = tempDir();
  const r = fulcra(["hh", "reward-model", "train", "--out", dir, "--epochs", "1"]);
  assert.equal(r.status, 0, r.stderr);
  const m = /held-out pairwise accuracy ([\d.]+)% on 471 pairs/.exec(r.stdout);
  assert.ok(m, r.stdout);
  const { HelpfulnessRewardModel } = await import("../src/metrics/reward-model.js");
  const model = HelpfulnessRewardModel.load(join(dir, "model.json"));
  assert.equal(model.saved.config.epochs, 1);
  assert.equal((model.metrics.heldOutAccuracy * 100).toFixed(1), m[1]);
  const bad = fulcra(["hh", "reward-model", "fit"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown subcommand "fit"; use train \(see `fulcra hh reward-model --help`\)/);
});
