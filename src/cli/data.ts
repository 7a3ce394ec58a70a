import { fetchData, verifyData } from "../data/fetch.js";
import { MANIFEST } from "../data/manifest.js";
import { kitPaths } from "../data/paths.js";
import { parseOptions, UsageError, type Command } from "./command.js";

const HELP = `fulcra data <subcommand> — the official FULCRA files

Subcommands:
  fetch [NAME...]   download the files from their pinned URLs into data/raw/,
                    verify them (git blob id, sha256, size) and move each into
                    place only once verified
      --from DIR    copy from a mirror folder instead of downloading
      --force       fetch again even when a verified copy is present
      --quiet       no progress bars
  verify            re-check every file in data/raw/ against the manifest
  list              the manifest: every official file, its kind and hashes

Files the source lacks are reported; that is an error only for files named
on the command line. Data folder: data/raw/ (override with FULCRA_DATA_DIR).`;

export const command: Command = {
  summary: "fetch, verify and list the official FULCRA data files",
  help: HELP,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === "fetch") {
      const { values, positionals } = parseOptions(rest, { from: { type: "string" }, force: { type: "boolean" }, quiet: { type: "boolean" }, help: { type: "boolean", short: "h" } }, "data");
      if (values.help) return console.log(HELP), 0;
      const results = await fetchData({ from: values.from, force: values.force, quiet: values.quiet, names: positionals });
      for (const r of results) console.log(`${r.status.padEnd(18)} ${r.name}${r.message ? `  (${r.message})` : ""}`);
      const failed = results.filter((r) => r.status === "failed");
      console.log(`data: ${results.filter((r) => r.status !== "failed" && r.status !== "missing-at-source").length} verified in ${kitPaths().rawDir}, ${results.filter((r) => r.status === "missing-at-source").length} not at source, ${failed.length} failed`);
      return failed.length ? 1 : 0;
    }
    if (sub === "verify") {
      const results = verifyData();
      for (const r of results) console.log(`${r.status.padEnd(7)} ${r.name}${r.message ? `  ${r.message}` : ""}`);
      const bad = results.filter((r) => r.status === "bad").length;
      const ok = results.filter((r) => r.status === "ok").length;
      console.log(`data: ${ok} ok, ${bad} bad, ${results.length - ok - bad} absent`);
      if (ok === 0 && bad === 0) console.log("No data yet: run `npx fulcra data fetch`.");
      return bad > 0 || ok === 0 ? 1 : 0;
    }
    if (sub === "list") {
      for (const e of MANIFEST) console.log(`${e.name.padEnd(28)} ${e.kind.padEnd(17)} ${e.gitBlobSha1}  ${e.localPath}`);
      return 0;
    }
    if (sub === "--help" || sub === "-h") return console.log(HELP), 0;
    throw new UsageError(`unknown subcommand "${sub ?? ""}"; use fetch, verify or list`);
  },
};
