/**
 * End to end on the tiny SD1.5 checkpoint against the genuine A1111 pipeline (k-diffusion + A1111's pixel
 * conversion): prompt "a photograph of an astronaut riding a horse", seed 1234, 64×64, CFG 7, 10 steps,
 * randn source CPU. The oracle's pixels are `e2e.<run>.pixels_uint8_hwc` of fixtures/samplers/tiny_sd15_cfg7.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { SafetensorsFile } from '../src/checkpoint/safetensors.ts';
import { defaultTxt2ImgParams, StableDiffusion } from '../src/stable-diffusion.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';

const skip = needFixture('samplers', 'tiny_sd15_cfg7.safetensors') || needFixture('tiny-sd15', 'model.safetensors');
let sd: StableDiffusion;
let oracle: SafetensorsFile;

before(() => {
  if (skip) return;
  sd = StableDiffusion.open(fixturePath('tiny-sd15', 'model.safetensors'));
  oracle = SafetensorsFile.open(fixturePath('samplers', 'tiny_sd15_cfg7.safetensors'));
});

/** Mean absolute error and share of values within ±3 (the acceptance bounds: ≤ 0.25 and ≥ 99%). */
export function pixelAgreement(actual: Uint8Array, expected: Uint8Array): { mae: number; within3: number } {
  let sum = 0;
  let close = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    sum += d;
    if (d <= 3) close += 1;
  }
  return { mae: sum / expected.length, within3: close / expected.length };
}

const RUNS = [
  { run: 'euler_a.karras.10', sampler: 'Euler a', scheduler: 'Karras' },
  { run: 'dpmpp_2m.karras.10', sampler: 'DPM++ 2M', scheduler: 'Karras' },
  { run: 'euler.uniform.10', sampler: 'Euler', scheduler: 'Uniform' },
  { run: 'ddim.eta0.10', sampler: 'DDIM', scheduler: 'Automatic' },
];

for (const { run, sampler, scheduler } of RUNS) {
  test(`txt2img reproduces A1111 pixels: ${run}`, { skip }, async () => {
    const params = defaultTxt2ImgParams({
      prompt: 'a photograph of an astronaut riding a horse', seed: 1234, steps: 10, cfgScale: 7, width: 64, height: 64,
      samplerName: sampler, scheduler,
    });
    params.options.randn_source = 'CPU';
    const result = await sd.txt2img(params);
    const expected = Uint8Array.from(oracle.readIntegers(`e2e.${run}.pixels_uint8_hwc`));
    const { mae, within3 } = pixelAgreement(result.images[0].rgb, expected);
    console.log(`# ${run}: mean abs pixel error ${mae.toFixed(4)}, ${(within3 * 100).toFixed(2)}% within ±3`);
    assert.ok(mae <= 0.25, `mean abs error ${mae} > 0.25`);
    assert.ok(within3 >= 0.99, `only ${within3} within ±3`);
  });
}

test('every A1111 sampler and every scheduler runs end to end (finite latents, distinct images)', { skip }, async () => {
  const { SAMPLERS, SCHEDULERS } = await import('../src/sampling/registry.ts');
  const run = async (samplerName: string, scheduler: string) => {
    const params = defaultTxt2ImgParams({ prompt: 'a cat', seed: 7, steps: 4, width: 64, height: 64, samplerName, scheduler });
    params.options.randn_source = 'CPU';
    const { images } = await sd.txt2img(params);
    return images[0].rgb;
  };
  const seen = new Set<string>();
  for (const s of SAMPLERS) {
    const rgb = await run(s.name, 'Automatic');
    assert.equal(rgb.length, 64 * 64 * 3, s.name);
    seen.add(Buffer.from(rgb).toString('base64'));
  }
  for (const s of SCHEDULERS) await run('Euler', s.label);
  console.log(`# ${SAMPLERS.length} samplers and ${SCHEDULERS.length} schedulers ran; ${seen.size} distinct images from the samplers`);
  assert.ok(seen.size >= SAMPLERS.length - 4, 'samplers should not all produce the same image');
});

test('an unknown sampler name is an error that lists the valid choices', { skip }, async () => {
  const params = defaultTxt2ImgParams({ prompt: 'x', seed: 1, steps: 2, width: 64, height: 64, samplerName: 'k_euler_z' });
  await assert.rejects(sd.txt2img(params), /sampler 'k_euler_z' not found; valid choices: DPM\+\+ 2M, .*Euler a/);
});

test('interrupting returns the last denoised latent as an image, flagged interrupted', { skip }, async () => {
  const controller = new AbortController();
  const params = defaultTxt2ImgParams({ prompt: 'a cat', seed: 3, steps: 8, width: 64, height: 64, samplerName: 'Euler a', nIter: 2 });
  const result = await sd.txt2img(params, { signal: controller.signal, onProgress: (p) => p.samplingStep === 3 && controller.abort() });
  assert.equal(result.interrupted, true);
  assert.equal(result.images.length, 1, 'no further batch starts after an interrupt');
});
