import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyColorCorrection, lab8ToRgb, luminosityBlend, matchChannel, rgbToLab8 } from './color-correction.ts';

/** A deterministic photo-like test image: gradients with some texture. */
function image(w: number, h: number, cast: [number, number, number] = [0, 0, 0]): Uint8Array {
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const t = ((x * 7 + y * 13) % 17) * 3;
      rgb[i] = Math.min(255, Math.max(0, 40 + (x * 150) / w + t + cast[0]));
      rgb[i + 1] = Math.min(255, Math.max(0, 60 + (y * 120) / h + t + cast[1]));
      rgb[i + 2] = Math.min(255, Math.max(0, 90 + ((x + y) * 60) / (w + h) + t + cast[2]));
    }
  return rgb;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const mean = (rgb: Uint8Array, c: number) => {
  let s = 0;
  for (let i = c; i < rgb.length; i += 3) s += rgb[i];
  return s / (rgb.length / 3);
};

test('8-bit Lab round trip keeps every RGB value within 1 level; sRGB white is L 255, a b 128', () => {
  const rgb = image(32, 32);
  const back = lab8ToRgb(rgbToLab8(rgb));
  const diff = maxAbsDiff(rgb, back);
  console.log(`# rgb → lab → rgb max diff ${diff}`);
  assert.ok(diff <= 1, `max diff ${diff}`);
  const white = rgbToLab8(Uint8Array.of(255, 255, 255));
  assert.ok(Math.abs(white[0] - 255) < 0.05 && Math.abs(white[1] - 128) < 0.05 && Math.abs(white[2] - 128) < 0.05, String([...white]));
});

test('histogram matching: CDF quantiles of the source mapped through the reference CDF (hand-worked case), identity on itself', () => {
  const src = Float32Array.of(0, 0, 1, 1);
  const ref = Float32Array.of(10, 20, 30, 40);
  // source quantiles 0.5 and 1.0; reference CDF 0.25→10, 0.5→20, 0.75→30, 1.0→40
  assert.deepEqual([...matchChannel(src, ref, 0, 1)], [20, 20, 40, 40]);
  const lab = rgbToLab8(image(16, 16));
  for (let c = 0; c < 3; c++) {
    const self = matchChannel(lab, lab, c, 3);
    for (let p = 0; p < self.length; p++) assert.equal(self[p], Math.round(lab[p * 3 + c]));
  }
});

test('luminosity blend of an image with itself is the image; the result keeps the source luminosity', () => {
  const rgb = image(16, 16);
  assert.ok(maxAbsDiff(luminosityBlend(rgb, rgb), rgb) <= 1);
  const grey = new Uint8Array(rgb.length).fill(128);
  const out = luminosityBlend(rgb, grey); // colours of rgb, luminosity of flat grey
  for (let i = 0; i < out.length; i += 3) {
    const l = 0.3 * out[i] + 0.59 * out[i + 1] + 0.11 * out[i + 2];
    assert.ok(Math.abs(l - 128) <= 1.5, `pixel ${i / 3}: luminosity ${l}`);
  }
});

test('a colour cast is pulled back towards the reference colours while the generated luminosity stays', () => {
  const reference = image(48, 40);
  const generated = image(48, 40, [45, -10, -30]); // warm cast
  const corrected = applyColorCorrection(generated, reference);
  for (const c of [0, 2]) {
    const before = Math.abs(mean(generated, c) - mean(reference, c));
    const after = Math.abs(mean(corrected, c) - mean(reference, c));
    console.log(`# channel ${c}: mean distance to the reference ${before.toFixed(1)} → ${after.toFixed(1)}`);
    assert.ok(after < before / 2, `channel ${c}: ${before} → ${after}`);
  }
  let worst = 0;
  for (let i = 0; i < generated.length; i += 3) {
    const lg = 0.3 * generated[i] + 0.59 * generated[i + 1] + 0.11 * generated[i + 2];
    const lc = 0.3 * corrected[i] + 0.59 * corrected[i + 1] + 0.11 * corrected[i + 2];
    worst = Math.max(worst, Math.abs(lg - lc));
  }
  console.log(`# luminosity change max ${worst.toFixed(2)} levels`);
  assert.ok(worst <= 1.5, `luminosity moved by ${worst}`);
});
