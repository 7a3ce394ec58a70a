/**
 * The safetensors file format, read and written by hand:
 *
 *   8 bytes   header length N, unsigned 64-bit little-endian
 *   N bytes   JSON header: { name: { dtype, shape, data_offsets: [begin, end] }, …,
 *             "__metadata__"?: { key: string } }, offsets relative to the data section
 *   rest      the raw little-endian tensor bytes
 *
 * The kit stores its own models this way too, so one reader serves both.
 */
import { readFileSync, writeFileSync } from "node:fs";

export type SafetensorsDtype = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";

export interface StoredTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** The values, converted to float32 (float16/bfloat16/float64 and integers are widened or narrowed). */
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Parses a safetensors buffer; `source` names it in error messages. */
export function parseSafetensors(buf: Uint8Array, source = "safetensors buffer"): SafetensorsFile {
  if (buf.length < 8) throw new Error(`${source}: only ${buf.length} bytes, too short for a safetensors file (8-byte header length first)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > buf.length - 8) {
    throw new Error(
      `${source}: header length ${headerLength} is larger than the file (${buf.length} bytes); this is not a safetensors file or it is truncated`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${source}: the JSON header (bytes 8–${8 + headerLength}) does not parse: ${(e as Error).message}`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = buf.length - dataStart;
  const tensors = new Map<string, StoredTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const where = `${source}: tensor "${name}"`;
    if (typeof e.dtype !== "string" || !(e.dtype in BYTES))
      throw new Error(`${where}: dtype ${JSON.stringify(e.dtype)} is not supported (${Object.keys(BYTES).join(", ")})`);
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isInteger(d) || d < 0))
      throw new Error(`${where}: shape ${JSON.stringify(e.shape)} is not a list of sizes`);
    if (!Array.isArray(e.data_offsets) || e.data_offsets.length !== 2)
      throw new Error(`${where}: data_offsets ${JSON.stringify(e.data_offsets)} should be [begin, end]`);
    const dtype = e.dtype as SafetensorsDtype;
    const shape = e.shape as number[];
    const [begin, end] = e.data_offsets as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    if (!(begin >= 0 && end >= begin && end <= dataLength))
      throw new Error(`${where}: data_offsets [${begin}, ${end}] fall outside the data section (${dataLength} bytes)`);
    if (end - begin !== count * BYTES[dtype]) {
      throw new Error(`${where}: ${end - begin} bytes stored but shape [${shape}] of ${dtype} needs ${count * BYTES[dtype]}`);
    }
    tensors.set(name, { dtype, shape, data: toFloat32(dtype, buf, dataStart + begin, count) });
  }
  return { tensors, metadata };
}

export function readSafetensors(file: string): SafetensorsFile {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read safetensors file ${file}: ${(e as Error).message}`);
  }
  return parseSafetensors(buf, file);
}

/** Serialises float32 tensors (in the given order) to safetensors bytes. */
export function encodeSafetensors(
  tensors: Iterable<[string, { shape: number[]; data: Float32Array }]>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const parts: Float32Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      throw new Error(`encodeSafetensors: tensor "${name}" has shape [${t.shape}] (${count} values) but ${t.data.length} values`);
    header[name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + count * 4] };
    parts.push(t.data);
    offset += count * 4;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts on an 8-byte boundary.
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += " ";
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const p of parts) {
    const bytes = new Uint8Array(p.length * 4);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < p.length; i++) dv.setFloat32(i * 4, p[i], true);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

export function writeSafetensors(
  file: string,
  tensors: Iterable<[string, { shape: number[]; data: Float32Array }]>,
  metadata: Record<string, string> = {},
): void {
  writeFileSync(file, encodeSafetensors(tensors, metadata));
}

const bitsU32 = new Uint32Array(1);
const bitsF32 = new Float32Array(bitsU32.buffer);

function toFloat32(dtype: SafetensorsDtype, buf: Uint8Array, at: number, count: number): Float32Array {
  const view = new DataView(buf.buffer, buf.byteOffset + at, count * BYTES[dtype]);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case "F32":
        out[i] = view.getFloat32(i * 4, true);
        break;
      case "F64":
        out[i] = view.getFloat64(i * 8, true);
        break;
      case "F16":
        out[i] = halfToFloat(view.getUint16(i * 2, true));
        break;
      case "BF16":
        // bfloat16 is the top half of a float32.
        bitsU32[0] = view.getUint16(i * 2, true) << 16;
        out[i] = bitsF32[0];
        break;
      case "I64":
        out[i] = Number(view.getBigInt64(i * 8, true));
        break;
      case "I32":
        out[i] = view.getInt32(i * 4, true);
        break;
      case "I16":
        out[i] = view.getInt16(i * 2, true);
        break;
      case "I8":
        out[i] = view.getInt8(i);
        break;
      case "U8":
      case "BOOL":
        out[i] = view.getUint8(i);
        break;
    }
  }
  return out;
}

/** IEEE 754 half precision → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 31;
  const frac = h & 1023;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
