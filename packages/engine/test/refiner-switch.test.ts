/**
 * The refiner switch (pipeline/refiner.ts) on the tiny SDXL fixture with a seeded random tiny refiner: no oracle
 * exists for a switched trajectory, so the tests pin what the switch rule implies: switch_at 1.0 never switches
 * (bit for bit the plain image), switch_at null switches at the first call (bit for bit the refiner's own txt2img,
 * which checks its conditioning and that it decodes), and with 0.5 the model calls change hands exactly where A1111's
 * completed ratio (999 − t(σ)) / 1000 reaches 0.5; infotext keys, hires passes and img2img follow A1111.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeRandomCheckpoint } from '../src/checkpoint/random.ts';
import { LoadedModel } from '../src/pipeline/model.ts';
import { completedRatioFromSigma, completedRatioFromTimestep, refinerDue } from '../src/pipeline/refiner.ts';
import { alphasCumprodLinear, DiscreteSchedule } from '../src/sampling/discrete-schedule.ts';
import { defaultImg2ImgParams, defaultTxt2ImgParams, StableDiffusion } from '../src/stable-diffusion.ts';
import type { Tensor } from '../src/tensor.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';
import { TINY_SD15, TINY_SDXL_REFINER } from './helpers/tiny-configs.ts';

const skip = needFixture('tiny-sdxl', 'model.safetensors');
let dir: string;
let refinerPath: string;
let sd: StableDiffusion;
let refinerAlone: StableDiffusion;

before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'sdapi-refiner-switch-'));
  refinerPath = join(dir, 'tiny-refiner.safetensors');
  writeRandomCheckpoint(refinerPath, TINY_SDXL_REFINER, 11);
  sd = StableDiffusion.open(fixturePath('tiny-sdxl', 'model.safetensors'));
  refinerAlone = StableDiffusion.open(refinerPath);
});
after(async () => {
  await sd?.release();
  await refinerAlone?.release();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const BASE = {
  prompt: 'a photograph of an astronaut riding a horse',
  seed: 1234,
  steps: 8,
  width: 64,
  height: 64,
  samplerName: 'Euler a',
  scheduler: 'Karras',
};
const refiner = (switchAt: number | null) => ({ path: refinerPath, title: 'tiny-refiner [0123456789]', switchAt });
const maxDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

test('completed ratio: σ_max is t 999 → 0, σ_min is t 0 → 0.999; timesteps samplers use t itself', () => {
  const sigmas = DiscreteSchedule.fromAlphasCumprod(alphasCumprodLinear(0.00085, 0.012, 1000)).sigmas;
  assert.equal(completedRatioFromSigma(sigmas, sigmas[999]), 0);
  assert.equal(completedRatioFromSigma(sigmas, sigmas[0]), 0.999);
  assert.equal(completedRatioFromSigma(sigmas, sigmas[499] * 1.0001), 0.5);
  assert.equal(completedRatioFromTimestep(999), 0);
  assert.equal(completedRatioFromTimestep(499.7), 0.5);
  assert.equal(refinerDue(0.999, 1), false, 'switch_at 1.0 never switches');
  assert.equal(refinerDue(0, null), true, 'switch_at null switches at the first call');
});

test('switch_at 1.0 gives the plain image bit for bit and no Refiner keys', { skip }, async () => {
  const plain = await sd.txt2img(defaultTxt2ImgParams(BASE));
  const never = await sd.txt2img(defaultTxt2ImgParams({ ...BASE, refiner: refiner(1) }));
  assert.deepEqual(never.images[0].rgb, plain.images[0].rgb);
  assert.equal(never.images[0].infotext, plain.images[0].infotext);
  assert.ok(!('Refiner' in never.extraGenerationParams));
});

test('switch_at null: the refiner samples from the first call with its own conditioning and VAE (= its own txt2img)', { skip }, async () => {
  const own = await refinerAlone.txt2img(defaultTxt2ImgParams(BASE));
  const switched = await sd.txt2img(defaultTxt2ImgParams({ ...BASE, refiner: refiner(null) }));
  console.log(`max |switch_at null − refiner alone| = ${maxDiff(switched.images[0].rgb, own.images[0].rgb)}`);
  assert.deepEqual(switched.images[0].rgb, own.images[0].rgb);
  assert.match(switched.images[0].infotext, /, Refiner: tiny-refiner \[0123456789\],/);
  assert.ok(!/Refiner switch at/.test(switched.images[0].infotext), 'None is left out of the infotext');
});

test('switch_at 0.5: the calls change hands where (999 − t(σ)) / 1000 reaches 0.5; image differs; infotext keys', { skip }, async () => {
  const calls: string[] = [];
  const unet = LoadedModel.prototype.unet;
  LoadedModel.prototype.unet = function (this: LoadedModel, ...args: Parameters<typeof unet>): Promise<Tensor> {
    calls.push(this.path === refinerPath ? 'R' : 'B');
    return unet.apply(this, args);
  };
  let result: Awaited<ReturnType<StableDiffusion['txt2img']>>;
  try {
    result = await sd.txt2img(defaultTxt2ImgParams({ ...BASE, refiner: refiner(0.5) }));
  } finally {
    LoadedModel.prototype.unet = unet;
  }
  // Independently: the Karras σ of each step, its nearest training σ by brute force, and the ratio rule.
  const train = DiscreteSchedule.fromAlphasCumprod(alphasCumprodLinear(0.00085, 0.012, 1000)).sigmas;
  const [sMin, sMax, rho] = [train[0], train[999], 7];
  const karras = Array.from({ length: BASE.steps }, (_, i) => (sMax ** (1 / rho) + (i / (BASE.steps - 1)) * (sMin ** (1 / rho) - sMax ** (1 / rho))) ** rho);
  const expected = karras.map((s) => {
    const t = [...train.keys()].sort((a, b) => Math.abs(train[a] - s) - Math.abs(train[b] - s))[0];
    return (999 - t) / 1000 >= 0.5 ? 'R' : 'B';
  });
  console.log(`model per call: ${calls.join('')} (expected ${expected.join('')})`);
  assert.equal(calls.join(''), expected.join(''));
  assert.ok(calls.includes('B') && calls.includes('R'));
  const plain = await sd.txt2img(defaultTxt2ImgParams(BASE));
  const diff = maxDiff(result.images[0].rgb, plain.images[0].rgb);
  console.log(`max |switch_at 0.5 − no refiner| = ${diff}`);
  assert.ok(diff > 0);
  assert.match(result.images[0].infotext, /, Refiner: tiny-refiner \[0123456789\], Refiner switch at: 0\.5,/);
  assert.equal(result.extraGenerationParams.Refiner, 'tiny-refiner [0123456789]');
});

/** The model of every UNet call of one txt2img job: B (base) or R (refiner). */
async function callsOf(params: Parameters<StableDiffusion['txt2img']>[0]) {
  const calls: string[] = [];
  const unet = LoadedModel.prototype.unet;
  LoadedModel.prototype.unet = function (this: LoadedModel, ...args: Parameters<typeof unet>): Promise<Tensor> {
    calls.push(this.path === refinerPath ? 'R' : 'B');
    return unet.apply(this, args);
  };
  try {
    const result = await sd.txt2img(params);
    return { calls: calls.join(''), result };
  } finally {
    LoadedModel.prototype.unet = unet;
  }
}

test('DDIM: the ratio is (999 − t) / 1000 of the timestep itself; refiner_switch_by_sample_steps counts model calls', { skip }, async () => {
  // DDIM with 8 steps calls the model at t = 876, 751, 626, 501, 376, 251, 126: ratios 0.123 … 0.498 stay below 0.5.
  const ddim = { ...BASE, samplerName: 'DDIM', scheduler: 'Automatic' };
  const byTimestep = await callsOf(defaultTxt2ImgParams({ ...ddim, refiner: refiner(0.5) }));
  assert.equal(byTimestep.calls, 'BBBBRRR');
  // By model calls: call i switches when i / steps ≥ 0.3 (A1111 total_steps = 8), i.e. from call 3; the infotext says so.
  const options = { ...defaultTxt2ImgParams().options, refiner_switch_by_sample_steps: true };
  const bySteps = await callsOf(defaultTxt2ImgParams({ ...ddim, refiner: refiner(0.3), options }));
  assert.equal(bySteps.calls, 'BBBRRRR');
  assert.match(bySteps.result.images[0].infotext, /Refiner switch by sampling steps: True, Refiner: tiny-refiner \[0123456789\], Refiner switch at: 0\.3/);
});

test('hires fix: the refiner acts in the second pass by default, in the first with hires_fix_refiner_pass', { skip }, async () => {
  const hires = {
    scale: 2,
    resizeX: 0,
    resizeY: 0,
    upscaler: 'Latent',
    secondPassSteps: 4,
    samplerName: null,
    scheduler: null,
    prompt: '',
    negativePrompt: '',
  };
  const job = { ...BASE, steps: 4, denoisingStrength: 0.6, hires };
  const plain = await sd.txt2img(defaultTxt2ImgParams(job));
  const second = await sd.txt2img(defaultTxt2ImgParams({ ...job, refiner: refiner(0.5) }));
  assert.notDeepEqual(second.images[0].rgb, plain.images[0].rgb);
  assert.ok(!/Hires refiner/.test(second.images[0].infotext));
  assert.match(second.images[0].infotext, /Refiner switch at: 0\.5/);
  const first = await sd.txt2img(
    defaultTxt2ImgParams({ ...job, refiner: refiner(0.5), options: { ...defaultTxt2ImgParams().options, hires_fix_refiner_pass: 'first pass' } }),
  );
  assert.match(first.images[0].infotext, /Hires refiner: first pass, Refiner: tiny-refiner \[0123456789\]/);
  assert.notDeepEqual(first.images[0].rgb, second.images[0].rgb);
});

test('img2img: switch_at 1.0 is the plain result, 0.5 differs and writes the keys', { skip }, async () => {
  const init = await sd.txt2img(defaultTxt2ImgParams({ ...BASE, steps: 3 }));
  const rgba = new Uint8Array(64 * 64 * 4).fill(255);
  for (let p = 0; p < 64 * 64; p++) rgba.set(init.images[0].rgb.subarray(3 * p, 3 * p + 3), 4 * p);
  const job = { ...BASE, initImages: [{ width: 64, height: 64, rgba }], denoisingStrength: 0.8 };
  const plain = await sd.img2img(defaultImg2ImgParams(job));
  const never = await sd.img2img(defaultImg2ImgParams({ ...job, refiner: refiner(1) }));
  assert.deepEqual(never.images[0].rgb, plain.images[0].rgb);
  const half = await sd.img2img(defaultImg2ImgParams({ ...job, refiner: refiner(0.5) }));
  assert.notDeepEqual(half.images[0].rgb, plain.images[0].rgb);
  assert.match(half.images[0].infotext, /Refiner: tiny-refiner \[0123456789\], Refiner switch at: 0\.5/);
});

test('a refiner of another latent space is refused naming refiner_checkpoint', { skip }, async () => {
  const sd1 = join(dir, 'tiny-sd1.safetensors');
  writeRandomCheckpoint(sd1, TINY_SD15, 3);
  await assert.rejects(
    sd.txt2img(defaultTxt2ImgParams({ ...BASE, refiner: { path: sd1, title: 'tiny-sd1', switchAt: 0.5 } })),
    (e: Error & { field?: string }) => {
      assert.match(e.message, /latent space/);
      return true;
    },
  );
});
