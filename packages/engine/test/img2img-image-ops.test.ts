/**
 * The pixel and latent helpers of img2img, checked against hand-computed values of the algorithms they port:
 * Pillow's integer alpha composite and luma, its box-blur Gaussian, A1111's crop-region arithmetic and resize
 * modes, torch's F.interpolate index rules, and A1111's img2img step arithmetic.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boxRadiusForGaussian, maskBlur, pilGaussianBlur } from '../src/image/blur.ts';
import { alphaComposite, flatten, pixels, toL } from '../src/image/compose.ts';
import { interpolate } from '../src/image/interpolate.ts';
import { pilResize } from '../src/image/pil-resize.ts';
import { resizeImage } from '../src/image/resize.ts';
import { bbox, cropRegion, expandCropRegion } from '../src/pipeline/img2img-inputs.ts';
import { img2imgSteps } from '../src/pipeline/img2img-sampling.ts';
import { Tensor } from '../src/tensor.ts';

const rgba = (...px: number[][]) => pixels(px.length, 1, 4, Uint8Array.from(px.flat()));

test('alpha composite and luma use Pillow integer arithmetic', () => {
  const dst = rgba([0, 0, 200, 255], [10, 20, 30, 255], [10, 20, 30, 255]);
  const src = rgba([200, 0, 0, 128], [1, 2, 3, 255], [99, 99, 99, 0]);
  // 128/255 of red over blue: coef1 = 128·128, (200·16384 + 0x80·128) → SHIFTFORDIV255 → >> 7 = 100.
  assert.deepEqual([...alphaComposite(dst, src).data], [100, 0, 100, 255, 1, 2, 3, 255, 10, 20, 30, 255]);
  assert.deepEqual([...toL(rgba([255, 255, 255, 255], [255, 0, 0, 255], [0, 0, 255, 255])).data], [255, 76, 29]);
  assert.deepEqual([...flatten(rgba([50, 60, 70, 255], [50, 60, 70, 0]), [255, 255, 255]).data], [50, 60, 70, 255, 255, 255]);
});

test('Pillow GaussianBlur: extended box radius, constant images unchanged, mass kept', () => {
  assert.equal(boxRadiusForGaussian(2), 1.375); // l = 1, a = 3·(2 − 4) / (6·(4/3 − 4))
  assert.equal(boxRadiusForGaussian(0), 0);
  const flat = pixels(9, 7, 4, new Uint8Array(9 * 7 * 4).fill(77));
  for (const r of [0, 2, 16, 256]) assert.deepEqual(pilGaussianBlur(flat, r).data, flat.data);
  const dot = pixels(21, 21, 1);
  dot.data[10 * 21 + 10] = 255;
  const blurred = pilGaussianBlur(dot, 2);
  const sum = blurred.data.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 255) <= 12, `blurred mass ${sum}`);
  assert.equal(blurred.data[10 * 21 + 7], blurred.data[10 * 21 + 13]); // symmetric
  assert.equal(blurred.data[7 * 21 + 10], blurred.data[13 * 21 + 10]);
});

test('mask blur (cv2.GaussianBlur through OpenCV) spreads a hard edge symmetrically and keeps flat areas', async () => {
  const mask = pixels(32, 8, 1);
  for (let y = 0; y < 8; y++) mask.data.fill(255, y * 32 + 16, y * 32 + 32);
  const out = await maskBlur(mask, 4, 0);
  const row = [...out.data.subarray(0, 32)];
  assert.deepEqual([row[0], row[31]], [0, 255]);
  assert.ok(row[15] > 0 && row[15] < 128 && row[16] > 128 && row[16] < 255, `edge ${row.slice(12, 20)}`);
  assert.equal(row[15] + row[16], 255); // odd symmetry of a Gaussian-blurred step
  for (let y = 1; y < 8; y++) assert.deepEqual([...out.data.subarray(y * 32, y * 32 + 32)], row); // σy = 0: no vertical pass
});

test('A1111 crop region: bounding box, padding, expansion to the processing aspect ratio', () => {
  const mask = pixels(64, 64, 1);
  for (let y = 8; y < 40; y++) mask.data.fill(255, y * 64 + 16, y * 64 + 48);
  assert.deepEqual(bbox(mask), [16, 8, 48, 40]);
  assert.deepEqual(cropRegion(mask, 4), [12, 4, 52, 44]);
  assert.deepEqual(expandCropRegion([12, 4, 52, 44], 96, 64, 64, 64), [2, 4, 62, 44]); // 40 wide → 60
  assert.deepEqual(expandCropRegion([0, 0, 20, 20], 80, 40, 64, 64), [0, 0, 40, 20]); // shifted back inside
  assert.deepEqual(expandCropRegion([0, 50, 20, 64], 40, 80, 64, 64), [0, 24, 20, 64]); // taller, clipped at the bottom
  assert.equal(bbox(pixels(4, 4, 1)), null);
});

test('resize modes: 1 crops the centre, 2 fits and repeats the edge rows (exact for unresampled images)', async () => {
  const img = pixels(8, 4, 3);
  for (let p = 0; p < 32; p++) img.data.set(p % 8 < 4 ? [255, 0, 0] : [0, 0, 255], p * 3);
  const cropped = await resizeImage(1, img, 4, 4);
  assert.deepEqual([...cropped.data.subarray(0, 12)], [255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255]);
  const filled = await resizeImage(2, img, 8, 8);
  for (const y of [0, 1, 6, 7]) assert.deepEqual(filled.data.subarray(y * 24, y * 24 + 24), img.data.subarray(0, 24), `row ${y}`);
  const stretched = await resizeImage(0, img, 16, 4);
  assert.deepEqual([stretched.width, stretched.height, stretched.data.length], [16, 4, 16 * 4 * 3]);
});

test('an upscaler in resize_image runs as Upscaler.upscale: its filter by the scale, Lanczos to a multiple of 8, then Lanczos to the size', async () => {
  const img = pixels(100, 60, 3);
  for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 37 + (i >> 7) * 11) % 251;
  // 100×60 → 130×78: scale 1.3; the upscaler target is ⌊130/8⌋·8 × ⌊78/8⌋·8 = 128 × 72.
  for (const [upscaler, filter] of [
    ['Nearest', 'nearest'],
    ['Lanczos', 'lanczos'],
  ] as const) {
    const expected = pilResize(pilResize(pilResize(img, 130, 78, filter), 128, 72, 'lanczos'), 130, 78, 'lanczos');
    const actual = await resizeImage(0, img, 130, 78, upscaler);
    assert.deepEqual([actual.width, actual.height], [130, 78]);
    assert.ok(Buffer.from(actual.data).equals(Buffer.from(expected.data)), `${upscaler}: the three resizes of A1111`);
    const direct = await resizeImage(0, img, 130, 78);
    assert.ok(!Buffer.from(actual.data).equals(Buffer.from(direct.data)), `${upscaler}: differs from the plain Lanczos resize`);
  }
  // A multiple of 8 needs no fixing step: one resize by the upscaler's filter.
  const exact = await resizeImage(0, img, 200, 120, 'Nearest');
  assert.ok(Buffer.from(exact.data).equals(Buffer.from(pilResize(img, 200, 120, 'nearest').data)));
});

test('F.interpolate index rules: bilinear, nearest, nearest-exact, antialiased downscale', () => {
  const row = (values: number[]) => new Tensor([1, 1, 1, values.length], Float32Array.from(values));
  const out = (t: Tensor) => [...t.data].map((v) => Number(v.toFixed(4)));
  assert.deepEqual(out(interpolate(row([0, 1]), 1, 4, 'bilinear')), [0, 0.25, 0.75, 1]);
  assert.deepEqual(out(interpolate(row([5, 7]), 1, 4, 'nearest')), [5, 5, 7, 7]);
  assert.deepEqual(out(interpolate(row([5, 6, 7]), 1, 2, 'nearest')), [5, 6]);
  assert.deepEqual(out(interpolate(row([5, 6, 7]), 1, 2, 'nearest-exact')), [5, 7]);
  assert.deepEqual(out(interpolate(row([0, 1, 2, 3]), 1, 2, 'bilinear', true)), [0.7143, 2.2857]);
  assert.deepEqual(out(interpolate(row([3, 3, 3]), 1, 5, 'bicubic')), [3, 3, 3, 3, 3]);
});

test('A1111 setup_img2img_steps', () => {
  assert.deepEqual(img2imgSteps(20, 0.75, false), { steps: 20, tEnc: 15 });
  assert.deepEqual(img2imgSteps(20, 1, false), { steps: 20, tEnc: 19 }); // min(strength, 0.999)
  assert.deepEqual(img2imgSteps(20, 0.75, true), { steps: 26, tEnc: 19 });
  assert.deepEqual(img2imgSteps(20, 0.7, false, 10), { steps: 14, tEnc: 9 }); // hires: always the fixed-steps rule
  assert.deepEqual(img2imgSteps(20, 0, true), { steps: 0, tEnc: 19 });
});
