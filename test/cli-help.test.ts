import { test } from "node:test";
import assert from "node:assert/strict";
import { loadCommands, main } from "../src/cli/main.js";
import type { CommandSpec } from "../src/cli/program.js";

/** Runs `fulcra ARGS` in this process; returns the exit code and what went to stdout and stderr. */
async function fulcra(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    return { code: await main(args), stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

/** Every command and subcommand with the words that reach it ("evaluator train --backbone DIR" for the routed one). */
function walk(spec: CommandSpec, path: string[]): { spec: CommandSpec; words: string[] }[] {
  const words = spec.shownAs ? spec.shownAs.split(" ").map((w) => (w === "DIR" ? "some-folder" : w)) : [...path, spec.name];
  return [{ spec, words }, ...(spec.subcommands ?? []).flatMap((s) => walk(s, words))];
}

/** The option names (--x, -x) on the option lines of a help text. */
function optionLines(help: string): Set<string> {
  const section = help.split(/^Options:$/m)[1]?.split(/^\S/m)[0] ?? "";
  const names = new Set<string>();
  for (const m of section.matchAll(/^ {2}((?:-\w, )?--[\w-]+)/gm)) for (const n of m[1].split(", ")) names.add(n);
  return names;
}

const COMMANDS = await loadCommands();
const ALL = COMMANDS.flatMap((c) => walk(c, []));

test("every command's --help lists exactly its declared options, each with its value name and default", async () => {
  assert.ok(ALL.length >= 20, `only ${ALL.length} commands found`);
  let checked = 0;
  for (const { spec, words } of ALL) {
    const r = await fulcra([...words, "--help"]);
    const where = `fulcra ${words.join(" ")} --help`;
    assert.equal(r.code, 0, `${where}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^fulcra ${(spec.shownAs ?? words.join(" ")).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} — `), where);
    const flags = spec.flags ?? {};
    const expected = new Set(["-h", "--help", ...Object.keys(flags).map((k) => `--${k}`)]);
    for (const d of Object.values(flags)) if (d.short) expected.add(`-${d.short}`);
    assert.deepEqual([...optionLines(r.stdout)].sort(), [...expected].sort(), `${where}: option lines`);
    for (const [k, d] of Object.entries(flags)) {
      const term = `--${k}${d.type === "string" ? ` <${d.arg ?? "value"}>` : ""}`;
      assert.ok(r.stdout.includes(term), `${where}: "${term}" missing`);
      if (d.default !== undefined) {
        const line = r.stdout
          .slice(r.stdout.indexOf(term))
          .split(/\n {2}-/)[0]
          .replace(/\s+/g, " ");
        assert.ok(line.includes(`(default: ${d.default})`), `${where}: default of --${k} not shown in "${line}"`);
      }
      checked++;
    }
    // A command with subcommands lists each one that is not reached through a route.
    for (const sub of spec.subcommands ?? [])
      if (!sub.hidden) assert.match(r.stdout, new RegExp(`^ {2}${sub.name}\\s+\\S`, "m"), `${where}: subcommand ${sub.name}`);
  }
  assert.ok(checked > 100, `only ${checked} options checked`);
});

test("fulcra --help lists every command with its summary; a command group without a subcommand prints its help and exits 2", async () => {
  const r = await fulcra(["--help"]);
  assert.equal(r.code, 0);
  for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^ {2}${c.name}\\s+${c.summary.slice(0, 20).replace(/[()]/g, "\\$&")}`, "m"));
  const hh = await fulcra(["hh"]);
  assert.equal(hh.code, 2);
  assert.match(hh.stderr, /^fulcra hh — /);
  assert.match(hh.stderr, /^ {2}reward-model\s/m);
  const none = await fulcra([]);
  assert.equal(none.code, 2);
});

test("usage mistakes are one line naming the command, the flag and the help to read, exit 2; --help wins over a bad value", async () => {
  const unknown = await fulcra(["data", "list", "--x"]);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, "fulcra data: Unknown option '--x' (see `fulcra data list --help`)");
  assert.equal(unknown.stdout, "");
  const sub = await fulcra(["models", "sore"]);
  assert.equal(sub.code, 2);
  assert.match(sub.stderr, /^fulcra models: unknown subcommand "sore"; did you mean score\?; use score, fetch/);
  const missing = await fulcra(["hh", "elo", "--rule", "standard"]);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, "fulcra hh: --comparisons is required (see `fulcra hh elo --help`)");
  const value = await fulcra(["hh", "elo", "--comparisons"]);
  assert.equal(value.code, 2);
  assert.match(value.stderr, /^fulcra hh: option '--comparisons <FILE>' needs a value/);
  const help = await fulcra(["align", "--method", "ppo", "--n=0", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^fulcra align — /);
  const backbone = await fulcra(["evaluator", "train", "--backbone", "x", "--head", "ordinal"]);
  assert.equal(backbone.code, 2);
  assert.equal(backbone.stderr, 'fulcra evaluator: --head expects classification or regression, got "ordinal"');
});
