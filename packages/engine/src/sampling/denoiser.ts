/**
 * Turns a UNet call into the models the samplers see: k-diffusion's `CompVisDenoiser` / `CompVisVDenoiser`
 * (c_in, c_out, c_skip and sigma → t; crowsonkb/k-diffusion@ab527a9 k_diffusion/external.py), classifier-free
 * guidance in A1111's `CFGDenoiser` shape (one batched call, cond rows first, combined on the denoised
 * prediction), and the eps models of A1111's timesteps samplers (DDIM, PLMS, UniPC). The UNet itself stays
 * abstract: a function with its conditioning already bound.
 */
import { Tensor } from '../tensor.ts';
import type { DiscreteSchedule, LcmSchedule } from './discrete-schedule.ts';
import { f32 } from './numeric.ts';
import type { Denoiser, EpsModel, GuidedEps, GuidedEpsModel } from './types.ts';

/**
 * The UNet with its conditioning bound: `xIn` [B, C, H, W] at (fractional) timesteps `t` (length B) → model
 * output (eps or v). For CFG the caller binds the context as [cond rows; uncond rows].
 */
export type UNetFn = (xIn: Tensor, t: readonly number[]) => Promise<Tensor>;

export type Prediction = 'eps' | 'v';

/** k-diffusion scalings at `sigma` (σ_data = 1), each op in float32 as torch does on a float32 sigma. */
export function getScalings(sigma: number, prediction: Prediction): { cSkip: number; cOut: number; cIn: number } {
  const s = f32(sigma);
  const norm = f32(Math.sqrt(f32(f32(s * s) + 1)));
  const cIn = f32(1 / norm);
  if (prediction === 'eps') return { cSkip: 1, cOut: -s, cIn };
  return { cSkip: f32(1 / f32(f32(s * s) + 1)), cOut: f32(-s / norm), cIn };
}

/**
 * `CompVisDenoiser` (eps) / `CompVisVDenoiser` (v) with quantize=False:
 * `denoised = x·c_skip + UNet(x·c_in, sigma_to_t(σ))·c_out`.
 */
export function compVisDenoiser(unet: UNetFn, schedule: DiscreteSchedule, prediction: Prediction = 'eps'): Denoiser {
  return async (x, sigma) => {
    const { cSkip, cOut, cIn } = getScalings(sigma, prediction);
    const t = schedule.sigmaToT(sigma);
    const out = await unet(x.mul(cIn), new Array<number>(x.shape[0]).fill(t));
    const scaled = out.mul(cOut);
    return prediction === 'eps' ? x.add(scaled) : scaled.add(x.mul(cSkip));
  };
}

/**
 * A1111's LCM denoiser: the CompVis eps (or v) denoiser on LCM's 50-timestep schedule, then the consistency
 * boundary condition of Luo et al. (2023) with σ_data = 0.5 and timestep scaling 10 (as diffusers' LCMScheduler):
 * `c_skip·x + c_out·denoised`, c_skip = σ_d²/((10t)² + σ_d²), c_out = 10t/sqrt((10t)² + σ_d²).
 */
export function lcmDenoiser(unet: UNetFn, schedule: LcmSchedule, prediction: Prediction = 'eps'): Denoiser {
  const inner = compVisDenoiser(unet, schedule, prediction);
  return async (x, sigma) => {
    const denoised = await inner(x, sigma);
    const scaled = schedule.sigmaToT(sigma) * 10;
    const cSkip = 0.25 / (scaled ** 2 + 0.25);
    const cOut = scaled / Math.sqrt(scaled ** 2 + 0.25);
    return denoised.mul(cOut).add(x.mul(cSkip));
  };
}

/** Rows [0, n) and [n, 2n) of a [2n, …] batch. */
function splitHalves(out: Tensor, n: number): [Tensor, Tensor] {
  const rows = out.shape[0];
  if (rows !== 2 * n) throw new Error(`CFG: model returned ${rows} rows for a batch of ${n} (expected ${2 * n})`);
  const half = out.data.length / 2;
  const shape = [n, ...out.shape.slice(1)];
  return [new Tensor(shape, out.data.subarray(0, half)), new Tensor(shape, out.data.subarray(half))];
}

/** A1111 `combine_denoised` with one prompt per image: uncond + (cond − uncond)·scale. */
export function combineCfg(cond: Tensor, uncond: Tensor, cfgScale: number): Tensor {
  return uncond.add(cond.sub(uncond).mul(f32(cfgScale)));
}

/**
 * A1111 `CFGDenoiser`: calls `inner` once on [x; x] (the UNet context must be bound as [cond; uncond]) and
 * combines on the denoised prediction.
 */
export function cfgDenoiser(inner: Denoiser, cfgScale: number): Denoiser {
  return async (x, sigma) => {
    const [cond, uncond] = splitHalves(await inner(Tensor.cat([x, x]), sigma), x.shape[0]);
    return combineCfg(cond, uncond, cfgScale);
  };
}

/** Optional precomputed ldm buffers; by default sqrt(ᾱ) and sqrt(1 − ᾱ) in float32 from `alphasCumprod`. */
export interface TimestepsBuffers {
  sqrtAlphasCumprod?: Float32Array;
  sqrtOneMinusAlphasCumprod?: Float32Array;
}

/**
 * A1111 `CompVisTimestepsDenoiser` (eps: the UNet output) / `CompVisTimestepsVDenoiser` (v → eps with
 * `eps = sqrt(ᾱ_t)·v + sqrt(1 − ᾱ_t)·x`, ldm `predict_eps_from_z_and_v`); t is the integer timestep.
 */
export function compVisTimestepsModel(unet: UNetFn, alphasCumprod: Float32Array, prediction: Prediction = 'eps', buffers: TimestepsBuffers = {}): EpsModel {
  const sqrtAc = buffers.sqrtAlphasCumprod ?? alphasCumprod.map((a) => Math.sqrt(a));
  const sqrtOneMinusAc = buffers.sqrtOneMinusAlphasCumprod ?? alphasCumprod.map((a) => Math.sqrt(f32(1 - a)));
  return async (x, t) => {
    const out = await unet(x, new Array<number>(x.shape[0]).fill(t));
    if (prediction === 'eps') return out;
    const ti = Math.trunc(t); // A1111 indexes the buffers with the timestep cast to integer (UniPC's are fractional)
    return out.mul(sqrtAc[ti]).add(x.mul(sqrtOneMinusAc[ti]));
  };
}

/** A1111 `CFGDenoiserTimesteps`: one call on [x; x], guidance applied to eps; keeps the uncond eps for CFG++. */
export function cfgEpsModel(inner: EpsModel, cfgScale: number): GuidedEpsModel {
  return async (x, t): Promise<GuidedEps> => {
    const [cond, uncond] = splitHalves(await inner(Tensor.cat([x, x]), t), x.shape[0]);
    return { eps: combineCfg(cond, uncond, cfgScale), epsUncond: uncond };
  };
}

/** The guided eps alone (for DDIM, PLMS, UniPC). */
export function guidedEpsOnly(model: GuidedEpsModel): EpsModel {
  return async (x, t) => (await model(x, t)).eps;
}

/** A model without guidance as a `GuidedEpsModel` (its eps is also the "uncond" eps). */
export function unguidedEpsModel(model: EpsModel): GuidedEpsModel {
  return async (x, t) => {
    const eps = await model(x, t);
    return { eps, epsUncond: eps };
  };
}
