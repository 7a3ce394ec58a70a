/**
 * Downloading a model repository from the Hugging Face hub by URL.
 *
 *   GET {endpoint}/api/models/{repo}/revision/{revision}?blobs=true
 *       → { sha, siblings: [{ rfilename, size, lfs?: { sha256, size } }] }
 *   GET {endpoint}/{repo}/resolve/{revision}/{file}        (may redirect to a CDN)
 *
 * Only the files a model folder needs are fetched by default: config files,
 * tokenizer files and the safetensors weights (single or sharded), or
 * pytorch_model.bin when a revision has no safetensors (microsoft/deberta-v3-large;
 * src/hub/torch-bin.ts reads it); other formats of the same weights
 * (tf_model.h5, onnx, …) are left out unless asked for. Each file is written to FILE.part and renamed
 * when complete; an interrupted download resumes from the bytes already
 * there (HTTP Range). Large files are stored in git LFS and the hub reports
 * their SHA-256: the downloaded bytes are checked against it, and a file that
 * does not match is removed and reported, never kept. Files already present
 * with the right size (and hash) are not fetched again.
 *
 * The endpoint comes from the option, else FULCRA_HUB_ENDPOINT, else
 * HF_ENDPOINT, else https://huggingface.co. HF_TOKEN, when set, is sent for
 * gated or private repositories.
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname, join, normalize, sep } from "node:path";
import { Progress } from "../runtime/progress.js";
import { env } from "../runtime/env.js";

export interface HubFile {
  /** Path inside the repository. */
  name: string;
  /** Bytes, when the hub reports it. */
  size?: number;
  /** SHA-256 of the content (git-LFS files only). */
  sha256?: string;
}

export interface RepoListing {
  /** The commit the revision resolved to, when reported. */
  commit?: string;
  files: HubFile[];
}

export interface FetchOptions {
  revision?: string;
  /** Base URL of the hub (see the module comment). */
  endpoint?: string;
  /** Fetch every file of the repository, not only the model folder's. */
  all?: boolean;
  /** Extra file names or globs (`*` within a name) to fetch. */
  include?: string[];
  quiet?: boolean;
}

export interface FetchedFile extends HubFile {
  /** "downloaded", "resumed" (continued from a .part file) or "present" (already complete). */
  status: "downloaded" | "resumed" | "present";
  /** SHA-256 checked against the hub's (LFS files). */
  verified: boolean;
}

export interface FetchResult {
  repo: string;
  revision: string;
  commit?: string;
  dir: string;
  files: FetchedFile[];
  /** Files of the repository not fetched (other weight formats, docs, …). */
  skipped: string[];
}

export const DEFAULT_HUB_ENDPOINT = "https://huggingface.co";

export function hubEndpoint(option?: string): string {
  return (option ?? env.hubEndpoint ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, "");
}

/** Files a model folder needs (config, tokenizer, safetensors weights). */
const MODEL_FILES = [
  /^config\.json$/,
  /^generation_config\.json$/,
  /^tokenizer\.json$/,
  /^tokenizer_config\.json$/,
  /^special_tokens_map\.json$/,
  /^added_tokens\.json$/,
  /^vocab\.(json|txt)$/,
  /^merges\.txt$/,
  /^spm\.model$/,
  /^sentencepiece\.bpe\.model$/,
  /^model\.safetensors$/,
  /^model\.safetensors\.index\.json$/,
  /^model-\d+-of-\d+\.safetensors$/,
];

function repoHeaders(): Record<string, string> {
  const token = env.hfToken;
  return token ? { authorization: `Bearer ${token}` } : {};
}

function checkRepoId(repo: string): void {
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(repo) || repo.includes(".."))
    throw new Error(`"${repo}" is not a hub repository id (like gpt2 or OpenAssistant/reward-model-deberta-v3-large-v2)`);
}

/** The repository's file list at a revision, from the hub API. */
export async function listRepoFiles(repo: string, options: { revision?: string; endpoint?: string } = {}): Promise<RepoListing> {
  checkRepoId(repo);
  const revision = options.revision ?? "main";
  const url = `${hubEndpoint(options.endpoint)}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
  let response: Response;
  try {
    response = await fetch(url, { headers: repoHeaders() });
  } catch (e) {
    throw new Error(
      `cannot reach ${url}: ${(e as Error).message}${(e as { cause?: Error }).cause ? ` (${(e as { cause: Error }).cause.message})` : ""}`,
    );
  }
  if (response.status === 401 || response.status === 403)
    throw new Error(`${url}: ${response.status}; the repository is gated or private (set HF_TOKEN to a token that may read it)`);
  if (response.status === 404)
    throw new Error(`${url}: 404; no repository "${repo}" with a revision "${revision}" on ${hubEndpoint(options.endpoint)}`);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
  const body = (await response.json()) as {
    sha?: string;
    siblings?: { rfilename?: string; size?: number; lfs?: { sha256?: string; size?: number } }[];
  };
  if (!Array.isArray(body.siblings)) throw new Error(`${url}: the answer has no "siblings" list of files`);
  const files = body.siblings.map((s, i) => {
    if (typeof s.rfilename !== "string") throw new Error(`${url}: siblings[${i}] has no "rfilename"`);
    return { name: s.rfilename, size: s.lfs?.size ?? s.size, sha256: s.lfs?.sha256 };
  });
  return { commit: body.sha, files };
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    "^" +
      pattern
        .split("*")
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join("[^/]*") +
      "$",
  );
  return re.test(name);
}

/** Which of a repository's files `fetchModel` takes. */
export function selectModelFiles(
  files: HubFile[],
  options: Pick<FetchOptions, "all" | "include"> = {},
): { wanted: HubFile[]; skipped: string[] } {
  const wanted: HubFile[] = [];
  const skipped: string[] = [];
  for (const f of files) {
    const take = options.all || MODEL_FILES.some((r) => r.test(f.name)) || (options.include ?? []).some((p) => globMatch(p, f.name));
    if (take) wanted.push(f);
    else skipped.push(f.name);
  }
  // No safetensors in this revision: the single-file torch checkpoint, which the kit also reads.
  const bin = files.find((f) => f.name === "pytorch_model.bin");
  if (!options.all && bin && !wanted.some((f) => /\.safetensors(\.index\.json)?$/.test(f.name))) {
    wanted.push(bin);
    skipped.splice(skipped.indexOf(bin.name), 1);
  }
  return { wanted, skipped };
}

/** SHA-256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function resolveUrl(endpoint: string, repo: string, revision: string, name: string): string {
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${name.split("/").map(encodeURIComponent).join("/")}`;
}

/** Downloads one file into `target` (resuming TARGET.part); returns how. */
async function downloadFile(url: string, target: string, file: HubFile, bar: Progress): Promise<"downloaded" | "resumed"> {
  const part = target + ".part";
  mkdirSync(dirname(target), { recursive: true });
  let have = existsSync(part) ? statSync(part).size : 0;
  if (file.size !== undefined && have > file.size) {
    rmSync(part);
    have = 0;
  }
  const headers: Record<string, string> = { ...repoHeaders() };
  if (have > 0) headers.range = `bytes=${have}-`;
  let response: Response;
  try {
    response = await fetch(url, { headers, redirect: "follow" });
  } catch (e) {
    throw new Error(
      `cannot reach ${url}: ${(e as Error).message}${(e as { cause?: Error }).cause ? ` (${(e as { cause: Error }).cause.message})` : ""}`,
    );
  }
  let resumed = false;
  if (response.status === 206 && have > 0) resumed = true;
  else if (response.status === 416 && have > 0 && file.size === have) {
    // Everything was there already.
    renameSync(part, target);
    return "resumed";
  } else if (response.ok)
    have = 0; // 200: the server sends the whole file; start over.
  else throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
  if (!response.body) throw new Error(`${url}: empty answer`);
  const fd = openSync(part, resumed ? "a" : "w");
  let written = have;
  bar.tick(have);
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      writeSync(fd, chunk);
      written += chunk.length;
      bar.tick(chunk.length);
    }
  } catch (e) {
    throw new Error(
      `${url}: the transfer broke off after ${written} bytes (${(e as Error).message}); run the same command again to resume from ${part}`,
    );
  } finally {
    closeSync(fd);
  }
  if (file.size !== undefined && written !== file.size) {
    throw new Error(`${url}: got ${written} bytes but the hub lists ${file.size}; run the same command again to resume from ${part}`);
  }
  renameSync(part, target);
  return resumed ? "resumed" : "downloaded";
}

/**
 * Fetches a model repository into `dir` (created if needed). Returns what
 * was done per file; throws on the first file that cannot be had or does
 * not match its SHA-256 (that file is removed; the others are kept).
 */
export async function fetchModel(repo: string, dir: string, options: FetchOptions = {}): Promise<FetchResult> {
  const revision = options.revision ?? "main";
  const endpoint = hubEndpoint(options.endpoint);
  const listing = await listRepoFiles(repo, { revision, endpoint });
  const { wanted, skipped } = selectModelFiles(listing.files, options);
  const hasWeights = wanted.some((f) => /\.safetensors(\.index\.json)?$|^pytorch_model\.bin$/.test(f.name));
  if (!options.all && !hasWeights) {
    const other = listing.files.filter((f) => /\.(bin|h5|msgpack|onnx|pt|ckpt)$/.test(f.name)).map((f) => f.name);
    throw new Error(
      `${repo}@${revision} has neither safetensors weights nor a single pytorch_model.bin${other.length ? ` (only ${other.join(", ")})` : ""}, the formats the kit reads. ` +
        `Fetch another revision that has them (the hub's conversion bot often opens one as refs/pr/N), or use --all and convert with transformers.`,
    );
  }
  mkdirSync(dir, { recursive: true });
  const total = wanted.reduce((a, f) => a + (f.size ?? 0), 0);
  const bar = new Progress({ label: `fetch ${repo}`, total: Math.max(total, 1), quiet: options.quiet });
  const out: FetchedFile[] = [];
  for (const f of wanted) {
    const target = normalize(join(dir, f.name));
    if (!target.startsWith(normalize(dir) + sep) && target !== normalize(dir))
      throw new Error(`${repo}: file name "${f.name}" points outside ${dir}; refused`);
    let complete = existsSync(target) && (f.size === undefined || statSync(target).size === f.size);
    let verified = false;
    if (complete && f.sha256) {
      // Present, but only kept when it is the hub's bytes.
      verified = (await sha256File(target)) === f.sha256;
      complete = verified;
    }
    let status: FetchedFile["status"] = "present";
    if (complete) bar.tick(f.size ?? 0);
    else {
      if (existsSync(target)) rmSync(target);
      status = await downloadFile(resolveUrl(endpoint, repo, revision, f.name), target, f, bar);
      if (f.sha256) {
        const got = await sha256File(target);
        if (got !== f.sha256) {
          rmSync(target);
          throw new Error(
            `${target}: SHA-256 ${got} does not match the hub's ${f.sha256} for ${repo}@${revision}/${f.name}; the file was removed (run again to download it afresh)`,
          );
        }
        verified = true;
      }
    }
    out.push({ ...f, status, verified });
  }
  bar.finish();
  const result: FetchResult = { repo, revision, commit: listing.commit, dir, files: out, skipped };
  writeFileSync(
    join(dir, "fulcra-fetch.json"),
    JSON.stringify(
      {
        repo,
        revision,
        commit: listing.commit ?? null,
        endpoint,
        fetched_at: new Date().toISOString(),
        files: out.map(({ name, size, sha256 }) => ({ name, size: size ?? null, sha256: sha256 ?? null })),
      },
      null,
      2,
    ) + "\n",
  );
  return result;
}
