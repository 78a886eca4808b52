/**
 * End to end on the tiny SD2-v and SDXL checkpoints against the genuine A1111 pipeline (k-diffusion
 * CompVisVDenoiser / CompVisDenoiser with sgm dict conditioning, A1111 DDIM, A1111's pixel conversion):
 * prompt "a photograph of an astronaut riding a horse", empty negative prompt, seed 1234, 64×64, CFG 7,
 * 10 steps, randn source CPU. The oracle's pixels are `e2e.<run>.pixels_uint8_hwc` of
 * fixtures/samplers/tiny_{sd2v,sdxl}_cfg7. SDXL's oracle conditions on 1024×1024 (cond.A), which A1111 uses
 * only for a 1024×1024 image, so the test sets the size micro-conditioning to 1024² explicitly.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SafetensorsFile } from '../src/checkpoint/safetensors.ts';
import type { Txt2ImgParams } from '../src/pipeline/types.ts';
import { defaultTxt2ImgParams, StableDiffusion } from '../src/stable-diffusion.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';
import { pixelAgreement } from './helpers/pixels.ts';

const RUNS = [
  { run: 'euler_a.karras.10', sampler: 'Euler a', scheduler: 'Karras' },
  { run: 'dpmpp_2m.karras.10', sampler: 'DPM++ 2M', scheduler: 'Karras' },
  { run: 'euler.uniform.10', sampler: 'Euler', scheduler: 'Uniform' },
  { run: 'ddim.eta0.10', sampler: 'DDIM', scheduler: 'Automatic' },
];

const MODELS = [
  { fixture: 'tiny-sd2v', oracleFile: 'tiny_sd2v_cfg7.safetensors', extra: {} },
  { fixture: 'tiny-sdxl', oracleFile: 'tiny_sdxl_cfg7.safetensors', extra: { sdxlOriginalSize: { width: 1024, height: 1024 }, sdxlTargetSize: { width: 1024, height: 1024 } } },
];

for (const { fixture, oracleFile, extra } of MODELS) {
  const skip = needFixture('samplers', oracleFile) || needFixture(fixture, 'model.safetensors');
  let sd: StableDiffusion;
  let oracle: SafetensorsFile;

  before(() => {
    if (skip) return;
    sd = StableDiffusion.open(fixturePath(fixture, 'model.safetensors'));
    oracle = SafetensorsFile.open(fixturePath('samplers', oracleFile));
  });
  after(() => sd?.release());

  const params = (sampler: string, scheduler: string, overrides: Partial<Txt2ImgParams> = {}): Txt2ImgParams => {
    const p = defaultTxt2ImgParams({
      prompt: 'a photograph of an astronaut riding a horse', seed: 1234, steps: 10, cfgScale: 7, width: 64, height: 64,
      samplerName: sampler, scheduler, ...extra, ...overrides,
    });
    p.options.randn_source = 'CPU';
    return p;
  };

  for (const { run, sampler, scheduler } of RUNS) {
    test(`${fixture} txt2img reproduces A1111 pixels: ${run}`, { skip }, async () => {
      const result = await sd.txt2img(params(sampler, scheduler));
      const expected = Uint8Array.from(oracle.readIntegers(`e2e.${run}.pixels_uint8_hwc`));
      const { mae, within3 } = pixelAgreement(result.images[0].rgb, expected);
      console.log(`# ${fixture} ${run}: mean abs pixel error ${mae.toFixed(4)}, ${(within3 * 100).toFixed(2)}% within ±3`);
      assert.ok(mae <= 0.25, `mean abs error ${mae} > 0.25`);
      assert.ok(within3 >= 0.99, `only ${within3} within ±3`);
    });
  }
}

test('tiny-sdxl: A1111 conditions on the generated size by default, so a 64×64 job differs from the 1024² oracle', { skip: needFixture('tiny-sdxl', 'model.safetensors') }, async () => {
  const sd = StableDiffusion.open(fixturePath('tiny-sdxl', 'model.safetensors'));
  const base = { prompt: 'a photograph of an astronaut riding a horse', seed: 1234, steps: 4, width: 64, height: 64, samplerName: 'Euler' };
  const own = await sd.txt2img(defaultTxt2ImgParams(base));
  const at1024 = await sd.txt2img(defaultTxt2ImgParams({ ...base, sdxlOriginalSize: { width: 1024, height: 1024 }, sdxlTargetSize: { width: 1024, height: 1024 } }));
  const same = await sd.txt2img(defaultTxt2ImgParams({ ...base, sdxlOriginalSize: { width: 64, height: 64 }, sdxlTargetSize: { width: 64, height: 64 } }));
  assert.deepEqual(same.images[0].rgb, own.images[0].rgb, 'explicit 64×64 equals the default');
  assert.notDeepEqual(at1024.images[0].rgb, own.images[0].rgb, 'the size conditioning reaches the UNet');
  await sd.release();
});
