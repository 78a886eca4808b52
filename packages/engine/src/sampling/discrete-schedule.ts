/**
 * The model's discrete noise levels: the ldm DDPM `alphas_cumprod` buffer and k-diffusion's `DiscreteSchedule`
 * (sigma table, `sigma_to_t` with quantize=False, `t_to_sigma`, `get_sigmas`), in torch's float32 arithmetic.
 * Ports crowsonkb/k-diffusion@ab527a9 k_diffusion/external.py (DiscreteSchedule, DiscreteEpsDDPMDenoiser.__init__)
 * and CompVis/latent-diffusion ldm/modules/diffusionmodules/util.py make_beta_schedule('linear').
 */
import { f16round, f32, linspaceF32, linspaceF64 } from './numeric.ts';

/** ldm "linear" betas: `linspace(√start, √end, T, float64)²` (float64 values). */
export function betasLinear(linearStart = 0.00085, linearEnd = 0.012, timesteps = 1000): number[] {
  return linspaceF64(Math.sqrt(linearStart), Math.sqrt(linearEnd), timesteps).map((b) => b * b);
}

/**
 * `alphas_cumprod` of the ldm "linear" schedule: cumprod(1 − betas) in float64, stored as float32 (what a
 * checkpoint without schedule buffers implies).
 */
export function alphasCumprodLinear(linearStart = 0.00085, linearEnd = 0.012, timesteps = 1000): Float32Array {
  const betas = betasLinear(linearStart, linearEnd, timesteps);
  const out = new Float32Array(timesteps);
  let prod = 1;
  for (let i = 0; i < timesteps; i++) {
    prod *= 1 - betas[i];
    out[i] = prod;
  }
  return out;
}

/** A1111 option "Downcast alphas_cumprod" (use_downcasted_alpha_bar): ᾱ rounded through float16. */
export function downcastAlphasCumprod(alphasCumprod: Float32Array): Float32Array {
  return alphasCumprod.map(f16round);
}

/** k-diffusion `DiscreteSchedule`: ascending sigma table (index = timestep) and sigma ↔ t maps. */
export class DiscreteSchedule {
  readonly sigmas: Float32Array;
  readonly logSigmas: Float32Array;

  constructor(sigmas: Float32Array) {
    this.sigmas = sigmas;
    this.logSigmas = sigmas.map((s) => f32(Math.log(s)));
  }

  /** `DiscreteEpsDDPMDenoiser`: sigmas = ((1 − ᾱ) / ᾱ) ** 0.5, each op in float32. */
  static fromAlphasCumprod(alphasCumprod: Float32Array): DiscreteSchedule {
    return new DiscreteSchedule(alphasCumprod.map((a) => f32(Math.sqrt(f32(f32(1 - a) / a)))));
  }

  get sigmaMin(): number {
    return this.sigmas[0];
  }

  get sigmaMax(): number {
    return this.sigmas[this.sigmas.length - 1];
  }

  /** Fractional timestep for `sigma` by linear interpolation in log sigma (quantize=False). */
  sigmaToT(sigma: number): number {
    const logSigma = f32(Math.log(f32(sigma)));
    const ls = this.logSigmas;
    // low_idx = last index with log_sigmas <= log σ (0 when none), clamped so that low_idx + 1 exists.
    let lowIdx = 0;
    for (let i = 0; i < ls.length; i++) if (ls[i] <= logSigma) lowIdx = i;
    lowIdx = Math.min(lowIdx, ls.length - 2);
    const low = ls[lowIdx];
    const high = ls[lowIdx + 1];
    const w = Math.min(Math.max(f32(f32(low - logSigma) / f32(low - high)), 0), 1);
    return f32(f32(f32(1 - w) * lowIdx) + f32(w * (lowIdx + 1)));
  }

  /** Sigma at fractional timestep `t`: exp of the log-sigma interpolation between floor(t) and ceil(t). */
  tToSigma(t: number): number {
    const tf = f32(t);
    const lowIdx = Math.floor(tf);
    const w = tf - Math.trunc(tf);
    const logSigma = f32(f32(f32(1 - w) * this.logSigmas[lowIdx]) + f32(w * this.logSigmas[Math.ceil(tf)]));
    return f32(Math.exp(logSigma));
  }

  /** `get_sigmas(n)`: n sigmas at `linspace(T − 1, 0, n)` plus a trailing 0 (A1111's "Uniform"). */
  getSigmas(n: number): number[] {
    return [...linspaceF32(this.sigmas.length - 1, 0, n).map((t) => this.tToSigma(t)), 0];
  }
}

/**
 * The discrete schedule A1111's LCM sampler uses: only LCM's original 50 timesteps 19, 39, …, 999 (skip 20, as
 * diffusers' LCMScheduler with original_inference_steps = 50). sigma → t snaps to the nearest of them.
 */
export class LcmSchedule extends DiscreteSchedule {
  readonly skipSteps: number;

  constructor(alphasCumprod: Float32Array, originalSteps = 50) {
    const skipSteps = Math.floor(alphasCumprod.length / originalSteps);
    const sub = Float32Array.from({ length: originalSteps }, (_, k) => alphasCumprod[skipSteps * (k + 1) - 1]);
    super(DiscreteSchedule.fromAlphasCumprod(sub).sigmas);
    this.skipSteps = skipSteps;
  }

  /** The integer DDPM timestep of the nearest table sigma (quantized, in log sigma). */
  override sigmaToT(sigma: number): number {
    const logSigma = f32(Math.log(f32(sigma)));
    let best = 0;
    for (let k = 1; k < this.logSigmas.length; k++) if (Math.abs(logSigma - this.logSigmas[k]) < Math.abs(logSigma - this.logSigmas[best])) best = k;
    return best * this.skipSteps + (this.skipSteps - 1);
  }

  /** DDPM timestep → position in the 50-entry table (clamped), then log-sigma interpolation. */
  override tToSigma(t: number): number {
    const k = Math.min(Math.max(f32((t - (this.skipSteps - 1)) / this.skipSteps), 0), this.sigmas.length - 1);
    return super.tToSigma(k);
  }

  /** n sigmas at timesteps evenly spaced from sigma_to_t(σmax) to sigma_to_t(σmin), plus 0. */
  override getSigmas(n: number): number[] {
    const [start, end] = [this.sigmaToT(this.sigmaMax), this.sigmaToT(this.sigmaMin)];
    return [...linspaceF32(start, end, n).map((t) => this.tToSigma(t)), 0];
  }
}
