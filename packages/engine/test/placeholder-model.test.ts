/**
 * Runs without ../shared: the embedded placeholder checkpoint (written by our own generator) goes through the whole
 * engine — detection, graph compile, conditioning, sampling, decode — deterministically.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureDefaultModel } from '../src/checkpoint/default-model.ts';
import { defaultTxt2ImgParams, StableDiffusion } from '../src/stable-diffusion.ts';

test('the placeholder model is written once, detected as SD1 and generates deterministically', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdapi-placeholder-'));
  const first = ensureDefaultModel(dir);
  assert.equal(first.created, true);
  assert.equal(ensureDefaultModel(dir).created, false, 'an existing placeholder is reused');
  const sd = StableDiffusion.open(first.path);
  assert.equal(sd.model.config.family, 'sd1');
  const params = (seed: number) => defaultTxt2ImgParams({ prompt: 'a (red:1.2) fox [in the snow:at night:3]', seed, steps: 4, width: 64, height: 64, samplerName: 'Euler a' });
  const a = await sd.txt2img(params(5));
  const b = await sd.txt2img(params(5));
  const c = await sd.txt2img(params(6));
  assert.equal(a.images[0].rgb.length, 64 * 64 * 3);
  assert.deepEqual(a.images[0].rgb, b.images[0].rgb, 'same seed, same pixels');
  assert.notDeepEqual(a.images[0].rgb, c.images[0].rgb, 'another seed, other pixels');
  assert.match(a.images[0].infotext, /Steps: 4, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7\.0, Seed: 5, Size: 64x64, Model: sdapi-placeholder-random-weights-draws-noise/);
  await sd.release();
});
