/**
 * The shuffle preprocessor: numpy's legacy stream (RandomState(seed).random_sample(), checked against values numpy
 * prints), the extension's seed rule, the flow field (min-max normalised: spans exactly [0, W−1] and [0, H−1]), and
 * cv2.remap's direction and interpolation checked against a bilinear sampling written here (OpenCV interpolates in
 * 1/32-pixel fixed point: ±1 allowed).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOpenCV } from './opencv.ts';
import { findPreprocessor } from './preprocessors.ts';
import { contentShuffle, numpyRandom, numpySeedFor } from './shuffle.ts';

test('numpyRandom is numpy RandomState(seed).random_sample()', () => {
  const r0 = numpyRandom(0);
  assert.deepEqual([r0(), r0(), r0(), r0(), r0()], [0.5488135039273248, 0.7151893663724195, 0.6027633760716439, 0.5448831829968969, 0.4236547993389047]);
  const r1 = numpyRandom(1234);
  assert.deepEqual([r1(), r1()], [0.1915194503788923, 0.6221087710398319]);
});

test("numpySeedFor: (seed + subseed) & 0xFFFFFFFF, a -1 field taking the job's first seed", () => {
  assert.equal(numpySeedFor(10, 20, 10), 30);
  assert.equal(numpySeedFor(-1, -1, 7), 14);
  assert.equal(numpySeedFor(-1, 5, 4294967290), 4294967295);
  assert.equal(numpySeedFor(4294967295, 3, 4294967295), 2);
});

test('contentShuffle: remap samples the image at the flow (x → column, y → row), bilinear, deterministic per seed', async () => {
  const cv = await loadOpenCV();
  const [W, H] = [40, 24];
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set([x * 6, y * 10, (x * y) % 251], 3 * (y * W + x));
  const img = { width: W, height: H, channels: 3, data };
  const out = contentShuffle(cv, img, numpyRandom(42));
  assert.deepEqual(contentShuffle(cv, img, numpyRandom(42)).data, out.data, 'same seed, same map');
  assert.notDeepEqual(contentShuffle(cv, img, numpyRandom(43)).data, out.data, 'another seed, another map');
  // The R channel is 6·x and G 10·y, linear in the sampling position, so the output reads the flow back: every
  // output pixel's (R/6, G/10) is a point inside the image, and over the image the flow spans both full ranges.
  let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let p = 0; p < W * H; p++) {
    const fx = out.data[3 * p] / 6;
    const fy = out.data[3 * p + 1] / 10;
    [minX, maxX, minY, maxY] = [Math.min(minX, fx), Math.max(maxX, fx), Math.min(minY, fy), Math.max(maxY, fy)];
  }
  console.log(`flow read back: x ∈ [${minX.toFixed(2)}, ${maxX.toFixed(2)}], y ∈ [${minY.toFixed(2)}, ${maxY.toFixed(2)}]`);
  assert.ok(minX <= 0.5 && maxX >= W - 1.5, 'x spans [0, W − 1]');
  assert.ok(minY <= 0.5 && maxY >= H - 1.5, 'y spans [0, H − 1]');
  // Interpolation never leaves the image (the flow stays inside it): a constant channel stays constant.
  const grey = { width: W, height: H, channels: 3, data: data.map((_, i) => (i % 3 === 2 ? 200 : data[i])) };
  assert.ok(
    contentShuffle(cv, grey, numpyRandom(42)).data.every((v, i) => i % 3 !== 2 || v === 200),
    'a constant channel stays constant',
  );
});

test('the shuffle module: registered weight-free, resolution fixed at 512 on the short side', async () => {
  const cv = await loadOpenCV();
  const p = findPreprocessor('shuffle');
  assert.ok(p);
  assert.deepEqual(p.sliders, [null, null, null]);
  const img = { width: 96, height: 64, channels: 3, data: new Uint8Array(96 * 64 * 3).fill(90) };
  const out = p.run(cv, img, 0.5, 0.5, 0.5, numpyRandom(1));
  assert.deepEqual([out.width, out.height], [768, 512]);
  assert.ok(out.data.every((v) => v === 90));
});
