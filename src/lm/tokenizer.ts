/**
 * Byte-level BPE tokenizer for the kit's language model.
 *
 * Text is cut into chunks (a word with its leading space, a run of digits,
 * a run of punctuation, whitespace), each chunk is turned into its UTF-8
 * bytes, and learned merges join adjacent symbols into larger ones, most
 * frequent pair first. Because the 256 byte values are all in the
 * vocabulary, any string encodes, and decoding gives it back exactly
 * (strings with unpaired UTF-16 surrogates included: they are written with
 * the generalised UTF-8 that keeps them).
 *
 * Ids: 0–255 are the bytes, then one id per merge in the order learned,
 * then the special tokens (PAD, BOS, EOS, SEP). Special tokens never come
 * out of `encode`; they are added by `formatPrompt` / `formatExample`, so
 * that text that happens to contain "<|eos|>" is still plain text.
 *
 * The same class also holds a GPT-2 style vocabulary (vocab.json +
 * merges.txt, see `loadGpt2Tokenizer`), whose byte ids and merge results
 * are arbitrary ids rather than 0–255 and 256+i.
 */
import { readFileSync, writeFileSync } from "node:fs";

/** What the tokenizer puts around a prompt and after a response. */
export interface ChatTemplate {
  /** Ids before the prompt text (the kit's: BOS). */
  promptPrefix: number[];
  /** Ids between the prompt and the response (the kit's: SEP). */
  promptSuffix: number[];
  /** Ids that end a response (the kit's: EOS). */
  responseSuffix: number[];
}

export interface SpecialTokens {
  pad: number;
  bos: number;
  eos: number;
  sep: number;
}

/** The on-disk form (tokenizer.json). */
export interface TokenizerJSON {
  format: "fulcra-bpe-1";
  /** Regular expression (u flag) that cuts text into chunks before merging. */
  pattern: string;
  /** Id of each byte value 0–255. */
  byteIds: number[];
  /** Merges in rank order: [left id, right id, result id]. */
  merges: [number, number, number][];
  /** Special tokens: id → printable name. */
  specialNames: Record<string, string>;
  specials: SpecialTokens;
  template: ChatTemplate;
  vocabSize: number;
}

/**
 * The kit's chunking rule: optional leading space + letters; optional space +
 * up to 3 digits; optional space + punctuation run; newlines runs; other
 * whitespace (a trailing space run leaves its last space to the next word).
 */
export const KIT_PATTERN = String.raw` ?\p{L}+(?:['’]\p{L}+)*| ?\p{N}{1,3}| ?[^\s\p{L}\p{N}]+|\n+|[^\S\n]+(?!\S)|[^\S\n]+`;

/** GPT-2's chunking rule (a published fact about its tokenizer, needed to reproduce its ids). */
export const GPT2_PATTERN = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

const SPECIAL_NAMES = ["<|pad|>", "<|bos|>", "<|eos|>", "<|sep|>"] as const;

export class Tokenizer {
  readonly vocabSize: number;
  readonly specials: SpecialTokens;
  readonly template: ChatTemplate;
  /** The bytes each id stands for (empty for special tokens). */
  private readonly tokenBytes: Uint8Array[];
  private readonly specialName = new Map<number, string>();
  private readonly regex: RegExp;
  /** Pair key → [rank, result id]. */
  private readonly mergeRank = new Map<number, [number, number]>();
  private readonly chunkCache = new Map<string, number[]>();

  constructor(readonly json: TokenizerJSON) {
    if (json.format !== "fulcra-bpe-1") throw new Error(`tokenizer: unknown format "${json.format}" (expected "fulcra-bpe-1")`);
    if (json.byteIds.length !== 256) throw new Error(`tokenizer: byteIds must list 256 ids, got ${json.byteIds.length}`);
    this.vocabSize = json.vocabSize;
    this.specials = json.specials;
    this.template = json.template;
    this.regex = new RegExp(json.pattern, "gu");
    const bytes: (Uint8Array | undefined)[] = new Array(json.vocabSize);
    json.byteIds.forEach((id, b) => {
      checkId(id, json.vocabSize, `byteIds[${b}]`);
      bytes[id] = Uint8Array.of(b);
    });
    json.merges.forEach(([a, b, z], rank) => {
      checkId(z, json.vocabSize, `merges[${rank}]`);
      const left = bytes[a];
      const right = bytes[b];
      if (!left || !right)
        throw new Error(`tokenizer: merges[${rank}] = [${a}, ${b}, ${z}] uses an id not defined by an earlier merge or byte`);
      const joined = new Uint8Array(left.length + right.length);
      joined.set(left);
      joined.set(right, left.length);
      bytes[z] = joined;
      const key = pairKey(a, b);
      if (!this.mergeRank.has(key)) this.mergeRank.set(key, [rank, z]);
    });
    for (const [id, name] of Object.entries(json.specialNames)) {
      checkId(Number(id), json.vocabSize, `specialNames`);
      this.specialName.set(Number(id), name);
    }
    this.tokenBytes = Array.from(bytes, (b) => b ?? new Uint8Array(0));
  }

  /** Text → ids (no special tokens). Deterministic; cached per chunk. */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const chunk of splitChunks(text, this.regex)) {
      let ids = this.chunkCache.get(chunk);
      if (!ids) {
        ids = this.mergeChunk(chunk);
        if (this.chunkCache.size < 200_000) this.chunkCache.set(chunk, ids);
      }
      for (const id of ids) out.push(id);
    }
    return out;
  }

  /**
   * Ids → text. Special tokens are dropped unless `keepSpecial`, in which
   * case their names ("<|eos|>") are written. Byte sequences that are not
   * valid UTF-8 (a model can produce them) become U+FFFD.
   */
  decode(ids: readonly number[], options: { keepSpecial?: boolean } = {}): string {
    let text = "";
    let run: number[] = [];
    const flush = () => {
      if (run.length) text += decodeUtf8(Uint8Array.from(run));
      run = [];
    };
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize)
        throw new RangeError(`tokenizer.decode: id ${id} is outside the vocabulary (0–${this.vocabSize - 1})`);
      const name = this.specialName.get(id);
      if (name !== undefined) {
        flush();
        if (options.keepSpecial) text += name;
        continue;
      }
      for (const b of this.tokenBytes[id]) run.push(b);
    }
    flush();
    return text;
  }

  /** The printable form of one id (for inspecting merges). */
  tokenText(id: number): string {
    return this.specialName.get(id) ?? decodeUtf8(this.tokenBytes[id]);
  }

  isSpecial(id: number): boolean {
    return this.specialName.has(id);
  }

  /**
   * Ids of a prompt as the model sees it before answering: template prefix,
   * prompt text (its last `maxPromptTokens` text tokens if longer), template suffix.
   */
  formatPrompt(prompt: string, maxPromptTokens = Infinity): number[] {
    let ids = this.encode(prompt);
    if (ids.length > maxPromptTokens) ids = ids.slice(ids.length - maxPromptTokens);
    return [...this.template.promptPrefix, ...ids, ...this.template.promptSuffix];
  }

  /**
   * A supervised example: prompt ids, then the response ids and the end
   * token, cut to `contextLength`. `responseStart` is the index of the
   * first response id (the loss is taken from there on).
   */
  formatExample(
    prompt: string,
    response: string,
    contextLength: number,
    maxPromptTokens = Math.floor(contextLength / 2),
  ): { ids: number[]; responseStart: number } {
    const head = this.formatPrompt(prompt, maxPromptTokens);
    const ids = [...head, ...this.encode(response), ...this.template.responseSuffix].slice(0, contextLength);
    return { ids, responseStart: head.length };
  }

  toJSON(): TokenizerJSON {
    return this.json;
  }

  save(file: string): void {
    writeFileSync(file, JSON.stringify(this.json));
  }

  static load(file: string): Tokenizer {
    let json: TokenizerJSON;
    try {
      json = JSON.parse(readFileSync(file, "utf8")) as TokenizerJSON;
    } catch (e) {
      throw new Error(`tokenizer: cannot read ${file} (${(e as Error).message})`);
    }
    return new Tokenizer(json);
  }

  private mergeChunk(chunk: string): number[] {
    const bytes = encodeUtf8(chunk);
    let symbols = Array.from(bytes, (b) => this.json.byteIds[b]);
    // Repeatedly merge the adjacent pair with the lowest rank (the earliest learned).
    while (symbols.length > 1) {
      let bestRank = Infinity;
      let bestKey = -1;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const hit = this.mergeRank.get(pairKey(symbols[i], symbols[i + 1]));
        if (hit && hit[0] < bestRank) {
          bestRank = hit[0];
          bestKey = pairKey(symbols[i], symbols[i + 1]);
        }
      }
      if (bestKey < 0) break;
      const result = this.mergeRank.get(bestKey)![1];
      const next: number[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && pairKey(symbols[i], symbols[i + 1]) === bestKey) {
          next.push(result);
          i++;
        } else next.push(symbols[i]);
      }
      symbols = next;
    }
    return symbols;
  }
}

export interface TrainTokenizerOptions {
  /** Chunking rule (default KIT_PATTERN). */
  pattern?: string;
  /** Called now and then with (merges done, merges wanted). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Learns a byte-level BPE vocabulary of `vocabSize` ids (256 bytes + merges
 * + 4 special tokens) from `texts`. Deterministic: ties between equally
 * frequent pairs go to the pair with the smaller (left, right) ids.
 */
export function trainTokenizer(texts: Iterable<string>, vocabSize: number, options: TrainTokenizerOptions = {}): Tokenizer {
  const pattern = options.pattern ?? KIT_PATTERN;
  const numMerges = vocabSize - 256 - SPECIAL_NAMES.length;
  if (!Number.isInteger(vocabSize) || numMerges < 0 || vocabSize > 65536) {
    throw new RangeError(`trainTokenizer: vocabSize must be an integer from ${256 + SPECIAL_NAMES.length} to 65536, got ${vocabSize}`);
  }
  // 1. Chunk frequencies: merges never cross chunk boundaries, so each distinct chunk is processed once.
  const regex = new RegExp(pattern, "gu");
  const chunkFreq = new Map<string, number>();
  for (const text of texts) for (const c of splitChunks(text, regex)) chunkFreq.set(c, (chunkFreq.get(c) ?? 0) + 1);
  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [chunk, f] of chunkFreq) {
    words.push(Array.from(encodeUtf8(chunk)));
    freqs.push(f);
  }

  // 2. Pair counts over all words, and which words hold each pair.
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1, touched: Set<number>) => {
    const sym = words[w];
    for (let i = 0; i + 1 < sym.length; i++) {
      const key = pairKey(sym[i], sym[i + 1]);
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * freqs[w]);
      touched.add(key);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  const initial = new Set<number>();
  for (let w = 0; w < words.length; w++) addPairs(w, 1, initial);
  const heap = new PairHeap();
  for (const key of initial) heap.push(pairCount.get(key)!, key);

  // 3. Merge the most frequent pair, update only the words that hold it, repeat.
  const merges: [number, number, number][] = [];
  while (merges.length < numMerges) {
    const top = heap.pop();
    if (!top) break; // every chunk is a single symbol: nothing left to merge
    const [count, key] = top;
    if (pairCount.get(key) !== count || count <= 0) continue; // stale heap entry
    const a = Math.floor(key / 65536);
    const b = key % 65536;
    const z = 256 + merges.length;
    merges.push([a, b, z]);
    const touched = new Set<number>();
    for (const w of pairWords.get(key) ?? []) {
      const sym = words[w];
      let holds = false;
      for (let i = 0; i + 1 < sym.length; i++) if (sym[i] === a && sym[i + 1] === b) holds = true;
      if (!holds) continue;
      addPairs(w, -1, touched);
      const next: number[] = [];
      for (let i = 0; i < sym.length; i++) {
        if (i + 1 < sym.length && sym[i] === a && sym[i + 1] === b) {
          next.push(z);
          i++;
        } else next.push(sym[i]);
      }
      words[w] = next;
      addPairs(w, 1, touched);
    }
    pairWords.delete(key);
    for (const t of touched) {
      const c = pairCount.get(t)!;
      if (c > 0) heap.push(c, t);
      else pairCount.delete(t);
    }
    if (options.onProgress && merges.length % 64 === 0) options.onProgress(merges.length, numMerges);
  }

  const byteIds = Array.from({ length: 256 }, (_, b) => b);
  const first = 256 + merges.length;
  const specials: SpecialTokens = { pad: first, bos: first + 1, eos: first + 2, sep: first + 3 };
  const specialNames: Record<string, string> = {};
  SPECIAL_NAMES.forEach((name, i) => (specialNames[String(first + i)] = name));
  return new Tokenizer({
    format: "fulcra-bpe-1",
    pattern,
    byteIds,
    merges,
    specialNames,
    specials,
    template: { promptPrefix: [specials.bos], promptSuffix: [specials.sep], responseSuffix: [specials.eos] },
    // Fewer merges than asked (a tiny corpus) gives a smaller vocabulary, stated here.
    vocabSize: first + SPECIAL_NAMES.length,
  });
}

/**
 * Reads a GPT-2 style tokenizer: vocab.json (token string → id, bytes
 * written with GPT-2's printable byte alphabet) and merges.txt (one merge
 * "left right" a line, in rank order, after an optional "#version" line).
 * `<|endoftext|>` serves as BOS, EOS, PAD and SEP; the chat template is the
 * HH-RLHF one ("\n\nHuman: …\n\nAssistant:").
 */
export function loadGpt2Tokenizer(vocabFile: string, mergesFile: string): Tokenizer {
  let vocab: Record<string, number>;
  try {
    vocab = JSON.parse(readFileSync(vocabFile, "utf8")) as Record<string, number>;
  } catch (e) {
    throw new Error(`GPT-2 tokenizer: cannot read ${vocabFile} as JSON (${(e as Error).message})`);
  }
  const charToByte = new Map<string, number>();
  gpt2ByteAlphabet().forEach((ch, b) => charToByte.set(ch, b));
  const byteIds: number[] = [];
  for (const [ch, b] of charToByte) {
    const id = vocab[ch];
    if (id === undefined)
      throw new Error(`GPT-2 tokenizer: ${vocabFile} has no entry for the single-byte token ${JSON.stringify(ch)} (byte ${b})`);
    byteIds[b] = id;
  }
  const lines = readFileSync(mergesFile, "utf8").split(/\r?\n/);
  const merges: [number, number, number][] = [];
  lines.forEach((line, i) => {
    if (line === "" || (i === 0 && line.startsWith("#version"))) return;
    const parts = line.split(" ");
    if (parts.length !== 2) throw new Error(`GPT-2 tokenizer: ${mergesFile}:${i + 1}: expected "left right", got ${JSON.stringify(line)}`);
    const [l, r] = parts;
    const a = vocab[l];
    const b = vocab[r];
    const z = vocab[l + r];
    if (a === undefined || b === undefined || z === undefined) {
      throw new Error(`GPT-2 tokenizer: ${mergesFile}:${i + 1}: merge ${JSON.stringify(line)} uses a token missing from ${vocabFile}`);
    }
    merges.push([a, b, z]);
  });
  const vocabSize = Math.max(...Object.values(vocab)) + 1;
  const eot = vocab["<|endoftext|>"];
  if (eot === undefined) throw new Error(`GPT-2 tokenizer: ${vocabFile} has no "<|endoftext|>" token`);
  const json: TokenizerJSON = {
    format: "fulcra-bpe-1",
    pattern: GPT2_PATTERN,
    byteIds,
    merges,
    specialNames: { [String(eot)]: "<|endoftext|>" },
    specials: { pad: eot, bos: eot, eos: eot, sep: eot },
    template: { promptPrefix: [eot], promptSuffix: [], responseSuffix: [eot] },
    vocabSize,
  };
  const tok = new Tokenizer(json);
  // The HH-RLHF turn markers, as GPT-2 text.
  json.template = {
    promptPrefix: [eot, ...tok.encode("\n\nHuman: ")],
    promptSuffix: tok.encode("\n\nAssistant:"),
    responseSuffix: [eot],
  };
  return new Tokenizer(json);
}

/**
 * GPT-2's printable stand-in for each byte: printable Latin-1 bytes stand
 * for themselves, the other bytes are given the code points from 256 up, in order.
 */
export function gpt2ByteAlphabet(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(printable(b) ? b : next++));
  return out;
}

// ---------------------------------------------------------------- helpers

function pairKey(a: number, b: number): number {
  return a * 65536 + b;
}

function checkId(id: number, vocabSize: number, where: string): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new Error(`tokenizer: ${where} holds id ${id}, outside 0–${vocabSize - 1}`);
}

/** Cuts text into chunks with `regex`; any text the pattern skips becomes a chunk too, so nothing is lost. */
export function splitChunks(text: string, regex: RegExp): string[] {
  const out: string[] = [];
  let at = 0;
  regex.lastIndex = 0;
  for (const m of text.matchAll(regex)) {
    if (m.index! > at) out.push(text.slice(at, m.index));
    if (m[0].length) out.push(m[0]);
    at = m.index! + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

/** UTF-8, with unpaired surrogates written as 3-byte sequences (so that every JS string round-trips). */
export function encodeUtf8(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

/** The inverse of `encodeUtf8`; a malformed sequence becomes one U+FFFD per byte it spans. */
export function decodeUtf8(bytes: Uint8Array): string {
  const units: number[] = [];
  let text = "";
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    let need = 0;
    let cp = 0;
    let min = 0;
    if (b < 0x80) {
      cp = b;
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      cp = b & 31;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      cp = b & 15;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      cp = b & 7;
      min = 0x10000;
    } else {
      units.push(0xfffd);
      i++;
      continue;
    }
    let ok = i + need < bytes.length;
    for (let k = 1; ok && k <= need; k++) {
      const c = bytes[i + k];
      if ((c & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (c & 63);
    }
    if (!ok || cp < min || cp > 0x10ffff) {
      units.push(0xfffd);
      i++;
      continue;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 1023));
    } else units.push(cp);
    i += need + 1;
    if (units.length > 4096) {
      text += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  return text + String.fromCharCode(...units);
}

/** A max-heap of (count, pair key); ties go to the smaller key so training is deterministic. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  private above(i: number, j: number): boolean {
    return this.counts[i] > this.counts[j] || (this.counts[i] === this.counts[j] && this.keys[i] < this.keys[j]);
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): [number, number] | undefined {
    if (this.counts.length === 0) return undefined;
    const top: [number, number] = [this.counts[0], this.keys[0]];
    const lastC = this.counts.pop()!;
    const lastK = this.keys.pop()!;
    if (this.counts.length) {
      this.counts[0] = lastC;
      this.keys[0] = lastK;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.counts.length && this.above(l, m)) m = l;
        if (r < this.counts.length && this.above(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}
