import { existsSync, statSync } from "node:fs";
import { fetchData, verifyData } from "../data/fetch.js";
import { MANIFEST } from "../data/manifest.js";
import { kitPaths } from "../runtime/env.js";
import { UsageError, type Flags } from "./command.js";
import { defineCommand, subcommand } from "./program.js";

const FETCH_FLAGS = {
  from: { type: "string", arg: "DIR", help: "copy from a mirror folder instead of downloading" },
  force: { type: "boolean", help: "fetch again even when a verified copy is present" },
  quiet: { type: "boolean", help: "no progress bars" },
  lenient: { type: "boolean", help: "exit 0 even when the source lacks some files (still listed)" },
} satisfies Flags;

const fetch = subcommand({
  name: "fetch",
  summary: "download the official files, verify them and move each into place",
  args: "[NAME...]",
  description: `Downloads the files (all, or the NAMEs given; see \`fulcra data list\`) from
their pinned URLs into data/raw/, verifies each (git blob id, sha256, size)
and moves it into place only once verified.`,
  flags: FETCH_FLAGS,
  after: `Exit codes: 0 when every file asked for is verified in place (files a
mirror's MANIFEST.json says it does not hold are listed, not errors);
1 when a file failed, or the source lacks one (unless --lenient);
2 for a usage mistake (unknown flag, --from a folder that does not exist).
Data folder: data/raw/ (override with FULCRA_DATA_DIR).`,
  async action(values, positionals) {
    for (const n of positionals)
      if (!MANIFEST.some((e) => e.name === n))
        throw new UsageError(`unknown data file "${n}"; known: ${MANIFEST.map((e) => e.name).join(", ")}`);
    if (values.from !== undefined && !(existsSync(values.from) && statSync(values.from).isDirectory()))
      throw new UsageError(`--from ${values.from}: no such folder`);
    const results = await fetchData({ from: values.from, force: values.force, quiet: values.quiet, names: positionals });
    for (const r of results) console.log(`${r.status.padEnd(18)} ${r.name}${r.message ? `  (${r.message})` : ""}`);
    const count = (st: string) => results.filter((r) => r.status === st).length;
    const failed = count("failed");
    const missing = count("missing-at-source");
    console.log(
      `data: ${count("fetched") + count("present")} verified in ${kitPaths().rawDir}, ${count("not-offered")} not offered by the mirror, ${missing} missing at source, ${failed} failed`,
    );
    if (failed > 0) return 1;
    if (missing > 0 && !values.lenient) {
      console.error(`fulcra data fetch: ${missing} file(s) missing at source; pass --lenient to accept that`);
      return 1;
    }
    return 0;
  },
});

const verify = subcommand({
  name: "verify",
  summary: "re-check every file in data/raw/ against the manifest",
  description: `Interrupted downloads (.part files) are listed as partial. Exit code 1 when a
file is bad or partial, or when there is no data yet.`,
  async action() {
    const results = verifyData();
    for (const r of results) console.log(`${r.status.padEnd(7)} ${r.name}${r.message ? `  ${r.message}` : ""}`);
    const bad = results.filter((r) => r.status === "bad").length;
    const ok = results.filter((r) => r.status === "ok").length;
    const partial = results.filter((r) => r.status === "partial").length;
    console.log(`data: ${ok} ok, ${bad} bad, ${partial} partial, ${results.length - ok - bad - partial} absent`);
    if (ok === 0 && bad === 0) console.log("No data yet: run `npx fulcra data fetch`.");
    return bad > 0 || partial > 0 || ok === 0 ? 1 : 0;
  },
});

const list = subcommand({
  name: "list",
  summary: "the manifest: every official file, its kind and hashes",
  async action() {
    for (const e of MANIFEST) console.log(`${e.name.padEnd(28)} ${e.kind.padEnd(17)} ${e.gitBlobSha1}  ${e.localPath}`);
    return 0;
  },
});

export const command = defineCommand({
  name: "data",
  summary: "fetch, verify and list the official FULCRA data files",
  subcommands: [fetch, verify, list],
});
