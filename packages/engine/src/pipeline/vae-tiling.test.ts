import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TINY_SD15_CONFIG, writeRandomCheckpoint } from '../checkpoint/random.ts';
import { Tensor } from '../tensor.ts';
import { LoadedModel } from './model.ts';
import { decodeTiled, tileStarts } from './vae-tiling.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdapi-vae-tiling-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const latentOf = (shape: number[]) =>
  new Tensor(
    shape,
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37) * 2),
  );

test('tiles step by tile − overlap and the last one ends flush with the edge', () => {
  assert.deepEqual(tileStarts(64, { tile: 64, overlap: 16 }), [0]);
  assert.deepEqual(tileStarts(100, { tile: 64, overlap: 16 }), [0, 36]);
  assert.deepEqual(tileStarts(200, { tile: 64, overlap: 16 }), [0, 48, 96, 136]);
});

test('with a pixel-local decoder (×8 nearest upsampling), tiled and whole decoding agree exactly', async () => {
  const upsample = async (x: Tensor) => {
    const [n, , h, w] = x.shape;
    const out = new Float32Array(n * 3 * h * 8 * w * 8);
    for (let b = 0; b < n; b++)
      for (let k = 0; k < 3; k++)
        for (let y = 0; y < h * 8; y++)
          for (let xx = 0; xx < w * 8; xx++) {
            out[((b * 3 + k) * h * 8 + y) * w * 8 + xx] = x.data[((b * 4 + k) * h + (y >> 3)) * w + (xx >> 3)];
          }
    return new Tensor([n, 3, h * 8, w * 8], out);
  };
  const latent = latentOf([2, 4, 21, 30]);
  const whole = await upsample(latent);
  const tiled = await decodeTiled(latent, upsample, { tile: 8, overlap: 3 });
  assert.deepEqual(tiled.shape, whole.shape);
  let maxDiff = 0;
  for (let i = 0; i < whole.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(whole.data[i] - tiled.data[i]));
  console.log(`# pixel-local decoder, 2×21×30 latent in 8² tiles: max abs diff ${maxDiff.toExponential(2)}`);
  assert.ok(maxDiff < 1e-5);
});

test('the tiny VAE decodes a large latent in tiles close to the whole-image decode', async () => {
  const ckpt = join(dir, 'tiny.safetensors');
  writeRandomCheckpoint(ckpt, TINY_SD15_CONFIG, 7);
  const whole = LoadedModel.open(ckpt, { vaeTiling: 'never' });
  const tiles = LoadedModel.open(ckpt, { vaeTiling: { tile: 16, overlap: 4 } });
  const latent = latentOf([1, 4, 24, 20]); // > one 16² tile each way
  const a = await whole.decode(latent);
  const b = await tiles.decode(latent);
  assert.deepEqual(b.shape, a.shape);
  let sum = 0;
  let maxRef = 0;
  for (let i = 0; i < a.data.length; i++) {
    sum += Math.abs(a.data[i] - b.data[i]);
    maxRef = Math.max(maxRef, Math.abs(a.data[i]));
  }
  const mean = sum / a.data.length;
  console.log(`# tiny VAE 24×20 latent, 16² tiles: mean abs diff ${mean.toExponential(2)} (max |whole| ${maxRef.toFixed(2)})`);
  assert.ok(mean > 0, 'tiling really happened');
  assert.ok(mean < 0.02 * maxRef, 'a misplaced or mis-weighted tile would be far off');
  await Promise.all([whole.release(), tiles.release()]);
});
