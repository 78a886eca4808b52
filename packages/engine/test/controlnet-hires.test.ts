/**
 * ControlNet with hires fix (controlnet-api.md §4.1, §6.2, §6.6, §7): a second hint fitted to the hires size from
 * the same preprocessed map, `hr_option` choosing the passes a unit acts in, canny/mlsd units soft-injected in the
 * hires pass even when Balanced, and the detected maps "hires, then first pass". Tiny SD1.5 + the tiny ControlNet;
 * which hint each ControlNet call got is recorded, so the pass rule is checked call by call.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { decodePng } from '../src/image/png.ts';
import { ControlHook, type ControlUnit } from '../src/pipeline/control.ts';
import type { ControlNetUnitParams } from '../src/pipeline/control-units.ts';
import { ControlNetModel } from '../src/pipeline/controlnet-model.ts';
import type { HiresFixParams } from '../src/pipeline/types.ts';
import { defaultTxt2ImgParams, StableDiffusion } from '../src/stable-diffusion.ts';
import { Tensor } from '../src/tensor.ts';
import { tinyControlNetUnit } from './helpers/controlnet.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';

const skip = needFixture('controlnet', 'tiny-controlnet.safetensors') || needFixture('tiny-sd15', 'model.safetensors');
let sd: StableDiffusion;
before(() => {
  if (!skip) sd = StableDiffusion.open(fixturePath('tiny-sd15', 'model.safetensors'));
});
after(() => sd?.release());

function unit(hrOption: ControlNetUnitParams['hrOption']): ControlNetUnitParams {
  const { width, height, rgba } = decodePng(readFileSync(fixturePath('controlnet', 'hint.png')));
  return tinyControlNetUnit({ image: { width, height, rgba }, processorRes: 512, thresholdA: 0.5, thresholdB: 0.5, hrOption });
}

const HIRES: HiresFixParams = {
  scale: 2,
  resizeX: 0,
  resizeY: 0,
  upscaler: 'Latent',
  secondPassSteps: 3,
  samplerName: null,
  scheduler: null,
  prompt: '',
  negativePrompt: '',
};

/** One hires job; returns its result and the hint height of every ControlNet call, in order. */
async function run(hrOption: ControlNetUnitParams['hrOption'] | null) {
  const hints: number[] = [];
  const original = ControlNetModel.prototype.run;
  ControlNetModel.prototype.run = function (this: ControlNetModel, ...args: Parameters<typeof original>) {
    hints.push(args[1].shape[2]);
    return original.apply(this, args);
  };
  try {
    const params = defaultTxt2ImgParams({
      prompt: 'a photograph of an astronaut riding a horse',
      seed: 1234,
      steps: 4,
      width: 64,
      height: 64,
      samplerName: 'Euler',
      denoisingStrength: 0.5,
      hires: HIRES,
      controlNet: hrOption ? [unit(hrOption)] : [],
    });
    return { result: await sd.txt2img(params), hints };
  } finally {
    ControlNetModel.prototype.run = original;
  }
}

test('hr_option: Both acts in both passes with the 64² then the 128² hint; Low/High res only in one pass', { skip }, async () => {
  const none = await run(null);
  const both = await run('Both');
  const low = await run('Low res only');
  const high = await run('High res only');
  const summary = (h: number[]) => `${h.filter((x) => x === 64).length}×64 ${h.filter((x) => x === 128).length}×128`;
  console.log(`ControlNet calls — Both: ${summary(both.hints)}; Low res only: ${summary(low.hints)}; High res only: ${summary(high.hints)}`);
  assert.deepEqual(both.hints, [...Array(4).fill(64), ...Array(both.hints.length - 4).fill(128)]);
  assert.ok(both.hints.length > 4, 'the hires pass calls the ControlNet with the hires hint');
  assert.deepEqual(low.hints, Array(4).fill(64));
  assert.deepEqual(high.hints, both.hints.slice(4));
  const images = [none, both, low, high].map((r) => Buffer.from(r.result.images[0].rgb).toString('base64'));
  assert.equal(new Set(images).size, 4, 'no control, Both, Low res only and High res only give four different images');
  // §7: the hires map first, then the first-pass map.
  assert.deepEqual(
    both.result.detectedMaps?.map((m) => [m.width, m.height]),
    [
      [128, 128],
      [64, 64],
    ],
  );
  assert.match(both.result.images[0].infotext, /ControlNet 0: "Module: none, Model: tiny-controlnet \[8dba536e\], Weight: 1\.0/);
});

test('hires pass: a Balanced canny/mlsd unit is soft-injected (w·0.825^(12−i)), other modules keep w', async () => {
  const ones = (n: number) => Array.from({ length: n }, () => new Tensor([2, 1, 1, 1], new Float32Array([1, 1])));
  const model = { config: { unet: { in_channels: 4 }, global_average_pooling: false }, run: async () => ones(13) } as unknown as ControlNetModel;
  const hint = new Tensor([1, 3, 8, 8]);
  const base: ControlUnit = { model, hint, hrHint: hint, weight: 2, guidanceStart: 0, guidanceEnd: 1, controlMode: 'Balanced', hrOption: 'Both' };
  const x = new Tensor([2, 4, 1, 1]);
  const residuals = (u: ControlUnit, pass: 'low' | 'high') => new ControlHook([u], 10, pass).residuals(x, [500, 500], new Tensor([2, 77, 8]), null, 1);
  const soft = (await residuals({ ...base, softInHires: true }, 'high')) as Tensor[];
  for (const [i, r] of soft.entries()) {
    const expected = 2 * 0.825 ** (12 - i);
    assert.ok(Math.abs(r.data[0] - expected) < 1e-6 && Math.abs(r.data[1] - expected) < 1e-6, `residual ${i}: ${r.data[0]} vs ${expected}`);
  }
  const firstPass = (await residuals({ ...base, softInHires: true }, 'low')) as Tensor[];
  assert.ok(
    firstPass.every((r) => r.data[0] === 2 && r.data[1] === 2),
    'the first pass stays Balanced',
  );
  const other = (await residuals({ ...base, softInHires: false }, 'high')) as Tensor[];
  assert.ok(
    other.every((r) => r.data[0] === 2),
    'other modules stay Balanced in the hires pass',
  );
});
