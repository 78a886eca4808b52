/**
 * The refiner switch (A1111 `refiner_checkpoint` / `refiner_switch_at`, v1.6+ behaviour, spec §3.1.1 and §8.3):
 * during sampling, at the first model call whose completed ratio reaches `switchAt`, the sampler's model becomes
 * the refiner checkpoint; the conditioning is computed again with the refiner's own text encoder and size /
 * aesthetic-score conditioning (A1111 reloads the weights, calls `setup_conds()` and `update_inner_model()`), and
 * the sigma schedule, sampler state, noise and model-call clock carry on. The completed ratio is, as A1111's
 * `apply_refiner`: (999 − t) / 1000 with t the training timestep nearest the current σ (k-diffusion) or the
 * timestep itself (DDIM/PLMS/UniPC); with option `refiner_switch_by_sample_steps` model calls / total calls.
 * So `switchAt` 1.0 never switches (the largest ratio is 0.999) and null switches at the first call.
 *
 * What is decoded afterwards is decoded by the model that sampled last (A1111 decodes with `shared.sd_model`).
 * ControlNet units act on the base UNet only (the extension hooks the model of the job's start; the refiner's
 * UNet has other residual shapes). The refiner is A1111's for any pair of checkpoints with one latent space;
 * checkpoints of different latent spaces or UNet input widths are refused up front.
 */
import { InvalidParamsError } from '../errors.ts';
import type { CondSchedule, MultiCond } from './conditioning.ts';
import { CompanionModels } from './companion-model.ts';
import { latentChannels } from './img2img-latents.ts';
import type { LoadedModel } from './model.ts';
import type { LatentFormat } from './types.ts';

/** What the caller resolved for `refiner_checkpoint` (A1111 looks the name up fuzzily, spec §9.4). */
export interface RefinerParams {
  /** Path of the refiner's .safetensors file. */
  path: string;
  /** Its A1111 `short_title` (`name [shorthash]`), written as infotext `Refiner`. */
  title: string;
  /** A1111 `refiner_switch_at` (0..1); null switches at the first model call. */
  switchAt: number | null;
}

/** The conditioning the refiner samples with from the switch on (A1111 re-runs setup_conds on the new model). */
export interface RefinerConds {
  cond: readonly MultiCond[];
  uncond: readonly CondSchedule[];
  warnings: readonly string[];
}

/** One sampling pass's switch: when to switch, to what, and what to tell the job when it happens. */
export interface RefinerSwitch {
  model: LoadedModel;
  switchAt: number | null;
  /** Option refiner_switch_by_sample_steps: ratio = model calls / total calls instead of the timestep rule. */
  bySteps: boolean;
  /** The refiner's conditioning for this batch, computed at the switch. */
  conditions: () => Promise<RefinerConds>;
  /** Called once, after the switch (the infotext keys, the warnings). */
  onSwitch: (conds: RefinerConds) => void;
}

const latentFormatOf = (model: LoadedModel): LatentFormat => (model.config.family.startsWith('sdxl') ? 'sdxl' : 'sd');

/** A1111 apply_refiner's gate: the ratio has reached switch_at (null: always). */
export function refinerDue(completedRatio: number, switchAt: number | null): boolean {
  return switchAt === null || completedRatio >= switchAt;
}

/** (999 − t) / 1000 for the training timestep t whose σ is nearest `sigma` (A1111 argmin |sigmas − σ|). */
export function completedRatioFromSigma(sigmas: Float32Array, sigma: number): number {
  let best = 0;
  for (let t = 1; t < sigmas.length; t++) if (Math.abs(sigmas[t] - sigma) < Math.abs(sigmas[best] - sigma)) best = t;
  return (sigmas.length - 1 - best) / sigmas.length;
}

/** (999 − t) / 1000 for a timestep sampler's t (A1111 truncates it to an int). */
export function completedRatioFromTimestep(t: number, trainSteps = 1000): number {
  return (trainSteps - 1 - Math.trunc(t)) / trainSteps;
}

/** The refiner may take over a base's latent: same latent space and the same UNet input width. */
export function checkRefinerFits(base: LoadedModel, refiner: LoadedModel): void {
  const problems: string[] = [];
  if (latentFormatOf(base) !== latentFormatOf(refiner) || latentChannels(base) !== latentChannels(refiner))
    problems.push(`its latent space (${refiner.config.family}) is not the one of ${base.name} (${base.config.family})`);
  else if (base.config.unet.in_channels !== refiner.config.unet.in_channels)
    problems.push(
      `its UNet takes ${refiner.config.unet.in_channels} input channels and ${base.name}'s ${base.config.unet.in_channels} (inpainting and plain checkpoints do not mix)`,
    );
  if (problems.length > 0) throw new InvalidParamsError('refiner_checkpoint', `refiner ${refiner.name} cannot continue this job: ${problems.join('; ')}`);
}

/** The one refiner kept per base model (A1111 keeps one model loaded; the refiner's sessions survive between jobs). */
const refiners = new CompanionModels('refiner_checkpoint', 'refiner', checkRefinerFits);

/**
 * The refiner model at `path` for jobs of `base` (opened on first use; another path releases the previous one), with
 * the base's embeddings, LoRA files, tiling, VAE and previewer. null when it is the base itself: A1111 then never switches.
 */
export function refinerModelFor(base: LoadedModel, path: string): Promise<LoadedModel | null> {
  return refiners.modelFor(base, path);
}

/** After a job: the refiner's LoRA weights go back to its checkpoint's (a job's networks apply to that job only). */
export function restoreRefinerNetworks(base: LoadedModel): void {
  refiners.restoreNetworks(base);
}

/** Releases the refiner kept for `base`, if any. */
export function releaseRefiner(base: LoadedModel): Promise<void> {
  return refiners.release(base);
}
