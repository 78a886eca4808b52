/**
 * Pure mappings between the A1111 wire contract and the engine: a validated txt2img request → a job
 * (Txt2ImgParams + option overrides), and a Txt2ImgResult → `{images, parameters, info}` (spec §3.1.2 step 9,
 * §4.6). No I/O; PNG encoding is the only heavy step.
 */
import { EMPHASIS_MODES, encodePng, type GenerationOptions, PyFloat, pyJsonDumps, type Txt2ImgParams, type Txt2ImgResult } from '@sdapi/engine';
import { providedFields, Txt2ImgRequest, type Txt2ImgResponse } from '@sdapi/protocol';
import { pyTyped } from '../wire/py-typed.ts';
import { type Catalog, resolveSampler } from './catalog.ts';
import { hiresJobFields, hrCheckpointName } from './hires-mapping.ts';
import { outputFormat } from './image-output.ts';
import { applyInfotext } from './infotext-request.ts';
import { ApiError } from './errors.ts';
import { RESTRICTED_OPTIONS } from './option-defaults.ts';
import { type RefinerRequest, refinerRequest } from './refiner.ts';
import { selectsScript } from './scripts/registry.ts';
import type { PreparedScript } from './scripts/types.ts';

export interface Txt2ImgJob {
  params: Txt2ImgParams;
  /** `override_settings.sd_model_checkpoint`, to be checked against the exact aliases (§4.3). */
  checkpointOverride: string | null;
  /** Overrides that stay in effect after the job (override_settings_restore_afterwards: false). */
  persistentOverrides: Record<string, unknown>;
  /** refiner_checkpoint / refiner_switch_at, looked up inside the queue (services/refiner.ts); null: none. */
  refiner?: RefinerRequest | null;
  /** hr_checkpoint_name naming another checkpoint, looked up inside the queue (services/hires-checkpoint.ts); null: the same. */
  hrCheckpoint?: string | null;
  /** The selected script (`script_name` or typed `scripts`), prepared by the route; it runs the whole job. */
  script?: PreparedScript | null;
}

export interface MappingOptions {
  /** The caller prepares `script_name`/`scripts` itself (the A1111 routes); otherwise a script is refused. */
  scripts?: boolean;
}

/** Request fields this server cannot honour yet: refused with 422 rather than silently ignored. */
const UNSUPPORTED: [keyof Txt2ImgRequest, (v: unknown) => boolean, string][] = [
  ['restore_faces', (v) => v === true, 'face restoration (restore_faces: true) is not supported'],
  ['firstpass_image', (v) => typeof v === 'string' && v !== '', 'firstpass_image is not supported'],
];

/**
 * A validated request + the options in force → the engine job. Throws ApiError for an unknown script or sampler
 * (422), null in a field the engine needs, or a feature this server does not implement.
 */
export function toTxt2ImgJob(request: Txt2ImgRequest, options: Record<string, unknown>, catalog: Catalog, mapping: MappingOptions = {}): Txt2ImgJob {
  // Idempotent: routes apply the infotext first (with styles and checkpoints) to echo the filled body.
  const body = applyInfotext(Txt2ImgRequest, request, 'txt2img', { options });
  for (const [field, applies, message] of UNSUPPORTED) {
    if (applies(body[field])) throw new ApiError('UNSUPPORTED_PARAM', `${message}; remove ${field} from the request`);
  }
  if (!mapping.scripts && body.script_name) throw new ApiError('SCRIPT_NOT_FOUND', `Script '${body.script_name}' not found`);
  if (!mapping.scripts && selectsScript(body))
    throw new ApiError('UNSUPPORTED_PARAM', 'scripts are run by the txt2img and img2img routes (and their v2 jobs) only');
  outputFormat(options.samples_format); // A1111 fails after the job; checking first spares a wasted generation
  const { sampler, scheduler } = resolveSampler(catalog, body.sampler_name || body.sampler_index, body.scheduler);
  const overrides = Object.fromEntries(Object.entries(body.override_settings ?? {}).filter(([k]) => !RESTRICTED_OPTIONS.has(k)));
  const { sd_model_checkpoint: checkpoint, ...settings } = overrides;
  const params: Txt2ImgParams = {
    prompt: body.prompt ?? '',
    negativePrompt: body.negative_prompt ?? '',
    seed: body.seed ?? -1,
    subseed: body.subseed ?? -1,
    subseedStrength: required(body, 'subseed_strength'),
    seedResizeFromW: required(body, 'seed_resize_from_w'),
    seedResizeFromH: required(body, 'seed_resize_from_h'),
    samplerName: sampler,
    scheduler,
    steps: positive(body, 'steps'),
    cfgScale: required(body, 'cfg_scale'),
    width: positive(body, 'width'),
    height: positive(body, 'height'),
    batchSize: positive(body, 'batch_size'),
    nIter: positive(body, 'n_iter'),
    eta: body.eta ?? null,
    styles: body.styles ?? [],
    // A1111: null → option `tiling`; the engine pads every UNet/VAE convolution circularly (infotext `Tiling: True`).
    tiling: body.tiling ?? Boolean(settings.tiling ?? options.tiling),
    // disable_extra_networks is a request field in A1111; the engine reads it with the options.
    options: { ...generationOptions({ ...options, ...settings }), disable_extra_networks: body.disable_extra_networks === true },
    ...hiresJobFields(body, catalog),
  };
  return {
    params,
    checkpointOverride: typeof checkpoint === 'string' ? checkpoint : null,
    persistentOverrides: body.override_settings_restore_afterwards === false ? overrides : {},
    refiner: refinerRequest(body),
    hrCheckpoint: hrCheckpointName(body),
  };
}

type NumericField = 'subseed_strength' | 'seed_resize_from_w' | 'seed_resize_from_h' | 'steps' | 'cfg_scale' | 'width' | 'height' | 'batch_size' | 'n_iter';

function required(body: Txt2ImgRequest, field: NumericField): number {
  const v = body[field];
  if (typeof v !== 'number' || Number.isNaN(v)) throw new ApiError('INVALID_PARAMS', `${field} must be a number, got ${JSON.stringify(v ?? null)}`);
  return v;
}

function positive(body: Txt2ImgRequest, field: NumericField): number {
  const v = required(body, field);
  if (v < 1) throw new ApiError('INVALID_PARAMS', `${field} must be at least 1, got ${v}`);
  return v;
}

/** The engine's typed view of the options in force; a stored value of the wrong type is reported, not guessed. */
export function generationOptions(o: Record<string, unknown>): GenerationOptions {
  const num = (key: string): number => {
    const v = o[key];
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
    if (Number.isNaN(n)) throw new ApiError('INVALID_PARAMS', `option ${key} must be a number, got ${JSON.stringify(v)}`);
    return n;
  };
  const oneOf = <T extends string>(key: string, choices: readonly T[]): T => {
    if (choices.includes(o[key] as T)) return o[key] as T;
    throw new ApiError('INVALID_PARAMS', `option ${key} must be one of ${choices.join(', ')}, got ${JSON.stringify(o[key])}`);
  };
  return {
    CLIP_stop_at_last_layers: num('CLIP_stop_at_last_layers'),
    eta_noise_seed_delta: num('eta_noise_seed_delta'),
    randn_source: oneOf('randn_source', ['GPU', 'CPU', 'NV'] as const),
    eta_ancestral: num('eta_ancestral'),
    eta_ddim: num('eta_ddim'),
    s_churn: num('s_churn'),
    s_tmin: num('s_tmin'),
    s_tmax: num('s_tmax'),
    s_noise: num('s_noise'),
    sigma_min: num('sigma_min'),
    sigma_max: num('sigma_max'),
    rho: num('rho'),
    always_discard_next_to_last_sigma: Boolean(o.always_discard_next_to_last_sigma),
    sgm_noise_multiplier: Boolean(o.sgm_noise_multiplier), // Python truthiness, as A1111's `if opts.sgm_noise_multiplier`
    // Live previews: the engine decodes TAESD previews itself when these ask for them (LivePreview shows them).
    show_progress_type: typeof o.show_progress_type === 'string' ? o.show_progress_type : undefined,
    show_progress_every_n_steps: typeof o.show_progress_every_n_steps === 'number' ? o.show_progress_every_n_steps : undefined,
    ESRGAN_tile: typeof o.ESRGAN_tile === 'number' ? o.ESRGAN_tile : undefined,
    ESRGAN_tile_overlap: typeof o.ESRGAN_tile_overlap === 'number' ? o.ESRGAN_tile_overlap : undefined,
    live_previews_enable: o.live_previews_enable === undefined ? undefined : Boolean(o.live_previews_enable),
    // The UniPC choices are checked by the engine when UniPC runs (A1111 fails only then too).
    uni_pc_variant: o.uni_pc_variant as GenerationOptions['uni_pc_variant'],
    uni_pc_skip_type: o.uni_pc_skip_type as GenerationOptions['uni_pc_skip_type'],
    uni_pc_order: num('uni_pc_order'),
    uni_pc_lower_order_final: Boolean(o.uni_pc_lower_order_final),
    emphasis: oneOf('emphasis', EMPHASIS_MODES),
    comma_padding_backtrack: num('comma_padding_backtrack'),
    sdxl_clip_l_skip: Boolean(o.sdxl_clip_l_skip),
    enable_prompt_comments: Boolean(o.enable_prompt_comments),
    textual_inversion_add_hashes_to_infotext: Boolean(o.textual_inversion_add_hashes_to_infotext),
    lora_add_hashes_to_infotext: Boolean(o.lora_add_hashes_to_infotext ?? true),
    sd_lora: typeof o.sd_lora === 'string' ? o.sd_lora : 'None',
    extra_networks_default_multiplier: num('extra_networks_default_multiplier'),
    add_model_hash_to_info: Boolean(o.add_model_hash_to_info),
    add_model_name_to_info: Boolean(o.add_model_name_to_info),
    add_version_to_infotext: Boolean(o.add_version_to_infotext),
    // SDXL micro-conditioning and the refiner (spec §10; A1111 defaults 0, 0, 2.5, 6.0, 'second pass', false).
    sdxl_crop_top: num('sdxl_crop_top'),
    sdxl_crop_left: num('sdxl_crop_left'),
    sdxl_refiner_low_aesthetic_score: num('sdxl_refiner_low_aesthetic_score'),
    sdxl_refiner_high_aesthetic_score: num('sdxl_refiner_high_aesthetic_score'),
    hires_fix_refiner_pass: String(o.hires_fix_refiner_pass ?? 'second pass'),
    refiner_switch_by_sample_steps: Boolean(o.refiner_switch_by_sample_steps),
    // Resolved to a file by the generator, against the checkpoint the job runs on (services/vae-files.ts).
    sd_vae: typeof o.sd_vae === 'string' ? o.sd_vae : 'Automatic',
    ...img2imgOptions(o, num),
  };
}

/** The options img2img, inpainting and the hires second pass read (A1111 keys; spec §3.2, §10). */
function img2imgOptions(o: Record<string, unknown>, num: (key: string) => number): Partial<GenerationOptions> {
  return {
    img2img_fix_steps: Boolean(o.img2img_fix_steps),
    img2img_color_correction: Boolean(o.img2img_color_correction),
    return_mask: Boolean(o.return_mask),
    return_mask_composite: Boolean(o.return_mask_composite),
    initial_noise_multiplier: num('initial_noise_multiplier'),
    img2img_extra_noise: num('img2img_extra_noise'),
    img2img_background_color: String(o.img2img_background_color ?? '#ffffff'),
    inpainting_mask_weight: num('inpainting_mask_weight'),
    overlay_inpaint: Boolean(o.overlay_inpaint),
    upscaler_for_img2img: typeof o.upscaler_for_img2img === 'string' ? o.upscaler_for_img2img : null,
  };
}

export interface ResponseContext {
  /** Options in force after the job (they decide PNG text chunks and `restore_faces`). */
  options: Record<string, unknown>;
  /** `info.version` (A1111's git tag). */
  version: string | null;
  /** The images already encoded per `samples_format` (image-output.ts); without them PNGs are made here. */
  images?: string[];
}

/** Engine result → `{images, parameters, info}`; `parameters` echoes the request in model order with Python types. */
export function toTxt2ImgResponse(body: Txt2ImgRequest, result: Txt2ImgResult, ctx: ResponseContext): Txt2ImgResponse {
  const pnginfo = Boolean(ctx.options.enable_pnginfo);
  const images =
    body.send_images === false
      ? []
      : (ctx.images ?? result.images.map((img) => encodePng(img.rgb, img.width, img.height, pnginfo ? { parameters: img.infotext } : {}).toString('base64')));
  const provided = providedFields(body) ?? new Set(Object.keys(body));
  return {
    images,
    parameters: pyTyped(Txt2ImgRequest, body, { provided }) as Record<string, unknown>,
    info: pyJsonDumps(txt2imgInfo(body, result, ctx, provided)),
  };
}

const float = (v: number | null | undefined) => (typeof v === 'number' ? new PyFloat(v) : null);

/** The `info` object, keys in spec §4.6 order. */
function txt2imgInfo(body: Txt2ImgRequest, r: Txt2ImgResult, ctx: ResponseContext, provided: ReadonlySet<string>): Record<string, unknown> {
  const restoreFaces = body.restore_faces ?? Boolean(ctx.options.face_restoration);
  return {
    prompt: r.allPrompts[0] ?? '',
    all_prompts: r.allPrompts,
    negative_prompt: r.allNegativePrompts[0] ?? '',
    all_negative_prompts: r.allNegativePrompts,
    seed: r.allSeeds[0],
    all_seeds: r.allSeeds,
    subseed: r.allSubseeds[0],
    all_subseeds: r.allSubseeds,
    // pydantic leaves the int default 0 as an int; a sent value is coerced to float.
    subseed_strength: provided.has('subseed_strength') ? float(body.subseed_strength) : body.subseed_strength,
    // The job's size and effective batch as the engine reports them (img2img lowers the batch to the init images).
    width: r.width ?? body.width,
    height: r.height ?? body.height,
    sampler_name: r.samplerName,
    cfg_scale: float(body.cfg_scale),
    steps: body.steps,
    batch_size: r.batchSize ?? body.batch_size,
    restore_faces: restoreFaces,
    face_restoration_model: restoreFaces ? ctx.options.face_restoration_model : null,
    sd_model_name: r.sdModelName,
    sd_model_hash: r.sdModelHash,
    sd_vae_name: r.sdVaeName ?? null,
    sd_vae_hash: r.sdVaeHash ?? null,
    seed_resize_from_w: body.seed_resize_from_w,
    seed_resize_from_h: body.seed_resize_from_h,
    denoising_strength: float(body.denoising_strength),
    extra_generation_params: r.extraGenerationParams,
    // 1 when a script put a grid first (services/scripts).
    index_of_first_image: (r as { indexOfFirstImage?: number }).indexOfFirstImage ?? 0,
    infotexts: r.images.map((img) => img.infotext),
    styles: body.styles ?? [],
    job_timestamp: r.jobTimestamp,
    clip_skip: r.clipSkip,
    is_using_inpainting_conditioning: r.isUsingInpaintingConditioning ?? false,
    version: ctx.version,
    // This server's addition: what the job skipped that A1111 only logs (a LoRA not found, unmatched modules, …).
    ...(r.warnings && r.warnings.length > 0 ? { warnings: r.warnings } : {}),
  };
}
