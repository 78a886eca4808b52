/**
 * Small pieces every sampler shares: k-diffusion's `to_d` and `get_ancestral_step`
 * (crowsonkb/k-diffusion@ab527a9 k_diffusion/sampling.py), cancellation before each model call, and the
 * `torch.randn_like` draws that A1111's hijack turns into per-seed noise.
 */
import { CancelledError, InvalidParamsError } from '../errors.ts';
import type { Tensor } from '../tensor.ts';
import { f32 } from './numeric.ts';
import type { NoiseFn, SamplerOptions } from './types.ts';

/** Converts a denoiser output to a Karras ODE derivative. (sampling.py to_d) */
export function toD(x: Tensor, sigma: number, denoised: Tensor): Tensor {
  return x.sub(denoised).div(sigma);
}

/**
 * Calculates the noise level (sigmaDown) to step down to and the amount of noise to add (sigmaUp) when doing an
 * ancestral sampling step. (sampling.py get_ancestral_step)
 * Each operation is rounded to float32 as torch computes it on float32 sigmas: σ_down = sqrt(σ_to² − σ_up²)
 * cancels catastrophically near the end of a schedule (σ_up ≈ σ_to), where float64 would give a σ_down (and the
 * DPM++ 2S a / DPM2 a midpoints derived from it) 2e-5 away from k-diffusion's.
 */
export function getAncestralStep(sigmaFrom: number, sigmaTo: number, eta = 1): [sigmaDown: number, sigmaUp: number] {
  if (!eta) return [sigmaTo, 0];
  const [from2, to2] = [f32(f32(sigmaFrom) * f32(sigmaFrom)), f32(f32(sigmaTo) * f32(sigmaTo))];
  const sigmaUp = Math.min(f32(sigmaTo), f32(f32(eta) * f32(Math.sqrt(f32(f32(to2 * f32(from2 - to2)) / from2)))));
  const sigmaDown = f32(Math.sqrt(f32(to2 - f32(sigmaUp * sigmaUp))));
  return [sigmaDown, sigmaUp];
}

/** Throws the signal's own Error reason, or a CancelledError for a plain `abort()`. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name !== 'AbortError') throw reason;
  throw new CancelledError();
}

/** Wraps `model` so that `signal` is checked before every call. */
export function abortable<M extends (...args: never[]) => Promise<unknown>>(model: M, signal: AbortSignal | undefined): M {
  if (!signal) return model;
  return (async (...args: Parameters<M>) => {
    throwIfAborted(signal);
    return model(...args);
  }) as M;
}

/**
 * One `torch.randn_like(x)` draw. A1111 makes every such call consume the next per-seed draw, even when the
 * value is unused (`sample_euler` with s_churn = 0), so a draw is taken whenever a source is given.
 * Returns null without a source; `need` callers then get an InvalidParamsError.
 */
export function randnLike(noise: NoiseFn | undefined): Tensor | null {
  return noise ? noise() : null;
}

/** A draw that the step really uses. */
export function requireNoise(noise: NoiseFn | undefined, sampler: string): Tensor {
  if (!noise) throw new InvalidParamsError('noise', `${sampler} adds noise, so it needs a noise source (opts.noise); none was given`);
  return noise();
}

/**
 * `x + noise_sampler(σ, σnext)·f₁·f₂…`, the factors applied one tensor op at a time as k-diffusion writes them.
 * The noise comes from `opts.noiseSampler`, else one `opts.noise` draw (k-diffusion's `default_noise_sampler`).
 * k-diffusion draws even when a factor is 0 (eta = 0); without any noise source that zero-weight draw is skipped.
 */
export function addNoise(x: Tensor, opts: SamplerOptions, sampler: string, sigma: number, sigmaNext: number, ...factors: number[]): Tensor {
  if (!opts.noiseSampler && !opts.noise && factors.includes(0)) return x;
  let noise = opts.noiseSampler ? opts.noiseSampler(sigma, sigmaNext) : requireNoise(opts.noise, sampler);
  for (const f of factors) noise = noise.mul(f);
  return x.add(noise);
}
