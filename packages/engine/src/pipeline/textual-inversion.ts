/**
 * Textual inversion for one loaded model (spec §6.9, §3.16): which embeddings of the EmbeddingDatabase fit the
 * model's text encoders (width = the sum of the encoders' widths, as A1111's expected shape; others are skipped
 * with the reason), their vectors split per encoder (SDXL: `clip_l` → CLIP-L, `clip_g` → bigG), the token
 * index the chunker matches prompt words with, and the `TI hashes` infotext value.
 */
import type { ModelConfig } from '../checkpoint/config.ts';
import { CLIPTokenizer } from '../text/clip-tokenizer.ts';
import { EmbeddingTokenIndex, type EmbeddingRef } from '../text/conditioning.ts';
import type { EmbeddingDatabase, EmbeddingEntry } from './embedding-database.ts';
import { TEXT_ENCODER_ROLES } from './text-encoders.ts';

/** Tokens between BOS and EOS in one chunk: an embedding must fit in one (the chunker never splits it). */
const CHUNK_TOKENS = 75;

/** An embedding the model can use: its vectors for each text encoder, in `config.text_encoders` order. */
export interface TextualInversion extends EmbeddingRef {
  filename: string;
  /** First 12 hex digits of the file's SHA-256 (infotext `TI hashes`). */
  shortHash: string;
  /** Per encoder: [vectors × width_i] row-major. */
  rows: Float32Array[];
}

/** One GET /sdapi/v1/embeddings item (A1111's fields; `reason` is ours, for skipped ones). */
export interface EmbeddingInfo {
  step: number | null;
  sdCheckpoint: string | null;
  sdCheckpointName: string | null;
  /** Width, or null for a file that could not be read. */
  shape: number | null;
  vectors: number | null;
  reason?: string;
}

export interface ActiveEmbeddings {
  loaded: Map<string, TextualInversion>;
  skipped: Map<string, EmbeddingInfo>;
  index: EmbeddingTokenIndex<TextualInversion>;
}

const infoOf = (entry: EmbeddingEntry, reason?: string): EmbeddingInfo => {
  const { step, sdCheckpoint, sdCheckpointName, shape, vectors } = entry.data;
  return { step, sdCheckpoint, sdCheckpointName, shape, vectors, ...(reason === undefined ? {} : { reason }) };
};

/** The entry's vectors per encoder, or why the model cannot use them. */
function splitForModel(entry: EmbeddingEntry, config: ModelConfig): Float32Array[] | string {
  const { tensors, shape, vectors } = entry.data;
  const widths = config.text_encoders.map((e) => e.hidden_size);
  const expected = widths.reduce((a, b) => a + b, 0);
  if (shape !== expected) return `width ${shape} does not match this ${config.family} model's text encoder width ${expected}`;
  if (vectors > CHUNK_TOKENS) return `has ${vectors} vectors; at most ${CHUNK_TOKENS} fit in one prompt chunk`;
  const single = tensors.get('');
  if (single) {
    if (widths.length === 1) return [single.data];
    return `one ${shape}-wide tensor cannot be split between this model's ${widths.length} text encoders; SDXL embeddings carry clip_l and clip_g tensors`;
  }
  const roles = TEXT_ENCODER_ROLES[config.family];
  const rows: Float32Array[] = [];
  for (const [i, role] of roles.entries()) {
    const tensor = tensors.get(role.embeddingKey);
    if (!tensor || tensor.shape[1] !== widths[i]) return `needs a ${role.embeddingKey} tensor ${widths[i]} wide for text encoder ${i}`;
    rows.push(tensor.data);
  }
  return rows;
}

const cache = new WeakMap<EmbeddingDatabase, { generation: number; config: ModelConfig; active: ActiveEmbeddings }>();

/**
 * The database's embeddings as `config`'s model sees them (cached until the database reloads). Later files win
 * a name clash, as A1111's registry does.
 */
export function activeEmbeddings(db: EmbeddingDatabase, config: ModelConfig): ActiveEmbeddings {
  const hit = cache.get(db);
  if (hit && hit.generation === db.generation && hit.config === config) return hit.active;
  const tokenizer = CLIPTokenizer.load();
  const active: ActiveEmbeddings = { loaded: new Map(), skipped: new Map(), index: new EmbeddingTokenIndex() };
  for (const file of db.unreadable) {
    active.skipped.set(file.name, { step: null, sdCheckpoint: null, sdCheckpointName: null, shape: null, vectors: null, reason: file.reason });
  }
  for (const entry of db.entries) {
    const rows = splitForModel(entry, config);
    if (typeof rows === 'string') {
      active.skipped.set(entry.name, infoOf(entry, rows));
      continue;
    }
    const embedding: TextualInversion = {
      name: entry.name,
      vectors: entry.data.vectors,
      filename: entry.filename,
      shortHash: entry.data.sha256.slice(0, 12),
      rows,
    };
    active.skipped.delete(entry.name);
    active.loaded.set(entry.name, embedding);
    active.index.register(tokenizer.encode(entry.name), embedding);
  }
  cache.set(db, { generation: db.generation, config, active });
  return active;
}

/**
 * GET /sdapi/v1/embeddings in engine terms: `loaded` sorted case-insensitively (A1111), `skipped` in folder order.
 */
export function describeEmbeddings(db: EmbeddingDatabase, config: ModelConfig): { loaded: Map<string, EmbeddingInfo>; skipped: Map<string, EmbeddingInfo> } {
  const active = activeEmbeddings(db, config);
  const entries = new Map(db.entries.map((e) => [e.name, e]));
  const lower = (name: string) => name.toLowerCase();
  const names = [...active.loaded.keys()].sort((a, b) => (lower(a) < lower(b) ? -1 : lower(a) > lower(b) ? 1 : 0)); // Python str order
  const loaded = new Map(names.map((name) => [name, infoOf(entries.get(name) as EmbeddingEntry)]));
  return { loaded, skipped: new Map(active.skipped) };
}

/**
 * Infotext `TI hashes` (spec §6.9): `name: 12hex` per embedding used, `:` and `,` removed from names as A1111
 * does so the value parses back. A1111 writes one entry per text-encoder pass, repeating names used in both
 * prompts; each name appears once here.
 */
export function tiHashes(used: Iterable<TextualInversion>): string | null {
  const parts = new Map<string, string>();
  for (const embedding of used) {
    const name = embedding.name.replace(/[:,]/g, '');
    if (!parts.has(name)) parts.set(name, `${name}: ${embedding.shortHash}`);
  }
  return parts.size > 0 ? [...parts.values()].join(', ') : null;
}
