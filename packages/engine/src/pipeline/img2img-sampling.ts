/**
 * What img2img changes in a sampling run (A1111 `sample_img2img` and the mask blend of its CFG denoiser):
 * the truncated schedule and its noised start latent, the latent inpainting mask applied after every model
 * call, and inpainting models' extra UNet input channels. sample.ts calls these; they know nothing of ORT.
 */

import { Tensor } from '../tensor.ts';
import type { MultiCond } from './conditioning.ts';
import type { PreparedSampling } from './sample.ts';
import { initialLatent } from './sampler-options.ts';
import type { GenerationOptions } from './types.ts';

/** A1111 `setup_img2img_steps` result plus the latent to start from: a schedule of `steps`, of which `tEnc + 1` run. */
export interface InitLatent {
  latent: Tensor;
  steps: number;
  tEnc: number;
  /** initial_noise_multiplier: scales the seed noise before anything uses it. */
  noiseMultiplier: number;
  /** Option img2img_extra_noise: the same noise added once more with this weight. */
  extraNoise: number;
}

/** Latent inpainting masks [B, C, h, w]: `mask` = 1 keeps `init`, `nmask` = 1 − mask is repainted. */
export interface LatentMask {
  mask: Tensor;
  nmask: Tensor;
  init: Tensor;
}

/**
 * A1111 setup_img2img_steps: normally `steps` long with t_enc = ⌊min(strength, 0.999)·steps⌋; with
 * img2img_fix_steps (and always in the hires pass, `requested` given) the schedule is stretched to
 * ⌊requested / min(strength, 0.999)⌋ so that exactly `requested` steps run.
 */
export function img2imgSteps(steps: number, denoisingStrength: number, fixSteps: boolean, requested?: number): { steps: number; tEnc: number } {
  const strength = Math.min(denoisingStrength, 0.999);
  if (fixSteps || requested !== undefined) {
    const wanted = requested || steps;
    return { steps: denoisingStrength > 0 ? Math.trunc(wanted / strength) : 0, tEnc: wanted - 1 };
  }
  return { steps, tEnc: Math.trunc(strength * steps) };
}

/** A1111 apply_blend: current·nmask + init·mask. */
export function blendLatent(current: Tensor, m: LatentMask): Tensor {
  return current.mul(m.nmask).add(m.init.mul(m.mask));
}

/** torch.cat([a, b], dim=1) for NCHW tensors with the same N, H, W. */
export function catChannels(a: Tensor, b: Tensor): Tensor {
  const [n, ca, h, w] = a.shape;
  const cb = b.shape[1];
  if (b.shape[0] !== n || b.shape[2] !== h || b.shape[3] !== w) throw new Error(`catChannels: [${a.shape}] and [${b.shape}] differ outside dim 1`);
  const plane = h * w;
  const out = new Float32Array(n * (ca + cb) * plane);
  for (let i = 0; i < n; i++) {
    out.set(a.data.subarray(i * ca * plane, (i + 1) * ca * plane), i * (ca + cb) * plane);
    out.set(b.data.subarray(i * cb * plane, (i + 1) * cb * plane), (i * (ca + cb) + ca) * plane);
  }
  return new Tensor([n, ca + cb, h, w], out);
}

/** c_concat in guide()'s row order: each image's row once per AND part, then once more for its uncond. */
export function imageCondRows(imageCond: Tensor | null | undefined, cond: readonly MultiCond[]): Tensor | null {
  if (!imageCond) return null;
  const rows = [...cond.flatMap((c, i) => c.parts.map(() => i)), ...cond.map((_, i) => i)];
  return Tensor.stack(rows.map((i) => imageCond.get(i)));
}

/** The img2img parts of sample.ts's run context, from a SamplingRun. */
export function img2imgContext(run: { init?: InitLatent; latentMask?: LatentMask | null; imageCond?: Tensor | null; cond: readonly MultiCond[] }) {
  return { init: run.init, latentMask: run.latentMask ?? null, concat: imageCondRows(run.imageCond, run.cond) };
}

/** The UNet input with the inpainting channels appended (A1111's hybrid conditioning: cat([x, c_concat], 1)). */
export function withImageCond(xIn: Tensor, concat: Tensor | null | undefined): Tensor {
  if (!concat) return xIn;
  if (concat.shape[0] !== xIn.shape[0]) throw new Error(`inpainting conditioning has ${concat.shape[0]} rows for a UNet call of ${xIn.shape[0]}`);
  return catChannels(xIn, concat);
}

/** k-diffusion start: the sigmas to run and x = init + noise·σ_start (+ extra noise); txt2img: noise·σ_0. */
export function kDiffusionStart(prepared: PreparedSampling, noise: Tensor, init: InitLatent | undefined, options: Pick<GenerationOptions, 'sgm_noise_multiplier'>): { sigmas: number[]; x: Tensor } {
  const sigmas = init ? prepared.sigmas.slice(init.steps - init.tEnc - 1) : prepared.sigmas;
  let x = initialLatent(noise, sigmas[0], options); // noise·σ, or noise·√(1+σ²) with sgm_noise_multiplier
  if (!init) return { sigmas, x };
  x = init.latent.add(x);
  if (init.extraNoise > 0) x = x.add(noise.mul(init.extraNoise));
  return { sigmas, x };
}

/**
 * Timesteps samplers' start: the first t_enc timesteps run, from x = √ᾱ·init + √(1 − ᾱ)·noise at
 * ᾱ = alphas_cumprod[timesteps[t_enc]] (float32 as torch); txt2img starts from the noise itself.
 */
export function timestepsStart(prepared: PreparedSampling, noise: Tensor, init: InitLatent | undefined): { timesteps: number[]; x: Tensor; tStart?: number } {
  if (!init) return { timesteps: prepared.timesteps, x: noise };
  const a = prepared.alphasCumprod[prepared.timesteps[init.tEnc]];
  let x = init.latent.mul(Math.fround(Math.sqrt(a))).add(noise.mul(Math.fround(Math.sqrt(Math.fround(1 - a)))));
  if (init.extraNoise > 0) x = x.add(noise.mul(init.extraNoise));
  const timesteps = prepared.timesteps.slice(0, init.tEnc);
  // UniPC starts at t_start = timesteps[-1]/1000 + 1/1000 for img2img (A1111's own "likely off by a bit").
  return { timesteps, x, tStart: timesteps.length ? timesteps[timesteps.length - 1] / 1000 + 1 / 1000 : undefined };
}
