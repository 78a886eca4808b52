/** GET /sdapi/v1/sd-models items (spec §3.13, §9.1): hashes are null until the file has been hashed. */
import Type, { type Static } from 'typebox';

const nullableString = () => Type.Optional(Type.Union([Type.String(), Type.Null()], { default: null }));

export const SDModelItem = Type.Object(
  {
    title: Type.String(),
    model_name: Type.String(),
    hash: nullableString(),
    sha256: nullableString(),
    filename: Type.String(),
    config: nullableString(),
    // This server's addition (A1111 lists such files and fails when one is loaded): why the file cannot be used.
    error: Type.Optional(Type.String({ description: 'why this file cannot be loaded (pickle, malformed or truncated safetensors, …); absent when it can' })),
  },
  { $id: 'SDModelItem', title: 'SDModelItem' },
);
export type SDModelItem = Static<typeof SDModelItem>;

export const SDModelList = Type.Array(SDModelItem);
export type SDModelList = Static<typeof SDModelList>;
