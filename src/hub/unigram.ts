/**
 * The sentencepiece-unigram tokenizer of DeBERTa-v3 checkpoints, from the
 * folder's `tokenizer.json` (Hugging Face tokenizers format) or, when there
 * is none, from `spm.model` alone (the sentencepiece protobuf, read by hand).
 *
 *   added tokens   special tokens ([CLS], [SEP], [MASK], …) are cut out of
 *                  the text first and never split
 *   normalizer     tokenizer.json's (Replace, NFC/NFKC…, Strip, Precompiled,
 *                  Lowercase, Prepend, Sequence), or sentencepiece's
 *                  precompiled character map + whitespace rules
 *   pre-tokenizer  Metaspace (spaces → "▁", prefix "▁", split before each "▁")
 *   model          Viterbi over the unigram lattice: the segmentation with the
 *                  highest sum of piece log-probabilities; a character no piece
 *                  covers becomes [UNK] scored min − 10, consecutive unknowns
 *                  fused into one
 *   post-processor [CLS] a [SEP] (single) and [CLS] a [SEP] b [SEP] (pair),
 *                  token types 0 for a, 1 for b
 *
 * `@huggingface/tokenizers` 0.2.0 was measured against the fixtures' ids and
 * gives different ids (it fuses unknowns across pre-tokens), hence this file.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface Encoding {
  ids: number[];
  typeIds: number[];
  tokens: string[];
}

export interface BatchEncoding {
  inputIds: number[][];
  attentionMask: number[][];
  tokenTypeIds: number[][];
  /** Tokens removed by truncation, per sequence (0 when none). */
  truncated: number[];
}

export interface EncodeOptions {
  /** [CLS] … [SEP] around the text(s); default true. */
  addSpecialTokens?: boolean;
  /** Longest result allowed (special tokens included); longer ones are cut (longest-first for pairs) when `truncation`, else an error. */
  maxLength?: number;
  truncation?: boolean;
}

// ------------------------------------------------------------------ normalizers

type Normalize = (s: string) => string;

/** Precompiled sentencepiece character map: a darts double-array trie of UTF-8 keys → replacement strings. */
export class CharsMap {
  private readonly units: Uint32Array;
  private readonly strings: Uint8Array;

  constructor(blob: Uint8Array) {
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieBytes = view.getUint32(0, true);
    this.units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + i * 4, true);
    this.strings = blob.subarray(4 + trieBytes);
  }

  /** Longest key that prefixes bytes[at…]: [key length, replacement offset], or undefined. */
  private longestPrefix(bytes: Uint8Array, at: number): [number, number] | undefined {
    const u = this.units;
    const offset = (unit: number) => (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
    const label = (unit: number) => unit & ((1 << 31) | 0xff);
    let node = offset(u[0]);
    let found: [number, number] | undefined;
    for (let i = at; i < bytes.length; i++) {
      const c = bytes[i];
      if (c === 0) break;
      node ^= c;
      const unit = u[node];
      if (label(unit) >>> 0 !== c) break;
      node ^= offset(unit);
      if ((unit >>> 8) & 1) found = [i - at + 1, u[node] & 0x7fffffff];
    }
    return found;
  }

  normalize(text: string): string {
    const bytes = new TextEncoder().encode(text);
    const out: number[] = [];
    let i = 0;
    while (i < bytes.length) {
      const hit = this.longestPrefix(bytes, i);
      if (hit) {
        let k = hit[1];
        while (this.strings[k] !== 0 && k < this.strings.length) out.push(this.strings[k++]);
        i += hit[0];
      } else {
        // One UTF-8 character unchanged.
        const b = bytes[i];
        const n = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
        for (let k = 0; k < n && i < bytes.length; k++) out.push(bytes[i++]);
      }
    }
    return new TextDecoder().decode(new Uint8Array(out));
  }
}

/** Oniguruma patterns of tokenizer.json, in JavaScript's unicode mode (the constructs DeBERTa files use). */
function toRegExp(pattern: string): RegExp {
  return new RegExp(pattern, "gu");
}

function normalizerFrom(spec: Record<string, unknown> | null | undefined, where: string): Normalize {
  if (!spec) return (s) => s;
  switch (spec.type) {
    case "Sequence": {
      const steps = ((spec.normalizers as Record<string, unknown>[]) ?? []).map((n, i) => normalizerFrom(n, `${where}.normalizers[${i}]`));
      return (s) => steps.reduce((acc, f) => f(acc), s);
    }
    case "Replace": {
      const p = spec.pattern as { String?: string; Regex?: string };
      const content = String(spec.content ?? "");
      if (p.Regex !== undefined) {
        const re = toRegExp(p.Regex);
        return (s) => s.replace(re, content);
      }
      const needle = String(p.String ?? "");
      return (s) => (needle ? s.split(needle).join(content) : s);
    }
    case "NFC":
    case "NFD":
    case "NFKC":
    case "NFKD":
      return (s) => s.normalize(spec.type as string);
    case "Lowercase":
      return (s) => s.toLowerCase();
    case "Strip": {
      const left = spec.strip_left !== false;
      const right = spec.strip_right !== false;
      return (s) => (left && right ? s.trim() : left ? s.trimStart() : right ? s.trimEnd() : s);
    }
    case "Prepend":
      return (s) => (s ? String(spec.prepend ?? "") + s : s);
    case "Precompiled": {
      const b64 = spec.precompiled_charsmap;
      if (typeof b64 !== "string" || b64 === "") return (s) => s;
      const map = new CharsMap(new Uint8Array(Buffer.from(b64, "base64")));
      return (s) => map.normalize(s);
    }
    default:
      throw new Error(
        `${where}: normalizer type ${JSON.stringify(spec.type)} is not supported (Sequence, Replace, NFC, NFD, NFKC, NFKD, Lowercase, Strip, Prepend, Precompiled are)`,
      );
  }
}

// ------------------------------------------------------------------ pre-tokenizers

/** Splits a normalized chunk into words; `first` is true for the chunk at the start of the text. */
type PreTokenize = (s: string, first: boolean) => string[];

function preTokenizerFrom(spec: Record<string, unknown> | null | undefined, where: string): PreTokenize {
  if (!spec) return (s) => [s];
  switch (spec.type) {
    case "Sequence": {
      const steps = ((spec.pretokenizers as Record<string, unknown>[]) ?? []).map((p, i) =>
        preTokenizerFrom(p, `${where}.pretokenizers[${i}]`),
      );
      return (s, first) => steps.reduce<string[]>((words, f) => words.flatMap((w) => f(w, first)), [s]);
    }
    case "Metaspace": {
      const rep = String(spec.replacement ?? "▁");
      const scheme = typeof spec.prepend_scheme === "string" ? spec.prepend_scheme : spec.add_prefix_space === false ? "never" : "always";
      const split = spec.split !== false;
      return (s, first) => {
        let t = s.replace(/ /g, rep);
        if ((scheme === "always" || (scheme === "first" && first)) && !t.startsWith(rep)) t = rep + t;
        if (!split) return [t];
        const words: string[] = [];
        let start = 0;
        for (let i = 1; i <= t.length; i++) {
          if (i === t.length || t.startsWith(rep, i)) {
            if (i > start) words.push(t.slice(start, i));
            start = i;
          }
        }
        return words;
      };
    }
    case "WhitespaceSplit":
      return (s) => s.split(/\s+/u).filter(Boolean);
    case "Punctuation": {
      // DeBERTa tokenizers with split_by_punct: each punctuation character becomes its own word ("isolated").
      if (spec.behavior !== undefined && spec.behavior !== "isolated" && spec.behavior !== "Isolated")
        throw new Error(`${where}: Punctuation behavior ${JSON.stringify(spec.behavior)} is not supported (isolated is)`);
      return (s) => s.split(/(\p{P}|[!-/:-@[-`{-~])/u).filter(Boolean);
    }
    default:
      throw new Error(
        `${where}: pre-tokenizer type ${JSON.stringify(spec.type)} is not supported (Sequence, Metaspace, WhitespaceSplit, Punctuation are)`,
      );
  }
}

// ------------------------------------------------------------------ the tokenizer

interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

export interface UnigramParts {
  /** Pieces and their log-probabilities, by id. */
  pieces: { piece: string; score: number; matchable: boolean }[];
  unkId: number;
  byteFallback: boolean;
  added: AddedToken[];
  normalize: Normalize;
  preTokenize: PreTokenize;
  clsId: number;
  sepId: number;
  padId: number;
  /** Where it came from, for messages. */
  source: string;
  /** tokenizer_config.json's model_max_length, when it is a real limit. */
  modelMaxLength?: number;
}

export class UnigramTokenizer {
  private readonly lookup = new Map<string, number>();
  private readonly maxPieceChars: number;
  private readonly unkScore: number;
  private readonly addedPattern?: RegExp;
  private readonly addedIds = new Map<string, number>();

  constructor(readonly parts: UnigramParts) {
    let min = Infinity;
    let longest = 1;
    parts.pieces.forEach((p, id) => {
      if (!p.matchable) return;
      if (!this.lookup.has(p.piece)) this.lookup.set(p.piece, id);
      min = Math.min(min, p.score);
      longest = Math.max(longest, [...p.piece].length);
    });
    this.maxPieceChars = longest;
    this.unkScore = (Number.isFinite(min) ? min : 0) - 10;
    const added = [...parts.added].sort((a, b) => b.content.length - a.content.length);
    for (const a of added) this.addedIds.set(a.content, a.id);
    if (added.length) this.addedPattern = new RegExp(added.map((a) => a.content.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "gu");
  }

  /** Number of ids this tokenizer can produce (largest id + 1). */
  get vocabSize(): number {
    return Math.max(this.parts.pieces.length, ...this.parts.added.map((a) => a.id + 1));
  }

  get padId(): number {
    return this.parts.padId;
  }

  /** Ids of one text, no special tokens around it. */
  tokenize(text: string): { ids: number[]; tokens: string[] } {
    const ids: number[] = [];
    const tokens: string[] = [];
    // Added tokens are cut out before normalization and kept whole.
    const chunks: { text: string; added?: number }[] = [];
    let last = 0;
    if (this.addedPattern) {
      for (const m of text.matchAll(this.addedPattern)) {
        if (m.index! > last) chunks.push({ text: text.slice(last, m.index) });
        chunks.push({ text: m[0], added: this.addedIds.get(m[0]) });
        last = m.index! + m[0].length;
      }
    }
    if (last < text.length) chunks.push({ text: text.slice(last) });
    chunks.forEach((chunk, k) => {
      if (chunk.added !== undefined) {
        ids.push(chunk.added);
        tokens.push(chunk.text);
        return;
      }
      const normalized = this.parts.normalize(chunk.text);
      for (const word of this.parts.preTokenize(normalized, k === 0)) this.viterbi(word, ids, tokens);
    });
    return { ids, tokens };
  }

  /** Best segmentation of one word (Viterbi over the piece lattice), appended to ids/tokens. */
  private viterbi(word: string, ids: number[], tokens: string[]): void {
    const chars = [...word];
    const n = chars.length;
    if (n === 0) return;
    const best = new Float64Array(n + 1).fill(-Infinity);
    const from = new Int32Array(n + 1);
    const piece = new Int32Array(n + 1);
    best[0] = 0;
    for (let start = 0; start < n; start++) {
      if (best[start] === -Infinity) continue;
      let single = false;
      let s = "";
      for (let len = 1; len <= this.maxPieceChars && start + len <= n; len++) {
        s += chars[start + len - 1];
        const id = this.lookup.get(s);
        if (id === undefined) continue;
        if (len === 1) single = true;
        const score = best[start] + this.parts.pieces[id].score;
        if (score > best[start + len]) {
          best[start + len] = score;
          from[start + len] = start;
          piece[start + len] = id;
        }
      }
      if (!single) {
        const score = best[start] + this.unkScore;
        if (score > best[start + 1]) {
          best[start + 1] = score;
          from[start + 1] = start;
          piece[start + 1] = -1;
        }
      }
    }
    const path: [number, number, number][] = [];
    for (let end = n; end > 0; end = from[end]) path.push([from[end], end, piece[end]]);
    path.reverse();
    let unkRun = "";
    const flush = () => {
      if (!unkRun) return;
      if (this.parts.byteFallback) {
        for (const b of new TextEncoder().encode(unkRun)) {
          const hex = `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;
          const id = this.lookup.get(hex) ?? this.parts.pieces.findIndex((p) => p.piece === hex);
          ids.push(id >= 0 ? id : this.parts.unkId);
          tokens.push(hex);
        }
      } else {
        ids.push(this.parts.unkId);
        tokens.push(unkRun);
      }
      unkRun = "";
    };
    for (const [a, b, id] of path) {
      if (id < 0) {
        unkRun += chars.slice(a, b).join("");
        continue;
      }
      flush();
      ids.push(id);
      tokens.push(this.parts.pieces[id].piece);
    }
    flush();
  }

  /** `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, with token types 0 for a and 1 for b. */
  encode(text: string, textPair?: string, options: EncodeOptions = {}): Encoding & { truncated: number } {
    const special = options.addSpecialTokens !== false;
    let a = this.tokenize(text);
    let b = textPair !== undefined ? this.tokenize(textPair) : undefined;
    const extra = special ? (b ? 3 : 2) : 0;
    let truncated = 0;
    if (options.maxLength !== undefined) {
      let over = a.ids.length + (b?.ids.length ?? 0) + extra - options.maxLength;
      if (over > 0) {
        if (!options.truncation)
          throw new RangeError(
            `${a.ids.length + (b?.ids.length ?? 0) + extra} tokens, longer than the ${options.maxLength} the model allows`,
          );
        truncated = over;
        // Longest first: take one token at a time from the longer sequence.
        let keepA = a.ids.length;
        let keepB = b?.ids.length ?? 0;
        while (over-- > 0) {
          if (b && keepB > keepA) keepB--;
          else if (keepA > 0) keepA--;
          else keepB--;
        }
        if (keepA < 0 || keepB < 0) throw new RangeError(`max length ${options.maxLength} leaves no room for the text`);
        a = { ids: a.ids.slice(0, keepA), tokens: a.tokens.slice(0, keepA) };
        if (b) b = { ids: b.ids.slice(0, keepB), tokens: b.tokens.slice(0, keepB) };
      }
    }
    const ids: number[] = [];
    const tokens: string[] = [];
    const typeIds: number[] = [];
    const push = (id: number, token: string, type: number) => (ids.push(id), tokens.push(token), typeIds.push(type));
    const cls = this.parts.pieces[this.parts.clsId]?.piece ?? "[CLS]";
    const sep = this.parts.pieces[this.parts.sepId]?.piece ?? "[SEP]";
    if (special) push(this.parts.clsId, cls, 0);
    a.ids.forEach((id, i) => push(id, a.tokens[i], 0));
    if (special) push(this.parts.sepId, sep, 0);
    if (b) {
      b.ids.forEach((id, i) => push(id, b!.tokens[i], 1));
      if (special) push(this.parts.sepId, sep, 1);
    }
    return { ids, typeIds, tokens, truncated };
  }

  /** Encodes (text, text_pair) items and pads them on the right to the longest. */
  encodeBatch(items: { text: string; textPair?: string }[], options: EncodeOptions = {}): BatchEncoding {
    const encoded = items.map((it) => this.encode(it.text, it.textPair, options));
    const L = Math.max(0, ...encoded.map((e) => e.ids.length));
    const pad = <T>(row: T[], fill: T) => [...row, ...new Array<T>(L - row.length).fill(fill)];
    return {
      inputIds: encoded.map((e) => pad(e.ids, this.parts.padId)),
      attentionMask: encoded.map((e) =>
        pad(
          e.ids.map(() => 1),
          0,
        ),
      ),
      tokenTypeIds: encoded.map((e) => pad(e.typeIds, 0)),
      truncated: encoded.map((e) => e.truncated),
    };
  }
}

// ------------------------------------------------------------------ loading

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
}

function specialId(byContent: Map<string, number>, name: string, file: string): number {
  const id = byContent.get(name);
  if (id === undefined) throw new Error(`${file}: no token "${name}" (needed for [CLS] a [SEP] b [SEP] encoding)`);
  return id;
}

/** The tokenizer of a tokenizer.json whose model is Unigram. */
export function unigramFromTokenizerJson(file: string, tokenizerConfig: Record<string, unknown> = {}): UnigramTokenizer {
  const spec = readJson(file);
  const model = spec.model as Record<string, unknown> | undefined;
  if (model?.type !== "Unigram")
    throw new Error(`${file}: model.type is ${JSON.stringify(model?.type)}, this reader handles Unigram (sentencepiece) tokenizers`);
  const vocab = model.vocab as [string, number][];
  if (!Array.isArray(vocab)) throw new Error(`${file}: model.vocab should be a list of [piece, score]`);
  const added: AddedToken[] = ((spec.added_tokens as Record<string, unknown>[]) ?? []).map((t) => ({
    id: Number(t.id),
    content: String(t.content),
    special: Boolean(t.special),
  }));
  const addedIds = new Set(added.map((a) => a.id));
  const byContent = new Map<string, number>();
  for (const a of added) byContent.set(a.content, a.id);
  vocab.forEach(([p], id) => byContent.has(p) || byContent.set(p, id));
  const cls = tokenName(tokenizerConfig, "cls_token", "[CLS]");
  const sep = tokenName(tokenizerConfig, "sep_token", "[SEP]");
  const pad = tokenName(tokenizerConfig, "pad_token", "[PAD]");
  return new UnigramTokenizer({
    pieces: vocab.map(([piece, score], id) => ({ piece, score: Number(score), matchable: !addedIds.has(id) })),
    unkId: Number(model.unk_id ?? 0),
    byteFallback: Boolean(model.byte_fallback),
    added,
    normalize: normalizerFrom(spec.normalizer as Record<string, unknown> | null, `${file}: normalizer`),
    preTokenize: preTokenizerFrom(spec.pre_tokenizer as Record<string, unknown> | null, `${file}: pre_tokenizer`),
    clsId: specialId(byContent, cls, file),
    sepId: specialId(byContent, sep, file),
    padId: specialId(byContent, pad, file),
    source: file,
    modelMaxLength: realLimit(tokenizerConfig.model_max_length),
  });
}

/** A special token named in tokenizer_config.json: a string, or (older files) an AddedToken object with "content". */
function tokenName(config: Record<string, unknown>, key: string, fallback: string): string {
  const v = config[key];
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as { content?: unknown }).content === "string") return (v as { content: string }).content;
  return fallback;
}

function realLimit(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) && v > 0 && v < 1e9 ? v : undefined;
}

// ---- spm.model: the sentencepiece ModelProto, read field by field

interface ProtoField {
  field: number;
  wire: number;
  value: number | Uint8Array;
}

function* protoFields(buf: Uint8Array, source: string): Generator<ProtoField> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let i = 0;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (;;) {
      if (i >= buf.length) throw new Error(`${source}: truncated protobuf varint at byte ${i}`);
      const b = buf[i++];
      result += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) return result;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) yield { field, wire, value: varint() };
    else if (wire === 2) {
      const n = varint();
      if (i + n > buf.length) throw new Error(`${source}: field ${field} runs past the end of the file (byte ${i})`);
      yield { field, wire, value: buf.subarray(i, i + n) };
      i += n;
    } else if (wire === 5) {
      yield { field, wire, value: view.getFloat32(i, true) };
      i += 4;
    } else if (wire === 1) {
      yield { field, wire, value: view.getFloat64(i, true) };
      i += 8;
    } else throw new Error(`${source}: protobuf wire type ${wire} at byte ${i} is not readable; is this a sentencepiece model?`);
  }
}

const PIECE_NORMAL = 1;
const PIECE_UNKNOWN = 2;
const PIECE_USER_DEFINED = 4;
const PIECE_BYTE = 6;

/** The tokenizer of a sentencepiece unigram model file, with DeBERTa's [CLS]/[SEP]/[PAD]. */
export function unigramFromSpm(file: string, tokenizerConfig: Record<string, unknown> = {}): UnigramTokenizer {
  const buf = new Uint8Array(readFileSync(file));
  const dec = new TextDecoder();
  const pieces: UnigramParts["pieces"] = [];
  const added: AddedToken[] = [];
  let unkId = -1;
  let byteFallback = false;
  let charsMap: Uint8Array | undefined;
  let addDummyPrefix = true;
  let removeExtraWhitespace = true;
  let escapeWhitespace = true;
  let modelType = 1;
  for (const f of protoFields(buf, file)) {
    if (f.field === 1 && f.value instanceof Uint8Array) {
      let piece = "";
      let score = 0;
      let type = PIECE_NORMAL;
      for (const g of protoFields(f.value, file)) {
        if (g.field === 1 && g.value instanceof Uint8Array) piece = dec.decode(g.value);
        else if (g.field === 2 && typeof g.value === "number") score = g.value;
        else if (g.field === 3 && typeof g.value === "number") type = g.value;
      }
      const id = pieces.length;
      if (type === PIECE_UNKNOWN) unkId = id;
      // User-defined symbols are matched inside the normalized text and always win (sentencepiece's rule).
      const userDefined = type === PIECE_USER_DEFINED;
      pieces.push({ piece, score: userDefined ? 0 : score, matchable: type === PIECE_NORMAL || type === PIECE_BYTE || userDefined });
    } else if (f.field === 2 && f.value instanceof Uint8Array) {
      for (const g of protoFields(f.value, file)) {
        if (g.field === 3 && typeof g.value === "number") modelType = g.value;
        if (g.field === 35 && typeof g.value === "number") byteFallback = g.value !== 0;
      }
    } else if (f.field === 3 && f.value instanceof Uint8Array) {
      for (const g of protoFields(f.value, file)) {
        if (g.field === 2 && g.value instanceof Uint8Array) charsMap = g.value;
        if (g.field === 3 && typeof g.value === "number") addDummyPrefix = g.value !== 0;
        if (g.field === 4 && typeof g.value === "number") removeExtraWhitespace = g.value !== 0;
        if (g.field === 5 && typeof g.value === "number") escapeWhitespace = g.value !== 0;
      }
    }
  }
  if (pieces.length === 0) throw new Error(`${file}: no pieces found; is this a sentencepiece model?`);
  if (modelType !== 1) throw new Error(`${file}: sentencepiece model type ${modelType} is not unigram (1)`);
  if (unkId < 0) throw new Error(`${file}: no unknown piece`);
  const map = charsMap && charsMap.length > 4 ? new CharsMap(charsMap) : undefined;
  const normalize: Normalize = (s) => {
    let t = map ? map.normalize(s) : s;
    if (removeExtraWhitespace) t = t.replace(/ +/g, " ").replace(/^ | $/g, "");
    if (t && addDummyPrefix) t = " " + t;
    return escapeWhitespace ? t.replace(/ /g, "▁") : t;
  };
  const byContent = new Map<string, number>();
  pieces.forEach((p, id) => byContent.has(p.piece) || byContent.set(p.piece, id));
  const name = (k: string, d: string) => tokenName(tokenizerConfig, k, d);
  return new UnigramTokenizer({
    pieces,
    unkId,
    byteFallback,
    added,
    normalize,
    preTokenize: (s) => [s],
    clsId: specialId(byContent, name("cls_token", "[CLS]"), file),
    sepId: specialId(byContent, name("sep_token", "[SEP]"), file),
    padId: specialId(byContent, name("pad_token", "[PAD]"), file),
    source: file,
    modelMaxLength: realLimit(tokenizerConfig.model_max_length),
  });
}

/** The folder's unigram tokenizer: tokenizer.json when present (as transformers prefers), else spm.model. */
export function loadUnigramTokenizer(dir: string): UnigramTokenizer {
  const configFile = join(dir, "tokenizer_config.json");
  const tokenizerConfig = existsSync(configFile) ? readJson(configFile) : {};
  const json = join(dir, "tokenizer.json");
  if (existsSync(json)) return unigramFromTokenizerJson(json, tokenizerConfig);
  const spm = join(dir, "spm.model");
  if (existsSync(spm)) return unigramFromSpm(spm, tokenizerConfig);
  throw new Error(`${dir}: no tokenizer.json or spm.model (the DeBERTa-v3 tokenizer files)`);
}
