/** Small textual-inversion files for tests (F32 safetensors in the layouts A1111 reads). */
import { float32Bytes, writeSafetensors } from '../../src/checkpoint/safetensors.ts';

/** Deterministic, distinct values for a [rows, width] tensor. */
export function ramp(rows: number, width: number, seed: number): Float32Array {
  return Float32Array.from({ length: rows * width }, (_, i) => Math.sin(seed * 7.1 + i * 0.37) * 0.05);
}

/** Writes an F32 embedding file with the given tensors (name → [rows, width] or [width]). */
export function writeEmbedding(path: string, tensors: Record<string, { shape: number[]; data: Float32Array }>, metadata?: Record<string, string>): void {
  const entries = Object.entries(tensors).map(([name, t]) => [name, { dtype: 'F32' as const, shape: t.shape, data: float32Bytes(t.data) }] as const);
  writeSafetensors(path, Object.fromEntries(entries), metadata);
}
