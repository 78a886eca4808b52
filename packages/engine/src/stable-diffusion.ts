/**
 * The engine's front door: a checkpoint opened for generation. Thin on purpose: the work lives in
 * pipeline/ (txt2img.ts) and the networks in models/.
 */
import type { EmbeddingDatabase } from './pipeline/embedding-database.ts';
import { LoadedModel, type LoadOptions } from './pipeline/model.ts';
import { describeEmbeddings, type EmbeddingInfo } from './pipeline/textual-inversion.ts';
import type { LoraCatalog } from './networks/lora-catalog.ts';
import type { ModelUpscalerHook } from './upscalers/catalog.ts';
import { img2img } from './pipeline/img2img.ts';
import { releaseHiresModel, restoreHiresNetworks } from './pipeline/hires-checkpoint.ts';
import { releaseRefiner, restoreRefinerNetworks } from './pipeline/refiner.ts';
import { txt2img } from './pipeline/txt2img.ts';
import type { GenerationHooks, GenerationOptions, Img2ImgParams, Img2ImgResult, Txt2ImgParams, Txt2ImgResult } from './pipeline/types.ts';

/** A1111's defaults for the options the engine reads (spec §10). */
export const DEFAULT_GENERATION_OPTIONS: GenerationOptions = {
  CLIP_stop_at_last_layers: 1,
  eta_noise_seed_delta: 0,
  randn_source: 'GPU',
  eta_ancestral: 1,
  eta_ddim: 0,
  s_churn: 0,
  s_tmin: 0,
  s_tmax: 0,
  s_noise: 1,
  sigma_min: 0,
  sigma_max: 0,
  rho: 0,
  always_discard_next_to_last_sigma: false,
  emphasis: 'Original',
  comma_padding_backtrack: 20,
  add_model_hash_to_info: true,
  add_model_name_to_info: true,
  add_version_to_infotext: true,
  textual_inversion_add_hashes_to_infotext: true,
  enable_prompt_comments: true,
  sdxl_crop_top: 0,
  sdxl_crop_left: 0,
  sdxl_clip_l_skip: false,
  sdxl_refiner_low_aesthetic_score: 2.5,
  sdxl_refiner_high_aesthetic_score: 6,
  sgm_noise_multiplier: false,
  uni_pc_variant: 'bh1',
  uni_pc_skip_type: 'time_uniform',
  uni_pc_order: 3,
  uni_pc_lower_order_final: true,
};

/** A1111's API defaults for txt2img (spec §3.1.1: 50 steps, Euler, 512², CFG 7). */
export function defaultTxt2ImgParams(overrides: Partial<Txt2ImgParams> = {}): Txt2ImgParams {
  return {
    prompt: '', negativePrompt: '', seed: -1, subseed: -1, subseedStrength: 0, seedResizeFromW: -1, seedResizeFromH: -1,
    samplerName: 'Euler', scheduler: 'Automatic', steps: 50, cfgScale: 7, width: 512, height: 512, batchSize: 1, nIter: 1,
    eta: null, styles: [], ...overrides, options: { ...DEFAULT_GENERATION_OPTIONS, ...overrides.options },
  };
}

/**
 * A1111's API defaults for img2img (spec §3.2): txt2img's plus resize mode 0, denoising 0.75, mask blur 4,
 * mask rounding, fill, "only masked" with padding 0. `initImages` is the caller's (decoded RGBA pixels).
 */
export function defaultImg2ImgParams(overrides: Partial<Img2ImgParams> = {}): Img2ImgParams {
  return {
    ...defaultTxt2ImgParams(overrides),
    initImages: [], resizeMode: 0, denoisingStrength: 0.75, initialNoiseMultiplier: null, mask: null, maskBlurX: 4, maskBlurY: 4,
    maskRound: true, inpaintingFill: 0, inpaintFullRes: true, inpaintFullResPadding: 0, inpaintingMaskInvert: false,
    ...overrides, options: { ...DEFAULT_GENERATION_OPTIONS, ...overrides.options },
  };
}

export class StableDiffusion {
  private constructor(readonly model: LoadedModel) {}

  /**
   * Opens a `.safetensors` checkpoint and detects its architecture (nothing is compiled until first use).
   * @example
   * const sd = StableDiffusion.open('models/Stable-diffusion/v1-5-pruned-emaonly.safetensors');
   * const { images } = await sd.txt2img(defaultTxt2ImgParams({ prompt: 'a cat', seed: 1, steps: 20 }));
   */
  static open(path: string, options: LoadOptions = {}): StableDiffusion {
    return new StableDiffusion(LoadedModel.open(path, options));
  }

  /** Textual-inversion embeddings this model's prompts may name (spec §6.9); null: none. */
  get embeddings(): EmbeddingDatabase | null {
    return this.model.embeddings;
  }

  set embeddings(db: EmbeddingDatabase | null) {
    this.model.embeddings = db;
  }

  /** LoRA / LyCORIS files `<lora:NAME:…>` tags may name (spec §6.3); null: none (every tag is "not found"). */
  get loras(): LoraCatalog | null {
    return this.model.loras;
  }

  set loras(catalog: LoraCatalog | null) {
    this.model.loras = catalog;
  }

  /** Model upscalers (ESRGAN files) `hr_upscaler` may name; null: the built-in ones and the latent modes only. */
  get upscalers(): ModelUpscalerHook | null {
    return this.model.upscalers;
  }

  set upscalers(hook: ModelUpscalerHook | null) {
    this.model.upscalers = hook;
  }

  /** The embeddings as this model sees them (GET /sdapi/v1/embeddings): `loaded` fit its text encoders. */
  describeEmbeddings(): { loaded: Map<string, EmbeddingInfo>; skipped: Map<string, EmbeddingInfo> } {
    const db = this.model.embeddings;
    return db ? describeEmbeddings(db, this.model.config) : { loaded: new Map(), skipped: new Map() };
  }

  get name(): string {
    return this.model.name;
  }

  get path(): string {
    return this.model.path;
  }

  async txt2img(params: Txt2ImgParams, hooks: GenerationHooks = {}): Promise<Txt2ImgResult> {
    try {
      return await txt2img(this.model, params, hooks);
    } finally {
      this.restoreNetworks();
    }
  }

  /** img2img / inpainting (spec §3.2): init images and an optional mask → images. */
  async img2img(params: Img2ImgParams, hooks: GenerationHooks = {}): Promise<Img2ImgResult> {
    try {
      return await img2img(this.model, params, hooks);
    } finally {
      this.restoreNetworks();
    }
  }

  /** A job's LoRAs apply to that job only: the model's, the refiner's and the hires checkpoint's come off after it. */
  private restoreNetworks(): void {
    this.model.networks.restore();
    restoreRefinerNetworks(this.model);
    restoreHiresNetworks(this.model);
  }

  warmUp(): Promise<void> {
    return this.model.warmUp();
  }

  async release(): Promise<void> {
    await releaseRefiner(this.model);
    await releaseHiresModel(this.model);
    await this.model.release();
  }
}
