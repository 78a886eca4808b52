/**
 * Sigma schedules against fixtures/samplers `common.schedules.*` (k-diffusion get_sigmas_* and
 * CompVisDenoiser.get_sigmas, float32), plus the A1111 schedulers that have no fixture, checked against their
 * defining formulas and A1111's documented quirks.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { alphasCumprodLinear, DiscreteSchedule } from '../src/sampling/discrete-schedule.ts';
import { betainc, betaPpf, lgamma, quad } from '../src/sampling/numeric.ts';
import { linearMultistepCoeff } from '../src/sampling/samplers-karras.ts';
import {
  AYS_SIGMAS,
  discardNextToLastSigma,
  getSigmasAlignYourSteps,
  getSigmasBeta,
  getSigmasDdim,
  getSigmasExponential,
  getSigmasKarras,
  getSigmasKlOptimal,
  getSigmasNormal,
  getSigmasPolyexponential,
  getSigmasSgmUniform,
  getSigmasSimple,
  getSigmasVp,
  loglinearInterp,
} from '../src/sampling/schedules.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { needFixture, openFixture } from './helpers/fixtures.ts';

const model = DiscreteSchedule.fromAlphasCumprod(alphasCumprodLinear());
const [sigmaMin, sigmaMax] = [model.sigmaMin, model.sigmaMax];

describe('schedules vs common.schedules.* (fixtures/samplers/toy.safetensors)', { skip: needFixture('samplers', 'toy.safetensors') }, () => {
  let schedule: DiscreteSchedule;
  let read: (key: string) => Float32Array;
  before(() => {
    const file = openFixture('samplers', 'toy.safetensors');
    read = (key) => file.readFloat32(key);
    schedule = DiscreteSchedule.fromAlphasCumprod(read('common.alphas_cumprod'));
  });
  for (const n of [4, 5, 10, 11]) {
    test(`n = ${n}`, () => {
      const [min, max] = [schedule.sigmaMin, schedule.sigmaMax];
      // Within 1–2 float32 ulps: torch evaluates log/exp vectorised with SLEEF (≤ 1 ulp) and its vectorised
      // linspace can round a ramp entry the other way; ρ = 7 multiplies such a 1-ulp ramp difference by 7.
      assertCloseTensor(schedule.getSigmas(n), read(`common.schedules.uniform.${n}`), { rtol: 3e-7, atol: 0, label: `uniform ${n}` });
      assertCloseTensor(getSigmasKarras(n, min, max), read(`common.schedules.karras.${n}`), { rtol: 1e-6, atol: 0, label: `karras ${n}` });
      assertCloseTensor(getSigmasExponential(n, min, max), read(`common.schedules.exponential.${n}`), { rtol: 3e-7, atol: 0, label: `exponential ${n}` });
    });
  }
});

describe('k-diffusion schedules (formulas)', () => {
  test('karras / exponential / polyexponential end points, monotone, trailing 0', () => {
    for (const sigmas of [
      getSigmasKarras(12, sigmaMin, sigmaMax, 5),
      getSigmasExponential(12, sigmaMin, sigmaMax),
      getSigmasPolyexponential(12, sigmaMin, sigmaMax, 2),
    ]) {
      assert.equal(sigmas.length, 13);
      assert.ok(Math.abs(sigmas[0] - sigmaMax) < 1e-5 && Math.abs(sigmas[11] - sigmaMin) < 1e-6, `${sigmas[0]} … ${sigmas[11]}`);
      assert.equal(sigmas[12], 0);
      for (let i = 0; i < 12; i++) assert.ok(sigmas[i] > sigmas[i + 1]);
    }
  });
  test('polyexponential with rho 1 is the exponential schedule', () => {
    assertCloseTensor(getSigmasPolyexponential(9, sigmaMin, sigmaMax, 1), getSigmasExponential(9, sigmaMin, sigmaMax), {
      rtol: 1e-6,
      atol: 0,
      label: 'polyexp rho 1',
    });
  });
  test('karras rho: (σᵢ^(1/ρ)) is linear in i', () => {
    const s = getSigmasKarras(6, 0.1, 10, 3)
      .slice(0, -1)
      .map((v) => v ** (1 / 3));
    for (let i = 1; i < 5; i++) assert.ok(Math.abs(s[i + 1] - 2 * s[i] + s[i - 1]) < 1e-5);
  });
  test('vp: σ(t) = sqrt(exp(β_d t²/2 + β_min t) − 1)', () => {
    const sigmas = getSigmasVp(3);
    assert.ok(Math.abs(sigmas[0] - Math.sqrt(Math.exp(19.9 / 2 + 0.1) - 1)) < 1e-3);
    assert.equal(sigmas[3], 0);
  });
  test('discard_next_to_last_sigma drops the penultimate value only', () => {
    assert.deepEqual(discardNextToLastSigma([5, 4, 3, 2, 0]), [5, 4, 3, 0]);
  });
});

describe('A1111 schedulers without fixture', () => {
  test('Normal = Uniform when the range is the model range; SGM Uniform drops the last of n + 1', () => {
    assert.deepEqual(getSigmasNormal(10, sigmaMin, sigmaMax, model), model.getSigmas(10));
    const sgm = getSigmasSgmUniform(4, sigmaMin, sigmaMax, model);
    assert.deepEqual(sgm, [model.tToSigma(999), model.tToSigma(749.25), model.tToSigma(499.5), model.tToSigma(249.75), 0]);
  });
  test('Simple takes every (T/n)-th table sigma from the top', () => {
    assert.deepEqual(getSigmasSimple(4, model), [model.sigmas[999], model.sigmas[749], model.sigmas[499], model.sigmas[249], 0]);
    assert.deepEqual(getSigmasSimple(3, model), [model.sigmas[999], model.sigmas[666], model.sigmas[333], 0]);
  });
  test('DDIM: table sigmas at 1 + k·⌊T/n⌋, descending; n = 7 yields 8 steps as in A1111', () => {
    assert.deepEqual(getSigmasDdim(4, model), [model.sigmas[751], model.sigmas[501], model.sigmas[251], model.sigmas[1], 0]);
    assert.equal(getSigmasDdim(7, model).length, 9);
  });
  test('KL Optimal: tan of a linear ramp in atan σ, n + 1 values from σmax to σmin (no trailing 0)', () => {
    const s = getSigmasKlOptimal(4, sigmaMin, sigmaMax);
    assert.equal(s.length, 5);
    assert.ok(Math.abs(s[0] - sigmaMax) < 1e-5 && Math.abs(s[4] - sigmaMin) < 1e-7);
    assert.ok(Math.abs(s[2] - Math.tan((Math.atan(sigmaMin) + Math.atan(sigmaMax)) / 2)) < 1e-5);
  });
  test('Align Your Steps: the 10-step table for n = 11 points, log-linear resampling otherwise', () => {
    assert.deepEqual(getSigmasAlignYourSteps(11, 'sdxl'), [...AYS_SIGMAS.sdxl, 0].map(Math.fround));
    const s = getSigmasAlignYourSteps(5, 'sd15');
    assert.equal(s.length, 6);
    assert.ok(Math.abs(s[0] - 14.615) < 1e-5 && Math.abs(s[4] - 0.029) < 1e-7 && s[5] === 0);
    // The midpoint of 5 points sits halfway through the 11-point table: log σ = mean of entries 5 and 5.
    assert.ok(Math.abs(s[2] - AYS_SIGMAS.sd15[5]) < 1e-5, `${s[2]}`);
    assertCloseTensor(loglinearInterp(AYS_SIGMAS.sd15, 11), AYS_SIGMAS.sd15, { rtol: 1e-12, atol: 0, label: 'AYS identity resample' });
    const three = loglinearInterp([8, 2, 0.5], 5);
    assertCloseTensor(three, [8, 4, 2, 1, 0.5], { rtol: 1e-12, atol: 0, label: 'log-linear' });
  });
  test('Beta: σmin + ppf(1 − i/(n−1); α, β)·(σmax − σmin), symmetric for α = β', () => {
    const s = getSigmasBeta(7, sigmaMin, sigmaMax);
    assert.ok(Math.abs(s[0] - sigmaMax) < 1e-5 && Math.abs(s[6] - sigmaMin) < 1e-7 && s[7] === 0);
    for (let i = 0; i < 7; i++) assert.ok(Math.abs(s[i] + s[6 - i] - sigmaMin - sigmaMax) < 1e-5);
    const third = sigmaMin + betaPpf(2 / 3, 0.6, 0.6) * (sigmaMax - sigmaMin);
    assert.ok(Math.abs(s[2] - third) < 1e-5);
  });
});

describe('numerics', () => {
  test('incomplete beta and its inverse', () => {
    assert.ok(Math.abs(lgamma(5) - Math.log(24)) < 1e-13);
    assert.ok(Math.abs(lgamma(0.5) - 0.5 * Math.log(Math.PI)) < 1e-13);
    assert.ok(Math.abs(betainc(0.3, 1, 1) - 0.3) < 1e-14);
    assert.ok(Math.abs(betainc(0.3, 2, 1) - 0.09) < 1e-14);
    // I_x(½, ½) = (2/π)·asin(√x)
    for (const x of [0.01, 0.3, 0.77, 0.999]) assert.ok(Math.abs(betainc(x, 0.5, 0.5) - (2 / Math.PI) * Math.asin(Math.sqrt(x))) < 1e-12);
    for (const p of [0.001, 0.2, 0.5, 0.9]) {
      const x = betaPpf(p, 0.6, 0.6);
      assert.ok(Math.abs(betainc(x, 0.6, 0.6) - p) < 1e-12, `ppf(${p}) = ${x}`);
      assert.ok(Math.abs(x + betaPpf(1 - p, 0.6, 0.6) - 1) < 1e-12);
    }
  });
  test('quad integrates smooth functions to its tolerance', () => {
    assert.ok(Math.abs(quad(Math.sin, 0, Math.PI) - 2) < 1e-12);
    assert.ok(Math.abs(quad(Math.exp, 0, 1) - (Math.E - 1)) < 1e-12);
    assert.ok(Math.abs(quad((x) => 1 / Math.sqrt(x), 1e-8, 1, { epsrel: 1e-8 }) - (2 - 2e-4)) < 1e-7);
  });
  test('LMS coefficients equal the exact integrals of the Lagrange basis polynomials', () => {
    const t = [14.6, 9.1, 5.3, 2.8, 1.2, 0];
    // Order 2 at step 1: basis through t1 (j = 0) and t0 (j = 1) integrated over [t1, t2].
    const [a, b] = [t[1], t[2]];
    const exact0 = ((b - a) * ((b + a) / 2 - t[0])) / (t[1] - t[0]);
    const exact1 = ((b - a) * ((b + a) / 2 - t[1])) / (t[0] - t[1]);
    assert.ok(Math.abs(linearMultistepCoeff(2, t, 1, 0) - exact0) < 1e-12);
    assert.ok(Math.abs(linearMultistepCoeff(2, t, 1, 1) - exact1) < 1e-12);
    // Any order: the coefficients integrate the constant 1, so they sum to the step length.
    const sum = [0, 1, 2, 3].reduce((s, j) => s + linearMultistepCoeff(4, t, 4, j), 0);
    assert.ok(Math.abs(sum - (t[5] - t[4])) < 1e-12);
    assert.throws(() => linearMultistepCoeff(3, t, 1, 0), /Order 3 too high for step 1/);
  });
});
