/** `fulcra models fetch REPO_ID --out DIR`: a hub model repository into a local folder. */
import { UsageError, type FlagValues, type Flags } from "./command.js";
import { subcommand } from "./program.js";

const FLAGS = {
  out: { type: "string", arg: "DIR", help: "folder to write (created if needed; files already complete are kept) (required)" },
  revision: { type: "string", arg: "R", help: "branch, tag or commit (default main); pin a commit for reproducible runs" },
  all: { type: "boolean", help: "every file of the repository" },
  include: { type: "string", arg: "GLOB,…", help: 'extra files to fetch (`*` matches within a name, e.g. "*.md")' },
  quiet: { type: "boolean", help: "no progress bar" },
} satisfies Flags;

/** `models fetch`: a hub model repository into a local folder. */
export const fetch = subcommand({
  name: "fetch",
  summary: "download a model repository from the Hugging Face hub",
  args: "<REPO_ID>",
  positionals: true,
  description: `Fetches what a model folder needs: config.json, the tokenizer files and
the safetensors weights (single file or shards with
model.safetensors.index.json), or pytorch_model.bin when the revision has no
safetensors (microsoft/deberta-v3-large). Other formats of the same weights
(tf_model.h5, onnx, …) are left out.`,
  flags: FLAGS,
  after: `An interrupted download resumes where it stopped (DIR/FILE.part) when the command is run
again. Every large (git-LFS) file is checked against the SHA-256 the hub reports for it; a
file that does not match is removed and the command fails. DIR/fulcra-fetch.json records the
repository, the commit and the hashes.

Environment: FULCRA_HUB_ENDPOINT (or HF_ENDPOINT) replaces https://huggingface.co, e.g. a
mirror; HF_TOKEN is sent for gated or private repositories.

Examples:
  fulcra models fetch gpt2 --out models/gpt2
  fulcra models fetch distilgpt2 --out models/distilgpt2
  fulcra models fetch OpenAssistant/reward-model-deberta-v3-large-v2 --out models/oa-reward
  fulcra models fetch microsoft/deberta-v3-large --out models/deberta-v3-large`,
  action: runModelsFetch,
});

/** Runs `models fetch` with its checked flags; resolves to the exit code. */
async function runModelsFetch(values: FlagValues<typeof FLAGS>, positionals: string[]): Promise<number> {
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
