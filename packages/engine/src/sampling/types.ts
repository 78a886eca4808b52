/**
 * Types shared by every sampler: the k-diffusion model contract (`Denoiser`), the timesteps-sampler contract
 * (`EpsModel`), noise sources, progress callbacks and options. Names follow k-diffusion
 * (crowsonkb/k-diffusion@ab527a9 k_diffusion/sampling.py).
 */
import type { Tensor } from '../tensor.ts';

/** k-diffusion model: `x` at noise level `sigma` (scalar, same for the whole batch) → denoised x0 estimate. */
export type Denoiser = (x: Tensor, sigma: number) => Promise<Tensor>;

/** One `torch.randn_like(x)` draw (A1111 hijacks randn_like to the per-seed generator). */
export type NoiseFn = () => Tensor;

/** k-diffusion `noise_sampler(sigma, sigma_next)`: Gaussian noise for the step sigma → sigmaNext. */
export type NoiseSampler = (sigma: number, sigmaNext: number) => Tensor;

/** What k-diffusion passes to `callback` once per step. */
export interface StepInfo {
  x: Tensor;
  i: number;
  sigma: number;
  sigmaHat: number;
  denoised: Tensor;
}

export type StepCallback = (info: StepInfo) => void;

/** Options every sampler understands (unknown ones are ignored, as A1111 filters by signature). */
export interface SamplerOptions {
  /** `torch.randn_like` draws in call order; every draw k-diffusion makes consumes one, used or not. */
  noise?: NoiseFn;
  /** Noise for the SDE samplers (A1111: a Brownian tree); defaults to `noise` draws. */
  noiseSampler?: NoiseSampler;
  callback?: StepCallback;
  /** Checked before every model call. */
  signal?: AbortSignal;
  eta?: number;
  sChurn?: number;
  sTmin?: number;
  sTmax?: number;
  sNoise?: number;
  /** DPM++ 2M SDE: 'midpoint' (default) or 'heun'. */
  solverType?: 'midpoint' | 'heun';
  /** LMS order (default 4). */
  order?: number;
}

/** A k-diffusion style sampler. */
export type Sampler = (model: Denoiser, x: Tensor, sigmas: readonly number[], opts?: SamplerOptions) => Promise<Tensor>;

/** A1111 timesteps model: x (unscaled DDPM space) at integer timestep t → eps, CFG already applied. */
export type EpsModel = (x: Tensor, t: number) => Promise<Tensor>;

/** CFG output for DDIM CFG++: the guided eps and the unconditional eps of the same call. */
export interface GuidedEps {
  eps: Tensor;
  epsUncond: Tensor;
}

export type GuidedEpsModel = (x: Tensor, t: number) => Promise<GuidedEps>;

export interface TimestepsOptions {
  /** The model's float32 alphas_cumprod (1000 entries). */
  alphasCumprod: Float32Array;
  noise?: NoiseFn;
  /** Called after each update with x (updated), the step's timestep as k-diffusion sigma, denoised = pred_x0. */
  callback?: StepCallback;
  signal?: AbortSignal;
  /** DDIM eta (A1111 option eta_ddim, default 0). */
  eta?: number;
  /** img2img: UniPC's start time t_T (A1111 passes timesteps[-1]/1000 + 1/1000); default 1. Others ignore it. */
  tStart?: number;
}

/**
 * An A1111 timesteps sampler (DDIM, DDIM CFG++, PLMS, UniPC): x in unscaled DDPM space, ascending integer
 * `timesteps` as from `getTimesteps`.
 */
export type TimestepsSampler = (model: GuidedEpsModel, x: Tensor, timesteps: readonly number[], opts: TimestepsOptions) => Promise<Tensor>;
