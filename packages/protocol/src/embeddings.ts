/**
 * GET /sdapi/v1/embeddings (spec §3.16): textual-inversion embeddings by name, `loaded` (they fit the current
 * model's text encoders) and `skipped`. A1111's item fields, plus `reason` on skipped items (ours: why the file is
 * not used). `shape`/`vectors` are null only for files that could not be read at all (pickles), which A1111 would
 * have unpickled.
 */
import Type, { type Static } from 'typebox';

const nullableOf = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Optional(Type.Union([t, Type.Null()], { default: null }));

export const EmbeddingItem = Type.Object(
  {
    step: nullableOf(Type.Integer()),
    sd_checkpoint: nullableOf(Type.String()),
    sd_checkpoint_name: nullableOf(Type.String()),
    /** Width of each vector (768 SD1, 1024 SD2, 2048 SDXL clip_l + clip_g). */
    shape: Type.Union([Type.Integer(), Type.Null()]),
    vectors: Type.Union([Type.Integer(), Type.Null()]),
    reason: Type.Optional(Type.String()),
  },
  { $id: 'EmbeddingItem', title: 'EmbeddingItem' },
);
export type EmbeddingItem = Static<typeof EmbeddingItem>;

export const EmbeddingsResponse = Type.Object(
  {
    loaded: Type.Record(Type.String(), EmbeddingItem),
    skipped: Type.Record(Type.String(), EmbeddingItem),
  },
  { $id: 'EmbeddingsResponse', title: 'EmbeddingsResponse' },
);
export type EmbeddingsResponse = Static<typeof EmbeddingsResponse>;
