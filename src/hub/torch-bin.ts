/**
 * Reading `pytorch_model.bin` (torch.save's zip format) without Python, for
 * hub revisions that hold no safetensors (microsoft/deberta-v3-large).
 *
 *   zip        entries stored uncompressed: ARCHIVE/data.pkl (the state dict
 *              as a pickle), ARCHIVE/data/KEY (one raw little-endian storage each)
 *   pickle     protocol 2: an OrderedDict of name → tensor, each tensor
 *              rebuilt by torch._utils._rebuild_tensor_v2(storage, offset,
 *              size, stride, …), each storage a persistent id
 *              ("storage", torch.FloatStorage | HalfStorage | …, KEY, device, numel)
 *
 * Only what a state dict needs is understood; anything else is an error
 * naming the opcode. Values come out as float32, like the safetensors reader.
 */
import { readFileSync } from "node:fs";
import { halfToFloat, type StoredTensor } from "../lm/safetensors.js";

interface ZipEntry {
  name: string;
  data: Uint8Array;
}

/** Entries of a zip file whose members are stored (torch.save writes them uncompressed). */
function readZip(buf: Uint8Array, source: string): Map<string, ZipEntry> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${source}: not a zip file (torch.save's format); older pickle-only checkpoints are not supported`);
  let count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  if (at === 0xffffffff || count === 0xffff) {
    // Zip64 end of central directory, found through its locator just before the EOCD.
    const locator = eocd - 20;
    const z64 = Number(view.getBigUint64(locator + 8, true));
    count = Number(view.getBigUint64(z64 + 32, true));
    at = Number(view.getBigUint64(z64 + 48, true));
  }
  const out = new Map<string, ZipEntry>();
  for (let k = 0; k < count; k++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error(`${source}: broken zip central directory at byte ${at}`);
    const method = view.getUint16(at + 10, true);
    let size = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    let local = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(buf.subarray(at + 46, at + 46 + nameLength));
    // Zip64 sizes and offsets live in extra field 0x0001, in this order, for the fields set to 0xffffffff.
    let e = at + 46 + nameLength;
    const end = e + extraLength;
    while (e + 4 <= end) {
      const id = view.getUint16(e, true);
      const len = view.getUint16(e + 2, true);
      if (id === 1) {
        let p = e + 4;
        if (view.getUint32(at + 24, true) === 0xffffffff) p += 8;
        if (size === 0xffffffff) (size = Number(view.getBigUint64(p, true))), (p += 8);
        if (local === 0xffffffff) local = Number(view.getBigUint64(p, true));
      }
      e += 4 + len;
    }
    if (method !== 0)
      throw new Error(`${source}: zip entry ${name} is compressed (method ${method}); torch.save stores entries uncompressed`);
    const dataAt = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    out.set(name, { name, data: buf.subarray(dataAt, dataAt + size) });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return out;
}

interface Global {
  global: string;
}
interface StorageRef {
  storage: string;
  key: string;
}
interface TensorRef {
  tensor: true;
  storage: StorageRef;
  offset: number;
  size: number[];
  stride: number[];
}
type Value = unknown;

const isGlobal = (v: Value): v is Global => typeof v === "object" && v !== null && "global" in v;

/** Unpickles a state dict: name → tensor reference. */
function unpickle(bytes: Uint8Array, source: string): Map<string, TensorRef> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder();
  const stack: Value[] = [];
  const marks: number[] = [];
  const memo = new Map<number, Value>();
  let i = 0;
  const popMark = (): Value[] => {
    const m = marks.pop();
    if (m === undefined) throw new Error(`${source}: pickle MARK missing`);
    return stack.splice(m);
  };
  const readLine = (): string => {
    const end = bytes.indexOf(10, i);
    const s = dec.decode(bytes.subarray(i, end));
    i = end + 1;
    return s;
  };
  const setItems = (target: Value, items: Value[]) => {
    if (!(target instanceof Map)) throw new Error(`${source}: pickle SETITEMS on a non-dict`);
    for (let k = 0; k < items.length; k += 2) target.set(items[k], items[k + 1]);
  };
  const call = (fn: Value, args: Value[]): Value => {
    if (!isGlobal(fn)) throw new Error(`${source}: pickle REDUCE on ${JSON.stringify(fn)}`);
    switch (fn.global) {
      case "collections.OrderedDict":
        return new Map();
      case "torch._utils._rebuild_tensor_v2":
      case "torch._utils._rebuild_tensor": {
        const [storage, offset, size, stride] = args as [StorageRef, number, number[], number[]];
        return { tensor: true, storage, offset, size, stride } satisfies TensorRef;
      }
      case "torch._utils._rebuild_parameter":
        return args[0];
      default:
        throw new Error(`${source}: pickle calls ${fn.global}, which a state dict does not need`);
    }
  };
  for (;;) {
    if (i >= bytes.length) throw new Error(`${source}: pickle ends without STOP`);
    const op = bytes[i++];
    switch (op) {
      case 0x80: // PROTO
        i += 1;
        break;
      case 0x95: // FRAME
        i += 8;
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x71: // BINPUT
        memo.set(bytes[i++], stack[stack.length - 1]);
        break;
      case 0x72: // LONG_BINPUT
        memo.set(view.getUint32(i, true), stack[stack.length - 1]);
        i += 4;
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, stack[stack.length - 1]);
        break;
      case 0x68: // BINGET
        stack.push(memo.get(bytes[i++]));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memo.get(view.getUint32(i, true)));
        i += 4;
        break;
      case 0x58: {
        // BINUNICODE
        const n = view.getUint32(i, true);
        stack.push(dec.decode(bytes.subarray(i + 4, i + 4 + n)));
        i += 4 + n;
        break;
      }
      case 0x8c: {
        // SHORT_BINUNICODE
        const n = bytes[i];
        stack.push(dec.decode(bytes.subarray(i + 1, i + 1 + n)));
        i += 1 + n;
        break;
      }
      case 0x55: {
        // SHORT_BINSTRING
        const n = bytes[i];
        stack.push(dec.decode(bytes.subarray(i + 1, i + 1 + n)));
        i += 1 + n;
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = readLine();
        const name = readLine();
        stack.push({ global: `${module}.${name}` });
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = stack.pop() as string;
        const module = stack.pop() as string;
        stack.push({ global: `${module}.${name}` });
        break;
      }
      case 0x4b: // BININT1
        stack.push(bytes[i++]);
        break;
      case 0x4d: // BININT2
        stack.push(view.getUint16(i, true));
        i += 2;
        break;
      case 0x4a: // BININT
        stack.push(view.getInt32(i, true));
        i += 4;
        break;
      case 0x8a: {
        // LONG1
        const n = bytes[i++];
        let v = 0;
        for (let k = n - 1; k >= 0; k--) v = v * 256 + bytes[i + k];
        if (n > 0 && bytes[i + n - 1] & 0x80) v -= 2 ** (8 * n);
        stack.push(v);
        i += n;
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        stack.push(view.getFloat64(i, false));
        i += 8;
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push(stack.splice(-1));
        break;
      case 0x86: // TUPLE2
        stack.push(stack.splice(-2));
        break;
      case 0x87: // TUPLE3
        stack.push(stack.splice(-3));
        break;
      case 0x61: {
        // APPEND
        const v = stack.pop();
        (stack[stack.length - 1] as Value[]).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        (stack[stack.length - 1] as Value[]).push(...items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = stack.pop();
        const k = stack.pop();
        setItems(stack[stack.length - 1], [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(stack[stack.length - 1], items);
        break;
      }
      case 0x51: {
        // BINPERSID: ("storage", storage type, key, location, numel)
        const pid = stack.pop() as Value[];
        if (!Array.isArray(pid) || pid[0] !== "storage" || !isGlobal(pid[1]))
          throw new Error(`${source}: unknown persistent id ${JSON.stringify(pid)}`);
        stack.push({ storage: pid[1].global, key: String(pid[2]) } satisfies StorageRef);
        break;
      }
      case 0x52: {
        // REDUCE
        const args = stack.pop() as Value[];
        const fn = stack.pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x62: // BUILD: state of an OrderedDict (_metadata) is not needed
        stack.pop();
        break;
      case 0x2e: {
        // STOP
        const top = stack.pop();
        if (!(top instanceof Map)) throw new Error(`${source}: the pickle holds no state dict`);
        const out = new Map<string, TensorRef>();
        for (const [k, v] of top) if (v && typeof v === "object" && "tensor" in v) out.set(String(k), v as TensorRef);
        return out;
      }
      default:
        throw new Error(`${source}: pickle opcode 0x${op.toString(16)} at byte ${i - 1} is not understood`);
    }
  }
}

const bf16Bits = new Uint32Array(1);
const bf16Value = new Float32Array(bf16Bits.buffer);

const STORAGE: Record<string, { bytes: number; read: (v: DataView, at: number) => number }> = {
  "torch.FloatStorage": { bytes: 4, read: (v, at) => v.getFloat32(at, true) },
  "torch.HalfStorage": { bytes: 2, read: (v, at) => halfToFloat(v.getUint16(at, true)) },
  "torch.BFloat16Storage": { bytes: 2, read: (v, at) => ((bf16Bits[0] = v.getUint16(at, true) << 16), bf16Value[0]) },
  "torch.DoubleStorage": { bytes: 8, read: (v, at) => v.getFloat64(at, true) },
  "torch.LongStorage": { bytes: 8, read: (v, at) => Number(v.getBigInt64(at, true)) },
  "torch.IntStorage": { bytes: 4, read: (v, at) => v.getInt32(at, true) },
  "torch.BoolStorage": { bytes: 1, read: (v, at) => v.getUint8(at) },
  "torch.ByteStorage": { bytes: 1, read: (v, at) => v.getUint8(at) },
};

/** The tensors of a pytorch_model.bin, as float32 (strided views are gathered). */
export function readTorchBin(file: string): Map<string, StoredTensor> {
  const buf = new Uint8Array(readFileSync(file));
  const entries = readZip(buf, file);
  const pkl = [...entries.keys()].find((n) => n.endsWith("/data.pkl") || n === "data.pkl");
  if (!pkl) throw new Error(`${file}: no data.pkl inside; not a torch.save checkpoint`);
  const prefix = pkl.slice(0, pkl.length - "data.pkl".length);
  const out = new Map<string, StoredTensor>();
  for (const [name, t] of unpickle(entries.get(pkl)!.data, file)) {
    const kind = STORAGE[t.storage.storage];
    if (!kind) throw new Error(`${file}: tensor "${name}" has storage ${t.storage.storage}, not supported`);
    const entry = entries.get(`${prefix}data/${t.storage.key}`);
    if (!entry) throw new Error(`${file}: storage ${t.storage.key} of tensor "${name}" is missing`);
    const view = new DataView(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength);
    const count = t.size.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    const index = new Array<number>(t.size.length).fill(0);
    for (let n = 0; n < count; n++) {
      let at = t.offset;
      for (let d = 0; d < index.length; d++) at += index[d] * t.stride[d];
      if ((at + 1) * kind.bytes > entry.data.length) throw new Error(`${file}: tensor "${name}" reads past its storage`);
      data[n] = kind.read(view, at * kind.bytes);
      for (let d = index.length - 1; d >= 0; d--) {
        if (++index[d] < t.size[d]) break;
        index[d] = 0;
      }
    }
    out.set(name, { dtype: "F32", shape: t.size, data });
  }
  return out;
}
