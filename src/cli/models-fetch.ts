/** `fulcra models fetch REPO_ID --out DIR`: a hub model repository into a local folder. */
import { UsageError, parseOptions, type Command } from "./command.js";

export const FETCH_HELP = `fulcra models fetch — download a model repository from the Hugging Face hub

Usage:
  fulcra models fetch REPO_ID --out DIR [--revision R] [--all] [--include GLOB,…] [--quiet]

Fetches what a model folder needs: config.json, the tokenizer files and the safetensors
weights (single file or shards with model.safetensors.index.json), or pytorch_model.bin when
the revision has no safetensors (microsoft/deberta-v3-large). Other formats of the same
weights (tf_model.h5, onnx, …) are left out.

Options:
  --out DIR          folder to write (created if needed; files already complete are kept)
  --revision R       branch, tag or commit (default main); pin a commit for reproducible runs
  --all              every file of the repository
  --include GLOB,…   extra files to fetch (\`*\` matches within a name, e.g. "*.md")
  --quiet            no progress bar

An interrupted download resumes where it stopped (DIR/FILE.part) when the command is run
again. Every large (git-LFS) file is checked against the SHA-256 the hub reports for it; a
file that does not match is removed and the command fails. DIR/fulcra-fetch.json records the
repository, the commit and the hashes.

Environment: FULCRA_HUB_ENDPOINT (or HF_ENDPOINT) replaces https://huggingface.co, e.g. a
mirror; HF_TOKEN is sent for gated or private repositories.

Examples:
  fulcra models fetch gpt2 --out models/gpt2
  fulcra models fetch distilgpt2 --out models/distilgpt2
  fulcra models fetch OpenAssistant/reward-model-deberta-v3-large-v2 --out models/oa-reward
  fulcra models fetch microsoft/deberta-v3-large --out models/deberta-v3-large`;

/** Runs `models fetch` with the arguments after "fetch"; resolves to the exit code. */
export async function runModelsFetch(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(FETCH_HELP);
    return 0;
  }
  const { values, positionals } = parseOptions(
    args,
    {
      out: { type: "string" },
      revision: { type: "string" },
      all: { type: "boolean" },
      include: { type: "string" },
      quiet: { type: "boolean" },
    },
    "models fetch",
  );
  if (positionals.length !== 1)
    throw new UsageError(
      `expected one REPO_ID (like gpt2), got ${positionals.length ? positionals.join(" ") : "none"}\nSee \`fulcra models fetch --help\`.`,
    );
  if (!values.out) throw new UsageError("--out DIR is required (the folder to write)");
  const { fetchModel } = await import("../hub/fetch.js");
  const repo = positionals[0];
  const r = await fetchModel(repo, values.out, {
    revision: values.revision,
    all: values.all,
    include: values.include
      ? values.include
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined,
    quiet: values.quiet,
  });
  const bytes = r.files.reduce((a, f) => a + (f.size ?? 0), 0);
  console.log(
    `${repo}@${r.revision}${r.commit ? ` (commit ${r.commit.slice(0, 12)})` : ""} → ${r.dir}: ${r.files.length} files, ${(bytes / 1e6).toFixed(1)} MB`,
  );
  for (const f of r.files) console.log(`  ${f.name.padEnd(36)} ${f.status.padEnd(10)} ${f.verified ? "sha256 ok" : ""}`);
  if (r.skipped.length) console.log(`  not fetched (use --all or --include): ${r.skipped.join(", ")}`);
  return 0;
}

/**
 * A stand-alone `fulcra models` command that knows only `fetch`, registered
 * until `fetch` joins the full `models` command (src/cli/models.ts).
 */
export const command: Command = {
  summary: "hub model folders: fetch from the Hugging Face hub",
  help: `fulcra models — hub model folders\n\nUsage: fulcra models <subcommand> [options]\n\nSubcommands:\n  fetch REPO_ID --out DIR   download a model repository (see fulcra models fetch --help)`,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === "fetch") return runModelsFetch(rest);
    throw new UsageError(`unknown subcommand "${sub ?? ""}"; known: fetch`);
  },
};
