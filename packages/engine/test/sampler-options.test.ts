/**
 * The options A1111 applies around a sampler and the infotext keys it writes for them (spec §8.3, §10), first as
 * pure functions, then through txt2img on the tiny SD1.5 checkpoint: the SDE samplers' Brownian tree (seeded per
 * image, untouched by ENSD), sgm_noise_multiplier, eta, the UniPC options.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createInfotext } from '../src/pipeline/infotext.ts';
import { initialLatent, samplerInfotextParams, sdeNoiseSampler, uniPcOptions } from '../src/pipeline/sampler-options.ts';
import type { GenerationOptions, Txt2ImgParams } from '../src/pipeline/types.ts';
import { findSampler, type KDiffusionSamplerEntry, type SamplerEntry } from '../src/sampling/registry.ts';
import { DEFAULT_GENERATION_OPTIONS, defaultTxt2ImgParams, StableDiffusion } from '../src/stable-diffusion.ts';
import { Tensor } from '../src/tensor.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';

const entry = (name: string) => findSampler(name) as SamplerEntry;
const keys = (sampler: string, options: Partial<GenerationOptions> = {}, eta: number | null = null) =>
  samplerInfotextParams(entry(sampler), { eta, options: { ...DEFAULT_GENERATION_OPTIONS, ...options } });
/** The parameter line of an infotext with these extras (formatting as A1111's create_infotext). */
const line = (extra: Record<string, unknown>) =>
  createInfotext(
    {
      allPrompts: ['p'],
      allNegativePrompts: [''],
      allSeeds: [1],
      allSubseeds: [2],
      steps: 3,
      samplerName: 'Euler',
      scheduler: 'Automatic',
      cfgScale: 7,
      width: 64,
      height: 64,
      batchSize: 1,
      sdModelName: null,
      sdModelHash: null,
      subseedStrength: 0,
      seedResizeFromW: -1,
      seedResizeFromH: -1,
      extraGenerationParams: extra,
    },
    { version: null },
  ).split('\n')[1];

describe('infotext keys of the sampler options', () => {
  test('defaults write nothing, for every sampler', () => {
    for (const name of ['Euler a', 'Euler', 'DPM++ 2M SDE', 'DDIM', 'DDIM CFG++', 'PLMS', 'UniPC', 'DPM adaptive', 'LCM'])
      assert.deepEqual(keys(name), {}, name);
  });

  test('Eta when it differs from the k-diffusion default 1 (option or request), only for samplers that take eta', () => {
    assert.equal(
      line(keys('Euler a', { eta_ancestral: 0.5 })),
      'Steps: 3, Sampler: Euler, Schedule type: Automatic, CFG scale: 7.0, Seed: 1, Size: 64x64, Eta: 0.5',
    );
    assert.deepEqual(keys('Euler a', { eta_ancestral: 0.5 }, 1), {}, 'the request eta wins');
    assert.equal(line(keys('DPM++ 2M SDE', {}, 0)).endsWith('Eta: 0.0'), true);
    assert.deepEqual(keys('Euler', { eta_ancestral: 0.5 }), {}, 'Euler takes no eta');
    assert.deepEqual(keys('DPM++ 2M', {}, 0.3), {});
  });

  test('Eta DDIM when it differs from 0, for DDIM and DDIM CFG++ only; Discard penultimate sigma first', () => {
    assert.match(line(keys('DDIM', { eta_ddim: 0.25 })), /, Eta DDIM: 0\.25$/);
    assert.match(line(keys('DDIM CFG++', {}, 1)), /, Eta DDIM: 1\.0$/);
    assert.deepEqual(keys('PLMS', { eta_ddim: 0.25 }), {});
    assert.deepEqual(Object.keys(keys('DDIM', { eta_ddim: 0.25, always_discard_next_to_last_sigma: true })), ['Discard penultimate sigma', 'Eta DDIM']);
  });

  test('Sigma churn/tmin/tmax/noise for the samplers that take them; s_tmax 0 means ∞', () => {
    assert.match(
      line(keys('Euler', { s_churn: 0.5, s_tmin: 0.1, s_tmax: 10, s_noise: 1.003 })),
      /, Sigma churn: 0\.5, Sigma tmin: 0\.1, Sigma tmax: 10\.0, Sigma noise: 1\.003$/,
    );
    assert.deepEqual(keys('Heun', { s_tmax: 0 }), {});
    assert.deepEqual(keys('Euler a', { s_noise: 0.9, s_churn: 1 }), {}, 'Euler a takes neither');
    assert.deepEqual(keys('DPM++ 2M SDE', { s_noise: 0.9, s_churn: 1 }), { 'Sigma noise': keys('DPM++ 2M SDE', { s_noise: 0.9 })['Sigma noise'] });
    assert.deepEqual(keys('DDIM', { s_churn: 1 }), {});
  });

  test('SGM noise multiplier for k-diffusion samplers, written as True', () => {
    assert.match(line(keys('Euler', { sgm_noise_multiplier: true })), /, SGM noise multiplier: True$/);
    assert.deepEqual(keys('DDIM', { sgm_noise_multiplier: true }), {});
  });
});

test('initialLatent: noise·σ_max, or noise·sqrt(1 + σ_max²) with sgm_noise_multiplier (float32)', () => {
  const noise = new Tensor([1, 1, 1, 2], Float32Array.from([1, -2]));
  assert.deepEqual(Array.from(initialLatent(noise, 14.614642, { sgm_noise_multiplier: false }).data), [
    Math.fround(14.614642),
    Math.fround(-2 * Math.fround(14.614642)),
  ]);
  const scale = Math.fround(Math.sqrt(1 + Math.fround(14.614642) ** 2));
  const sgm = initialLatent(noise, 14.614642, { sgm_noise_multiplier: true }).data;
  assert.ok(Math.abs(sgm[0] - scale) < 2e-6 && Math.abs(sgm[0] - 14.648814) < 1e-5, `${sgm[0]}`);
});

test('uniPcOptions: the options as given, or errors naming the option, its value and the valid choices', () => {
  const o = (extra: Partial<GenerationOptions>) => ({ ...DEFAULT_GENERATION_OPTIONS, ...extra });
  assert.deepEqual(uniPcOptions(o({}), 10), { variant: 'bh1', skipType: 'time_uniform', order: 3, lowerOrderFinal: true });
  assert.deepEqual(uniPcOptions(o({ uni_pc_variant: 'bh2', uni_pc_skip_type: 'logSNR', uni_pc_order: 2, uni_pc_lower_order_final: false }), 2), {
    variant: 'bh2',
    skipType: 'logSNR',
    order: 2,
    lowerOrderFinal: false,
  });
  assert.throws(() => uniPcOptions(o({ uni_pc_variant: 'vary_coeff' }), 10), /uni_pc_variant must be one of bh1, bh2 .*vary_coeff is not implemented/);
  assert.throws(
    () => uniPcOptions(o({ uni_pc_skip_type: 'cubic' as never }), 10),
    /uni_pc_skip_type must be one of time_uniform, time_quadratic, logSNR, got "cubic"/,
  );
  assert.throws(() => uniPcOptions(o({}), 2), /from 1 to the number of steps \(2\), got uni_pc_order = 3/);
  assert.throws(() => uniPcOptions(o({ uni_pc_order: 1.5 }), 5), /got uni_pc_order = 1.5/);
});

test('sdeNoiseSampler: a Brownian tree for the brownian_noise samplers only, over the positive σ range, built lazily', () => {
  const sde = findSampler('DPM++ 2M SDE') as KDiffusionSamplerEntry;
  assert.equal(sdeNoiseSampler(findSampler('Euler a') as KDiffusionSamplerEntry, [1, 4, 2, 2], [14.6, 1, 0], [1]), undefined);
  const sigmas = [14.6, 3, 0.5, 0.03, 0];
  const a = sdeNoiseSampler(sde, [1, 4, 2, 2], sigmas, [1])!;
  const b = sdeNoiseSampler(sde, [1, 4, 2, 2], sigmas, [1])!;
  assert.deepEqual(Array.from(a(3, 0.5).data), Array.from(b(3, 0.5).data), 'same seed, same noise');
  assert.throws(() => a(14.6, 0.01), /outside its interval \[0\.03, 14\.6\]/);
  const oneStep = sdeNoiseSampler(sde, [1, 4, 2, 2], [14.6, 0], [1]);
  assert.ok(oneStep, 'a 1-step schedule builds no tree until queried (it never is)');
});

const skip = needFixture('tiny-sd15', 'model.safetensors');
describe('through txt2img on tiny SD1.5', { skip }, () => {
  let sd: StableDiffusion;
  before(() => {
    sd = StableDiffusion.open(fixturePath('tiny-sd15', 'model.safetensors'));
  });
  const run = async (overrides: Partial<Txt2ImgParams>, options: Partial<GenerationOptions> = {}) => {
    const params = defaultTxt2ImgParams({ prompt: 'a cat', seed: 11, steps: 4, width: 64, height: 64, ...overrides });
    Object.assign(params.options, { randn_source: 'CPU', ...options });
    return sd.txt2img(params);
  };
  const rgb = (r: Awaited<ReturnType<typeof run>>, i = 0) => Buffer.from(r.images[i].rgb);
  const mae = (a: Buffer, b: Buffer) => a.reduce((s, v, k) => s + Math.abs(v - b[k]), 0) / a.length;

  test('SDE samplers draw from the seeded Brownian tree: deterministic, untouched by ENSD, per image in a batch', async () => {
    for (const samplerName of ['DPM++ 2M SDE', 'DPM++ SDE', 'DPM++ 3M SDE', 'DPM++ 2M SDE Heun']) {
      const base = rgb(await run({ samplerName }));
      assert.ok(base.equals(rgb(await run({ samplerName }))), `${samplerName}: same seed, same image`);
      // With randn_like noise ENSD would change the image (it does for Euler a below); the tree is seeded by the seed alone.
      assert.ok(base.equals(rgb(await run({ samplerName }, { eta_noise_seed_delta: 31337 }))), `${samplerName}: ENSD changes nothing`);
      const other = mae(base, rgb(await run({ samplerName, seed: 12 })));
      const batch = await run({ samplerName, seed: 10, batchSize: 2 });
      const inBatch = mae(base, rgb(batch, 1));
      console.log(`# ${samplerName}: seed 11 alone vs 2nd of a batch from seed 10: MAE ${inBatch.toFixed(4)}; vs seed 12: ${other.toFixed(2)}`);
      assert.ok(inBatch < 0.05 && other > 1, `${samplerName}: batch-independent noise (${inBatch}), seed-dependent (${other})`);
    }
    const ancestral = rgb(await run({ samplerName: 'Euler a' }));
    assert.ok(!ancestral.equals(rgb(await run({ samplerName: 'Euler a' }, { eta_noise_seed_delta: 31337 }))), 'ENSD does change Euler a');
  });

  test('sgm_noise_multiplier scales x_T and is written; eta and Sigma keys reach the infotext', async () => {
    const plain = await run({ samplerName: 'Euler' });
    const sgm = await run({ samplerName: 'Euler' }, { sgm_noise_multiplier: true });
    assert.ok(mae(rgb(plain), rgb(sgm)) > 0, 'a different x_T gives a different image');
    assert.match(sgm.images[0].infotext, /, SGM noise multiplier: True, Version/);
    const eta = await run({ samplerName: 'Euler a', eta: 0.5 }, { eta_noise_seed_delta: 31337, s_churn: 1 });
    assert.match(eta.images[0].infotext, /, ENSD: 31337, RNG: CPU, Eta: 0\.5, Version/);
    const churn = await run({ samplerName: 'Euler', eta: 0.5 }, { s_churn: 1 });
    assert.match(churn.images[0].infotext, /, RNG: CPU, Sigma churn: 1\.0, Version/);
    const ddim = await run({ samplerName: 'DDIM' }, { eta_ddim: 0.5 });
    assert.match(ddim.images[0].infotext, /, Eta DDIM: 0\.5, Version/);
    assert.ok(mae(rgb(ddim), rgb(await run({ samplerName: 'DDIM' }))) > 0, 'eta_ddim changes DDIM');
  });

  test('UniPC runs with the uni_pc_* options; an order above the steps is a parameter error', async () => {
    // At 4 steps with lower_order_final, orders 2 and 3 take the same steps (1, 2, 2, 1): order 1 differs.
    const base = rgb(await run({ samplerName: 'UniPC' }));
    for (const options of [
      { uni_pc_order: 1 },
      { uni_pc_variant: 'bh2' as const },
      { uni_pc_skip_type: 'logSNR' as const },
      { uni_pc_lower_order_final: false },
    ]) {
      assert.ok(mae(base, rgb(await run({ samplerName: 'UniPC' }, options))) > 0, `${JSON.stringify(options)} changes the image`);
    }
    await assert.rejects(run({ samplerName: 'UniPC', steps: 2 }), /UniPC order must be an integer from 1 to the number of steps \(2\), got uni_pc_order = 3/);
  });
});
