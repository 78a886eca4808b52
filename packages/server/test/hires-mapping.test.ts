/** txt2img hires-fix fields → engine HiresFixParams (spec §3.1.3), and the 422s where A1111 answers 500. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coerce, Txt2ImgRequest } from '@sdapi/protocol';
import { engineCatalog } from '../src/index.ts';
import { hrCheckpointName, toHires } from '../src/services/hires-mapping.ts';

const catalog = engineCatalog();
const body = (fields: Record<string, unknown>): Txt2ImgRequest => {
  const out = coerce<Txt2ImgRequest>(Txt2ImgRequest, fields);
  assert.ok(out.ok);
  return out.value;
};

test('enable_hr off: no hires; denoising_strength passes through (null unless sent)', () => {
  assert.deepEqual(toHires(body({}), catalog), { hires: null, denoisingStrength: null });
  assert.deepEqual(toHires(body({ denoising_strength: 0.3 }), catalog), { hires: null, denoisingStrength: 0.3 });
});

test('the A1111 defaults map to Latent ×2 with the first-pass sampler, steps and prompts', () => {
  const { hires, denoisingStrength } = toHires(body({ enable_hr: true, denoising_strength: 0.55 }), catalog);
  assert.equal(denoisingStrength, 0.55);
  assert.deepEqual(hires, {
    scale: 2,
    resizeX: 0,
    resizeY: 0,
    upscaler: null,
    secondPassSteps: 0,
    samplerName: null,
    scheduler: null,
    prompt: '',
    negativePrompt: '',
  });
});

test('every field, and the "Use same …" placeholders of pasted infotexts mean the first pass', () => {
  const fields = {
    enable_hr: true,
    denoising_strength: 0.7,
    hr_scale: 1.5,
    hr_upscaler: 'Latent (bicubic antialiased)',
    hr_second_pass_steps: 6,
    hr_resize_x: 96,
    hr_sampler_name: 'DPM++ 2M Karras',
    hr_prompt: 'detailed',
    hr_negative_prompt: 'blurry',
  };
  assert.deepEqual(toHires(body(fields), catalog).hires, {
    scale: 1.5,
    resizeX: 96,
    resizeY: 0,
    upscaler: 'Latent (bicubic antialiased)',
    secondPassSteps: 6,
    samplerName: 'DPM++ 2M',
    scheduler: 'Karras',
    prompt: 'detailed',
    negativePrompt: 'blurry',
  });
  const pasted = toHires(
    body({
      enable_hr: true,
      denoising_strength: 0.7,
      hr_sampler_name: 'Use same sampler',
      hr_scheduler: 'Use same scheduler',
      hr_checkpoint_name: 'Use same checkpoint',
    }),
    catalog,
  ).hires;
  assert.deepEqual([pasted?.samplerName, pasted?.scheduler], [null, null]);
});

test('legacy firstphase_width/height: they are the first pass and width × height the target', () => {
  const m = toHires(body({ enable_hr: true, denoising_strength: 0.6, width: 1024, height: 768, firstphase_width: 512, firstphase_height: 384 }), catalog);
  assert.deepEqual(m.firstPass, { width: 512, height: 384 });
  assert.deepEqual([m.hires?.resizeX, m.hires?.resizeY], [1024, 768]);
});

test('422s that name the field: no denoising_strength, unknown upscaler or sampler, bad numbers', () => {
  const refuse = (fields: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(() => toHires(body({ enable_hr: true, denoising_strength: 0.5, ...fields }), catalog), pattern);
  assert.throws(() => toHires(body({ enable_hr: true }), catalog), /enable_hr needs denoising_strength/);
  refuse({ hr_upscaler: 'R-ESRGAN 4x+' }, /hr_upscaler: could not find upscaler named "R-ESRGAN 4x\+"; valid choices: Latent, .*Lanczos, Nearest/);
  refuse({ hr_sampler_name: 'Euler z' }, /Sampler not found/);
  refuse({ hr_scale: 0 }, /hr_scale must be a number > 0, got 0/);
  refuse({ denoising_strength: 1.5 }, /denoising_strength must be from 0 to 1, got 1\.5/);
  refuse({ hr_second_pass_steps: -1 }, /hr_second_pass_steps must be ≥ 0, got -1/);
});

test('hr_checkpoint_name: another checkpoint is kept for the lookup inside the queue; placeholders and no hires mean the same', () => {
  assert.equal(hrCheckpointName({ enable_hr: true, hr_checkpoint_name: 'other.safetensors' }), 'other.safetensors');
  for (const same of [null, undefined, '', 'Use same checkpoint']) assert.equal(hrCheckpointName({ enable_hr: true, hr_checkpoint_name: same }), null);
  assert.equal(hrCheckpointName({ enable_hr: false, hr_checkpoint_name: 'other.safetensors' }), null);
  assert.doesNotThrow(() => toHires(body({ enable_hr: true, denoising_strength: 0.5, hr_checkpoint_name: 'other.safetensors' }), catalog));
});
