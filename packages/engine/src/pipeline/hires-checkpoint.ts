/**
 * `hr_checkpoint_name` (spec §3.1.3, §8.3 `Hires checkpoint`): the hires second pass on another checkpoint. As A1111's
 * sample(): the first pass and, for a pixel upscaler, its decode run on the job's model; then the model switches and
 * the whole second pass (encoding the upscaled image, the hr prompts' conditioning, sampling, the final decode) runs
 * on the hires checkpoint. A1111 reloads its one model for this; here the hires model is opened beside the job's
 * (kept for the next job, like the refiner) and the job's model stays loaded. Both must share the latent space, UNet
 * input width and prediction type, since the second pass continues the first one's latent on the first one's schedule.
 */
import { InvalidParamsError } from '../errors.ts';
import { latentChannels } from './img2img-latents.ts';
import { LoadedModel } from './model.ts';

/** The one hires checkpoint kept per job model (another path releases the previous one). */
const hiresModels = new WeakMap<LoadedModel, LoadedModel>();

/** The hires model at `path` for jobs of `base` (opened on first use); null when it is the base itself. */
export async function hiresCheckpointModel(base: LoadedModel, path: string): Promise<LoadedModel | null> {
  if (path === base.path) return null;
  let hires = hiresModels.get(base);
  if (hires?.path !== path) {
    let opened: LoadedModel;
    try {
      opened = LoadedModel.open(path, base.loadOptions);
    } catch (error) {
      throw new InvalidParamsError('hr_checkpoint_name', `hires checkpoint ${path} cannot be loaded: ${(error as Error).message}`);
    }
    const problem = mismatch(base, opened);
    if (problem) {
      await opened.release();
      throw new InvalidParamsError('hr_checkpoint_name', `hires checkpoint ${opened.name} cannot continue a job of ${base.name}: ${problem}`);
    }
    await hires?.release();
    hiresModels.set(base, opened);
    hires = opened;
  }
  hires.embeddings = base.embeddings;
  hires.loras = base.loras;
  hires.tiling = base.tiling;
  const vae = base.vae;
  hires.useVae(vae); // sd_vae applies to whichever model decodes
  return hires;
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
  hiresModels.get(base)?.networks.restore();
}

/** Releases the hires model kept for `base`, if any. */
export async function releaseHiresModel(base: LoadedModel): Promise<void> {
  const held = hiresModels.get(base);
  hiresModels.delete(base);
  await held?.release();
}
