/**
 * The Karras et al. (2022) family and LMS: Euler, Euler ancestral, Heun, DPM2, DPM2 ancestral, linear multistep.
 * Ports crowsonkb/k-diffusion@ab527a9 k_diffusion/sampling.py (MIT), including its `torch.randn_like` draw order.
 */
import { InvalidParamsError } from '../errors.ts';
import type { Tensor } from '../tensor.ts';
import { abortable, addNoise, getAncestralStep, randnLike, toD } from './helpers.ts';
import { quad } from './numeric.ts';
import type { Denoiser, SamplerOptions } from './types.ts';

/**
 * Algorithm 2's churn: sigmaHat = sigma·(1 + γ), x gains noise of std sqrt(sigmaHat² − sigma²) when γ > 0.
 * The eps draw is made every step, as k-diffusion does, even when γ = 0.
 */
function churn(x: Tensor, sigma: number, nSteps: number, opts: SamplerOptions): { x: Tensor; sigmaHat: number } {
  const { sChurn = 0, sTmin = 0, sTmax = Infinity, sNoise = 1, noise } = opts;
  const gamma = sTmin <= sigma && sigma <= sTmax ? Math.min(sChurn / nSteps, Math.SQRT2 - 1) : 0;
  const eps = randnLike(noise);
  const sigmaHat = sigma * (gamma + 1);
  if (gamma > 0) {
    if (!eps) throw new InvalidParamsError('noise', `s_churn ${sChurn} adds noise, so the sampler needs a noise source (opts.noise)`);
    x = x.add(eps.mul(sNoise).mul(Math.sqrt(sigmaHat ** 2 - sigma ** 2)));
  }
  return { x, sigmaHat };
}

/**
 * The start of an Euler / Heun / DPM2 step: the churn (its eps draw first), the model at sigmaHat, the Karras ODE
 * derivative, then the callback, in k-diffusion's order.
 */
async function churnedStep(
  model: Denoiser,
  x: Tensor,
  sigmas: readonly number[],
  i: number,
  opts: SamplerOptions,
): Promise<{ x: Tensor; sigmaHat: number; d: Tensor }> {
  let sigmaHat: number;
  ({ x, sigmaHat } = churn(x, sigmas[i], sigmas.length - 1, opts));
  const denoised = await model(x, sigmaHat);
  const d = toD(x, sigmaHat, denoised);
  opts.callback?.({ x, i, sigma: sigmas[i], sigmaHat, denoised });
  return { x, sigmaHat, d };
}

/** Implements Algorithm 2 (Euler steps) from Karras et al. (2022). (sampling.py sample_euler) */
export async function sampleEuler(model: Denoiser, x: Tensor, sigmas: readonly number[], opts: SamplerOptions = {}): Promise<Tensor> {
  model = abortable(model, opts.signal);
  for (let i = 0; i < sigmas.length - 1; i++) {
    let sigmaHat: number;
    let d: Tensor;
    ({ x, sigmaHat, d } = await churnedStep(model, x, sigmas, i, opts));
    const dt = sigmas[i + 1] - sigmaHat;
    x = x.add(d.mul(dt)); // Euler method
  }
  return x;
}

/** Ancestral sampling with Euler method steps. (sampling.py sample_euler_ancestral) */
export async function sampleEulerAncestral(model: Denoiser, x: Tensor, sigmas: readonly number[], opts: SamplerOptions = {}): Promise<Tensor> {
  const { eta = 1, sNoise = 1, callback } = opts;
  model = abortable(model, opts.signal);
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = await model(x, sigmas[i]);
    const [sigmaDown, sigmaUp] = getAncestralStep(sigmas[i], sigmas[i + 1], eta);
    callback?.({ x, i, sigma: sigmas[i], sigmaHat: sigmas[i], denoised });
    const d = toD(x, sigmas[i], denoised);
    x = x.add(d.mul(sigmaDown - sigmas[i])); // Euler method
    if (sigmas[i + 1] > 0) x = addNoise(x, opts, 'Euler a', sigmas[i], sigmas[i + 1], sNoise, sigmaUp);
  }
  return x;
}

/** Implements Algorithm 2 (Heun steps) from Karras et al. (2022). (sampling.py sample_heun) */
export async function sampleHeun(model: Denoiser, x: Tensor, sigmas: readonly number[], opts: SamplerOptions = {}): Promise<Tensor> {
  model = abortable(model, opts.signal);
  for (let i = 0; i < sigmas.length - 1; i++) {
    let sigmaHat: number;
    let d: Tensor;
    ({ x, sigmaHat, d } = await churnedStep(model, x, sigmas, i, opts));
    const dt = sigmas[i + 1] - sigmaHat;
    if (sigmas[i + 1] === 0) {
      x = x.add(d.mul(dt)); // Euler method
    } else {
      // Heun's method
      const x2 = x.add(d.mul(dt));
      const denoised2 = await model(x2, sigmas[i + 1]);
      const d2 = toD(x2, sigmas[i + 1], denoised2);
      const dPrime = d.add(d2).div(2);
      x = x.add(dPrime.mul(dt));
    }
  }
  return x;
}

/** exp(lerp(log a, log b, 1/2)): the geometric midpoint, with torch.lerp's formula for weight ≥ 0.5. */
function logMidpoint(a: number, b: number): number {
  const la = Math.log(a);
  const lb = Math.log(b);
  return Math.exp(lb - (lb - la) * 0.5);
}

/** A sampler inspired by DPM-Solver-2 and Algorithm 2 from Karras et al. (2022). (sampling.py sample_dpm_2) */
export async function sampleDpm2(model: Denoiser, x: Tensor, sigmas: readonly number[], opts: SamplerOptions = {}): Promise<Tensor> {
  model = abortable(model, opts.signal);
  for (let i = 0; i < sigmas.length - 1; i++) {
    let sigmaHat: number;
    let d: Tensor;
    ({ x, sigmaHat, d } = await churnedStep(model, x, sigmas, i, opts));
    if (sigmas[i + 1] === 0) {
      x = x.add(d.mul(sigmas[i + 1] - sigmaHat)); // Euler method
    } else {
      // DPM-Solver-2
      const sigmaMid = logMidpoint(sigmaHat, sigmas[i + 1]);
      const x2 = x.add(d.mul(sigmaMid - sigmaHat));
      const denoised2 = await model(x2, sigmaMid);
      const d2 = toD(x2, sigmaMid, denoised2);
      x = x.add(d2.mul(sigmas[i + 1] - sigmaHat));
    }
  }
  return x;
}

/** Ancestral sampling with DPM-Solver second-order steps. (sampling.py sample_dpm_2_ancestral) */
export async function sampleDpm2Ancestral(model: Denoiser, x: Tensor, sigmas: readonly number[], opts: SamplerOptions = {}): Promise<Tensor> {
  const { eta = 1, sNoise = 1, callback } = opts;
  model = abortable(model, opts.signal);
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = await model(x, sigmas[i]);
    const [sigmaDown, sigmaUp] = getAncestralStep(sigmas[i], sigmas[i + 1], eta);
    callback?.({ x, i, sigma: sigmas[i], sigmaHat: sigmas[i], denoised });
    const d = toD(x, sigmas[i], denoised);
    if (sigmaDown === 0) {
      x = x.add(d.mul(sigmaDown - sigmas[i])); // Euler method
    } else {
      // DPM-Solver-2
      const sigmaMid = logMidpoint(sigmas[i], sigmaDown);
      const x2 = x.add(d.mul(sigmaMid - sigmas[i]));
      const denoised2 = await model(x2, sigmaMid);
      const d2 = toD(x2, sigmaMid, denoised2);
      x = x.add(d2.mul(sigmaDown - sigmas[i]));
      x = addNoise(x, opts, 'DPM2 a', sigmas[i], sigmas[i + 1], sNoise, sigmaUp);
    }
  }
  return x;
}

/**
 * Coefficient j of the order-`order` Adams–Bashforth step i on the grid t: ∫ from t[i] to t[i+1] of the Lagrange
 * basis polynomial through t[i], …, t[i−order+1]. (sampling.py linear_multistep_coeff, quad with epsrel 1e-4)
 */
export function linearMultistepCoeff(order: number, t: readonly number[], i: number, j: number): number {
  if (order - 1 > i) throw new Error(`Order ${order} too high for step ${i}`);
  const fn = (tau: number) => {
    let prod = 1;
    for (let k = 0; k < order; k++) {
      if (j === k) continue;
      prod *= (tau - t[i - k]) / (t[i - j] - t[i - k]);
    }
    return prod;
  };
  return quad(fn, t[i], t[i + 1], { epsrel: 1e-4 });
}

/** Linear multistep method on the Karras ODE. (sampling.py sample_lms) */
export async function sampleLms(model: Denoiser, x: Tensor, sigmas: readonly number[], opts: SamplerOptions = {}): Promise<Tensor> {
  const { order = 4, callback } = opts;
  model = abortable(model, opts.signal);
  const ds: Tensor[] = [];
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = await model(x, sigmas[i]);
    ds.push(toD(x, sigmas[i], denoised));
    if (ds.length > order) ds.shift();
    callback?.({ x, i, sigma: sigmas[i], sigmaHat: sigmas[i], denoised });
    const curOrder = Math.min(i + 1, order);
    let step = ds[ds.length - 1].mul(linearMultistepCoeff(curOrder, sigmas, i, 0));
    for (let j = 1; j < curOrder; j++) step = step.add(ds[ds.length - 1 - j].mul(linearMultistepCoeff(curOrder, sigmas, i, j)));
    x = x.add(step);
  }
  return x;
}
