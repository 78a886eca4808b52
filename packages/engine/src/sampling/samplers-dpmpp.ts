/**
 * DPM-Solver++ samplers (Lu et al. 2022, arXiv:2211.01095): 2S ancestral, SDE, 2M, 2M SDE (midpoint / Heun)
 * and 3M SDE. Ports crowsonkb/k-diffusion@ab527a9 k_diffusion/sampling.py (MIT). Time is t = −log σ.
 * Without `noiseSampler` the SDE samplers draw plain `noise` (k-diffusion's default is a Brownian tree; the pipeline
 * passes one from brownian-tree.ts, and the fixture replays inject the oracle's draws).
 */
import type { Tensor } from '../tensor.ts';
import { abortable, addNoise, getAncestralStep, toD } from './helpers.ts';
import type { Denoiser, SamplerOptions } from './types.ts';

const sigmaFn = (t: number) => Math.exp(-t);
const tFn = (sigma: number) => -Math.log(sigma);

/** Ancestral sampling with DPM-Solver++(2S) second-order steps. (sampling.py sample_dpmpp_2s_ancestral) */
export async function sampleDpmpp2sAncestral(model: Denoiser, x: Tensor, sigmas: readonly number[], opts: SamplerOptions = {}): Promise<Tensor> {
  const { eta = 1, sNoise = 1, callback } = opts;
  model = abortable(model, opts.signal);
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = await model(x, sigmas[i]);
    const [sigmaDown, sigmaUp] = getAncestralStep(sigmas[i], sigmas[i + 1], eta);
    callback?.({ x, i, sigma: sigmas[i], sigmaHat: sigmas[i], denoised });
    if (sigmaDown === 0) {
      const d = toD(x, sigmas[i], denoised);
      x = x.add(d.mul(sigmaDown - sigmas[i])); // Euler method
    } else {
      // DPM-Solver++(2S)
      const t = tFn(sigmas[i]);
      const tNext = tFn(sigmaDown);
      const r = 1 / 2;
      const h = tNext - t;
      const s = t + r * h;
      const x2 = x.mul(sigmaFn(s) / sigmaFn(t)).sub(denoised.mul(Math.expm1(-h * r)));
      const denoised2 = await model(x2, sigmaFn(s));
      x = x.mul(sigmaFn(tNext) / sigmaFn(t)).sub(denoised2.mul(Math.expm1(-h)));
    }
    // Noise addition
    if (sigmas[i + 1] > 0) x = addNoise(x, opts, 'DPM++ 2S a', sigmas[i], sigmas[i + 1], sNoise, sigmaUp);
  }
  return x;
}

/** DPM-Solver++ (stochastic). (sampling.py sample_dpmpp_sde) */
export async function sampleDpmppSde(model: Denoiser, x: Tensor, sigmas: readonly number[], opts: SamplerOptions & { r?: number } = {}): Promise<Tensor> {
  const { eta = 1, sNoise = 1, r = 1 / 2, callback } = opts;
  model = abortable(model, opts.signal);
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = await model(x, sigmas[i]);
    callback?.({ x, i, sigma: sigmas[i], sigmaHat: sigmas[i], denoised });
    if (sigmas[i + 1] === 0) {
      const d = toD(x, sigmas[i], denoised);
      x = x.add(d.mul(sigmas[i + 1] - sigmas[i])); // Euler method
      continue;
    }
    // DPM-Solver++
    const t = tFn(sigmas[i]);
    const tNext = tFn(sigmas[i + 1]);
    const h = tNext - t;
    const s = t + h * r;
    const fac = 1 / (2 * r);
    // Step 1
    let [sd, su] = getAncestralStep(sigmaFn(t), sigmaFn(s), eta);
    const s_ = tFn(sd);
    let x2 = x.mul(sigmaFn(s_) / sigmaFn(t)).sub(denoised.mul(Math.expm1(t - s_)));
    x2 = addNoise(x2, opts, 'DPM++ SDE', sigmaFn(t), sigmaFn(s), sNoise, su);
    const denoised2 = await model(x2, sigmaFn(s));
    // Step 2
    [sd, su] = getAncestralStep(sigmaFn(t), sigmaFn(tNext), eta);
    const tNext_ = tFn(sd);
    const denoisedD = denoised.mul(1 - fac).add(denoised2.mul(fac));
    x = x.mul(sigmaFn(tNext_) / sigmaFn(t)).sub(denoisedD.mul(Math.expm1(t - tNext_)));
    x = addNoise(x, opts, 'DPM++ SDE', sigmaFn(t), sigmaFn(tNext), sNoise, su);
  }
  return x;
}

/** DPM-Solver++(2M). (sampling.py sample_dpmpp_2m) */
export async function sampleDpmpp2m(model: Denoiser, x: Tensor, sigmas: readonly number[], opts: SamplerOptions = {}): Promise<Tensor> {
  model = abortable(model, opts.signal);
  let oldDenoised: Tensor | null = null;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = await model(x, sigmas[i]);
    opts.callback?.({ x, i, sigma: sigmas[i], sigmaHat: sigmas[i], denoised });
    const t = tFn(sigmas[i]);
    const tNext = tFn(sigmas[i + 1]);
    const h = tNext - t;
    let denoisedD = denoised;
    if (oldDenoised !== null && sigmas[i + 1] !== 0) {
      const hLast = t - tFn(sigmas[i - 1]);
      const r = hLast / h;
      denoisedD = denoised.mul(1 + 1 / (2 * r)).sub(oldDenoised.mul(1 / (2 * r)));
    }
    x = x.mul(sigmaFn(tNext) / sigmaFn(t)).sub(denoisedD.mul(Math.expm1(-h)));
    oldDenoised = denoised;
  }
  return x;
}

/** DPM-Solver++(2M) SDE, midpoint or Heun second-order correction. (sampling.py sample_dpmpp_2m_sde) */
export async function sampleDpmpp2mSde(model: Denoiser, x: Tensor, sigmas: readonly number[], opts: SamplerOptions = {}): Promise<Tensor> {
  const { eta = 1, sNoise = 1, solverType = 'midpoint', callback } = opts;
  if (solverType !== 'heun' && solverType !== 'midpoint') throw new Error(`solver_type must be 'heun' or 'midpoint', got '${solverType}'`);
  model = abortable(model, opts.signal);
  let oldDenoised: Tensor | null = null;
  let h = 0;
  let hLast = 0;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = await model(x, sigmas[i]);
    callback?.({ x, i, sigma: sigmas[i], sigmaHat: sigmas[i], denoised });
    if (sigmas[i + 1] === 0) {
      x = denoised; // Denoising step
    } else {
      // DPM-Solver++(2M) SDE
      const t = -Math.log(sigmas[i]);
      const s = -Math.log(sigmas[i + 1]);
      h = s - t;
      const etaH = eta * h;
      const phi1 = -Math.expm1(-h - etaH);
      x = x.mul((sigmas[i + 1] / sigmas[i]) * Math.exp(-etaH)).add(denoised.mul(phi1));
      if (oldDenoised !== null) {
        const r = hLast / h;
        const coeff = solverType === 'heun' ? (phi1 / (-h - etaH) + 1) * (1 / r) : 0.5 * phi1 * (1 / r);
        x = x.add(denoised.sub(oldDenoised).mul(coeff));
      }
      if (eta) x = addNoise(x, opts, 'DPM++ 2M SDE', sigmas[i], sigmas[i + 1], sigmas[i + 1], Math.sqrt(-Math.expm1(-2 * etaH)), sNoise);
    }
    oldDenoised = denoised;
    hLast = h;
  }
  return x;
}

/** DPM-Solver++(3M) SDE. (sampling.py sample_dpmpp_3m_sde) */
export async function sampleDpmpp3mSde(model: Denoiser, x: Tensor, sigmas: readonly number[], opts: SamplerOptions = {}): Promise<Tensor> {
  const { eta = 1, sNoise = 1, callback } = opts;
  model = abortable(model, opts.signal);
  let denoised1: Tensor | null = null;
  let denoised2: Tensor | null = null;
  let h = 0;
  let h1: number | null = null;
  let h2: number | null = null;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = await model(x, sigmas[i]);
    callback?.({ x, i, sigma: sigmas[i], sigmaHat: sigmas[i], denoised });
    if (sigmas[i + 1] === 0) {
      x = denoised; // Denoising step
    } else {
      h = -Math.log(sigmas[i + 1]) + Math.log(sigmas[i]);
      const hEta = h * (eta + 1);
      x = x.mul(Math.exp(-hEta)).add(denoised.mul(-Math.expm1(-hEta)));
      const phi2 = Math.expm1(-hEta) / hEta + 1;
      if (h2 !== null && h1 !== null && denoised1 && denoised2) {
        const r0 = h1 / h;
        const r1 = h2 / h;
        const d10 = denoised.sub(denoised1).div(r0);
        const d11 = denoised1.sub(denoised2).div(r1);
        const d1 = d10.add(d10.sub(d11).mul(r0 / (r0 + r1)));
        const d2 = d10.sub(d11).div(r0 + r1);
        const phi3 = phi2 / hEta - 0.5;
        x = x.add(d1.mul(phi2)).sub(d2.mul(phi3));
      } else if (h1 !== null && denoised1) {
        const r = h1 / h;
        x = x.add(denoised.sub(denoised1).div(r).mul(phi2));
      }
      if (eta) x = addNoise(x, opts, 'DPM++ 3M SDE', sigmas[i], sigmas[i + 1], sigmas[i + 1], Math.sqrt(-Math.expm1(-2 * h * eta)), sNoise);
    }
    [denoised1, denoised2] = [denoised, denoised1];
    [h1, h2] = [h, h1];
  }
  return x;
}
