/**
 * GET /sdapi/v1/loras (spec §3.26, builtin Lora extension; not behind `--api-auth` on A1111). `metadata` is the
 * safetensors `__metadata__` object (JSON-looking strings parsed), `{}` for other formats.
 */
import Type, { type Static } from 'typebox';

export const LoraItem = Type.Object(
  {
    name: Type.String({ description: 'file base name, as in <lora:name:1>' }),
    alias: Type.String({ description: 'ss_output_name from the metadata, or the name' }),
    path: Type.String(),
    metadata: Type.Record(Type.String(), Type.Any()),
    // This server's addition (A1111 lists such files silently and fails when a prompt uses them).
    error: Type.Optional(Type.String({ description: 'why this file cannot be applied (malformed, pickled, …); absent when it can' })),
  },
  { $id: 'LoraItem', title: 'LoraItem' },
);
export type LoraItem = Static<typeof LoraItem>;

export const LoraList = Type.Array(LoraItem);
export type LoraList = Static<typeof LoraList>;
