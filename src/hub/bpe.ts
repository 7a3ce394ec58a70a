/**
 * GPT-2's byte-level BPE tokenizer, read from a hub folder.
 *
 * The encoding itself is done by `@huggingface/tokenizers` (the maintained
 * JavaScript port of Hugging Face's tokenizers), which reads `tokenizer.json`.
 * Measured on the gpt2-tiny fixture it gives transformers' ids exactly,
 * including `<|endoftext|>` written inside a text (an added token, one id, as
 * in transformers). Folders that hold only `vocab.json` + `merges.txt` (older
 * GPT-2 uploads) get the tokenizer.json that transformers would build from
 * them: ByteLevel pre-tokenizer without prefix space, BPE model, ByteLevel
 * decoder, `<|endoftext|>` as the added special token.
 *
 * The kit's own BPE (src/lm/tokenizer.ts) stays for training the kit's
 * vocabularies; it also reproduces these ids on plain text and is about ten
 * times faster, but treats `<|endoftext|>` in text as plain characters.
 *
 * Like transformers' GPT2Tokenizer, `encode` adds no special tokens. Batches
 * are padded on the right (GPT-2 has no pad token: the pad id is the
 * configured pad_token, else EOS) with an attention mask.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";

export interface BatchEncoding {
  /** [batch][length] ids, padded on the right to the longest row. */
  inputIds: number[][];
  /** 1 for real tokens, 0 for padding. */
  attentionMask: number[][];
}

export interface BatchOptions {
  /** Cut rows longer than this (from the right), when `truncation` is on; otherwise a longer row is an error. */
  maxLength?: number;
  truncation?: boolean;
}

export class HubBpeTokenizer {
  /** Ids run 0 … vocabSize − 1 (model vocabulary and added tokens). */
  readonly vocabSize: number;
  readonly eosId: number;
  readonly bosId: number;
  /** pad_token from tokenizer_config.json, else EOS. */
  readonly padId: number;

  constructor(
    private readonly hf: HfTokenizer,
    /** The file the tokenizer was read from (for messages). */
    readonly source: string,
    specials: { eos: number; bos: number; pad: number },
  ) {
    const vocab = hf.get_vocab(true);
    let max = -1;
    for (const id of vocab.values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    this.eosId = specials.eos;
    this.bosId = specials.bos;
    this.padId = specials.pad;
  }

  /** Token ids of `text`, no special tokens added (transformers: `tokenizer(text)["input_ids"]` for GPT-2). */
  encode(text: string): number[] {
    return this.hf.encode(text, { add_special_tokens: false }).ids;
  }

  /** Text of `ids`; special tokens are kept unless `skipSpecial`. */
  decode(ids: readonly number[], skipSpecial = false): string {
    return this.hf.decode(ids as number[], { skip_special_tokens: skipSpecial, clean_up_tokenization_spaces: false });
  }

  /** The token string of one id (GPT-2's printable byte alphabet), or undefined. */
  idToToken(id: number): string | undefined {
    return this.hf.id_to_token(id);
  }

  /** Several texts, right-padded to one length with an attention mask. */
  encodeBatch(texts: readonly string[], options: BatchOptions = {}): BatchEncoding {
    const rows = texts.map((t, i) => {
      const ids = this.encode(t);
      if (options.maxLength !== undefined && ids.length > options.maxLength) {
        if (!options.truncation)
          throw new RangeError(
            `${this.source}: text ${i} is ${ids.length} tokens, longer than the ${options.maxLength} allowed (turn on truncation to cut it)`,
          );
        return ids.slice(0, options.maxLength);
      }
      return ids;
    });
    const length = Math.max(0, ...rows.map((r) => r.length));
    return {
      inputIds: rows.map((r) => [...r, ...new Array<number>(length - r.length).fill(this.padId)]),
      attentionMask: rows.map((r) => [...new Array<number>(r.length).fill(1), ...new Array<number>(length - r.length).fill(0)]),
    };
  }
}

type TokenLike = string | { content?: string } | null | undefined;

function tokenText(t: TokenLike): string | undefined {
  if (t === null || t === undefined) return undefined;
  return typeof t === "string" ? t : t.content;
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: not readable as JSON (${(e as Error).message})`);
  }
}

/**
 * The tokenizer.json that transformers builds for GPT-2 from vocab.json and
 * merges.txt (merges one "left right" a line after an optional "#version" line).
 */
export function gpt2TokenizerJson(vocabFile: string, mergesFile: string, eosToken = "<|endoftext|>"): Record<string, unknown> {
  const vocab = readJson(vocabFile) as Record<string, number>;
  const merges: [string, string][] = [];
  readFileSync(mergesFile, "utf8")
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line === "" || (i === 0 && line.startsWith("#version"))) return;
      const parts = line.split(" ");
      if (parts.length !== 2) throw new Error(`${mergesFile}:${i + 1}: expected "left right", got ${JSON.stringify(line)}`);
      for (const p of [parts[0], parts[1], parts[0] + parts[1]]) {
        if (!(p in vocab))
          throw new Error(
            `${mergesFile}:${i + 1}: merge ${JSON.stringify(line)} uses ${JSON.stringify(p)}, which ${vocabFile} does not hold`,
          );
      }
      merges.push([parts[0], parts[1]]);
    });
  const eos = vocab[eosToken];
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens:
      eos === undefined
        ? []
        : [{ id: eos, content: eosToken, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/**
 * Reads a GPT-2 tokenizer from a hub folder: tokenizer.json when present,
 * else vocab.json + merges.txt; special tokens from tokenizer_config.json
 * (GPT-2's default: `<|endoftext|>` for BOS, EOS and UNK; no pad token).
 */
export function loadHubBpeTokenizer(dir: string): HubBpeTokenizer {
  const configFile = join(dir, "tokenizer_config.json");
  const config = existsSync(configFile) ? readJson(configFile) : {};
  const tokenizerFile = join(dir, "tokenizer.json");
  const vocabFile = join(dir, "vocab.json");
  const mergesFile = join(dir, "merges.txt");
  let json: Record<string, unknown>;
  let source: string;
  if (existsSync(tokenizerFile)) {
    json = readJson(tokenizerFile);
    source = tokenizerFile;
    const model = json.model as { type?: string } | undefined;
    if (!model || (model.type !== undefined && model.type !== "BPE")) {
      throw new Error(`${tokenizerFile}: field "model.type" is ${JSON.stringify(model?.type)}; a GPT-2 tokenizer is "BPE"`);
    }
  } else if (existsSync(vocabFile) && existsSync(mergesFile)) {
    json = gpt2TokenizerJson(vocabFile, mergesFile, tokenText(config.eos_token as TokenLike) ?? "<|endoftext|>");
    source = `${vocabFile} + merges.txt`;
  } else {
    throw new Error(`${dir}: no GPT-2 tokenizer (expected tokenizer.json, or vocab.json and merges.txt)`);
  }
  let hf: HfTokenizer;
  try {
    hf = new HfTokenizer(json, config);
  } catch (e) {
    throw new Error(`${source}: the tokenizer could not be built (${(e as Error).message})`);
  }
  const idOf = (field: string, fallback: string | undefined): number | undefined => {
    const text = tokenText(config[field] as TokenLike) ?? fallback;
    if (text === undefined) return undefined;
    const id = hf.token_to_id(text);
    if (id === undefined)
      throw new Error(`${configFile}: field "${field}" names ${JSON.stringify(text)}, which the vocabulary of ${source} does not hold`);
    return id;
  };
  const eos = idOf("eos_token", "<|endoftext|>");
  if (eos === undefined) throw new Error(`${source}: no end-of-text token`);
  const bos = idOf("bos_token", undefined) ?? eos;
  const pad = idOf("pad_token", undefined) ?? eos;
  return new HubBpeTokenizer(hf, source, { eos, bos, pad });
}
