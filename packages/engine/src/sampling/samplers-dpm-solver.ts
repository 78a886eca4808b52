/**
 * DPM-Solver (Lu et al. 2022, arXiv:2206.00927) with fixed (DPM fast) and adaptive (DPM adaptive) step sizes, in
 * eps space with t = −log σ. Ports crowsonkb/k-diffusion@ab527a9 k_diffusion/sampling.py (MIT): DPMSolver,
 * PIDStepSizeController, sample_dpm_fast, sample_dpm_adaptive. Under the shared sampler signature the range is
 * taken as A1111 does: sigmaMax = sigmas[0], sigmaMin = sigmas[len − 2] (the last non-zero), n = len − 1.
 */
import { InvalidParamsError } from '../errors.ts';
import type { Tensor } from '../tensor.ts';
import { abortable, addNoise, getAncestralStep } from './helpers.ts';
import { linspaceF64 } from './numeric.ts';
import type { Denoiser, SamplerOptions } from './types.ts';

const sigmaOf = (t: number) => Math.exp(-t);
const tOf = (sigma: number) => -Math.log(sigma);

type EpsCache = Map<string, Tensor>;

/** DPMSolver.eps: (x − D(x, σ(t))) / σ(t), memoised per step under `key`. */
async function eps(model: Denoiser, cache: EpsCache, key: string, x: Tensor, t: number): Promise<Tensor> {
  const hit = cache.get(key);
  if (hit) return hit;
  const value = x.sub(await model(x, sigmaOf(t))).div(sigmaOf(t));
  cache.set(key, value);
  return value;
}

/** DPM-Solver-1 (DDIM) step from t to tNext. */
async function dpmSolver1Step(model: Denoiser, cache: EpsCache, x: Tensor, t: number, tNext: number): Promise<Tensor> {
  const h = tNext - t;
  const e = await eps(model, cache, 'eps', x, t);
  return x.sub(e.mul(sigmaOf(tNext) * Math.expm1(h)));
}

/** DPM-Solver-2 step with intermediate point r1. */
async function dpmSolver2Step(model: Denoiser, cache: EpsCache, x: Tensor, t: number, tNext: number, r1 = 1 / 2): Promise<Tensor> {
  const h = tNext - t;
  const e = await eps(model, cache, 'eps', x, t);
  const s1 = t + r1 * h;
  const u1 = x.sub(e.mul(sigmaOf(s1) * Math.expm1(r1 * h)));
  const eR1 = await eps(model, cache, 'eps_r1', u1, s1);
  return x.sub(e.mul(sigmaOf(tNext) * Math.expm1(h))).sub(eR1.sub(e).mul((sigmaOf(tNext) / (2 * r1)) * Math.expm1(h)));
}

/** DPM-Solver-3 step with intermediate points r1, r2. */
async function dpmSolver3Step(model: Denoiser, cache: EpsCache, x: Tensor, t: number, tNext: number, r1 = 1 / 3, r2 = 2 / 3): Promise<Tensor> {
  const h = tNext - t;
  const e = await eps(model, cache, 'eps', x, t);
  const s1 = t + r1 * h;
  const s2 = t + r2 * h;
  const u1 = x.sub(e.mul(sigmaOf(s1) * Math.expm1(r1 * h)));
  const eR1 = await eps(model, cache, 'eps_r1', u1, s1);
  const u2 = x.sub(e.mul(sigmaOf(s2) * Math.expm1(r2 * h))).sub(eR1.sub(e).mul(sigmaOf(s2) * (r2 / r1) * (Math.expm1(r2 * h) / (r2 * h) - 1)));
  const eR2 = await eps(model, cache, 'eps_r2', u2, s2);
  return x.sub(e.mul(sigmaOf(tNext) * Math.expm1(h))).sub(eR2.sub(e).mul((sigmaOf(tNext) / r2) * (Math.expm1(h) / h - 1)));
}

/** With eta > 0: the deterministic target tNext_ (never past tEnd) and the noise std su that makes up the rest. */
function ancestralTarget(t: number, tNext: number, tEnd: number, eta: number): { tNext_: number; su: number } {
  if (!eta) return { tNext_: tNext, su: 0 };
  const [sd] = getAncestralStep(sigmaOf(t), sigmaOf(tNext), eta);
  const tNext_ = Math.min(tEnd, tOf(sd));
  return { tNext_, su: Math.sqrt(sigmaOf(tNext) ** 2 - sigmaOf(tNext_) ** 2) };
}

/** The range A1111 passes to DPM fast / adaptive: sigmas[0] down to the last non-zero sigma. */
function sigmaRange(sigmas: readonly number[]): { sigmaMin: number; sigmaMax: number; n: number } {
  const sigmaMin = sigmas[sigmas.length - 2];
  const sigmaMax = sigmas[0];
  if (!(sigmaMin > 0) || !(sigmaMax > 0))
    throw new InvalidParamsError('sigmas', `DPM fast/adaptive need sigma_min and sigma_max > 0, got ${sigmaMin} and ${sigmaMax}`);
  return { sigmaMin, sigmaMax, n: sigmas.length - 1 };
}

/** DPM-Solver-Fast (fixed step size). (sampling.py sample_dpm_fast / DPMSolver.dpm_solver_fast) */
export async function sampleDpmFast(model: Denoiser, x: Tensor, sigmas: readonly number[], opts: SamplerOptions = {}): Promise<Tensor> {
  const { eta = 0, callback } = opts;
  const { sigmaMin, sigmaMax, n: nfe } = sigmaRange(sigmas);
  model = abortable(model, opts.signal);
  const tStart = tOf(sigmaMax);
  const tEnd = tOf(sigmaMin);
  const m = Math.floor(nfe / 3) + 1;
  const ts = linspaceF64(tStart, tEnd, m + 1);
  const orders = nfe % 3 === 0 ? [...new Array<number>(m - 2).fill(3), 2, 1] : [...new Array<number>(m - 1).fill(3), nfe % 3];
  for (let i = 0; i < orders.length; i++) {
    const cache: EpsCache = new Map();
    const [t, tNext] = [ts[i], ts[i + 1]];
    const { tNext_, su } = ancestralTarget(t, tNext, tEnd, eta);
    const e = await eps(model, cache, 'eps', x, t);
    callback?.({ x, i, sigma: sigmaOf(ts[i]), sigmaHat: sigmaOf(t), denoised: x.sub(e.mul(sigmaOf(t))) });
    if (orders[i] === 1) x = await dpmSolver1Step(model, cache, x, t, tNext_);
    else if (orders[i] === 2) x = await dpmSolver2Step(model, cache, x, t, tNext_);
    else x = await dpmSolver3Step(model, cache, x, t, tNext_);
    x = addNoise(x, opts, 'DPM fast', sigmaOf(t), sigmaOf(tNext), su * (opts.sNoise ?? 1));
  }
  return x;
}

/** A PID controller for ODE adaptive step size control. (sampling.py PIDStepSizeController) */
export function pidStepSizeController(h: number, pcoeff: number, icoeff: number, dcoeff: number, order = 1, acceptSafety = 0.81, epsilon = 1e-8) {
  const b1 = (pcoeff + icoeff + dcoeff) / order;
  const b2 = -(pcoeff + 2 * dcoeff) / order;
  const b3 = dcoeff / order;
  const errs: number[] = [];
  const limiter = (v: number) => 1 + Math.atan(v - 1);
  return {
    get h() {
      return h;
    },
    /** Updates h from the scaled error; returns whether the step is accepted. */
    proposeStep(error: number): boolean {
      const invError = 1 / (error + epsilon);
      if (errs.length === 0) errs.push(invError, invError, invError);
      errs[0] = invError;
      const factor = limiter(errs[0] ** b1 * errs[1] ** b2 * errs[2] ** b3);
      const accept = factor >= acceptSafety;
      if (accept) [errs[2], errs[1]] = [errs[1], errs[0]];
      h *= factor;
      return accept;
    },
  };
}

export interface AdaptiveOptions extends SamplerOptions {
  rtol?: number;
  atol?: number;
  hInit?: number;
  pcoeff?: number;
  icoeff?: number;
  dcoeff?: number;
  acceptSafety?: number;
}

/** RMS of (xLow − xHigh) / max(atol, rtol·max(|xLow|, |xPrev|)): the embedded error estimate. */
function scaledError(xLow: Tensor, xHigh: Tensor, xPrev: Tensor, atol: number, rtol: number): number {
  let sum = 0;
  for (let k = 0; k < xLow.data.length; k++) {
    const delta = Math.max(atol, rtol * Math.max(Math.abs(xLow.data[k]), Math.abs(xPrev.data[k])));
    sum += ((xLow.data[k] - xHigh.data[k]) / delta) ** 2;
  }
  return Math.sqrt(sum) / Math.sqrt(xLow.data.length);
}

/** DPM-Solver-12 and 23 (adaptive step size). (sampling.py sample_dpm_adaptive / DPMSolver.dpm_solver_adaptive) */
export async function sampleDpmAdaptive(model: Denoiser, x: Tensor, sigmas: readonly number[], opts: AdaptiveOptions = {}): Promise<Tensor> {
  const { order = 3, rtol = 0.05, atol = 0.0078, hInit = 0.05, pcoeff = 0, icoeff = 1, dcoeff = 0, acceptSafety = 0.81, eta = 0 } = opts;
  if (order !== 2 && order !== 3) throw new InvalidParamsError('order', `DPM adaptive order should be 2 or 3, got ${order}`);
  const { sigmaMin, sigmaMax } = sigmaRange(sigmas);
  model = abortable(model, opts.signal);
  const tEnd = tOf(sigmaMin);
  let s = tOf(sigmaMax);
  let xPrev = x;
  const pid = pidStepSizeController(Math.abs(hInit), pcoeff, icoeff, dcoeff, eta ? 1.5 : order, acceptSafety);
  for (let steps = 0; s < tEnd - 1e-5; steps++) {
    const cache: EpsCache = new Map();
    const t = Math.min(tEnd, s + pid.h);
    const { tNext_, su } = ancestralTarget(s, t, tEnd, eta);
    const e = await eps(model, cache, 'eps', x, s);
    const denoised = x.sub(e.mul(sigmaOf(s)));
    const xLow = order === 2 ? await dpmSolver1Step(model, cache, x, s, tNext_) : await dpmSolver2Step(model, cache, x, s, tNext_, 1 / 3);
    const xHigh = order === 2 ? await dpmSolver2Step(model, cache, x, s, tNext_) : await dpmSolver3Step(model, cache, x, s, tNext_);
    if (pid.proposeStep(scaledError(xLow, xHigh, xPrev, atol, rtol))) {
      xPrev = xLow;
      x = addNoise(xHigh, opts, 'DPM adaptive', sigmaOf(s), sigmaOf(t), su * (opts.sNoise ?? 1));
      s = t;
    }
    opts.callback?.({ x, i: steps, sigma: sigmaOf(s), sigmaHat: sigmaOf(s), denoised });
  }
  return x;
}
