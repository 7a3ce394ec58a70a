/**
 * Saving and loading tfjs models on the local disk.
 *
 * tfjs's own file:// handler ships with the native tfjs-node binding, which
 * is not always installed; this one uses only node's fs. It writes the
 * standard tfjs layout: `model.json` (topology, weights manifest, metadata)
 * beside one binary weights file, so any tfjs loader can read what it writes.
 */
import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomicSync } from "../runtime/atomic.js";

export const MODEL_FILE = "model.json";
export const WEIGHTS_FILE = "weights.bin";

function weightBytes(data: tf.io.WeightData | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  const joined = Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
  return Buffer.from(joined);
}

/** Writes a file whole or not at all (an interrupted save never leaves half a file); see runtime/atomic.ts. */
export const writeFileAtomic = writeFileAtomicSync;

/** A tfjs IOHandler that saves to and loads from a folder. */
export function fileSystemIO(dir: string): Required<Pick<tf.io.IOHandler, "save" | "load">> {
  const folder = resolve(dir);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      mkdirSync(folder, { recursive: true });
      const weights = weightBytes(artifacts.weightData);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      // Weights first: a model.json on disk always points at complete weights.
      writeFileAtomic(join(folder, WEIGHTS_FILE), weights);
      writeFileAtomic(join(folder, MODEL_FILE), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const modelPath = join(folder, MODEL_FILE);
      if (!existsSync(modelPath)) throw new Error(`no tfjs model in ${folder} (${MODEL_FILE} is missing)`);
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(readFileSync(modelPath, "utf8")) as tf.io.ModelJSON;
      } catch (e) {
        throw new Error(`${modelPath}: not a readable model.json (${(e as Error).message})`);
      }
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          const file = join(folder, p);
          if (!existsSync(file)) throw new Error(`${modelPath} lists weights file ${p}, which is missing from ${folder}`);
          buffers.push(readFileSync(file));
        }
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
        userDefinedMetadata: json.userDefinedMetadata,
      };
    },
  };
}

/** The folder a file:// URL (or a plain path) points at. */
export function fileUrlPath(url: string): string {
  return url.startsWith("file://")
    ? fileURLToPath(url.startsWith("file:///") ? url : `file://${resolve(url.slice("file://".length))}`)
    : resolve(url);
}

let registered = false;

/** Lets `tf.io` (and layers models' `save("file://…")`) use the handler above, unless a native one is registered already. */
export function registerFileSystemRouter(): void {
  if (registered) return;
  registered = true;
  // A router answers null for URLs that are not its own (tfjs's convention).
  const route = ((url: string | string[]) => {
    const u = Array.isArray(url) ? url[0] : url;
    return typeof u === "string" && u.startsWith("file://") ? fileSystemIO(fileUrlPath(u)) : null;
  }) as unknown as Parameters<typeof tf.io.registerSaveRouter>[0];
  if (tf.io.getSaveHandlers("file:///").length === 0) tf.io.registerSaveRouter(route);
  if (tf.io.getLoadHandlers("file:///").length === 0) tf.io.registerLoadRouter(route);
}
