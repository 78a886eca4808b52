/** A TAESD decoder file with taesd.py's keys and seeded values (no real TAESD weights exist offline). */
import { writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import { buildTaesdDecoderGraph } from '../../src/models/taesd.ts';

/** Every weight `value(name, i)`. */
export function writeTaesdDecoder(path: string, value: (name: string, i: number) => number): void {
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Uint8Array }> = {};
  for (const p of buildTaesdDecoderGraph().params.values()) {
    const data = Float32Array.from({ length: p.dims.reduce((a, b) => a * b, 1) }, (_, i) => value(p.name, i));
    tensors[p.name] = { dtype: 'F32', shape: [...p.dims], data: new Uint8Array(data.buffer) };
  }
  writeSafetensors(path, tensors);
}

/** Uniform weights in ±scale/2 (Park–Miller, reproducible) and an output bias of 0.5: a varied, unsaturated picture. */
export function writeRandomTaesdDecoder(path: string, scale = 0.15): void {
  let seed = 1;
  const uniform = () => (seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5;
  writeTaesdDecoder(path, (name) => (name === '19.bias' ? 0.5 : uniform() * scale));
}
