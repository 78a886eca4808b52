/**
 * The part of a checkpoint that detection and inspection read: tensor names, shapes and dtypes plus the header
 * `__metadata__`. `SafetensorsFile` satisfies it as is; `shapeIndex` builds one from a `{name: shape}` table, so
 * full-size layouts (a 4 GB SD1.5, a 7 GB SDXL) can be checked without writing their bytes.
 */
import type { DType } from './safetensors.ts';

export interface TensorIndex {
  keys(): string[];
  /** Shape and dtype of one tensor; may throw for unknown names (callers ask only for names from `keys()`). */
  info(name: string): { readonly shape: readonly number[]; readonly dtype: DType };
  readonly metadata?: Readonly<Record<string, string>>;
  /** File path, when the index comes from a file (used in messages and the SD2 file-name rule). */
  readonly path?: string;
}

export type ShapeTable = Record<string, readonly number[] | { shape: readonly number[]; dtype: DType }>;

/** A header-only TensorIndex: plain shapes default to F32. */
export function shapeIndex(table: ShapeTable, metadata: Record<string, string> = {}, path?: string): TensorIndex {
  const entries = new Map<string, { shape: readonly number[]; dtype: DType }>();
  for (const [name, value] of Object.entries(table)) {
    entries.set(name, Array.isArray(value) ? { shape: value, dtype: 'F32' } : (value as { shape: readonly number[]; dtype: DType }));
  }
  return {
    keys: () => [...entries.keys()],
    info(name) {
      const entry = entries.get(name);
      if (!entry) throw new Error(`shape table has no tensor named '${name}'`);
      return entry;
    },
    metadata,
    path,
  };
}

/** Number of elements of a shape (1 for a scalar `[]`). */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
