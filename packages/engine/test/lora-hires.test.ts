/**
 * LoRA through the hires-fix second pass (issue 16): A1111 activates the extra networks of `hr_prompt` for the second
 * pass and keeps `p.lora_hashes` across both passes, so `Lora hashes` lists the networks of both, and what the
 * second pass skips (a name not found) is reported like the first pass's. Tiny SD1.5 with the fixture LoRA files;
 * the expected hashes are the addnet hashes of fixtures/lora/index.json.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LoraCatalog } from '../src/networks/lora-catalog.ts';
import { mergeLoraHashes } from '../src/pipeline/hires.ts';
import type { HiresFixParams } from '../src/pipeline/types.ts';
import { defaultTxt2ImgParams, StableDiffusion } from '../src/stable-diffusion.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';

const skip = needFixture('lora', 'index.json') || needFixture('tiny-sd15', 'model.safetensors');
let dir: string;
let sd: StableDiffusion;
let hash: (name: string) => string;

before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'sdapi-lora-hires-'));
  for (const name of ['lora_kohya', 'loha']) copyFileSync(fixturePath('lora', `${name}.safetensors`), join(dir, `${name}.safetensors`));
  const index = JSON.parse(readFileSync(fixturePath('lora', 'index.json'), 'utf8')) as { files: Record<string, { addnet_hash: string }> };
  hash = (name) => index.files[name].addnet_hash.slice(0, 12);
  sd = StableDiffusion.open(fixturePath('tiny-sd15', 'model.safetensors'));
  sd.loras = new LoraCatalog({ dirs: [dir] });
});
after(async () => {
  await sd?.release();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const HIRES: HiresFixParams = {
  scale: 1.5,
  resizeX: 0,
  resizeY: 0,
  upscaler: 'Latent',
  secondPassSteps: 2,
  samplerName: null,
  scheduler: null,
  prompt: '',
  negativePrompt: '',
};
const job = (prompt: string, hrPrompt: string) =>
  defaultTxt2ImgParams({
    prompt,
    seed: 3,
    steps: 2,
    width: 64,
    height: 64,
    samplerName: 'Euler',
    denoisingStrength: 0.5,
    hires: { ...HIRES, prompt: hrPrompt },
  });

test("mergeLoraHashes: the second pass adds its networks after the first pass's; a repeated name keeps one entry", () => {
  assert.equal(mergeLoraHashes('a: 111, b: 222', 'c: 333, a: 111'), 'a: 111, b: 222, c: 333');
  assert.equal(mergeLoraHashes(undefined, 'c: 333'), 'c: 333');
  assert.equal(mergeLoraHashes(undefined, undefined), undefined);
});

test("hires fix: Lora hashes list the networks of both passes; the second pass's warnings are reported", { skip }, async () => {
  const result = await sd.txt2img(job('an astronaut <lora:lora_kohya:0.8>', 'an astronaut <lora:loha:0.5> <lora:missing_one:1>'));
  const expected = `lora_kohya: ${hash('lora_kohya')}, loha: ${hash('loha')}`;
  console.log(`Lora hashes: ${result.extraGenerationParams['Lora hashes']}; warnings: ${JSON.stringify(result.warnings)}`);
  assert.equal(result.extraGenerationParams['Lora hashes'], expected);
  assert.ok(result.images[0].infotext.includes(`Lora hashes: "${expected}"`), result.images[0].infotext);
  assert.ok(result.warnings?.includes('Lora not found: missing_one'), JSON.stringify(result.warnings));
});

test('hires fix with a LoRA only in hr_prompt: its hash is written and the second pass is not the LoRA-free one', { skip }, async () => {
  const withLora = await sd.txt2img(job('an astronaut', 'an astronaut <lora:lora_kohya:1>'));
  const without = await sd.txt2img(job('an astronaut', 'an astronaut'));
  assert.equal(withLora.extraGenerationParams['Lora hashes'], `lora_kohya: ${hash('lora_kohya')}`);
  assert.notDeepEqual(withLora.images[0].rgb, without.images[0].rgb);
  assert.ok(!('Lora hashes' in without.extraGenerationParams));
});
