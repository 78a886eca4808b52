/**
 * A second checkpoint a job of one model may sample with (the refiner, refiner.ts; the hires checkpoint,
 * hires-checkpoint.ts): one kept per job model, opened beside it with its load options on first use, checked to fit,
 * and released when another path is asked for or the job model goes. Each job it takes over the job model's state
 * that A1111 keeps model-wide: textual-inversion embeddings, LoRA files, tiling, the separate VAE (`sd_vae` applies
 * to whichever model decodes) and the TAESD previewer (both models share one latent space).
 */
import { InvalidParamsError } from '../errors.ts';
import { LoadedModel } from './model.ts';

export class CompanionModels {
  private readonly held = new WeakMap<LoadedModel, LoadedModel>();

  /**
   * @param param the request field a failure is reported under
   * @param label how failures name the model ("refiner", "hires checkpoint")
   * @param checkFits throws (InvalidParamsError) when `other` cannot continue a job of `base`
   */
  constructor(
    private readonly param: string,
    private readonly label: string,
    private readonly checkFits: (base: LoadedModel, other: LoadedModel) => void,
  ) {}

  /** The model at `path` for jobs of `base` (opened on first use), with the base's job state; null when it is the base. */
  async modelFor(base: LoadedModel, path: string): Promise<LoadedModel | null> {
    if (path === base.path) return null;
    let model = this.held.get(base);
    if (model?.path !== path) {
      let opened: LoadedModel;
      try {
        opened = LoadedModel.open(path, base.loadOptions);
      } catch (error) {
        throw new InvalidParamsError(this.param, `${this.label} ${path} cannot be loaded: ${(error as Error).message}`);
      }
      try {
        this.checkFits(base, opened);
      } catch (error) {
        await opened.release();
        throw error;
      }
      await model?.release();
      this.held.set(base, opened);
      model = opened;
    }
    model.embeddings = base.embeddings;
    model.loras = base.loras;
    model.tiling = base.tiling;
    model.taesd = base.taesd;
    model.useVae(base.vae);
    return model;
  }

  /** After a job: the model's LoRA weights go back to its checkpoint's (a job's networks apply to that job only). */
  restoreNetworks(base: LoadedModel): void {
    this.held.get(base)?.networks.restore();
  }

  /** Releases the model kept for `base`, if any. */
  async release(base: LoadedModel): Promise<void> {
    const held = this.held.get(base);
    this.held.delete(base);
    await held?.release();
  }
}
