/**
 * Option `sd_lora` (spec §6.3): A1111's Lora extension appends `<lora:NAME:extra_networks_default_multiplier>` to
 * every prompt when NAME is a LoRA file name the prompt does not already name; the tag is part of all_prompts and
 * the infotext, and the image is the one of the explicit tag. Tiny SD1.5 with the fixture's kohya LoRA.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LoraCatalog } from '../src/networks/lora-catalog.ts';
import { withSdLora } from '../src/pipeline/networks.ts';
import { DEFAULT_GENERATION_OPTIONS, defaultTxt2ImgParams, StableDiffusion } from '../src/stable-diffusion.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';

const skip = needFixture('lora', 'lora_kohya.safetensors') || needFixture('tiny-sd15', 'model.safetensors');
let dir: string;
let sd: StableDiffusion;

before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'sdapi-sd-lora-'));
  copyFileSync(fixturePath('lora', 'lora_kohya.safetensors'), join(dir, 'lora_kohya.safetensors'));
  sd = StableDiffusion.open(fixturePath('tiny-sd15', 'model.safetensors'));
  sd.loras = new LoraCatalog({ dirs: [dir] });
});
after(async () => {
  await sd?.release();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const options = (extra: Record<string, unknown>) => ({ ...DEFAULT_GENERATION_OPTIONS, ...extra });

test('which prompts get the sd_lora tag: file names only, not when named already, not with disable_extra_networks', { skip }, () => {
  const m = sd.model;
  assert.deepEqual(withSdLora(m, ['a cat', 'a cat'], options({ sd_lora: 'lora_kohya' })), ['a cat<lora:lora_kohya:1.0>', 'a cat<lora:lora_kohya:1.0>']);
  assert.deepEqual(withSdLora(m, ['a cat'], options({ sd_lora: 'lora_kohya', extra_networks_default_multiplier: 0.7 })), ['a cat<lora:lora_kohya:0.7>']);
  assert.deepEqual(withSdLora(m, ['a <lora:lora_kohya:0.5> cat'], options({ sd_lora: 'lora_kohya' })), ['a <lora:lora_kohya:0.5> cat']);
  assert.deepEqual(withSdLora(m, ['a cat'], options({ sd_lora: 'tinyKohyaLora_v1' })), ['a cat'], 'an alias is not a file name');
  assert.deepEqual(withSdLora(m, ['a cat'], options({ sd_lora: 'missing' })), ['a cat']);
  assert.deepEqual(withSdLora(m, ['a cat'], options({ sd_lora: 'None' })), ['a cat']);
  assert.deepEqual(withSdLora(m, ['a cat'], options({ sd_lora: 'lora_kohya', disable_extra_networks: true })), ['a cat']);
});

test('a job with sd_lora is the job with the tag written out: same pixels, prompt, infotext and Lora hashes', { skip }, async () => {
  const job = { seed: 5, steps: 3, width: 64, height: 64, samplerName: 'Euler' };
  const viaOption = await sd.txt2img(defaultTxt2ImgParams({ ...job, prompt: 'a cat', options: options({ sd_lora: 'lora_kohya' }) }));
  const explicit = await sd.txt2img(defaultTxt2ImgParams({ ...job, prompt: 'a cat<lora:lora_kohya:1.0>' }));
  const plain = await sd.txt2img(defaultTxt2ImgParams({ ...job, prompt: 'a cat' }));
  assert.deepEqual(viaOption.images[0].rgb, explicit.images[0].rgb);
  assert.notDeepEqual(viaOption.images[0].rgb, plain.images[0].rgb);
  assert.deepEqual(viaOption.allPrompts, ['a cat<lora:lora_kohya:1.0>']);
  assert.equal(viaOption.images[0].infotext, explicit.images[0].infotext);
  assert.match(viaOption.images[0].infotext, /Lora hashes: "lora_kohya: [0-9a-f]{12}"/);
});
