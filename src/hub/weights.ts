/**
 * The weights of a Hugging Face model folder, single-file or sharded.
 *
 *   model.safetensors                  one file holding every tensor
 *   model.safetensors.index.json       { "metadata": {...}, "weight_map": { tensor name: shard file } }
 *   model-00001-of-0000N.safetensors   the shards the index names
 *
 * Each shard is read with the kit's safetensors reader (src/lm/safetensors.ts);
 * the index is checked both ways: every tensor it lists must be in its
 * shard, and every tensor a shard holds must be listed for that shard.
 * Checkpoints that come only as `pytorch_model.bin` are read by
 * `torch-bin.ts` (torch.save's zip and pickle, without Python).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readSafetensors, type StoredTensor } from "../lm/safetensors.js";
import { readTorchBin } from "./torch-bin.js";

export interface HubWeights {
  tensors: Map<string, StoredTensor>;
  /** The files read, in order. */
  files: string[];
}

export const SINGLE_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";
export const BIN_FILE = "pytorch_model.bin";

/** Reads every tensor of the folder's safetensors weights (single file first, then the sharded index). */
export function readHubWeights(dir: string): HubWeights {
  const single = join(dir, SINGLE_FILE);
  if (existsSync(single)) return { tensors: readSafetensors(single).tensors, files: [single] };
  const index = join(dir, INDEX_FILE);
  if (existsSync(index)) return readShardedWeights(index);
  // Revisions with no safetensors (microsoft/deberta-v3-large): torch.save's zip format, read without Python.
  const bin = join(dir, BIN_FILE);
  if (existsSync(bin)) return { tensors: readTorchBin(bin), files: [bin] };
  throw new Error(`${dir}: no weights found (expected ${SINGLE_FILE}, ${INDEX_FILE} with its shards, or ${BIN_FILE})`);
}

/** Reads the shards a model.safetensors.index.json names. */
export function readShardedWeights(indexFile: string): HubWeights {
  let index: { weight_map?: unknown };
  try {
    index = JSON.parse(readFileSync(indexFile, "utf8")) as { weight_map?: unknown };
  } catch (e) {
    throw new Error(`${indexFile}: not readable as JSON (${(e as Error).message})`);
  }
  const map = index.weight_map;
  if (!map || typeof map !== "object" || Array.isArray(map))
    throw new Error(`${indexFile}: field "weight_map" is missing or not an object of tensor name → shard file`);
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
    if (typeof shard !== "string" || shard.includes("/") || shard.includes("\\"))
      throw new Error(`${indexFile}: weight_map["${name}"] should be a file name in the same folder, got ${JSON.stringify(shard)}`);
    const list = byShard.get(shard);
    if (list) list.push(name);
    else byShard.set(shard, [name]);
  }
  if (byShard.size === 0) throw new Error(`${indexFile}: weight_map is empty`);
  const dir = join(indexFile, "..");
  const tensors = new Map<string, StoredTensor>();
  const files: string[] = [];
  for (const [shard, names] of byShard) {
    const file = join(dir, shard);
    if (!existsSync(file))
      throw new Error(`${indexFile}: shard ${shard} (holding ${names.length} tensors, e.g. "${names[0]}") is missing from ${dir}`);
    const held = readSafetensors(file).tensors;
    files.push(file);
    for (const name of names) {
      const t = held.get(name);
      if (!t) throw new Error(`${indexFile}: weight_map puts "${name}" in ${shard}, but ${file} has no such tensor`);
      tensors.set(name, t);
    }
    const listed = new Set(names);
    const extra = [...held.keys()].filter((n) => !listed.has(n));
    if (extra.length)
      throw new Error(
        `${file}: holds ${extra.length} tensor(s) that ${indexFile} does not list for this shard (${extra.slice(0, 3).join(", ")}${extra.length > 3 ? ", …" : ""})`,
      );
  }
  return { tensors, files };
}
