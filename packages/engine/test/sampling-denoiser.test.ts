/**
 * The discrete schedule and the model wrappers: alphas_cumprod of the ldm linear schedule (vs fixtures
 * `common.alphas_cumprod` and tiny-sd15 `schedule.*`), the CompVisDenoiser sigma table, sigma_to_t / t_to_sigma
 * probes, the fractional timesteps fed to the UNet in the tiny-model sampler runs, and c_in/c_out/c_skip + CFG on a
 * fake UNet.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { cfgDenoiser, cfgEpsModel, compVisDenoiser, compVisTimestepsModel, getScalings, lcmDenoiser, type UNetFn } from '../src/sampling/denoiser.ts';
import { alphasCumprodLinear, betasLinear, DiscreteSchedule, downcastAlphasCumprod, LcmSchedule } from '../src/sampling/discrete-schedule.ts';
import { Tensor } from '../src/tensor.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { fixturePath, needFixture, openFixture } from './helpers/fixtures.ts';

const schedule = DiscreteSchedule.fromAlphasCumprod(alphasCumprodLinear());

describe('ldm linear schedule and the CompVis sigma table', { skip: needFixture('samplers', 'toy.safetensors') }, () => {
  test('alphas_cumprod, sigmas and log_sigmas vs fixtures/samplers common.*', () => {
    const file = openFixture('samplers', 'toy.safetensors');
    assertCloseTensor(alphasCumprodLinear(), file.readFloat32('common.alphas_cumprod'), { atol: 0, label: 'alphas_cumprod (bit-exact)' });
    assertCloseTensor(schedule.sigmas, file.readFloat32('common.sigmas'), { atol: 0, label: 'sigmas (bit-exact)' });
    // torch's float32 log is SLEEF (≤ 1 ulp); ours is the correctly rounded double log.
    assertCloseTensor(schedule.logSigmas, file.readFloat32('common.log_sigmas'), { atol: 0, rtol: 1.2e-7, label: 'log_sigmas' });
    assertCloseTensor(
      DiscreteSchedule.fromAlphasCumprod(downcastAlphasCumprod(alphasCumprodLinear())).sigmas,
      file.readFloat32('common.sigmas_from_fp16_alphas_cumprod'),
      { atol: 0, label: 'sigmas from float16 alphas_cumprod' },
    );
    assert.equal(schedule.sigmaMin, file.readFloat32('common.sigmas')[0]);
    assert.equal(schedule.sigmaMax, file.readFloat32('common.sigmas')[999]);
  });

  test('sigma_to_t (quantize=False) and t_to_sigma probes', () => {
    const file = openFixture('samplers', 'toy.safetensors');
    const [sigma, t] = [file.readFloat32('common.sigma_to_t.sigma'), file.readFloat32('common.sigma_to_t.t')];
    assertCloseTensor(
      Array.from(sigma, (s) => schedule.sigmaToT(s)),
      t,
      { atol: 1e-4, rtol: 1e-6, label: 'sigma_to_t' },
    );
    const [tt, ts] = [file.readFloat32('common.t_to_sigma.t'), file.readFloat32('common.t_to_sigma.sigma')];
    assertCloseTensor(
      Array.from(tt, (v) => schedule.tToSigma(v)),
      ts,
      { atol: 0, rtol: 3e-7, label: 't_to_sigma' },
    );
  });
});

describe('tiny-sd15 schedule buffers', { skip: needFixture('tiny-sd15', 'reference.safetensors') }, () => {
  test('betas and alphas_cumprod', () => {
    const file = openFixture('tiny-sd15', 'reference.safetensors');
    assertCloseTensor(Float32Array.from(betasLinear()), file.readFloat32('schedule.betas'), { atol: 0, label: 'betas' });
    assertCloseTensor(alphasCumprodLinear(), file.readFloat32('schedule.alphas_cumprod'), { atol: 0, label: 'alphas_cumprod' });
  });
});

describe('fractional UNet timesteps of the tiny-model sampler runs', () => {
  for (const name of ['tiny_sd15_cfg7', 'tiny_sd2v_cfg7', 'tiny_sdxl_cfg7']) {
    test(name, { skip: needFixture('samplers', `${name}.safetensors`) }, () => {
      const file = openFixture('samplers', `${name}.safetensors`);
      const own = DiscreteSchedule.fromAlphasCumprod(file.readFloat32('common.alphas_cumprod'));
      const runs: { key: string }[] = JSON.parse(readFileSync(fixturePath('samplers', 'index.json'), 'utf8')).runs[`${name}.safetensors`];
      const sigmas: number[] = [];
      const ts: number[] = [];
      for (const { key } of runs.filter((r) => file.has(`${r.key}.model_sigmas`))) {
        sigmas.push(...file.readFloat32(`${key}.model_sigmas`));
        ts.push(...file.readFloat32(`${key}.model_t`));
      }
      assert.ok(sigmas.length > 500, `${sigmas.length} model calls`);
      assertCloseTensor(
        sigmas.map((s) => own.sigmaToT(s)),
        ts,
        { atol: 1.2e-4, rtol: 0, label: `${name} sigma_to_t(model_sigmas) (${sigmas.length} calls)` },
      );
    });
  }
});

/** A fake UNet whose output depends on every input element and on t: out = 0.3·xIn + t/1000 − row. */
function fakeUNet(calls: { x: Tensor; t: readonly number[] }[]): UNetFn {
  return async (xIn, t) => {
    calls.push({ x: xIn, t });
    const per = xIn.size / xIn.shape[0];
    return xIn.map((v, k) => 0.3 * v + t[Math.floor(k / per)] / 1000 - Math.floor(k / per));
  };
}

describe('CompVis denoisers and CFG (fake UNet)', () => {
  const x = new Tensor([1, 2, 2, 2], Float32Array.from([0.5, -1, 2, 3, -0.25, 1.5, 0, 4]));
  const sigma = 2.5;

  test('eps: denoised = x − σ·UNet(x/sqrt(σ²+1), sigma_to_t(σ))', async () => {
    const calls: { x: Tensor; t: readonly number[] }[] = [];
    const out = await compVisDenoiser(fakeUNet(calls), schedule, 'eps')(x, sigma);
    const t = schedule.sigmaToT(sigma);
    assert.deepEqual(calls[0].t, [t]);
    const expected = Array.from(x.data, (v) => v - sigma * (0.3 * (v / Math.sqrt(sigma ** 2 + 1)) + t / 1000));
    assertCloseTensor(out.data, expected, { atol: 1e-6, label: 'eps denoised' });
  });

  test('v: denoised = x/(σ²+1) − σ/sqrt(σ²+1)·UNet(x/sqrt(σ²+1), t)', async () => {
    const out = await compVisDenoiser(fakeUNet([]), schedule, 'v')(x, sigma);
    const t = schedule.sigmaToT(sigma);
    const norm = Math.sqrt(sigma ** 2 + 1);
    const expected = Array.from(x.data, (v) => v / (sigma ** 2 + 1) - (sigma / norm) * (0.3 * (v / norm) + t / 1000));
    assertCloseTensor(out.data, expected, { atol: 1e-6, label: 'v denoised' });
    const { cSkip, cOut, cIn } = getScalings(sigma, 'v');
    assert.ok(Math.abs(cSkip - 1 / 7.25) < 1e-7 && Math.abs(cOut + 2.5 / Math.sqrt(7.25)) < 1e-7 && Math.abs(cIn - 1 / Math.sqrt(7.25)) < 1e-7);
  });

  test('CFG: one batched call on [x; x] (cond rows first), combined as uncond + (cond − uncond)·scale', async () => {
    const calls: { x: Tensor; t: readonly number[] }[] = [];
    const batch = Tensor.cat([x, x.mul(-1)]); // two images
    const out = await cfgDenoiser(compVisDenoiser(fakeUNet(calls), schedule), 7)(batch, sigma);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0].x.shape, [4, 2, 2, 2]);
    // The fake UNet subtracts the row index, so cond (rows 0, 1) and uncond (rows 2, 3) differ by 2·σ per element.
    const plain = await compVisDenoiser(fakeUNet([]), schedule)(Tensor.cat([batch, batch]), sigma);
    const cond = plain.data.subarray(0, 16);
    const uncond = plain.data.subarray(16);
    const expected = Array.from(cond, (c, k) => uncond[k] + (c - uncond[k]) * 7);
    assertCloseTensor(out.data, expected, { atol: 1e-5, label: 'cfg combine' });
    assert.ok(Math.abs(out.data[0] - uncond[0] - 7 * (-2 * sigma)) < 1e-4);
  });

  test('timesteps model: v → eps = sqrt(ᾱ_t)·v + sqrt(1 − ᾱ_t)·x; CFG on eps keeps the uncond eps', async () => {
    const ac = alphasCumprodLinear();
    const calls: { x: Tensor; t: readonly number[] }[] = [];
    const eps = await compVisTimestepsModel(fakeUNet(calls), ac, 'v')(x, 500);
    assert.deepEqual(calls[0].t, [500]);
    const expected = Array.from(x.data, (v) => Math.sqrt(ac[500]) * (0.3 * v + 0.5) + Math.sqrt(1 - ac[500]) * v);
    assertCloseTensor(eps.data, expected, { atol: 1e-6, label: 'v → eps' });
    const guided = await cfgEpsModel(compVisTimestepsModel(fakeUNet([]), ac), 3)(x, 10);
    const uncond = x.map((v) => 0.3 * v + 0.01 - 1);
    assertCloseTensor(guided.epsUncond.data, uncond.data, { atol: 1e-6, label: 'uncond eps' });
    assertCloseTensor(guided.eps.data, uncond.add(3).data, { atol: 1e-5, label: 'guided eps' });
  });

  test('LCM: 50-timestep table (19, 39, …, 999), quantized sigma → t, boundary-condition scalings', async () => {
    const ac = alphasCumprodLinear();
    const lcm = new LcmSchedule(ac);
    assert.equal(lcm.sigmas.length, 50);
    assert.equal(lcm.sigmas[10], Math.fround(Math.sqrt(Math.fround(Math.fround(1 - ac[219]) / ac[219]))));
    assert.equal(lcm.sigmaToT(lcm.sigmas[10]), 219);
    assert.equal(lcm.sigmaToT(lcm.sigmas[10] * 1.001), 219);
    const sigmas = lcm.getSigmas(4);
    // exp(log σ) round trips within an ulp, as torch's t_to_sigma does.
    assert.deepEqual([sigmas.length, sigmas[0], sigmas[3], sigmas[4]], [5, lcm.tToSigma(999), lcm.tToSigma(19), 0]);
    assert.ok(Math.abs(sigmas[0] / lcm.sigmaMax - 1) < 2e-7 && Math.abs(sigmas[3] / lcm.sigmaMin - 1) < 2e-7);
    assert.ok(Math.abs(sigmas[1] - lcm.tToSigma(999 - 980 / 3)) < 1e-6);
    const calls: { x: Tensor; t: readonly number[] }[] = [];
    const sigma = lcm.sigmas[10];
    const out = await lcmDenoiser(fakeUNet(calls), lcm)(x, sigma);
    assert.deepEqual(calls[0].t, [219]);
    const scaled = 2190;
    const [cSkip, cOut] = [0.25 / (scaled ** 2 + 0.25), scaled / Math.sqrt(scaled ** 2 + 0.25)];
    const expected = Array.from(x.data, (v) => cOut * (v - sigma * (0.3 * (v / Math.sqrt(sigma ** 2 + 1)) + 0.219)) + cSkip * v);
    assertCloseTensor(out.data, expected, { atol: 1e-6, label: 'LCM denoised' });
  });
});
