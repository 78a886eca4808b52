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
