/**
 * The extras upscale step against Pillow (test/fixtures/pil-resize/make.py writes A1111's steps with Pillow
 * calls): by a factor (rounded down to a multiple of 8), a downscale, and to a box with crop and a blended
 * second upscaler. Byte-exact expected.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pixels } from './compose.ts';
import { blend, type ExtrasUpscaleParams, extrasUpscale, extrasUpscalePlan } from './extras-upscale.ts';
import { decodePng } from './png.ts';

const DIR = join(import.meta.dirname, '../../test/fixtures/pil-resize');
const rgbOf = (file: string) => {
  const png = decodePng(readFileSync(join(DIR, file)));
  return pixels(png.width, png.height, 3, png.rgb);
};
const input = rgbOf('in.png');
const base: ExtrasUpscaleParams = {
  resizeMode: 0,
  upscalingResize: 2,
  width: 512,
  height: 512,
  crop: true,
  upscaler1: 'Lanczos',
  upscaler2: 'None',
  upscaler2Visibility: 0,
};

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

const CASES: [string, Partial<ExtrasUpscaleParams>, [string, string | number][]][] = [
  [
    'extras_by2.5_lanczos.png',
    { upscalingResize: 2.5 },
    [
      ['Postprocess upscale by', 2.5],
      ['Postprocess upscaler', 'Lanczos'],
    ],
  ],
  [
    'extras_by0.7_nearest.png',
    { upscalingResize: 0.7, upscaler1: 'Nearest' },
    [
      ['Postprocess upscale by', 0.7],
      ['Postprocess upscaler', 'Nearest'],
    ],
  ],
  [
    'extras_to100x60_crop_nearest_lanczos0.3.png',
    { resizeMode: 1, width: 100, height: 60, upscaler1: 'Nearest', upscaler2: 'Lanczos', upscaler2Visibility: 0.3 },
    [
      ['Postprocess upscale to', '100x60'],
      ['Postprocess crop to', '100x60'],
      ['Postprocess upscaler', 'Nearest'],
      ['Postprocess upscaler 2', 'Lanczos'],
    ],
  ],
];

for (const [file, params, info] of CASES) {
  test(`extrasUpscale ${JSON.stringify(params)} equals Pillow (${file})`, async () => {
    const expected = rgbOf(file);
    const p = { ...base, ...params };
    const out = await extrasUpscale(input, p);
    assert.deepEqual([out.image.width, out.image.height], [expected.width, expected.height]);
    const plan = extrasUpscalePlan(input.width, input.height, p);
    assert.deepEqual([plan.width, plan.height], [expected.width, expected.height], 'the plan predicts the size');
    const d = maxDiff(out.image.data, expected.data);
    console.log(`# ${file}: max difference ${d}`);
    assert.equal(d, 0);
    assert.deepEqual(out.info, info);
  });
}

test('upscaler_1 None does nothing, even with upscaler_2; mode 1 without crop keeps the aspect', async () => {
  const none = await extrasUpscale(input, { ...base, upscaler1: 'None', upscaler2: 'Lanczos', upscaler2Visibility: 1 });
  assert.equal(none.image, input);
  assert.deepEqual(none.info, []);
  const free = await extrasUpscale(input, { ...base, resizeMode: 1, width: 100, height: 60, crop: false });
  // scale = max(100/37, 60/29) = 2.7027 → 100 x 78.4 → multiples of 8: 96 x 72
  assert.deepEqual([free.image.width, free.image.height], [96, 72]);
  assert.deepEqual(free.info, [
    ['Postprocess upscale to', '100x60'],
    ['Postprocess upscaler', 'Lanczos'],
  ]);
});

test('blend: visibility 0 and 1 give the inputs, 0.5 the truncated mean', () => {
  const a = pixels(1, 1, 3, new Uint8Array([0, 100, 255]));
  const b = pixels(1, 1, 3, new Uint8Array([255, 101, 0]));
  assert.deepEqual([...blend(a, b, 0).data], [0, 100, 255]);
  assert.deepEqual([...blend(a, b, 1).data], [255, 101, 0]);
  assert.deepEqual([...blend(a, b, 0.5).data], [127, 100, 127]);
});

test('RGBA stays RGBA and is resampled premultiplied, as Pillow does (×2.5 Lanczos; ×2 Nearest + Lanczos at 0.4)', async () => {
  const png = decodePng(readFileSync(join(DIR, 'in_rgba.png')));
  const rgba = pixels(png.width, png.height, 4, png.rgba);
  const cases: [string, Partial<ExtrasUpscaleParams>][] = [
    ['extras_rgba_by2.5_lanczos.png', { upscalingResize: 2.5 }],
    ['extras_rgba_by2_nearest_lanczos0.4.png', { upscaler1: 'Nearest', upscaler2: 'Lanczos', upscaler2Visibility: 0.4 }],
  ];
  for (const [file, params] of cases) {
    const expected = decodePng(readFileSync(join(DIR, file)));
    const out = await extrasUpscale(rgba, { ...base, ...params });
    assert.deepEqual([out.image.width, out.image.height, out.image.channels], [expected.width, expected.height, 4]);
    const d = maxDiff(out.image.data, expected.rgba);
    console.log(`# ${file}: max difference ${d}`);
    assert.equal(d, 0);
  }
  const cropped = await extrasUpscale(rgba, { ...base, resizeMode: 1, width: 64, height: 64 });
  assert.equal(cropped.image.channels, 3, 'the crop canvas is RGB');
});

test('a model upscaler (RGB out) blended with a built-in one on an RGBA image: the second is converted to the first', async () => {
  const rgba = pixels(
    8,
    8,
    4,
    new Uint8Array(256).map((_, i) => (i * 29) & 0xff),
  );
  // A stand-in model: Nearest, then the alpha dropped, as a model upscaler returns.
  const model = async (_name: string, img: Parameters<typeof extrasUpscale>[0], scale: number) => {
    const up = (await extrasUpscale(img, { ...base, upscalingResize: scale, upscaler1: 'Nearest' })).image;
    const rgb = pixels(up.width, up.height, 3);
    for (let p = 0; p < up.width * up.height; p++) rgb.data.set(up.data.subarray(p * 4, p * 4 + 3), p * 3);
    return rgb;
  };
  const out = await extrasUpscale(rgba, { ...base, upscaler1: 'model', upscaler2: 'Lanczos', upscaler2Visibility: 0.5 }, model);
  assert.equal(out.image.channels, 3, "the model's RGB decides; the Lanczos RGBA loses its alpha before the blend");
  const back = await extrasUpscale(rgba, { ...base, upscaler1: 'Lanczos', upscaler2: 'model', upscaler2Visibility: 0.5 }, model);
  assert.equal(back.image.channels, 4, 'the other way round the model RGB gets an opaque alpha');
  assert.deepEqual(back.info.at(-1), ['Postprocess upscaler 2', 'model']);
});
