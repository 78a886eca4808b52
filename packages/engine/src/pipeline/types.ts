/**
 * The engine's generation contract: what a caller (server, CLI) passes to `StableDiffusion.txt2img` and gets
 * back. Field names are camelCase versions of A1111's processing fields; values are already resolved
 * (sampler and scheduler labels validated by the caller or the engine, options merged).
 */
import type { PreviewImage } from '../image/latent-preview.ts';
import type { Tensor } from '../tensor.ts';
import type { ControlNetUnitParams } from './control-units.ts';
import type { RefinerParams } from './refiner.ts';

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
  /** `Original`, `No norm`, `Ignore` or `None` (text/conditioning.ts EmphasisMode). */
  emphasis: 'Original' | 'No norm' | 'Ignore' | 'None';
  comma_padding_backtrack: number;
  add_model_hash_to_info: boolean;
  add_model_name_to_info: boolean;
  add_version_to_infotext: boolean;
  /** Infotext `TI hashes` for the embeddings a prompt used (A1111 default true). */
  textual_inversion_add_hashes_to_infotext?: boolean;
  /** Strip `#` comments from prompts before anything reads them (A1111 default true, spec §6.2). */
  enable_prompt_comments?: boolean;
  /** SDXL (A1111 defaults): crop micro-conditioning (0, 0), CLIP-L clip skip off, refiner aesthetic scores 2.5 / 6.0. */
  sdxl_crop_top?: number;
  sdxl_crop_left?: number;
  sdxl_clip_l_skip?: boolean;
  sdxl_refiner_low_aesthetic_score?: number;
  sdxl_refiner_high_aesthetic_score?: number;
  /** k-diffusion x_T = noise·sqrt(1 + σ_max²) as sgm does, instead of noise·σ_max (infotext `SGM noise multiplier`). */
  sgm_noise_multiplier?: boolean;
  /** UniPC (A1111 defaults bh1, time_uniform, 3, true); vary_coeff is not implemented (an error names the choices). */
  uni_pc_variant?: 'bh1' | 'bh2' | 'vary_coeff';
  uni_pc_skip_type?: 'time_uniform' | 'time_quadratic' | 'logSNR';
  uni_pc_order?: number;
  uni_pc_lower_order_final?: boolean;
  /** img2img / hires options (A1111 defaults when absent: false, 1.0, 0.0, '#ffffff', 1.0, true, null). */
  img2img_fix_steps?: boolean;
  /** A1111 `img2img_color_correction` (default false): results' colours matched to the init image (image/color-correction.ts). */
  img2img_color_correction?: boolean;
  /** A1111 `return_mask` / `return_mask_composite` (default false): inpainting results also return the mask / the composite. */
  return_mask?: boolean;
  return_mask_composite?: boolean;
  initial_noise_multiplier?: number;
  img2img_extra_noise?: number;
  img2img_background_color?: string;
  inpainting_mask_weight?: number;
  overlay_inpaint?: boolean;
  /** Pixel upscaler for img2img resizes; null/'None'/'Lanczos' → Lanczos (the only one we have). */
  upscaler_for_img2img?: string | null;
  /** 'Full' only ('TAESD' is refused: no TAESD weights). */
  sd_vae_encode_method?: string;
  /** Live previews (A1111 options): 'TAESD' decodes every `show_progress_every_n_steps` steps with `LoadedModel.taesd`. */
  show_progress_type?: string;
  show_progress_every_n_steps?: number;
  /** Model upscalers' tiling (A1111 options, px): tile side (0: whole image) and overlap; defaults 192 and 8. */
  ESRGAN_tile?: number;
  ESRGAN_tile_overlap?: number;
  live_previews_enable?: boolean;
  /** What `tiling: null` falls back to (the server resolves it into Txt2ImgParams.tiling). */
  tiling?: boolean;
  /** A1111 `disable_extra_networks` (default false): `<lora:…>` tags are removed from prompts but not applied. */
  disable_extra_networks?: boolean;
  /** A1111 `sd_vae` (`Automatic`, `None` or a VAE file name): resolved by the caller (the server), not read by the pipeline. */
  sd_vae?: string;
  /** A1111 `lora_add_hashes_to_infotext` (default true): infotext `Lora hashes`. */
  lora_add_hashes_to_infotext?: boolean;
  /** A1111 `sd_lora` (default 'None'): a LoRA file name appended to every prompt as a tag (pipeline/networks.ts). */
  sd_lora?: string;
  /** A1111 `extra_networks_default_multiplier` (default 1.0): the multiplier of the `sd_lora` tag. */
  extra_networks_default_multiplier?: number;
  /** Refiner (A1111 defaults 'second pass', false): which hires pass may switch, and switching by model calls. */
  hires_fix_refiner_pass?: string;
  refiner_switch_by_sample_steps?: boolean;
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
  /**
   * Names of the styles already merged into `prompt`/`negativePrompt` (spec §7). The caller owns the style
   * files and applies them (the server from styles.csv, with text/styles.ts StyleDatabase); the engine only
   * carries the names along and never reads style files.
   */
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
  /** Circular padding in every UNet/VAE convolution (seamless textures; A1111 `tiling`). Default false. */
  tiling?: boolean;
  /** txt2img: only used with `hires` (null when not sent, as A1111's txt2img default). img2img: see Img2ImgParams. */
  denoisingStrength?: number | null;
  /** Hires fix (A1111 `enable_hr`); null/absent = off. Needs `denoisingStrength`. */
  hires?: HiresFixParams | null;
  /** Enabled ControlNet units, in order (sd-webui-controlnet's `alwayson_scripts.controlnet.args`). */
  controlNet?: ControlNetUnitParams[];
  /** A1111 refiner_checkpoint / refiner_switch_at, the file resolved by the caller (pipeline/refiner.ts); null = none. */
  refiner?: RefinerParams | null;
}

/**
 * A1111's hires-fix fields (spec §3.1.3) for the second, img2img-style pass over the upscaled first-pass result.
 * Empty/null values mean "same as the first pass".
 */
export interface HiresFixParams {
  /** hr_scale: used when resizeX = resizeY = 0. */
  scale: number;
  /** hr_resize_x / hr_resize_y: target size (0 = derived from the other, keeping the aspect ratio). */
  resizeX: number;
  resizeY: number;
  /** hr_upscaler: a latent mode (`Latent`, `Latent (bicubic antialiased)`, …) or `Lanczos`/`Nearest`/`None`; null → `Latent`. */
  upscaler: string | null;
  /** hr_second_pass_steps: 0 → steps. */
  secondPassSteps: number;
  samplerName: string | null;
  scheduler: string | null;
  /** '' → the main prompt / negative prompt. */
  prompt: string;
  negativePrompt: string;
  /** hr_cfg (A1111 dev / Forge): null → cfgScale. */
  cfgScale?: number | null;
  /** hr_checkpoint_name resolved by the caller: the file and its A1111 short title (infotext `Hires checkpoint`); null: the same. */
  checkpoint?: { path: string; title: string } | null;
}

/** 8-bit RGBA pixels, row-major, as the server decodes them from base64 PNG/JPEG/WebP. */
export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** A1111 resize_mode: 0 just resize, 1 crop and resize, 2 resize and fill, 3 just resize (latent upscale). */
export type ResizeMode = 0 | 1 | 2 | 3;

/** A1111 inpainting_fill: 0 fill, 1 original, 2 latent noise, 3 latent nothing. */
export type InpaintingFill = 0 | 1 | 2 | 3;

/** img2img = txt2img's fields plus A1111's StableDiffusionProcessingImg2Img fields, in engine terms. */
export interface Img2ImgParams extends Txt2ImgParams {
  /** 1 image → used for every image of the batch; k ≤ batchSize → batchSize becomes k; more → InvalidParamsError. */
  initImages: RgbaImage[];
  resizeMode: ResizeMode;
  /** 0..1: how much of the schedule is re-run (A1111 API default 0.75). */
  denoisingStrength: number;
  /** null → option initial_noise_multiplier. */
  initialNoiseMultiplier?: number | null;
  /** Inpainting mask (white = repaint); an RGBA mask with non-opaque alpha uses its alpha. null = plain img2img. */
  mask?: RgbaImage | null;
  /** Gaussian blur sigmas of the mask (A1111 default 4, 4). */
  maskBlurX?: number;
  maskBlurY?: number;
  /** Binarise alpha masks at 128 and round the latent mask (A1111 default true). */
  maskRound?: boolean;
  inpaintingFill?: InpaintingFill;
  /** 'Only masked': crop to the mask's bounding box (+ padding), process at width × height, paste back. */
  inpaintFullRes?: boolean;
  inpaintFullResPadding?: number;
  /** Repaint the unmasked area instead. */
  inpaintingMaskInvert?: boolean;
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
  /**
   * A TAESD picture of the first image of the batch (pipeline/taesd-preview.ts), in an extra event right after the
   * step's own, when option `show_progress_type` is 'TAESD' and the model has TAESD weights attached.
   */
  preview?: PreviewImage;
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
  /** The separate VAE file that decoded (A1111 `sd_vae_name`, with extension; its 10-hex hash), null: the checkpoint's own. */
  sdVaeName?: string | null;
  sdVaeHash?: string | null;
  extraGenerationParams: Record<string, unknown>;
  /** `YYYYmmddHHMMSS` of the job start. */
  jobTimestamp: string;
  interrupted: boolean;
  /** The job's size (with hires fix: the first pass), as A1111's info.width/height. */
  width?: number;
  height?: number;
  /** Effective batch size (img2img lowers it to the number of init images). */
  batchSize?: number;
  /** As requested (txt2img: null unless sent). */
  denoisingStrength?: number | null;
  isUsingInpaintingConditioning?: boolean;
  /**
   * ControlNet detected maps (8-bit RGB) of the units with `saveDetectedMap`, which A1111 appends to the
   * response images after the generated ones (without infotext).
   */
  detectedMaps?: { width: number; height: number; rgb: Uint8Array }[];
  /** img2img with options return_mask / return_mask_composite: per generated image, the images A1111 appends after it. */
  returnedMasks?: { width: number; height: number; rgb: Uint8Array }[][];
  /**
   * What the job skipped but A1111 would only log: a LoRA not found, network modules that match no layer or do
   * not fit it, an unusable network file; absent when there is nothing to say.
   */
  warnings?: string[];
}

/** img2img returns what txt2img does. */
export type Img2ImgResult = Txt2ImgResult;
