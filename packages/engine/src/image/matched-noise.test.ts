/** Outpainting mk2's matched noise: the DFT against the definition, histogram matching, and the fill's properties. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dft, matchedNoise, matchHistogram } from './matched-noise.ts';

test('dft (Bluestein) equals the DFT definition for lengths that are not powers of two', () => {
  for (const n of [1, 5, 12, 64, 96]) {
    const re = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.3) + i / n);
    const im = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.7));
    const [fr, fi] = dft(re, im);
    let max = 0;
    for (let k = 0; k < n; k++) {
      let sr = 0;
      let si = 0;
      for (let t = 0; t < n; t++) {
        const a = (-2 * Math.PI * k * t) / n;
        sr += re[t] * Math.cos(a) - im[t] * Math.sin(a);
        si += re[t] * Math.sin(a) + im[t] * Math.cos(a);
      }
      max = Math.max(max, Math.abs(sr - fr[k]), Math.abs(si - fi[k]));
    }
    assert.ok(max < 1e-9, `n=${n}: max error ${max}`);
    const [br] = dft(fr, fi, true);
    for (let t = 0; t < n; t++) assert.ok(Math.abs(br[t] / n - re[t]) < 1e-9);
  }
});

test('matchHistogram maps quantiles onto the template values (skimage)', () => {
  assert.deepEqual([...matchHistogram(Float64Array.from([3, 1, 2]), Float64Array.from([10, 20, 30]))], [30, 10, 20]);
});

test('matchedNoise keeps the known pixels, fills the mask with values from the known colours', () => {
  const [h, w] = [32, 48];
  const rgb = new Float64Array(h * w * 3);
  const mask = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (x < 16) mask[i] = 1;
      else rgb.set([0.2 + 0.3 * ((x + y) % 2), 0.5, 0.7], i * 3);
    }
  }
  const out = matchedNoise(rgb, mask, h, w, 1, 0.05, 1);
  for (let i = 0; i < h * w; i++) {
    for (let c = 0; c < 3; c++) {
      const v = out[i * 3 + c];
      if (mask[i] === 0) assert.equal(v, rgb[i * 3 + c]);
      else assert.ok(c === 0 ? v >= 0.2 - 1e-9 && v <= 0.5 + 1e-9 : Math.abs(v - rgb[16 * 3 + c]) < 1e-9, `channel ${c}: ${v}`);
    }
  }
  const filled = new Set(Array.from({ length: h * 16 }, (_, k) => out[(Math.floor(k / 16) * w + (k % 16)) * 3]));
  assert.ok(filled.size > 1, 'the fill varies (noise, not one colour)');
});
