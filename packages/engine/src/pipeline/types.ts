/**
 * The engine's generation contract: what a caller (server, CLI) passes to `StableDiffusion.txt2img` and gets
 * back. Field names are camelCase versions of A1111's processing fields; values are already resolved
 * (sampler and scheduler labels validated by the caller or the engine, options merged).
 */
import type { Tensor } from '../tensor.ts';

/** Engine-relevant A1111 options (§10 of the spec), with A1111's keys. */
export interface GenerationOptions {
  CLIP_stop_at_last_layers: number;
  eta_noise_seed_delta: number;
  randn_source: 'GPU' | 'CPU' | 'NV';
  eta_ancestral: number;
  eta_ddim: number;
  s_churn: number;
  s_tmin: number;
  s_tmax: number;
  s_noise: number;
  sigma_min: number;
  sigma_max: number;
  rho: number;
  always_discard_next_to_last_sigma: boolean;
  emphasis: 'Original' | 'No norm' | 'None';
  comma_padding_backtrack: number;
  add_model_hash_to_info: boolean;
  add_model_name_to_info: boolean;
  add_version_to_infotext: boolean;
  /** SDXL (A1111 defaults): crop micro-conditioning (0, 0), CLIP-L clip skip off, refiner aesthetic scores 2.5 / 6.0. */
  sdxl_crop_top?: number;
  sdxl_crop_left?: number;
  sdxl_clip_l_skip?: boolean;
  sdxl_refiner_low_aesthetic_score?: number;
  sdxl_refiner_high_aesthetic_score?: number;
}

export interface Txt2ImgParams {
  prompt: string;
  negativePrompt: string;
  /** -1 picks a random seed in [0, 4294967294). */
  seed: number;
  subseed: number;
  subseedStrength: number;
  seedResizeFromW: number;
  seedResizeFromH: number;
  /** An A1111 sampler name (`Euler a`), legacy names such as `DPM++ 2M Karras` included. */
  samplerName: string;
  /** A scheduler label or name (`Automatic`, `Karras`, `karras`). */
  scheduler: string;
  steps: number;
  cfgScale: number;
  width: number;
  height: number;
  batchSize: number;
  nIter: number;
  /** null → the option for the sampler family (eta_ancestral / eta_ddim). */
  eta: number | null;
  styles: string[];
  /**
   * SDXL size micro-conditioning overrides (engine extension, not A1111 fields). A1111 conditions on the
   * generated size (original = target = width × height); these replace either size.
   */
  sdxlOriginalSize?: { width: number; height: number };
  sdxlTargetSize?: { width: number; height: number };
  /** Options in force for this job (defaults merged with overrides). */
  options: GenerationOptions;
  /**
   * `Version:` written into infotexts (default `v1.10.1`: readers such as A1111's paste apply back-compat rules by
   * version, and our output follows v1.10.1's semantics); null leaves it out.
   */
  infotextVersion?: string | null;
}

/** Progress of the running job, in A1111's `state` terms. */
export interface GenerationProgress {
  /** Batches (n_iter iterations) completed. */
  jobNo: number;
  jobCount: number;
  samplingStep: number;
  samplingSteps: number;
  /**
   * The sampler's current denoised estimate (x0) of the whole batch, [N, C, H/8, W/8], for live previews
   * (A1111 stores the same `denoised` as its current latent). Absent between sampling calls.
   */
  latent?: Tensor;
  /** Which latent space `latent` is in, so a preview picks the right latent→RGB map. */
  latentFormat?: LatentFormat;
}

/** SD1/SD2 share one VAE latent space; SDXL (base and refiner) has its own. */
export type LatentFormat = 'sd' | 'sdxl';

export interface GenerationHooks {
  /** Aborting interrupts: the current latent is decoded and returned, no further batch starts. */
  signal?: AbortSignal;
  /** Aborting skips the current batch: it is decoded early and the next batch continues. */
  skipSignal?: () => AbortSignal | undefined;
  onProgress?: (progress: GenerationProgress) => void;
}

/** One generated image: 8-bit RGB, row-major HWC, plus its infotext. */
export interface GeneratedImage {
  width: number;
  height: number;
  rgb: Uint8Array;
  seed: number;
  subseed: number;
  prompt: string;
  negativePrompt: string;
  infotext: string;
}

/** Everything A1111 puts into the `info` JSON of a txt2img response (§4.6), in engine terms. */
export interface Txt2ImgResult {
  images: GeneratedImage[];
  allPrompts: string[];
  allNegativePrompts: string[];
  allSeeds: number[];
  allSubseeds: number[];
  /** Resolved sampler name and scheduler label. */
  samplerName: string;
  scheduler: string;
  clipSkip: number;
  sdModelName: string;
  sdModelHash: string | null;
  extraGenerationParams: Record<string, unknown>;
  /** `YYYYmmddHHMMSS` of the job start. */
  jobTimestamp: string;
  interrupted: boolean;
}
