/**
 * A `shuffle` unit end to end on the tiny SD1.5 + tiny ControlNet: the map comes from numpy's stream seeded with
 * (seed + subseed) (the extension's set_numpy_seed), so the same request gives the same map and image, another
 * subseed another map; the infotext names the module.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { decodePng } from '../src/image/png.ts';
import type { ControlNetUnitParams } from '../src/pipeline/control-units.ts';
import { defaultTxt2ImgParams, StableDiffusion } from '../src/stable-diffusion.ts';
import { tinyControlNetUnit } from './helpers/controlnet.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';

const skip = needFixture('controlnet', 'tiny-controlnet.safetensors') || needFixture('tiny-sd15', 'model.safetensors');
let sd: StableDiffusion;
before(() => {
  if (!skip) sd = StableDiffusion.open(fixturePath('tiny-sd15', 'model.safetensors'));
});
after(() => sd?.release());

function shuffleUnit(): ControlNetUnitParams {
  const { width, height, rgba } = decodePng(readFileSync(fixturePath('controlnet', 'hint.png')));
  return tinyControlNetUnit({ module: 'shuffle', image: { width, height, rgba } });
}

const job = (subseed: number) =>
  defaultTxt2ImgParams({ prompt: 'a cat', seed: 9, subseed, steps: 2, width: 64, height: 64, samplerName: 'Euler', controlNet: [shuffleUnit()] });

test('a shuffle unit runs; its map follows the request seeds (seed + subseed)', { skip }, async () => {
  const a = await sd.txt2img(job(1));
  const again = await sd.txt2img(job(1));
  const other = await sd.txt2img(job(2));
  const map = (r: typeof a) => r.detectedMaps?.[0].rgb as Uint8Array;
  assert.deepEqual(map(again), map(a));
  assert.deepEqual(again.images[0].rgb, a.images[0].rgb);
  assert.notDeepEqual(map(other), map(a));
  assert.match(a.images[0].infotext, /ControlNet 0: "Module: shuffle, Model: tiny-controlnet \[8dba536e\]/);
});

test('a recolor_intensity unit: every output pixel has the map as its HSV value (max channel), after decoding', { skip }, async () => {
  const unit = { ...shuffleUnit(), module: 'recolor_intensity', thresholdA: 1 };
  const params = defaultTxt2ImgParams({ prompt: 'a cat', seed: 9, steps: 2, width: 64, height: 64, samplerName: 'Euler', controlNet: [unit] });
  const result = await sd.txt2img(params);
  const map = result.detectedMaps?.[0].rgb as Uint8Array;
  const rgb = result.images[0].rgb;
  let mismatches = 0;
  for (let p = 0; p < 64 * 64; p++) mismatches += Math.max(rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]) === map[3 * p] ? 0 : 1;
  console.log(`recolor_intensity: ${mismatches} of 4096 pixels whose max channel is not the map`);
  assert.equal(mismatches, 0);
  assert.match(result.images[0].infotext, /ControlNet 0: "Module: recolor_intensity, /);
});
