/**
 * A1111's timesteps samplers: DDIM (Song et al. 2021, eq. 12), DDIM CFG++ (Chung et al. 2024, arXiv:2406.08070)
 * and PLMS (Liu et al. 2022, PNDM), on integer DDPM timesteps in unscaled x space. The update rules follow
 * CompVis/latent-diffusion ldm/models/diffusion/{ddim,plms}.py (MIT); the loop conventions (timesteps
 * 1, 1 + ⌊T/n⌋, …; n − 1 updates ending at ᾱ[timesteps[0]]; a randn_like draw every DDIM step) are A1111's
 * behaviour as documented in fixtures/samplers/README.md.
 */
import type { Tensor } from '../tensor.ts';
import { abortable, randnLike, requireNoise } from './helpers.ts';
import { f32 } from './numeric.ts';
import type { GuidedEps, GuidedEpsModel, StepInfo, TimestepsOptions } from './types.ts';

/** A1111 `get_timesteps`: clip(arange(0, T, ⌊T/steps⌋) + 1, 0, T − 1), ascending. */
export function getTimesteps(steps: number, numTimesteps = 1000): number[] {
  const stride = Math.floor(numTimesteps / steps);
  if (stride < 1) throw new RangeError(`steps ${steps} exceeds the ${numTimesteps} training timesteps`);
  const out: number[] = [];
  for (let t = 0; t < numTimesteps; t += stride) out.push(Math.min(t + 1, numTimesteps - 1));
  return out;
}

/** The k-diffusion sigma of DDPM timestep t (for progress callbacks). */
function sigmaOfTimestep(alphasCumprod: Float32Array, t: number): number {
  return Math.sqrt((1 - alphasCumprod[t]) / alphasCumprod[t]);
}

/** ᾱ at `index` and at the previous timestep (timesteps[index − 1], or ᾱ[0] at index 0), as A1111 gathers them. */
function alphasAt(alphasCumprod: Float32Array, timesteps: readonly number[], index: number): { aT: number; aPrev: number } {
  return { aT: alphasCumprod[timesteps[index]], aPrev: alphasCumprod[index > 0 ? timesteps[index - 1] : 0] };
}

/** ldm `get_x_prev_and_pred_x0`: pred_x0 = (x − √(1−ᾱ)·ε) / √ᾱ; x_prev = √ᾱ_prev·pred_x0 + √(1−ᾱ_prev−σ²)·εDir. */
function ddimStep(x: Tensor, eps: Tensor, epsDir: Tensor, aT: number, aPrev: number, sigmaT: number): { xPrev: Tensor; predX0: Tensor } {
  const sqrtOneMinusAt = f32(Math.sqrt(f32(1 - aT)));
  const predX0 = x.sub(eps.mul(sqrtOneMinusAt)).div(f32(Math.sqrt(aT)));
  const dirXt = epsDir.mul(f32(Math.sqrt(f32(f32(1 - aPrev) - f32(sigmaT * sigmaT)))));
  return { xPrev: predX0.mul(f32(Math.sqrt(aPrev))).add(dirXt), predX0 };
}

/** The shared DDIM loop; CFG++ points the renoising direction along the unconditional eps. */
async function ddimLoop(model: GuidedEpsModel, x: Tensor, timesteps: readonly number[], opts: TimestepsOptions, cfgpp: boolean): Promise<Tensor> {
  const { alphasCumprod, eta = 0, noise, callback } = opts;
  model = abortable(model, opts.signal);
  for (let i = 0; i < timesteps.length - 1; i++) {
    const index = timesteps.length - 1 - i;
    const out: GuidedEps = await model(x, timesteps[index]);
    const { aT, aPrev } = alphasAt(alphasCumprod, timesteps, index);
    // σ_t = η·sqrt((1 − ᾱ_prev)/(1 − ᾱ_t)·(1 − ᾱ_t/ᾱ_prev)), computed in float64 as A1111 does.
    const sigmaT = f32(eta * Math.sqrt(((1 - aPrev) / (1 - aT)) * (1 - aT / aPrev)));
    const { xPrev, predX0 } = ddimStep(x, out.eps, cfgpp ? out.epsUncond : out.eps, aT, aPrev, sigmaT);
    const z = sigmaT > 0 ? requireNoise(noise, 'DDIM with eta > 0') : randnLike(noise);
    x = z ? xPrev.add(z.mul(sigmaT)) : xPrev;
    const sigma = sigmaOfTimestep(alphasCumprod, timesteps[index]);
    callback?.({ x, i, sigma, sigmaHat: sigma, denoised: predX0 } satisfies StepInfo);
  }
  return x;
}

/** Denoising Diffusion Implicit Models (Song et al. 2021), A1111 `sd_samplers_timesteps_impl.ddim` behaviour. */
export async function sampleDdim(model: GuidedEpsModel, x: Tensor, timesteps: readonly number[], opts: TimestepsOptions): Promise<Tensor> {
  return ddimLoop(model, x, timesteps, opts, false);
}

/**
 * DDIM CFG++ (Chung et al. 2024): pred_x0 from the guided eps, renoised along the unconditional eps. A1111
 * divides the CFG scale by 12.5 for this sampler (registry `cfgScaleMultiplier`).
 */
export async function sampleDdimCfgpp(model: GuidedEpsModel, x: Tensor, timesteps: readonly number[], opts: TimestepsOptions): Promise<Tensor> {
  return ddimLoop(model, x, timesteps, opts, true);
}

/** Pseudo linear multistep combination of the current and previous eps (PNDM eq. 12, Adams–Bashforth 2–4). */
function plmsEps(eT: Tensor, oldEps: readonly Tensor[]): Tensor {
  const [e1, e2, e3] = [oldEps.at(-1)!, oldEps.at(-2)!, oldEps.at(-3)!];
  if (oldEps.length === 1) return eT.mul(3).sub(e1).div(2);
  if (oldEps.length === 2) return eT.mul(23).sub(e1.mul(16)).add(e2.mul(5)).div(12);
  return eT.mul(55).sub(e1.mul(59)).add(e2.mul(37)).sub(e3.mul(9)).div(24);
}

/** Pseudo Linear Multi-Step (Liu et al. 2022); first step is the pseudo improved Euler (2nd order) one. */
export async function samplePlms(model: GuidedEpsModel, x: Tensor, timesteps: readonly number[], opts: TimestepsOptions): Promise<Tensor> {
  const { alphasCumprod, callback } = opts;
  model = abortable(model, opts.signal);
  const oldEps: Tensor[] = [];
  for (let i = 0; i < timesteps.length - 1; i++) {
    const index = timesteps.length - 1 - i;
    const tNext = timesteps[Math.max(index - 1, 0)];
    const { aT, aPrev } = alphasAt(alphasCumprod, timesteps, index);
    const eT = (await model(x, timesteps[index])).eps;
    let ePrime: Tensor;
    if (oldEps.length === 0) {
      // Pseudo improved Euler (2nd order)
      const { xPrev } = ddimStep(x, eT, eT, aT, aPrev, 0);
      const eTNext = (await model(xPrev, tNext)).eps;
      ePrime = eT.add(eTNext).div(2);
    } else {
      ePrime = plmsEps(eT, oldEps); // Pseudo linear multistep (Adams–Bashforth)
    }
    const { xPrev, predX0 } = ddimStep(x, ePrime, ePrime, aT, aPrev, 0);
    oldEps.push(eT);
    if (oldEps.length >= 4) oldEps.shift();
    x = xPrev;
    const sigma = sigmaOfTimestep(alphasCumprod, timesteps[index]);
    callback?.({ x, i, sigma, sigmaHat: sigma, denoised: predX0 });
  }
  return x;
}
