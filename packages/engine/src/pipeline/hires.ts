/**
 * Hires fix (spec §3.1.3): txt2img's second pass, an img2img over the first pass's upscaled result, as A1111's
 * StableDiffusionProcessingTxt2Img does it (init → calculate_target_resolution → sample_hr_pass): the target
 * size from hr_scale or hr_resize_x/y (cover, then a central latent crop), a latent upscale
 * (F.interpolate with the mode's name) or a pixel one (decode → resize → encode), fresh seed noise at the new
 * size, conditioning from the hires prompts at the hires size, and `hr_second_pass_steps or steps` steps run
 * exactly (A1111 passes them to sample_img2img, which stretches the schedule by 1 / denoising_strength).
 *
 * Deviation: a pixel-space upscale to a size that is not a multiple of 8 resizes to the multiple of 8 below
 * (A1111 VAE-encodes the odd size and its latent rounds up); latent upscales match A1111 (size // 8).
 */
import { type Pixels, pixels } from '../image/compose.ts';
import { toRgbBytes } from '../image/convert.ts';
import { interpolate, LATENT_UPSCALE_MODES } from '../image/interpolate.ts';
import { resizeImage } from '../image/resize.ts';
import { ImageRNG } from '../rng/image-rng.ts';
import { Tensor } from '../tensor.ts';
import { stripComments } from '../text/comments.ts';
import type { ModelUpscalerHook } from '../upscalers/catalog.ts';
import { controlHook, type PreparedControl } from './control-units.ts';
import { encodeLatents, inpaintingConditioning, latentChannels, toImageTensor, txt2imgConditioning } from './img2img-latents.ts';
import { img2imgSteps } from './img2img-sampling.ts';
import { type InfotextContext, pyFloat } from './infotext.ts';
import type { LoadedModel } from './model.ts';
import { type RefinerJob, refinerSwitch } from './refiner-pass.ts';
import { conditionBatch, type PreparedSampling, prepareSampling, runSampling } from './sample.ts';
import { sdxlMicroConditioning } from './sdxl-conditioning.ts';
import type { GenerationHooks, HiresFixParams, Txt2ImgParams } from './types.ts';
import { validateHires } from './validate-img2img.ts';

export interface HiresPlan {
  hires: HiresFixParams;
  /** hr_upscale_to_x/y and the latent crop (in latent pixels) of the cover-then-crop resize. */
  upscaleTo: { width: number; height: number };
  truncate: { x: number; y: number };
  upscaler: string;
  /** The second pass's parameters (sampler, scheduler, CFG) and its stretched schedule. */
  params: Txt2ImgParams;
  sampling: PreparedSampling;
  steps: number;
  tEnc: number;
  hrPrompts: string[];
  hrNegatives: string[];
  /** A1111 init()'s infotext keys, in its order. */
  extra: Record<string, unknown>;
}

/** The size the second pass samples at: the upscaled latent after its central crop, in pixels. */
export function hiresSize(plan: Pick<HiresPlan, 'upscaleTo' | 'truncate'>): { width: number; height: number } {
  return { width: (Math.floor(plan.upscaleTo.width / 8) - plan.truncate.x) * 8, height: (Math.floor(plan.upscaleTo.height / 8) - plan.truncate.y) * 8 };
}

/** A1111 calculate_target_resolution (without the legacy firstphase/old-hires options, which the caller maps). */
export function hiresTarget(
  width: number,
  height: number,
  h: HiresFixParams,
): { upscaleTo: { width: number; height: number }; truncate: { x: number; y: number } } {
  const none = { x: 0, y: 0 };
  if (h.resizeX === 0 && h.resizeY === 0) return { upscaleTo: { width: Math.trunc(width * h.scale), height: Math.trunc(height * h.scale) }, truncate: none };
  if (h.resizeY === 0) return { upscaleTo: { width: h.resizeX, height: Math.floor((h.resizeX * height) / width) }, truncate: none };
  if (h.resizeX === 0) return { upscaleTo: { width: Math.floor((h.resizeY * width) / height), height: h.resizeY }, truncate: none };
  // Both given: scale to cover the box keeping the aspect ratio, then crop the latent centrally.
  const upscaleTo =
    width / height < h.resizeX / h.resizeY
      ? { width: h.resizeX, height: Math.floor((h.resizeX * height) / width) }
      : { width: Math.floor((h.resizeY * width) / height), height: h.resizeY };
  return { upscaleTo, truncate: { x: Math.floor((upscaleTo.width - h.resizeX) / 8), y: Math.floor((upscaleTo.height - h.resizeY) / 8) } };
}

/** Everything about the second pass that does not depend on the batch; validates the hires fields. */
export function planHires(
  model: LoadedModel,
  params: Txt2ImgParams,
  prompts: readonly string[],
  negatives: readonly string[],
  firstPassSchedule: unknown,
): HiresPlan {
  const hires = params.hires as HiresFixParams;
  validateHires(params, hires, model.upscalers?.names() ?? []);
  const strength = params.denoisingStrength as number;
  const comments = params.options.enable_prompt_comments ?? true;
  const clean = (text: string) => (comments ? stripComments(text) : text);
  const hrPrompts = prompts.map((p) => (hires.prompt ? clean(hires.prompt) : p));
  const hrNegatives = negatives.map((n) => (hires.negativePrompt ? clean(hires.negativePrompt) : n));
  const requested = hires.secondPassSteps || params.steps;
  const { steps, tEnc } = img2imgSteps(params.steps, strength, true, requested);
  const passParams: Txt2ImgParams = {
    ...params,
    samplerName: hires.samplerName || params.samplerName,
    scheduler: hires.scheduler || params.scheduler,
    cfgScale: hires.cfgScale ?? params.cfgScale,
    steps: Math.max(steps, 1),
  };
  const sampling = prepareSampling(model, passParams);
  const { upscaleTo, truncate } = hiresTarget(params.width, params.height, hires);
  const upscaler = hires.upscaler ?? 'Latent';
  const extra = hiresInfotext(params, hires, hrPrompts, hrNegatives, sampling, firstPassSchedule);
  return { hires, upscaleTo, truncate, upscaler, params: { ...passParams, steps: requested }, sampling, steps, tEnc, hrPrompts, hrNegatives, extra };
}

/** A1111 txt2img init()'s hires keys, plus `Hires schedule type` when the second pass's differs (its get_sigmas). */
function hiresInfotext(
  p: Txt2ImgParams,
  h: HiresFixParams,
  hrPrompts: string[],
  hrNegatives: string[],
  sampling: PreparedSampling,
  firstPassSchedule: unknown,
): Record<string, unknown> {
  const extra: Record<string, unknown> = { 'Denoising strength': pyFloat(p.denoisingStrength as number) };
  if (h.checkpoint) extra['Hires checkpoint'] = h.checkpoint.title;
  if (h.samplerName && h.samplerName !== p.samplerName) extra['Hires sampler'] = h.samplerName;
  extra['Hires prompt'] = (ctx: InfotextContext) => (hrPrompts[ctx.index] !== ctx.p.allPrompts[ctx.index] ? hrPrompts[ctx.index] : null);
  extra['Hires negative prompt'] = (ctx: InfotextContext) => (hrNegatives[ctx.index] !== ctx.p.allNegativePrompts[ctx.index] ? hrNegatives[ctx.index] : null);
  const hrSchedule = sampling.extraGenerationParams['Schedule type'];
  extra['Hires schedule type'] = hrSchedule !== undefined && hrSchedule !== firstPassSchedule ? hrSchedule : null;
  if (h.resizeX === 0 && h.resizeY === 0) extra['Hires upscale'] = pyFloat(h.scale);
  else extra['Hires resize'] = `${h.resizeX}x${h.resizeY}`;
  if (h.secondPassSteps) extra['Hires steps'] = h.secondPassSteps;
  if (h.upscaler !== null) extra['Hires upscaler'] = h.upscaler;
  if (h.cfgScale != null && h.cfgScale !== p.cfgScale) extra['Hires CFG Scale'] = pyFloat(h.cfgScale); // A1111 dev / Forge key
  return extra;
}

export interface HiresBatch {
  latent: Tensor;
  seeds: number[];
  subseeds: number[];
  range: readonly [number, number];
  iteration: number;
  hooks: GenerationHooks;
}

/**
 * Upscales one batch's first-pass latent (in latent or pixel space) and crops it to the target; a pixel upscaler
 * decodes with `first` (the first pass's model) and encodes with `model` (the second pass's).
 */
async function upscale(first: LoadedModel, model: LoadedModel, plan: HiresPlan, latent: Tensor, signal?: AbortSignal): Promise<Tensor> {
  const [h, w] = [Math.floor(plan.upscaleTo.height / 8), Math.floor(plan.upscaleTo.width / 8)];
  const mode = LATENT_UPSCALE_MODES[plan.upscaler];
  let samples: Tensor;
  if (mode) {
    samples = interpolate(latent, h, w, mode.mode, mode.antialias);
  } else {
    const decoded = await first.decode(latent);
    const images: Tensor[] = [];
    for (let b = 0; b < latent.shape[0]; b++) {
      const lowres = pixels(decoded.shape[3], decoded.shape[2], 3, toRgbBytes(decoded, b));
      // The first pass's model carries the hook (a hires checkpoint is another model, opened without one).
      const hook: ModelUpscalerHook | null = first.upscalers ?? model.upscalers;
      const withModel = hook ? (name: string, img: Pixels, scale: number) => hook.upscale(name, img, scale, plan.params.options, signal) : undefined;
      images.push(toImageTensor(await resizeImage(0, lowres, w * 8, h * 8, plan.upscaler, withModel)));
    }
    samples = await encodeLatents(model, Tensor.cat(images));
  }
  return cropLatent(samples, plan.truncate);
}

/** samples[:, :, ty//2 : H − (ty+1)//2, tx//2 : W − (tx+1)//2] */
function cropLatent(x: Tensor, { x: tx, y: ty }: { x: number; y: number }): Tensor {
  if (tx === 0 && ty === 0) return x;
  const [n, c, h, w] = x.shape;
  const [top, left] = [Math.floor(ty / 2), Math.floor(tx / 2)];
  const [oh, ow] = [h - Math.floor((ty + 1) / 2) - top, w - Math.floor((tx + 1) / 2) - left];
  const out = new Tensor([n, c, oh, ow]);
  for (let p = 0; p < n * c; p++) {
    for (let y = 0; y < oh; y++) out.data.set(x.data.subarray(p * h * w + (top + y) * w + left, p * h * w + (top + y) * w + left + ow), (p * oh + y) * ow);
  }
  return out;
}

/** Inpainting checkpoints: A1111 uses the txt2img conditioning unless inpainting_mask_weight < 1. */
async function hiresImageCond(model: LoadedModel, plan: HiresPlan, samples: Tensor): Promise<Tensor | null> {
  if (model.config.unet.in_channels === latentChannels(model)) return null;
  const [n, , h, w] = samples.shape;
  const weight = plan.params.options.inpainting_mask_weight ?? 1;
  if (weight >= 1) return txt2imgConditioning(model, n, h * 8, w * 8);
  return inpaintingConditioning(model, await model.decode(samples), null, weight, true, [h, w]);
}

/** What the second pass tells the job besides its latent: infotext keys and warnings as they arise. */
export interface HiresPassContext {
  refiner?: RefinerJob | null;
  /** Keys for extra_generation_params (`Lora hashes`, the refiner's) and the notes of the pass (LoRA warnings). */
  onExtra?: (extra: Record<string, unknown>, warnings: readonly string[]) => void;
  /** The job's `Lora hashes` so far (the first pass's); the second pass's networks are added to them. */
  loraHashes?: unknown;
  /** ControlNet units; in this pass they use their hires hints and `hr_option` (control-units.ts). */
  control?: PreparedControl | null;
  /** hr_checkpoint_name's model (pipeline/hires-checkpoint.ts): it runs the pass after the first pass's decode. */
  checkpointModel?: LoadedModel | null;
}

/**
 * A1111's `p.lora_hashes` across passes: the hires pass adds its networks to the first pass's (same name: the later
 * hash), and `Lora hashes` lists them all.
 */
export function mergeLoraHashes(first: unknown, second: unknown): string | undefined {
  const entries = new Map<string, string>();
  for (const text of [first, second]) {
    if (typeof text !== 'string' || text === '') continue;
    for (const item of text.split(', ')) {
      const at = item.lastIndexOf(': ');
      if (at > 0) entries.set(item.slice(0, at), item.slice(at + 2));
    }
  }
  return entries.size > 0 ? [...entries].map(([name, hash]) => `${name}: ${hash}`).join(', ') : undefined;
}

/**
 * A1111 sample_hr_pass for one batch: returns the second pass's latent (or the first one's when interrupted) and the
 * model that sampled it last (the refiner once it switched).
 */
export async function hiresPass(
  model: LoadedModel,
  plan: HiresPlan,
  batch: HiresBatch,
  context: HiresPassContext = {},
): Promise<{ latent: Tensor; interrupted: boolean; model: LoadedModel }> {
  if (batch.hooks.signal?.aborted) return { latent: batch.latent, interrupted: true, model };
  // A1111 decodes the first pass with the job's model, then switches to the hires checkpoint for everything after.
  const first = model;
  model = context.checkpointModel ?? model;
  const samples = await upscale(first, model, plan, batch.latent, batch.hooks.signal);
  const [, c, h, w] = samples.shape;
  const p = plan.params;
  const micro = sdxlMicroConditioning({ ...p, width: w * 8, height: h * 8 });
  const text = {
    prepared: plan.sampling,
    prompts: plan.hrPrompts.slice(...batch.range),
    negatives: plan.hrNegatives.slice(...batch.range),
    options: p.options,
    steps: p.steps,
    micro,
  };
  const { cond, uncond, textParams, warnings } = await conditionBatch(model, plan.sampling, text.prompts, text.negatives, p.options, p.steps, micro);
  // The second pass's networks (hr_prompt may name others): their warnings and hashes belong to the job too.
  const hashes = mergeLoraHashes(context.loraHashes, textParams['Lora hashes']);
  context.onExtra?.(hashes ? { 'Lora hashes': hashes } : {}, warnings);
  const rng = new ImageRNG({
    shape: [c, h, w],
    seeds: batch.seeds,
    subseeds: batch.subseeds,
    subseedStrength: p.subseedStrength,
    seedResizeFromH: p.seedResizeFromH,
    seedResizeFromW: p.seedResizeFromW,
    source: p.options.randn_source,
    etaNoiseSeedDelta: p.options.eta_noise_seed_delta,
  });
  if (plan.steps === 0) return { latent: samples, interrupted: false, model }; // strength 0: nothing to re-run
  const init = { latent: samples, steps: plan.steps, tEnc: plan.tEnc, noiseMultiplier: 1, extraNoise: p.options.img2img_extra_noise ?? 0 };
  const job = { no: batch.iteration * 2 + 1, count: p.nIter * 2 };
  return runSampling(model, plan.sampling, {
    cond,
    uncond,
    rng,
    params: p,
    hooks: batch.hooks,
    iteration: batch.iteration,
    init,
    imageCond: await hiresImageCond(model, plan, samples),
    job,
    // A1111 sampling_steps = t_enc + 1 here. The units' residuals fit the first model's UNet only.
    control: model === first ? controlHook(context.control ?? null, plan.tEnc + 1, 'high') : undefined,
    refiner: refinerSwitch(context.refiner ?? null, 'second', text, (extra, notes) => context.onExtra?.(extra, notes)),
  });
}
