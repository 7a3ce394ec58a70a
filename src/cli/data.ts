import { existsSync, statSync } from "node:fs";
import { fetchData, verifyData } from "../data/fetch.js";
import { MANIFEST } from "../data/manifest.js";
import { kitPaths } from "../runtime/env.js";
import { parseFlags, UsageError, type Command, type Flags } from "./command.js";

const HELP = `fulcra data <subcommand> — the official FULCRA files

Subcommands:
  fetch [NAME...]   download the files from their pinned URLs into data/raw/,
                    verify them (git blob id, sha256, size) and move each into
                    place only once verified
      --from DIR    copy from a mirror folder instead of downloading
      --force       fetch again even when a verified copy is present
      --quiet       no progress bars
      --lenient     exit 0 even when the source lacks some files (still listed)
  verify            re-check every file in data/raw/ against the manifest;
                    interrupted downloads (.part files) are listed as partial
  list              the manifest: every official file, its kind and hashes

Exit codes: 0 when every file asked for is verified in place (files a
mirror's MANIFEST.json says it does not hold are listed, not errors);
1 when a file failed, or the source lacks one (unless --lenient);
2 for a usage mistake (unknown flag, --from a folder that does not exist).
Data folder: data/raw/ (override with FULCRA_DATA_DIR).`;

export const command: Command = {
  summary: "fetch, verify and list the official FULCRA data files",
  help: HELP,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === "fetch") {
      const flags = {
        from: { type: "string" },
        force: { type: "boolean" },
        quiet: { type: "boolean" },
        lenient: { type: "boolean" },
      } satisfies Flags;
      const { values, positionals } = parseFlags(rest, flags, "data fetch");
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
    }
    if (sub === "verify") {
      parseFlags(rest, {}, "data verify", { positionals: false });
      const results = verifyData();
      for (const r of results) console.log(`${r.status.padEnd(7)} ${r.name}${r.message ? `  ${r.message}` : ""}`);
      const bad = results.filter((r) => r.status === "bad").length;
      const ok = results.filter((r) => r.status === "ok").length;
      const partial = results.filter((r) => r.status === "partial").length;
      console.log(`data: ${ok} ok, ${bad} bad, ${partial} partial, ${results.length - ok - bad - partial} absent`);
      if (ok === 0 && bad === 0) console.log("No data yet: run `npx fulcra data fetch`.");
      return bad > 0 || partial > 0 || ok === 0 ? 1 : 0;
    }
    if (sub === "list") {
      parseFlags(rest, {}, "data list", { positionals: false });
      for (const e of MANIFEST) console.log(`${e.name.padEnd(28)} ${e.kind.padEnd(17)} ${e.gitBlobSha1}  ${e.localPath}`);
      return 0;
    }
    if (sub === "--help" || sub === "-h") return (console.log(HELP), 0);
    throw new UsageError(`unknown subcommand "${sub ?? ""}"; use fetch, verify or list`);
  },
};
