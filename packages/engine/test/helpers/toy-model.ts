/**
 * The analytic toy denoiser of fixtures/samplers (README "Denoisers"): data ~ N(mu, s2) per element, so
 * D(x, σ) = (s2·x + σ²·mu)/(s2 + σ²) is the exact x0 posterior mean and the probability-flow ODE has the
 * closed form x(σ) = mu + (x(σ₀) − mu)·sqrt((s2 + σ²)/(s2 + σ₀²)). Also its eps form for the timesteps samplers
 * and a seeded Gaussian source for tests that must not depend on ../shared.
 */

import { f32 } from '../../src/sampling/numeric.ts';
import type { Denoiser, EpsModel, GuidedEpsModel } from '../../src/sampling/types.ts';
import { Tensor } from '../../src/tensor.ts';

export const TOY_SHAPE = [1, 4, 8, 8] as const;

/** mu[0, c, h, w] = 0.5·sin(c + 0.3h + 0.7w), as the fixture generator defines it. */
export function toyMu(): Tensor {
  const mu = new Tensor(TOY_SHAPE);
  for (let c = 0; c < 4; c++) for (let h = 0; h < 8; h++) for (let w = 0; w < 8; w++) mu.data[c * 64 + h * 8 + w] = 0.5 * Math.sin(c + 0.3 * h + 0.7 * w);
  return mu;
}

/** D(x, σ) = (s2·x + σ²·mu)/(s2 + σ²), float32 ops. */
export function toyDenoiser(mu: Tensor, s2 = 0.25): Denoiser {
  return async (x, sigma) => {
    const s = f32(sigma);
    const sig2 = f32(s * s);
    return x
      .mul(s2)
      .add(mu.mul(sig2))
      .div(f32(s2 + sig2));
  };
}

/** The eps form A1111's timesteps samplers see: a = ᾱ[t], σ = sqrt((1−a)/a), xs = x/√a, eps = (xs − D(xs, σ))/σ. */
export function toyEpsModel(mu: Tensor, alphasCumprod: Float32Array, s2 = 0.25): EpsModel {
  const denoise = toyDenoiser(mu, s2);
  return async (x, t) => {
    const lo = Math.floor(t);
    const frac = t - lo;
    // Fractional t (UniPC) interpolates ᾱ linearly; integer t is the table entry.
    const a = frac === 0 ? alphasCumprod[lo] : f32((1 - frac) * alphasCumprod[lo] + frac * alphasCumprod[lo + 1]);
    const sigma = f32(Math.sqrt(f32(f32(1 - a) / a)));
    const xs = x.div(f32(Math.sqrt(a)));
    return xs.sub(await denoise(xs, sigma)).div(sigma);
  };
}

/** A model without guidance: its eps doubles as the unconditional eps. */
export function unguided(model: EpsModel): GuidedEpsModel {
  return async (x, t) => {
    const eps = await model(x, t);
    return { eps, epsUncond: eps };
  };
}

/** Closed-form probability-flow ODE solution of the toy from (x at sigmaFrom) to sigmaTo. */
export function toyOdeSolution(mu: Tensor, x: Tensor, sigmaFrom: number, sigmaTo: number, s2 = 0.25): Tensor {
  return x
    .sub(mu)
    .mul(Math.sqrt((s2 + sigmaTo ** 2) / (s2 + sigmaFrom ** 2)))
    .add(mu);
}

/** Deterministic standard normals (mulberry32 + Box–Muller) for fixture-free tests. */
export function seededNormals(seed: number): (shape: readonly number[]) => Tensor {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return (shape) => {
    const out = new Tensor(shape);
    for (let i = 0; i < out.data.length; i++) out.data[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    return out;
  };
}

/** Max |a − b| over all elements. */
export function maxAbs(a: Tensor, b: Tensor): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}
