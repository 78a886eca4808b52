/**
 * Hires fix on the tiny SD1.5 checkpoint: output size for hr_scale / hr_resize_x,y (cover then crop), latent
 * and pixel upscalers, the §3.1.3 infotext keys, doubled job count with the second pass running exactly
 * `hr_second_pass_steps` steps, and refusals (no denoising_strength, unknown upscaler).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { InvalidParamsError } from '../src/errors.ts';
import { hiresTarget } from '../src/pipeline/hires.ts';
import type { GenerationProgress, HiresFixParams, Txt2ImgParams } from '../src/pipeline/types.ts';
import { defaultTxt2ImgParams, StableDiffusion } from '../src/stable-diffusion.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';

const skip = needFixture('tiny-sd15', 'model.safetensors');
let sd: StableDiffusion;

before(() => {
  if (!skip) sd = StableDiffusion.open(fixturePath('tiny-sd15', 'model.safetensors'));
});

const hires = (h: Partial<HiresFixParams> = {}): HiresFixParams => ({
  scale: 2,
  resizeX: 0,
  resizeY: 0,
  upscaler: null,
  secondPassSteps: 0,
  samplerName: null,
  scheduler: null,
  prompt: '',
  negativePrompt: '',
  ...h,
});
const params = (h: Partial<HiresFixParams>, overrides: Partial<Txt2ImgParams> = {}): Txt2ImgParams =>
  defaultTxt2ImgParams({ prompt: 'a cat', seed: 5, steps: 4, width: 64, height: 64, denoisingStrength: 0.5, hires: hires(h), ...overrides });

test('hiresTarget follows A1111 calculate_target_resolution', () => {
  assert.deepEqual(hiresTarget(64, 48, hires({ scale: 1.5 })), { upscaleTo: { width: 96, height: 72 }, truncate: { x: 0, y: 0 } });
  assert.deepEqual(hiresTarget(64, 48, hires({ resizeX: 128 })), { upscaleTo: { width: 128, height: 96 }, truncate: { x: 0, y: 0 } });
  assert.deepEqual(hiresTarget(64, 48, hires({ resizeY: 96 })), { upscaleTo: { width: 128, height: 96 }, truncate: { x: 0, y: 0 } });
  // Both: cover 96×64 from a square (96×96), then crop (96 − 64)/8 = 4 latent rows.
  assert.deepEqual(hiresTarget(64, 64, hires({ resizeX: 96, resizeY: 64 })), { upscaleTo: { width: 96, height: 96 }, truncate: { x: 0, y: 4 } });
  assert.deepEqual(hiresTarget(64, 64, hires({ resizeX: 64, resizeY: 128 })), { upscaleTo: { width: 128, height: 128 }, truncate: { x: 8, y: 0 } });
});

test('hires ×2 doubles the size, doubles job_count, runs hr_second_pass_steps, writes the hires infotext', { skip }, async () => {
  const seen: GenerationProgress[] = [];
  const result = await sd.txt2img(params({ upscaler: 'Latent', secondPassSteps: 3 }), { onProgress: (p) => seen.push(p) });
  const [image] = result.images;
  assert.deepEqual([image.width, image.height, image.rgb.length], [128, 128, 128 * 128 * 3]);
  assert.deepEqual([result.width, result.height, result.denoisingStrength], [64, 64, 0.5]);
  assert.match(image.infotext, /Size: 64x64, Model: model, Denoising strength: 0\.5, Hires upscale: 2\.0, Hires steps: 3, Hires upscaler: Latent/);
  const steps = seen.filter((p) => p.samplingStep > 0).map((p) => `${p.jobNo}/${p.jobCount}:${p.samplingStep}/${p.samplingSteps}`);
  assert.deepEqual(steps, ['0/2:1/4', '0/2:2/4', '0/2:3/4', '0/2:4/4', '1/2:1/3', '1/2:2/3', '1/2:3/3']);
});

test('hr_resize_x/y covers then crops; pixel upscalers decode, resize and re-encode', { skip }, async () => {
  const cropped = await sd.txt2img(params({ resizeX: 96, resizeY: 64 }));
  assert.deepEqual([cropped.images[0].width, cropped.images[0].height], [96, 64]);
  assert.match(cropped.images[0].infotext, /Denoising strength: 0\.5, Hires resize: 96x64, Version/);
  const outputs = new Map<string, Uint8Array>();
  for (const upscaler of ['Latent', 'Latent (bicubic antialiased)', 'Latent (nearest-exact)', 'Lanczos', 'Nearest', 'None']) {
    const result = await sd.txt2img(params({ upscaler, scale: 1.5 }));
    assert.deepEqual([result.images[0].width, result.images[0].height], [96, 96], upscaler);
    assert.ok(result.images[0].infotext.includes(`Hires upscaler: ${upscaler},`), result.images[0].infotext);
    outputs.set(upscaler, result.images[0].rgb);
  }
  // Different upscalers really take different paths (the second pass starts from different latents).
  assert.notDeepEqual(outputs.get('Latent'), outputs.get('Latent (nearest-exact)'));
  assert.notDeepEqual(outputs.get('Lanczos'), outputs.get('Latent'));
});

test('hires sampler, scheduler and prompts: keys only where they differ', { skip }, async () => {
  const result = await sd.txt2img(params({ samplerName: 'DPM++ 2M', prompt: 'a dog' }, { batchSize: 2 }));
  assert.equal(result.images.length, 2);
  assert.match(
    result.images[1].infotext,
    /Denoising strength: 0\.5, Hires sampler: DPM\+\+ 2M, Hires prompt: a dog, Hires schedule type: Karras, Hires upscale: 2\.0/,
  );
  const same = await sd.txt2img(params({ samplerName: 'Euler', prompt: 'a cat' }));
  assert.doesNotMatch(same.images[0].infotext, /Hires (sampler|prompt|schedule type)/);
});

test('hires fix refuses a missing denoising_strength and unknown upscalers', { skip }, async () => {
  await assert.rejects(
    sd.txt2img(params({}, { denoisingStrength: null })),
    (e: unknown) => e instanceof InvalidParamsError && e.param === 'denoising_strength' && /enable_hr needs denoising_strength/.test(e.message),
  );
  await assert.rejects(
    sd.txt2img(params({ upscaler: 'R-ESRGAN 4x+' })),
    (e: unknown) =>
      e instanceof InvalidParamsError &&
      e.param === 'hr_upscaler' &&
      /could not find upscaler named R-ESRGAN 4x\+; valid choices: Latent, .*Nearest/.test(e.message),
  );
});
