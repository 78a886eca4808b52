/**
 * The model upscaler case of `npm run bench`: a full-size Real-ESRGAN x4plus network (RRDBNet, 64 features,
 * 23 blocks; seeded random weights written once under the bench folder, since no real model can be fetched)
 * upscaling a 128² tile to 512², as Extras runs each tile (option ESRGAN_tile is 192 by default). Random weights
 * cost what real ones cost: the arithmetic is the same.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../../packages/engine/src/checkpoint/safetensors.ts';
import { pixels } from '../../packages/engine/src/image/compose.ts';
import { ModelUpscaler } from '../../packages/engine/src/upscalers/model-upscaler.ts';
import { buildRrdbGraph, type RrdbConfig } from '../../packages/engine/src/upscalers/rrdbnet.ts';
import { type BenchCase, gflopOf, median, timeRuns } from './harness.ts';

const X4PLUS: RrdbConfig = { layout: 'basicsr', inChannels: 3, outChannels: 3, features: 64, growth: 32, blocks: 23, upsamplings: 2, unshuffle: 1, scale: 4 };
const SIZE = 128;

/** RealESRGAN_x4plus's shapes with small seeded values (F32, 67 MB). */
function x4plusFile(dir: string): string {
  const path = join(dir, 'esrgan-x4plus-random.safetensors');
  if (existsSync(path)) return path;
  let seed = 1;
  const next = () => (seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5;
  const tensors = new Map<string, { dtype: 'F32'; shape: number[]; data: Uint8Array }>();
  for (const p of buildRrdbGraph(X4PLUS).params.values()) {
    const data = Float32Array.from({ length: p.dims.reduce((a, b) => a * b, 1) }, () => next() * 0.05);
    tensors.set(p.name, { dtype: 'F32', shape: [...p.dims], data: new Uint8Array(data.buffer) });
  }
  console.log(`writing ${path} (RealESRGAN_x4plus shapes, random weights)…`);
  writeSafetensors(path, tensors);
  return path;
}

export const ESRGAN_CASE: BenchCase = {
  name: 'esrgan-x4-128',
  description: `Real-ESRGAN x4plus network, one ${SIZE}² tile → ${4 * SIZE}²`,
  quick: false,
  byDefault: true,
  async run(ctx) {
    const upscaler = await ModelUpscaler.open(x4plusFile(ctx.dir));
    try {
      const tile = pixels(SIZE, SIZE, 3);
      for (let i = 0; i < tile.data.length; i++) tile.data[i] = (i * 37) & 0xff;
      const seconds = await timeRuns(ctx.runs, () => upscaler.run(tile));
      const gflop = gflopOf(buildRrdbGraph(X4PLUS), { N: 1, H: SIZE, W: SIZE });
      // A 512² image is 9 tiles of 192² (≈ 2.25× a 128² tile each) with the default ESRGAN_tile.
      const image512 = median(seconds) * 9 * (192 / SIZE) ** 2;
      return { seconds, gflop, notes: [`a 512² image (9 tiles of 192²) ≈ ${image512.toFixed(0)} s on this machine`] };
    } finally {
      await upscaler.release();
    }
  },
};
