/**
 * recolor_luminance / recolor_intensity (controlnet-api.md §9.2) on hand-computed pixels: the luminance map takes
 * OpenCV's BGR2Lab of RGB data (pure red is read as pure blue: L = 32.3 → 82 of 255, not red's 136), the intensity
 * map is max(R, G, B) with gamma, and the post-processing puts the map into the output's V (or L) channel.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOpenCV } from './opencv.ts';
import { findPreprocessor } from './preprocessors.ts';
import { recolorMap, recolorOutput } from './recolor.ts';

const px = (...rgb: number[][]) => ({ width: rgb.length, height: 1, channels: 3, data: Uint8Array.from(rgb.flat()) });

test('luminance map: Lab L of the channel-swapped colour, grey RGB; gamma applied on [0, 1]', async () => {
  const cv = await loadOpenCV();
  const map = recolorMap(cv, px([255, 0, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0]), 1, 'luminance');
  assert.deepEqual([...map.data], [82, 82, 82, 136, 136, 136, 255, 255, 255, 0, 0, 0]);
  const g2 = recolorMap(cv, px([0, 0, 255]), 2, 'luminance');
  assert.equal(g2.data[0], Math.trunc(Math.fround((136 / 255) ** 2 * 255))); // (136/255)² · 255 = 72.5 → 72
});

test('intensity map: max(R, G, B) with gamma', async () => {
  const cv = await loadOpenCV();
  assert.deepEqual([...recolorMap(cv, px([10, 200, 30]), 1, 'intensity').data], [200, 200, 200]);
  assert.deepEqual([...recolorMap(cv, px([10, 200, 30]), 2, 'intensity').data], [156, 156, 156]); // (200/255)²·255 = 156.9
});

test('post-processing: the output V channel becomes the map (max channel = map), hue kept; another size is left alone', async () => {
  const cv = await loadOpenCV();
  const out = recolorOutput(cv, px([10, 200, 30], [255, 128, 0]), px([100, 100, 100], [50, 50, 50]), 'intensity');
  assert.deepEqual([Math.max(...out.data.slice(0, 3)), Math.max(...out.data.slice(3, 6))], [100, 50]);
  assert.equal(out.data[1], 100, 'green stays the largest channel');
  const same = px([1, 2, 3]);
  assert.equal(recolorOutput(cv, same, px([9, 9, 9], [9, 9, 9]), 'luminance'), same);
});

test('both modules are registered with the Resolution and Gamma Correction sliders', () => {
  for (const name of ['recolor_luminance', 'recolor_intensity']) {
    const p = findPreprocessor(name);
    assert.ok(p, name);
    assert.deepEqual(
      p.sliders.map((s) => s?.name ?? null),
      ['Resolution', 'Gamma Correction', null],
    );
  }
});
