/**
 * `hr_checkpoint_name` (spec §3.1.3, §8.3 `Hires checkpoint`): the hires second pass on another checkpoint. As A1111's
 * sample(): the first pass and, for a pixel upscaler, its decode run on the job's model; then the model switches and
 * the whole second pass (encoding the upscaled image, the hr prompts' conditioning, sampling, the final decode) runs
 * on the hires checkpoint. A1111 reloads its one model for this; here the hires model is opened beside the job's
 * (kept for the next job, like the refiner) and the job's model stays loaded. Both must share the latent space, UNet
 * input width and prediction type, since the second pass continues the first one's latent on the first one's schedule.
 */
import { InvalidParamsError } from '../errors.ts';
import { CompanionModels } from './companion-model.ts';
import { latentChannels } from './img2img-latents.ts';
import type { LoadedModel } from './model.ts';

/** The one hires checkpoint kept per job model (another path releases the previous one). */
const hiresModels = new CompanionModels('hr_checkpoint_name', 'hires checkpoint', (base, opened) => {
  const problem = mismatch(base, opened);
  if (problem) throw new InvalidParamsError('hr_checkpoint_name', `hires checkpoint ${opened.name} cannot continue a job of ${base.name}: ${problem}`);
});

/** The hires model at `path` for jobs of `base` (opened on first use), with the base's job state; null when it is the base itself. */
export function hiresCheckpointModel(base: LoadedModel, path: string): Promise<LoadedModel | null> {
  return hiresModels.modelFor(base, path);
}

function mismatch(base: LoadedModel, other: LoadedModel): string | null {
  const family = (m: LoadedModel) => (m.config.family.startsWith('sdxl') ? 'sdxl' : 'sd');
  if (family(base) !== family(other) || latentChannels(base) !== latentChannels(other))
    return `its latent space (${other.config.family}) is not ${base.config.family}'s`;
  if (base.config.unet.in_channels !== other.config.unet.in_channels)
    return `its UNet takes ${other.config.unet.in_channels} input channels, ${base.name}'s ${base.config.unet.in_channels} (inpainting and plain checkpoints do not mix)`;
  if (base.config.prediction_type !== other.config.prediction_type)
    return `it predicts ${other.config.prediction_type}, ${base.name} ${base.config.prediction_type}`;
  return null;
}

/** After a job: the hires model's LoRA weights go back to its checkpoint's (a job's networks apply to that job only). */
export function restoreHiresNetworks(base: LoadedModel): void {
  hiresModels.restoreNetworks(base);
}

/** Releases the hires model kept for `base`, if any. */
export function releaseHiresModel(base: LoadedModel): Promise<void> {
  return hiresModels.release(base);
}
