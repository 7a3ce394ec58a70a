/**
 * The artifact store on its own, with small fake builders: reuse on a
 * matching key, a rebuild (and the note saying why) on another one, one build
 * when two calls race for the lock, nothing half-built after a crash.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  codeHash,
  ensureArtifact,
  hashParts,
  keyDifference,
  keyHash,
  stableJson,
  type ArtifactKey,
  type ArtifactSpec,
} from "../src/runtime/artifacts.js";
import { tempDir } from "./helpers.js";

const KEY: ArtifactKey = { config: { seed: 1, width: 8 }, data: "d1", code: "c1" };

/** A folder artifact: key.json (its key) and value.txt (seed × 10); `builds` counts the builds. */
function toy(path: string, key: ArtifactKey, counter: { builds: number; lines: string[] }, extra: Partial<ArtifactSpec<number>> = {}) {
  const spec: ArtifactSpec<number> = {
    what: "toy",
    path,
    key,
    recorded: (p) => JSON.parse(readFileSync(join(p, "key.json"), "utf8")) as ArtifactKey,
    build: async (target) => {
      counter.builds++;
      await new Promise((r) => setTimeout(r, 50));
      const value = Number(key.config.seed) * 10;
      writeFileSync(join(target, "value.txt"), String(value));
      writeFileSync(join(target, "key.json"), JSON.stringify(key));
      return value;
    },
    load: (p) => Number(readFileSync(join(p, "value.txt"), "utf8")),
    log: (line) => counter.lines.push(line),
    ...extra,
  };
  return spec;
}

test("keys: order-free configuration, short hashes, and the differing parts named", () => {
  assert.equal(stableJson({ b: 1, a: { d: [2, 1], c: 0 } }), '{"a":{"c":0,"d":[2,1]},"b":1}');
  assert.equal(keyHash({ ...KEY, config: { width: 8, seed: 1 } }), keyHash(KEY));
  assert.notEqual(keyHash({ ...KEY, data: "d2" }), keyHash(KEY));
  assert.match(hashParts(["a", "b"]), /^[0-9a-f]{16}$/);
  assert.notEqual(hashParts(["a", "b"]), hashParts(["ab"]), "parts are separated");
  assert.deepEqual(keyDifference(KEY, KEY), []);
  assert.deepEqual(keyDifference(KEY, { config: { seed: 2, width: 8, extra: true }, data: "d2", code: "" }), [
    "configuration: seed, extra",
    "data",
    "code not recorded",
  ]);
  assert.deepEqual(keyDifference(KEY, undefined), ["no readable key: an older or damaged artifact"]);
});

test("codeHash follows the content and the names of the .js files under a folder", () => {
  const dir = tempDir();
  mkdirSync(join(dir, "sub"));
  writeFileSync(join(dir, "a.js"), "export const a = 1;");
  writeFileSync(join(dir, "sub", "b.js"), "export const b = 2;");
  writeFileSync(join(dir, "notes.md"), "not code");
  const h = codeHash([dir], dir);
  writeFileSync(join(dir, "notes.md"), "still not code");
  assert.equal(codeHash([dir], dir), h, "only .js files count");
  writeFileSync(join(dir, "sub", "b.js"), "export const b = 3;");
  assert.notEqual(codeHash([dir], dir), h);
  assert.equal(codeHash([join(dir, "missing")], dir), codeHash([], dir), "a missing path adds nothing");
});

test("a matching key reuses the artifact; another key rebuilds it and says why", async () => {
  const path = join(tempDir(), "runs", "toy");
  mkdirSync(path, { recursive: true });
  const c = { builds: 0, lines: [] as string[] };
  const first = await ensureArtifact(toy(path, KEY, c));
  assert.deepEqual([first.status, first.value, c.builds], ["built", 10, 1], "an empty folder counts as nothing there");
  assert.equal(first.key, keyHash(KEY));
  assert.ok(!existsSync(`${path}.building`) && !existsSync(`${path}.lock`), "no staging folder or lock left behind");

  const again = await ensureArtifact(toy(path, { ...KEY, config: { width: 8, seed: 1 } }, c));
  assert.deepEqual([again.status, again.value, c.builds], ["reused", 10, 1]);
  assert.deepEqual(c.lines, []);

  const seed2 = { ...KEY, config: { ...KEY.config, seed: 2 } };
  const other = await ensureArtifact(toy(path, seed2, c));
  assert.deepEqual([other.status, other.value, c.builds], ["rebuilt", 20, 2]);
  assert.equal(other.reason, "configuration: seed");
  assert.equal(c.lines.length, 2);
  assert.match(
    c.lines[0],
    /^toy: .*runs\/toy differs from the one asked for \(configuration: seed\); building it again \(key [0-9a-f]{16}\)$/,
  );
  assert.match(c.lines[1], /^toy: the replaced one is kept in .*runs\/toy\.replaced$/);
  assert.equal(readFileSync(join(`${path}.replaced`, "value.txt"), "utf8"), "10", "nothing is deleted outright");

  const newCode = await ensureArtifact(toy(path, { ...seed2, code: "c2" }, c, { keepReplaced: (p) => `${p}.old` }));
  assert.deepEqual([newCode.status, newCode.reason, c.builds], ["rebuilt", "code", 3]);
  assert.equal(JSON.parse(readFileSync(join(`${path}.old`, "key.json"), "utf8")).code, "c1", "the replaced one is kept where asked");
  const newData = await ensureArtifact(toy(path, { ...seed2, code: "c2", data: "d2" }, c));
  assert.deepEqual([newData.status, newData.reason], ["rebuilt", "data"]);
  const forced = await ensureArtifact(toy(path, { ...seed2, code: "c2", data: "d2" }, c, { force: true }));
  assert.deepEqual([forced.status, forced.reason, c.builds], ["rebuilt", "force", 5]);

  // An artifact whose record cannot be read is built again, never trusted.
  writeFileSync(join(path, "key.json"), "{ half");
  const damaged = await ensureArtifact(toy(path, { ...seed2, code: "c2", data: "d2" }, c));
  assert.deepEqual([damaged.status, c.builds], ["rebuilt", 6]);
  assert.match(damaged.reason!, /no readable key/);
});

test("two builds of the same artifact at once: the second waits on the lock and reuses the first one's", async () => {
  const path = join(tempDir(), "toy");
  const c = { builds: 0, lines: [] as string[] };
  const slow = (): Partial<ArtifactSpec<number>> => ({
    build: async (target) => {
      c.builds++;
      await new Promise((r) => setTimeout(r, 400));
      writeFileSync(join(target, "value.txt"), "10");
      writeFileSync(join(target, "key.json"), JSON.stringify(KEY));
      return 10;
    },
  });
  const [a, b] = await Promise.all([ensureArtifact(toy(path, KEY, c, slow())), ensureArtifact(toy(path, KEY, c, slow()))]);
  assert.equal(c.builds, 1, "built once");
  assert.deepEqual([a.status, b.status].sort(), ["built", "reused"]);
  assert.deepEqual([a.value, b.value], [10, 10]);
  assert.equal(c.lines.filter((l) => /another process is building .* waiting for it/.test(l)).length, 1);
});

test("two processes asking for the same artifact: one builds, the other waits and reuses it", async () => {
  const dir = tempDir();
  const path = join(dir, "toy");
  const counter = join(dir, "builds.txt");
  writeFileSync(counter, "");
  const script = `
    import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
    import { join } from "node:path";
    import { ensureArtifact } from ${JSON.stringify(new URL("../src/runtime/artifacts.js", import.meta.url).href)};
    const key = ${JSON.stringify(KEY)};
    const r = await ensureArtifact({
      what: "toy", path: ${JSON.stringify(path)}, key,
      recorded: (p) => JSON.parse(readFileSync(join(p, "key.json"), "utf8")),
      build: async (t) => {
        appendFileSync(${JSON.stringify(counter)}, "b");
        await new Promise((r) => setTimeout(r, 3000));
        writeFileSync(join(t, "key.json"), JSON.stringify(key));
        return 1;
      },
      load: () => 1,
      log: (line) => console.log(line),
    });
    console.log("status " + r.status);`;
  const run = () =>
    new Promise<string>((done, fail) => {
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.on("error", fail);
      child.on("close", (code) => (code === 0 ? done(out) : fail(new Error(`child exited with ${code}: ${out}`))));
    });
  const outputs = await Promise.all([run(), run()]);
  assert.equal(readFileSync(counter, "utf8"), "b", "built once");
  const statuses = outputs.map((o) => /status (\w+)/.exec(o)?.[1]).sort();
  assert.deepEqual(statuses, ["built", "reused"]);
  assert.ok(
    outputs.some((o) => /another process is building .* waiting for it/.test(o)),
    outputs.join("\n"),
  );
});

test("a lock left by a process that died is taken over", async () => {
  const path = join(tempDir(), "toy");
  const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
  mkdirSync(`${path}.lock`, { recursive: true });
  writeFileSync(`${path}.lock.owner`, JSON.stringify({ pid: dead, host: hostname(), since: new Date().toISOString() }));
  const c = { builds: 0, lines: [] as string[] };
  const r = await ensureArtifact(toy(path, KEY, c));
  assert.deepEqual([r.status, r.value, c.builds], ["built", 10, 1]);
  assert.ok(
    c.lines.some((l) => /was left by a process that no longer runs; taking it over/.test(l)),
    c.lines.join("\n"),
  );

  // The earlier lock format, a plain file holding the pid, is taken over the same way.
  const other = join(tempDir(), "toy");
  writeFileSync(`${other}.lock`, String(dead));
  const r2 = await ensureArtifact(toy(other, KEY, c));
  assert.deepEqual([r2.status, c.builds], ["built", 2]);
});

test("a crash mid-build leaves no half artifact: the old one stays, the build resumes only for the same key", async () => {
  const path = join(tempDir(), "toy");
  const c = { builds: 0, lines: [] as string[] };
  await ensureArtifact(toy(path, KEY, c));
  const seed2 = { ...KEY, config: { ...KEY.config, seed: 2 } };
  const crashing: Partial<ArtifactSpec<number>> = {
    build: async (target) => {
      writeFileSync(join(target, "half.txt"), "written before the crash");
      writeFileSync(join(target, "key.json"), JSON.stringify(seed2));
      throw new Error("crash");
    },
  };
  await assert.rejects(ensureArtifact(toy(path, seed2, c, crashing)), /crash/);
  assert.equal(readFileSync(join(path, "value.txt"), "utf8"), "10", "the stored artifact is untouched");
  assert.ok(!existsSync(join(path, "half.txt")));
  assert.ok(!existsSync(`${path}.lock`), "the lock is released");

  // The same key again: the interrupted build's folder is handed back (a builder resumes from its checkpoints there).
  const seen: string[] = [];
  const resuming: Partial<ArtifactSpec<number>> = {
    build: async (target) => {
      seen.push(...(existsSync(join(target, "half.txt")) ? ["half.txt"] : []));
      writeFileSync(join(target, "value.txt"), "20");
      writeFileSync(join(target, "key.json"), JSON.stringify(seed2));
      return 20;
    },
  };
  const r = await ensureArtifact(toy(path, seed2, c, resuming));
  assert.deepEqual([r.status, r.value, seen], ["rebuilt", 20, ["half.txt"]]);
  assert.ok(c.lines.some((l) => /continuing the interrupted build/.test(l)));
  assert.ok(existsSync(join(path, "half.txt")), "what the builder kept is part of the artifact");

  // Another key after a crash: the leftover is removed first.
  const seed3 = { ...KEY, config: { ...KEY.config, seed: 3 } };
  await assert.rejects(ensureArtifact(toy(path, seed3, c, crashing)), /crash/);
  const seen2: string[] = [];
  await ensureArtifact(
    toy(path, KEY, c, {
      build: async (target) => {
        seen2.push(...(existsSync(join(target, "half.txt")) ? ["half.txt"] : []));
        writeFileSync(join(target, "value.txt"), "10");
        writeFileSync(join(target, "key.json"), JSON.stringify(KEY));
        return 10;
      },
    }),
  );
  assert.deepEqual(seen2, [], "a build for another key starts from an empty folder");

  // A builder that records a key other than the one asked for is an error, not a silent rebuild loop.
  await assert.rejects(
    ensureArtifact(
      toy(path, seed3, c, {
        build: async (target) => {
          writeFileSync(join(target, "key.json"), JSON.stringify(KEY));
          return 0;
        },
      }),
    ),
    /records another key than the one asked for \(configuration: seed\)/,
  );
  assert.equal(readFileSync(join(path, "value.txt"), "utf8"), "10");
});

test("a one-file artifact is written beside its place and renamed in", async () => {
  const file = join(tempDir(), "rm", "model.json");
  let builds = 0;
  const spec = (key: ArtifactKey): ArtifactSpec<string> => ({
    what: "one file",
    path: file,
    kind: "file",
    key,
    recorded: (p) => (JSON.parse(readFileSync(p, "utf8")) as { key: ArtifactKey }).key,
    build: async (target) => {
      builds++;
      assert.equal(target, `${file}.building`);
      writeFileSync(target, JSON.stringify({ key, body: "weights" }));
      return "weights";
    },
    load: (p) => (JSON.parse(readFileSync(p, "utf8")) as { body: string }).body,
    quiet: true,
  });
  assert.equal((await ensureArtifact(spec(KEY))).status, "built");
  assert.equal((await ensureArtifact(spec(KEY))).status, "reused");
  assert.equal((await ensureArtifact(spec({ ...KEY, data: "d9" }))).status, "rebuilt");
  assert.equal(builds, 2);
  assert.ok(!existsSync(`${file}.building`));
});
