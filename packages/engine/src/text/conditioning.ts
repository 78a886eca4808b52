/**
 * A1111's prompt → CLIP token chunks (behaviour of `sd_hijack_clip.FrozenCLIPEmbedderWithCustomWordsBase`
 * `tokenize_line` / `process_texts` / `process_tokens`, spec §6.7–§6.9, vector `clip_chunking.json`) and the
 * emphasis modes applied to the encoder output (`sd_emphasis`). Each chunk is 75 tokens wrapped in BOS/EOS;
 * long prompts give several chunks whose encodings the pipeline concatenates (77·k context tokens).
 */
import { isBreakMarker, parsePromptAttention, type WeightedText } from './prompt-parser.ts';

/** What the chunker needs from a tokenizer (CLIPTokenizer satisfies it). */
export interface ChunkTokenizer {
  /** Token ids without BOS/EOS. */
  encode(text: string): number[];
  readonly bosId: number;
  readonly eosId: number;
  /** Id of the ',' token that comma back-tracking looks for (267 in CLIP). */
  readonly commaId: number;
}

/** A textual-inversion embedding as the chunker sees it: its name and how many token vectors it has. */
export interface EmbeddingRef {
  readonly name: string;
  readonly vectors: number;
}

/** Where an embedding's vectors replace the placeholder ids: `offset` counts from the first token after BOS. */
export interface ChunkFix<E extends EmbeddingRef = EmbeddingRef> {
  offset: number;
  embedding: E;
}

/** 77 token ids (BOS, 75 tokens, EOS), one emphasis multiplier per id, and the embeddings to splice in. */
export interface PromptChunk<E extends EmbeddingRef = EmbeddingRef> {
  tokens: number[];
  multipliers: number[];
  fixes: ChunkFix<E>[];
}

/**
 * A1111 option `emphasis`: `Original` multiplies the encoder output by the weights and restores its mean,
 * `No norm` only multiplies, `Ignore` parses brackets but applies no weights, `None` does not parse them.
 */
export type EmphasisMode = 'Original' | 'No norm' | 'Ignore' | 'None';
export const EMPHASIS_MODES: readonly EmphasisMode[] = ['Original', 'No norm', 'Ignore', 'None'];

export interface ChunkOptions<E extends EmbeddingRef = EmbeddingRef> {
  /** A1111 option `comma_padding_backtrack` (default 20; 0 disables). */
  commaPaddingBacktrack?: number;
  emphasis?: EmphasisMode;
  embeddings?: EmbeddingTokenIndex<E>;
  /** Tokens per chunk between BOS and EOS (75). */
  chunkLength?: number;
}

/**
 * Textual-inversion lookup by token ids (A1111 `EmbeddingDatabase.ids_lookup`): at each token position the
 * longest registered id sequence that starts there wins.
 */
export class EmbeddingTokenIndex<E extends EmbeddingRef = EmbeddingRef> {
  private readonly byFirstId = new Map<number, Array<{ ids: number[]; embedding: E }>>();

  /** Registers `embedding` under the token ids of its name (`tokenizer.encode(name)`), replacing a same-named one. */
  register(ids: readonly number[], embedding: E): void {
    for (const [first, list] of this.byFirstId) {
      this.byFirstId.set(
        first,
        list.filter((entry) => entry.embedding.name !== embedding.name),
      );
    }
    if (ids.length === 0) return; // a name that tokenises to nothing can never match
    const list = this.byFirstId.get(ids[0]) ?? [];
    list.push({ ids: [...ids], embedding });
    list.sort((a, b) => b.ids.length - a.ids.length); // stable: equal lengths keep registration order
    this.byFirstId.set(ids[0], list);
  }

  /** The embedding whose ids start at `tokens[position]`, and how many ids it covers. */
  findAt(tokens: readonly number[], position: number): { embedding: E; length: number } | null {
    for (const { ids, embedding } of this.byFirstId.get(tokens[position]) ?? []) {
      if (ids.every((id, i) => tokens[position + i] === id)) return { embedding, length: ids.length };
    }
    return null;
  }
}

/** Accumulates tokens into chunks with A1111's closing, comma back-tracking and token counting. */
class ChunkBuilder<E extends EmbeddingRef> {
  readonly chunks: PromptChunk<E>[] = [];
  tokenCount = 0;
  private chunk: PromptChunk<E> = { tokens: [], multipliers: [], fixes: [] };
  /** Position just before the last ',' in the current chunk, or -1. */
  private lastComma = -1;

  constructor(
    private readonly tokenizer: ChunkTokenizer,
    private readonly chunkLength: number,
    private readonly backtrack: number,
  ) {}

  get length(): number {
    return this.chunk.tokens.length;
  }

  get hasTokens(): boolean {
    return this.chunk.tokens.length > 0;
  }

  /** Pads with EOS, wraps in BOS/EOS and starts a new chunk; a closed chunk counts as full unless it is the last. */
  close(isLast = false): void {
    const { bosId, eosId } = this.tokenizer;
    const chunk = this.chunk;
    this.tokenCount += isLast ? chunk.tokens.length : this.chunkLength;
    const padding = Math.max(0, this.chunkLength - chunk.tokens.length);
    chunk.tokens = [bosId, ...chunk.tokens, ...new Array<number>(padding).fill(eosId), eosId];
    chunk.multipliers = [1.0, ...chunk.multipliers, ...new Array<number>(padding).fill(1.0), 1.0];
    this.chunks.push(chunk);
    this.chunk = { tokens: [], multipliers: [], fixes: [] };
    this.lastComma = -1;
  }

  /** Runs before every token position (embedding starts included): comma tracking, back-tracking, full chunk. */
  prepare(token: number): void {
    if (token === this.tokenizer.commaId) this.lastComma = this.length;
    else if (this.length === this.chunkLength && this.canBacktrack()) this.moveTailToNextChunk();
    if (this.length === this.chunkLength) this.close();
  }

  pushToken(token: number, weight: number): void {
    this.chunk.tokens.push(token);
    this.chunk.multipliers.push(weight);
  }

  /** Appends placeholder id 0 for each vector; an embedding never straddles two chunks. */
  pushEmbedding(embedding: E, weight: number): void {
    const vectors = Math.trunc(embedding.vectors);
    if (this.length + vectors > this.chunkLength) this.close();
    this.chunk.fixes.push({ offset: this.length, embedding });
    for (let i = 0; i < vectors; i++) this.pushToken(0, weight);
  }

  private canBacktrack(): boolean {
    return this.backtrack !== 0 && this.lastComma !== -1 && this.length - this.lastComma <= this.backtrack;
  }

  /**
   * Comma back-tracking: the tokens after the last comma go to the next chunk. A1111 leaves their
   * embedding fixes behind in the closed chunk (where they would overwrite its padding); they move with
   * their tokens here.
   */
  private moveTailToNextChunk(): void {
    const cut = this.lastComma + 1;
    const { tokens, multipliers, fixes } = this.chunk;
    const moved = fixes.filter((fix) => fix.offset >= cut).map((fix) => ({ ...fix, offset: fix.offset - cut }));
    this.chunk = { tokens: tokens.slice(0, cut), multipliers: multipliers.slice(0, cut), fixes: fixes.filter((fix) => fix.offset < cut) };
    this.close();
    this.chunk = { tokens: tokens.slice(cut), multipliers: multipliers.slice(cut), fixes: moved };
  }
}

/**
 * A1111 `tokenize_line`: emphasis parsing (unless `emphasis: 'None'`), tokenisation of each piece, BREAK,
 * 75-token chunks with comma back-tracking and embedding placeholders. `tokenCount` is what the UI shows:
 * 75 per closed chunk plus the tokens of the last one.
 *
 * @example
 * tokenizeLine('a (cat:1.2) BREAK hat', CLIPTokenizer.load()).chunks.length // 2
 */
export function tokenizeLine<E extends EmbeddingRef = EmbeddingRef>(
  line: string,
  tokenizer: ChunkTokenizer,
  options: ChunkOptions<E> = {},
): { chunks: PromptChunk<E>[]; tokenCount: number } {
  const { commaPaddingBacktrack = 20, emphasis = 'Original', embeddings, chunkLength = 75 } = options;
  const parsed: WeightedText[] = emphasis === 'None' ? [[line, 1.0]] : parsePromptAttention(line);
  const builder = new ChunkBuilder<E>(tokenizer, chunkLength, commaPaddingBacktrack);
  for (const piece of parsed) {
    if (isBreakMarker(piece)) {
      builder.close();
      continue;
    }
    const [text, weight] = piece;
    const tokens = tokenizer.encode(text);
    for (let position = 0; position < tokens.length; ) {
      builder.prepare(tokens[position]);
      const found = embeddings?.findAt(tokens, position);
      if (found) {
        builder.pushEmbedding(found.embedding, weight);
        position += found.length;
      } else {
        builder.pushToken(tokens[position], weight);
        position += 1;
      }
    }
  }
  if (builder.hasTokens || builder.chunks.length === 0) builder.close(true);
  return { chunks: builder.chunks, tokenCount: builder.tokenCount };
}

/** BOS, then EOS to the end, multipliers 1: what shorter prompts of a batch are padded with. */
export function emptyChunk(tokenizer: ChunkTokenizer, chunkLength = 75): PromptChunk<never> {
  const tokens = [tokenizer.bosId, ...new Array<number>(chunkLength + 1).fill(tokenizer.eosId)];
  return { tokens, multipliers: new Array<number>(chunkLength + 2).fill(1.0), fixes: [] };
}

/**
 * A1111 `process_texts` + the chunk loop of `forward`: tokenises each line (identical lines once) and returns
 * `chunks[k][b]`, the k-th chunk of batch item b, padding lines with fewer chunks with empty chunks.
 */
export function batchChunks<E extends EmbeddingRef = EmbeddingRef>(
  lines: readonly string[],
  tokenizer: ChunkTokenizer,
  options: ChunkOptions<E> = {},
): { chunks: PromptChunk<E>[][]; tokenCount: number } {
  const cache = new Map<string, PromptChunk<E>[]>();
  let tokenCount = 0;
  const perLine = lines.map((line) => {
    let chunks = cache.get(line);
    if (!chunks) {
      const result = tokenizeLine(line, tokenizer, options);
      tokenCount = Math.max(tokenCount, result.tokenCount);
      chunks = result.chunks;
      cache.set(line, chunks);
    }
    return chunks;
  });
  const chunkCount = Math.max(...perLine.map((chunks) => chunks.length));
  const chunks = Array.from({ length: chunkCount }, (_, k) =>
    perLine.map((lineChunks): PromptChunk<E> => lineChunks[k] ?? emptyChunk(tokenizer, options.chunkLength)),
  );
  return { chunks, tokenCount };
}

/** SD2/OpenCLIP: every id after the first EOS becomes `padId` (0), as A1111's `process_tokens` does. */
export function padAfterFirstEos(tokens: readonly number[], eosId: number, padId: number): number[] {
  const first = tokens.indexOf(eosId);
  return first < 0 ? [...tokens] : tokens.map((id, i) => (i > first ? padId : id));
}

/**
 * Applies an emphasis mode to encoder output `z` (rows of `width` floats, one multiplier per row), as
 * A1111's `EmphasisOriginal.after_transformers`: `z *= multipliers`, then (Original) rescale so that the mean
 * over ALL of `z` is unchanged. A1111 takes that mean over the whole batch `[B, 77, width]` of one chunk
 * index, so pass the batch to reproduce it. Float32 as torch: multipliers, means and the ratio are float32.
 */
export function applyEmphasis(mode: EmphasisMode, z: Float32Array, multipliers: ArrayLike<number>): Float32Array {
  if (mode === 'None' || mode === 'Ignore') return z.slice();
  const rows = multipliers.length;
  const width = z.length / rows;
  if (!Number.isInteger(width)) throw new RangeError(`z has ${z.length} values, not a whole number of rows for ${rows} multipliers`);
  const out = new Float32Array(z.length);
  for (let r = 0; r < rows; r++) {
    const m = Math.fround(multipliers[r]);
    for (let c = r * width; c < (r + 1) * width; c++) out[c] = z[c] * m;
  }
  if (mode === 'No norm') return out;
  const ratio = Math.fround(float32Mean(z) / float32Mean(out));
  for (let i = 0; i < out.length; i++) out[i] *= ratio;
  return out;
}

function float32Mean(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return Math.fround(sum / values.length);
}
