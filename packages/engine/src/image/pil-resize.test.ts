/**
 * pilResize against Pillow's own output (test/fixtures/pil-resize, made by its make.py with Pillow 9.4): byte-exact
 * for LANCZOS and NEAREST at ×2, ×2.49, ×3, ×0.5, one axis only and a strong reduction. The same cases through
 * sharp are measured and printed, to document why A1111's upscalers do not run on sharp's kernels.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { pixels } from './compose.ts';
import { decodePng } from './png.ts';
import { pilResize } from './pil-resize.ts';

const DIR = join(import.meta.dirname, '../../test/fixtures/pil-resize');
const SIZES: [number, number][] = [
  [74, 58],
  [92, 72],
  [18, 14],
  [111, 87],
  [50, 29],
  [37, 60],
  [8, 5],
];

function rgbOf(file: string) {
  const png = decodePng(readFileSync(join(DIR, file)));
  return pixels(png.width, png.height, 3, png.rgb);
}

function diff(a: Uint8Array, b: Uint8Array): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

const input = rgbOf('in.png');

for (const filter of ['lanczos', 'nearest'] as const) {
  for (const [w, h] of SIZES) {
    test(`pilResize ${filter} 37x29 → ${w}x${h} equals Pillow's resize byte for byte`, async () => {
      const expected = rgbOf(`${filter}_${w}x${h}.png`);
      const ours = pilResize(input, w, h, filter);
      const d = diff(ours.data, expected.data);
      const kernel = filter === 'lanczos' ? 'lanczos3' : 'nearest';
      const viaSharp = await sharp(input.data, { raw: { width: input.width, height: input.height, channels: 3 } })
        .resize(w, h, { kernel, fit: 'fill' })
        .raw()
        .toBuffer();
      const s = diff(new Uint8Array(viaSharp), expected.data);
      console.log(`# ${filter} ${w}x${h}: ours max ${d.max}; sharp ${kernel} max ${s.max}, mean ${s.mean.toFixed(2)}`);
      assert.deepEqual([ours.width, ours.height, ours.channels], [w, h, 3]);
      assert.equal(d.max, 0, `max difference ${d.max} (mean ${d.mean})`);
    });
  }
}

test('pilResize: same size is a copy; a zero size is refused', () => {
  const copy = pilResize(input, 37, 29, 'lanczos');
  assert.deepEqual(copy.data, input.data);
  assert.notEqual(copy.data, input.data);
  assert.throws(() => pilResize(input, 0, 4, 'lanczos'), RangeError);
});
