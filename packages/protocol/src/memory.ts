/** GET /sdapi/v1/memory (spec §3.20): RAM of the process and, where there is one, the accelerator's allocator. */
import Type, { type Static } from 'typebox';

/** `{free, used, total}` in bytes, or `{error}` when the numbers are unavailable. */
const Usage = Type.Record(Type.String(), Type.Any());

export const MemoryResponse = Type.Object(
  {
    ram: Type.Unsafe<{ free: number; used: number; total: number } | { error: string }>(Usage),
    cuda: Type.Unsafe<Record<string, unknown> | { error: string }>(Usage),
  },
  { $id: 'MemoryResponse', title: 'MemoryResponse' },
);
export type MemoryResponse = Static<typeof MemoryResponse>;
