/**
 * Samplers checked without golden trajectories, on the analytic toy (data ~ N(mu, s2) per element, so the
 * probability-flow ODE has a closed form and exact posterior means): deterministic samplers converge to the ODE
 * solution as steps grow, stochastic ones produce N(mu, s2) samples, and the structural rules (noise draws,
 * cancellation, Restart's plan, DDIM CFG++'s renoising direction, LCM's update) hold. Needs no ../shared.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelledError, InvalidParamsError } from '../src/errors.ts';
import { alphasCumprodLinear, DiscreteSchedule } from '../src/sampling/discrete-schedule.ts';
import { findSampler, type KDiffusionSamplerEntry, SAMPLERS, type TimestepsSamplerEntry } from '../src/sampling/registry.ts';
import { sampleDpmAdaptive, sampleDpmFast } from '../src/sampling/samplers-dpm-solver.ts';
import { restartPlan, restartStepList, sampleLcm, sampleRestart } from '../src/sampling/samplers-extra.ts';
import { sampleEuler, sampleEulerAncestral, sampleHeun } from '../src/sampling/samplers-karras.ts';
import { getTimesteps, sampleDdim, sampleDdimCfgpp, samplePlms } from '../src/sampling/samplers-timesteps.ts';
import { getSigmasExponential, getSigmasKarras } from '../src/sampling/schedules.ts';
import type { Denoiser, GuidedEpsModel } from '../src/sampling/types.ts';
import { sampleUniPc, type UniPcOptions } from '../src/sampling/unipc.ts';
import { Tensor } from '../src/tensor.ts';
import { maxAbs, seededNormals, TOY_SHAPE, toyDenoiser, toyEpsModel, toyMu, toyOdeSolution, unguided } from './helpers/toy-model.ts';

const mu = toyMu();
const model = toyDenoiser(mu);
const ac = alphasCumprodLinear();
const schedule = DiscreteSchedule.fromAlphasCumprod(ac);
const karras = (n: number, sigmaMin = schedule.sigmaMin) => getSigmasKarras(n, sigmaMin, schedule.sigmaMax);
const z = seededNormals(7)(TOY_SHAPE);
const kEntry = (name: string) => findSampler(name) as KDiffusionSamplerEntry;

/**
 * Error of a k-diffusion sampler run without noise (eta 0) against the exact ODE solution from σmax to σ = 0
 * (to σmin for DPM fast / adaptive). σmin = 0.002 keeps the final Euler step from σmin to 0 below the errors compared.
 */
async function odeError(name: string, steps: number, opts: object = {}): Promise<number> {
  const entry = kEntry(name);
  // The SDE multistep samplers run on their A1111 default, the exponential schedule.
  const sigmas = entry.options.scheduler === 'exponential' ? getSigmasExponential(steps, 0.002, schedule.sigmaMax) : karras(steps, 0.002);
  const x0 = z.mul(sigmas[0]);
  const out = await entry.sample(model, x0, sigmas, { ...entry.defaults, eta: 0, ...opts });
  const end = name.startsWith('DPM fast') || name.startsWith('DPM adaptive') ? sigmas[sigmas.length - 2] : 0;
  return maxAbs(out, toyOdeSolution(mu, x0, sigmas[0], end));
}

describe('deterministic samplers converge to the toy ODE solution at their order', () => {
  // Error ratio from 10 to 40 steps: ≈ 4 for first order, ≈ 16 for second, more for higher orders.
  const minRatio: Record<string, number> = {
    Euler: 3,
    Heun: 12,
    DPM2: 12,
    'DPM++ 2M': 12,
    LMS: 30,
    'DPM fast': 30,
    'DPM++ 2S a': 10,
    'DPM++ SDE': 10,
    'DPM++ 2M SDE': 10,
    'DPM++ 2M SDE Heun': 10,
    'DPM++ 3M SDE': 10,
  };
  for (const [name, ratio] of Object.entries(minRatio)) {
    test(`${name}${name.startsWith('DPM++ ') && name !== 'DPM++ 2M' ? ' (eta 0)' : ''}`, async () => {
      const [coarse, fine] = [await odeError(name, 10), await odeError(name, 40)];
      console.log(`# ${name}: max error ${coarse.toExponential(2)} at 10 steps, ${fine.toExponential(2)} at 40 (ratio ${(coarse / fine).toFixed(1)})`);
      assert.ok(coarse / fine >= ratio && fine < 0.1, `${name}: ${coarse} → ${fine}`);
    });
  }
  test('DPM adaptive meets its tolerance, tighter rtol/atol give a closer result', async () => {
    const loose = await odeError('DPM adaptive', 10);
    const tight = await odeError('DPM adaptive', 10, { rtol: 0.001, atol: 0.0001 });
    console.log(`# DPM adaptive: error ${loose.toExponential(2)} (rtol 0.05), ${tight.toExponential(2)} (rtol 0.001)`);
    assert.ok(loose < 0.05 && tight < loose / 5, `${loose} / ${tight}`);
  });
});

/** x ~ N(mu, s2): the standardised residual has mean ≈ 0 and variance ≈ 1 over 4096 elements. */
function assertToyDistribution(label: string, x: Tensor) {
  const n = x.size;
  let [sum, sq] = [0, 0];
  for (let k = 0; k < n; k++) {
    const r = (x.data[k] - mu.data[k % mu.size]) / 0.5;
    sum += r;
    sq += r * r;
  }
  const [mean, variance] = [sum / n, sq / n - (sum / n) ** 2];
  console.log(`# ${label}: mean ${mean.toFixed(3)}, variance ${variance.toFixed(3)}`);
  // 4096 samples: the sampling error of the variance is ≈ 0.02; 100 Euler a steps still bias it by ≈ −0.09.
  assert.ok(Math.abs(mean) < 0.08 && Math.abs(variance - 1) < 0.12, `${label}: mean ${mean}, variance ${variance}`);
}

describe('stochastic samplers sample the toy distribution N(mu, s2)', () => {
  const shape = [16, 4, 8, 8];
  const batchModel: Denoiser = async (x, sigma) => {
    const mus = Tensor.cat(Array.from({ length: x.shape[0] }, () => mu));
    return x
      .mul(0.25)
      .add(mus.mul(sigma * sigma))
      .div(0.25 + sigma * sigma);
  };
  for (const name of ['Euler a', 'DPM2 a', 'DPM++ 2S a', 'DPM++ SDE', 'DPM++ 2M SDE', 'DPM++ 2M SDE Heun', 'DPM++ 3M SDE', 'Restart']) {
    test(name, async () => {
      const normals = seededNormals(11);
      const entry = kEntry(name);
      const sigmas = karras(100);
      const out = await entry.sample(batchModel, normals(shape).mul(sigmas[0]), sigmas, { ...entry.defaults, eta: 1, noise: () => normals(shape) });
      assertToyDistribution(name, out);
    });
  }
});

describe('noise draws and cancellation', () => {
  test('Euler draws randn_like every step even without churn, and needs no source then', async () => {
    let draws = 0;
    const noise = () => {
      draws++;
      return seededNormals(1)(TOY_SHAPE);
    };
    const withSource = await sampleEuler(model, z.mul(14), karras(6), { noise });
    assert.equal(draws, 6);
    assert.deepEqual(withSource.data, (await sampleEuler(model, z.mul(14), karras(6))).data);
    await assert.rejects(sampleEuler(model, z, karras(6), { sChurn: 1 }), InvalidParamsError);
    await assert.rejects(sampleEulerAncestral(model, z, karras(6)), InvalidParamsError);
  });
  test('churn adds noise and changes the result; s_tmin/s_tmax restrict it', async () => {
    const noise = () => seededNormals(3)(TOY_SHAPE);
    const plain = await sampleHeun(model, z.mul(14), karras(6), { noise });
    const churned = await sampleHeun(model, z.mul(14), karras(6), { noise, sChurn: 2 });
    const outside = await sampleHeun(model, z.mul(14), karras(6), { noise, sChurn: 2, sTmin: 100 });
    assert.ok(maxAbs(plain, churned) > 1e-3);
    assert.deepEqual(outside.data, plain.data);
  });
  test('an aborted signal stops before the next model call (CancelledError, or the given reason)', async () => {
    for (const reason of [undefined, new Error('boom')]) {
      const controller = new AbortController();
      let calls = 0;
      const counting: Denoiser = (x, s) => {
        calls++;
        return model(x, s);
      };
      const run = sampleHeun(counting, z, karras(8), { signal: controller.signal, callback: ({ i }) => i === 1 && controller.abort(reason) });
      if (reason) await assert.rejects(run, /boom/);
      else await assert.rejects(run, CancelledError);
      assert.equal(calls, 3, 'step 0 (2 calls) and the first call of step 1');
    }
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(sampleDdim(unguided(toyEpsModel(mu, ac)), z, getTimesteps(5), { alphasCumprod: ac, signal: controller.signal }), CancelledError);
  });
  test('samplers are deterministic given their noise', async () => {
    for (const entry of SAMPLERS) {
      const run = async () => {
        const normals = seededNormals(5);
        if (entry.kind === 'timesteps')
          return entry.sample(unguided(toyEpsModel(mu, ac)), z, getTimesteps(6), { alphasCumprod: ac, eta: 1, noise: () => normals(TOY_SHAPE) });
        return entry.sample(model, z.mul(14.6), karras(6), { ...entry.defaults, eta: 1, noise: () => normals(TOY_SHAPE) });
      };
      const [a, b] = [await run(), await run()];
      assert.ok(a.data.every(Number.isFinite), entry.name);
      assert.deepEqual(a.data, b.data, entry.name);
    }
  });
});

describe('Restart and LCM', () => {
  test('below 20 steps Restart is Heun on the given sigmas', async () => {
    const sigmas = karras(12);
    assert.deepEqual((await sampleRestart(model, z.mul(14), sigmas)).data, (await sampleHeun(model, z.mul(14), sigmas)).data);
  });
  test('30 steps: Karras main schedule of 21, one restart of 9 Heun steps from σ ≈ 2, one noise draw', async () => {
    const plan = restartPlan(karras(30));
    assert.equal(plan.sigmas.length, 22);
    const list = restartStepList(plan.sigmas, plan.intervals);
    assert.equal(list.length, 30);
    const jump = list.findIndex(([from], k) => k > 0 && from > list[k - 1][1]);
    assert.ok(Math.abs(list[jump][0] - 2) < 0.5 && Math.abs(list[jump - 1][1] - 0.1) < 0.05, `restart ${list[jump - 1][1]} → ${list[jump][0]}`);
    let [calls, draws] = [0, 0];
    const counting: Denoiser = (x, s) => {
      calls++;
      return model(x, s);
    };
    const noise = () => {
      draws++;
      return z;
    };
    await sampleRestart(counting, z.mul(14), karras(30), { noise });
    assert.deepEqual([calls, draws], [59, 1]);
  });
  test('LCM: x ← D(x, σᵢ) + σᵢ₊₁·noise', async () => {
    const sigmas = [10, 2, 0];
    const out = await sampleLcm(model, z.mul(10), sigmas, { noise: () => z });
    const expected = await model((await model(z.mul(10), 10)).add(z.mul(2)), 2);
    assert.deepEqual(out.data, expected.data);
  });
});

/** VP-space ODE solution of the toy between DDPM timesteps tFrom and tTo (ᾱ interpolated for UniPC's ends). */
function vpSolution(x: Tensor, aFrom: number, aTo: number): Tensor {
  const sigma = (a: number) => Math.sqrt((1 - a) / a);
  return toyOdeSolution(mu, x.div(Math.sqrt(aFrom)), sigma(aFrom), sigma(aTo)).mul(Math.sqrt(aTo));
}

describe('timesteps samplers (DDIM, DDIM CFG++, PLMS, UniPC)', () => {
  const eps = unguided(toyEpsModel(mu, ac));
  const error = async (sample: TimestepsSamplerEntry['sample'], steps: number, opts: object = {}) => {
    const timesteps = getTimesteps(steps);
    const out = await sample(eps, z, timesteps, { alphasCumprod: ac, ...opts });
    return maxAbs(out, vpSolution(z, ac[timesteps[timesteps.length - 1]], ac[timesteps[0]]));
  };
  // Time-uniform grids end with one large step in log-SNR, so these stay close to first order on the toy.
  for (const [name, sample, bound] of [
    ['DDIM', sampleDdim, 0.1],
    ['PLMS', samplePlms, 0.02],
  ] as const) {
    test(`${name} converges to the ODE solution from the last to the first timestep`, async () => {
      const [coarse, fine] = [await error(sample, 10), await error(sample, 50)];
      console.log(`# ${name}: max error ${coarse.toExponential(2)} at 10 steps, ${fine.toExponential(2)} at 50`);
      assert.ok(coarse / fine > 3 && fine < bound, `${coarse} → ${fine}`);
    });
  }
  test('UniPC: high order on a log-SNR grid (bh1, bh2; orders 1–3), converges on the default time-uniform one', async () => {
    const target = vpSolution(z, ac[999], ac[0]);
    const at = async (steps: number, opts: UniPcOptions) => maxAbs(await sampleUniPc(eps, z, getTimesteps(steps), opts), target);
    for (const [variant, order, bound] of [
      ['bh1', 3, 3e-4],
      ['bh2', 3, 3e-4],
      ['bh1', 2, 0.01],
      ['bh1', 1, 0.03],
    ] as const) {
      const fine = await at(20, { alphasCumprod: ac, variant, order, skipType: 'logSNR' });
      console.log(`# UniPC ${variant} order ${order}, logSNR: max error ${fine.toExponential(2)} at 20 steps`);
      assert.ok(fine < bound, `${variant}/${order}: ${fine}`);
    }
    const [coarse, fine] = [await at(8, { alphasCumprod: ac }), await at(40, { alphasCumprod: ac })];
    console.log(`# UniPC defaults (bh1, order 3, time_uniform): ${coarse.toExponential(2)} at 8 steps, ${fine.toExponential(2)} at 40`);
    assert.ok(coarse / fine > 4 && fine < 0.05);
  });
  test('DDIM CFG++ renoises along the unconditional eps: equal to DDIM without guidance, else one exact step', async () => {
    const timesteps = getTimesteps(8);
    assert.deepEqual((await sampleDdimCfgpp(eps, z, timesteps, { alphasCumprod: ac })).data, (await sampleDdim(eps, z, timesteps, { alphasCumprod: ac })).data);
    const [e, u] = [z.mul(0.5), z.mul(-0.25).add(0.1)];
    const guided: GuidedEpsModel = async () => ({ eps: e, epsUncond: u });
    const out = await sampleDdimCfgpp(guided, z, [1, 501], { alphasCumprod: ac });
    const [a, aPrev] = [ac[501], ac[1]];
    const expected = z.map((x, k) => Math.sqrt(aPrev) * ((x - Math.sqrt(1 - a) * e.data[k]) / Math.sqrt(a)) + Math.sqrt(1 - aPrev) * u.data[k]);
    assert.ok(maxAbs(out, expected) < 1e-5);
    assert.equal((findSampler('DDIM CFG++') as TimestepsSamplerEntry).cfgScaleMultiplier, 1 / 12.5);
  });
  test('DPM fast and DPM adaptive refuse a zero sigma_min', async () => {
    await assert.rejects(sampleDpmFast(model, z, [10, 0, 0]), InvalidParamsError);
    await assert.rejects(sampleDpmAdaptive(model, z, [10, 0, 0]), InvalidParamsError);
  });
});
