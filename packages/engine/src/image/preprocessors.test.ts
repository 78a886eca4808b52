/** ControlNet preprocessors and map fitting on small hand-computed cases (spec controlnet-api.md §4, §9.2). */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { compositeOverWhite, fitToSize, highQualityResize, pixelPerfectResolution, roundHalfEven } from './control-map.ts';
import { type CV, type Image8, loadOpenCV } from './opencv.ts';
import { findPreprocessor, resolveSliders, runPreprocessor, sliderValue } from './preprocessors.ts';

let cv: CV;
before(async () => {
  cv = await loadOpenCV();
});

/** An RGBA image from a per-pixel RGB function. */
const rgba = (width: number, height: number, fn: (x: number, y: number) => [number, number, number]) => {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([...fn(x, y), 255], 4 * (y * width + x));
  return { width, height, rgba: data };
};
const grey = (img: Image8) => Array.from({ length: img.width * img.height }, (_, p) => img.data[p * img.channels]);
const run = (module: string, image: ReturnType<typeof rgba>, res = -1, a = -1, b = -1) => {
  const p = findPreprocessor(module);
  assert.ok(p, module);
  const [r, ta, tb] = resolveSliders(p, res, a, b);
  return runPreprocessor(cv, p, image, r, ta, tb);
};

test('numpy round (half to even) and pixel-perfect resolution', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 3.5, -2.5, 2.4].map(roundHalfEven), [0, 2, 2, 4, -2, 2]);
  assert.equal(pixelPerfectResolution(64, 128, 512, 512, 'Crop and Resize'), 512); // k = max(8, 4)
  assert.equal(pixelPerfectResolution(64, 128, 512, 512, 'Resize and Fill'), 256); // k = min(8, 4)
  assert.equal(pixelPerfectResolution(64, 128, 512, 512, 'Just Resize'), 512);
});

test('sliders: out of range (the default -1 included) → the default; hidden sliders check [0, 1] and default to 0.5', () => {
  const canny = findPreprocessor('canny');
  assert.ok(canny);
  assert.deepEqual(resolveSliders(canny, -1, -1, -1), [512, 100, 200]);
  assert.deepEqual(resolveSliders(canny, 512, 64, 64), [512, 64, 64]); // what webuiapi sends
  assert.deepEqual(resolveSliders(canny, 4096, 0, 256), [512, 100, 200]);
  assert.equal(sliderValue(null, -1), 0.5);
  assert.equal(sliderValue(null, 0.25), 0.25);
  assert.equal(findPreprocessor('invert (from white bg & black line)')?.name, 'invert');
  assert.equal(findPreprocessor('t2ia_color_grid')?.name, 'color');
  assert.equal(findPreprocessor('binary'), undefined); // a 2023 name v1.1.455 no longer knows
});

test('RGBA is composited over white in float32 and truncated', () => {
  const out = compositeOverWhite(Uint8Array.from([100, 50, 0, 128, 10, 20, 30, 255, 1, 2, 3, 0]), 3, 1);
  // a = 128/255: 100·a + 255·(1 − a) = 177.196…, 50·a + … = 152.098…; 255·(1 − a) is 126.99999 in float32
  // (numpy gives the same), so blue truncates to 126.
  assert.deepEqual(Array.from(out.data), [177, 152, 126, 10, 20, 30, 255, 255, 255]);
});

test('none is the identity; invert is 255 − x at the input size', () => {
  const img = rgba(3, 2, (x, y) => [x * 40, y * 100, 7]);
  assert.deepEqual(Array.from(run('none', img).data), [0, 0, 7, 40, 0, 7, 80, 0, 7, 0, 100, 7, 40, 100, 7, 80, 100, 7]);
  assert.deepEqual(Array.from(run('invert', img).data), [255, 255, 248, 215, 255, 248, 175, 255, 248, 255, 155, 248, 215, 155, 248, 175, 155, 248]);
});

test('threshold: 255 where min(R, G, B) > threshold (at resolution 64 the 64×64 input is not resized)', () => {
  const img = rgba(64, 64, (x) => (x < 32 ? [200, 200, 90] : [200, 200, 200]));
  const out = run('threshold', img, 64, 100);
  assert.deepEqual([out.width, out.height, out.channels], [64, 64, 3]);
  assert.ok(grey(out).every((v, p) => v === (p % 64 < 32 ? 0 : 255)));
});

test('canny finds one vertical edge per row on a step image and nothing else', () => {
  const out = run(
    'canny',
    rgba(64, 64, (x) => (x < 32 ? [0, 0, 0] : [255, 255, 255])),
    64,
    100,
    200,
  );
  const columns = new Set<number>();
  for (let y = 0; y < 64; y++) {
    const row = grey(out).slice(y * 64, (y + 1) * 64);
    const on = row.flatMap((v, x) => (v === 255 ? [x] : []));
    assert.equal(on.length, 1, `row ${y}: ${on}`);
    assert.ok(row.every((v) => v === 0 || v === 255));
    columns.add(on[0]);
  }
  assert.equal(columns.size, 1);
  assert.ok([31, 32].includes([...columns][0]));
  assert.ok(
    grey(
      run(
        'canny',
        rgba(64, 64, () => [90, 90, 90]),
        64,
      ),
    ).every((v) => v === 0),
    'flat image: no edges',
  );
});

test('tile_resample: unchanged below rate 1.1, else an area downscale (2×2 means)', () => {
  const img = rgba(4, 4, (x, y) => [x * 10 + y * 40, 0, 0]);
  assert.deepEqual(run('tile_resample', img, -1, 1.05).width, 4);
  const out = run('tile_resample', img, -1, 2);
  assert.deepEqual([out.width, out.height], [2, 2]);
  // means of [0,10,40,50], [20,30,60,70], [80,90,120,130], [100,110,140,150]
  assert.deepEqual(grey(out), [25, 45, 105, 125]);
});

test('lineart_standard of a flat image is black (no edges to draw)', () => {
  assert.ok(
    grey(
      run(
        'lineart_standard',
        rgba(64, 64, () => [200, 200, 200]),
        64,
      ),
    ).every((v) => v === 0),
  );
});

test('resize modes: Crop and Resize takes the centre, Resize and Fill pads with the border median', () => {
  const map: Image8 = { width: 4, height: 2, channels: 1, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) };
  assert.deepEqual(Array.from(fitToSize(cv, map, 2, 2, 'Crop and Resize').data), [2, 3, 6, 7]);
  const filled = fitToSize(cv, map, 4, 4, 'Resize and Fill');
  // border pixels 1,2,3,4,5,6,7,8,1,5,4,8 → median (4 + 5) / 2 = 4.5 → 4
  assert.deepEqual(Array.from(filled.data), [4, 4, 4, 4, 1, 2, 3, 4, 5, 6, 7, 8, 4, 4, 4, 4]);
});

test('high quality resize keeps a binary map binary (Otsu after the resize)', () => {
  const map: Image8 = { width: 4, height: 4, channels: 3, data: new Uint8Array(48) };
  for (let p = 0; p < 16; p++) if (p % 4 < 2 !== p < 8) map.data.fill(255, 3 * p, 3 * p + 3);
  const out = highQualityResize(cv, map, 8, 8);
  assert.deepEqual([out.width, out.height, out.channels], [8, 8, 3]);
  assert.ok(out.data.every((v) => v === 0 || v === 255));
  assert.equal(out.data[0], 0);
  assert.equal(out.data[3 * 7], 255); // top-right quadrant is white
});
