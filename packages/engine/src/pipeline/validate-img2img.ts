/**
 * Checks of the img2img and hires-fix fields, before any work starts. Like validate.ts: errors name the
 * field (A1111's wire name), the value and what is allowed; nothing is clamped silently.
 */
import type { ModelConfig } from '../checkpoint/config.ts';
import { InvalidParamsError } from '../errors.ts';
import { LATENT_UPSCALE_MODES } from '../image/interpolate.ts';
import { PIXEL_UPSCALERS } from '../image/resize.ts';
import type { HiresFixParams, Img2ImgParams, RgbaImage, Txt2ImgParams } from './types.ts';
import { MAX_SIDE, validateTxt2Img } from './validate.ts';

/** Every name `hr_upscaler` accepts: the latent modes, then our pixel upscalers. */
export const HIRES_UPSCALERS: readonly string[] = [...Object.keys(LATENT_UPSCALE_MODES), ...PIXEL_UPSCALERS];

function unitInterval(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new InvalidParamsError(name, `${name} must be a number from 0 to 1, got ${JSON.stringify(value)}`);
  }
}

function intRange(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidParamsError(name, `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
}

function checkImage(name: string, img: RgbaImage): void {
  const ok =
    img && Number.isInteger(img.width) && Number.isInteger(img.height) && img.width > 0 && img.height > 0 && img.width <= MAX_SIDE && img.height <= MAX_SIDE;
  if (!ok)
    throw new InvalidParamsError(
      name,
      `${name} must be an image of 1 to ${MAX_SIDE} pixels per side, got ${img ? `${img.width}x${img.height}` : String(img)}`,
      'INVALID_IMAGE',
    );
  if (!(img.rgba instanceof Uint8Array) || img.rgba.length !== img.width * img.height * 4) {
    throw new InvalidParamsError(
      name,
      `${name}: ${img.width}x${img.height} RGBA needs ${img.width * img.height * 4} bytes, got ${img.rgba?.length}`,
      'INVALID_IMAGE',
    );
  }
}

/** Engine options that would need models or code we do not have are refused rather than ignored. */
function checkOptions(p: Txt2ImgParams): void {
  const method = p.options.sd_vae_encode_method ?? 'Full';
  if (method !== 'Full')
    throw new InvalidParamsError('sd_vae_encode_method', `sd_vae_encode_method '${method}' is not available (no TAESD weights); valid choices: Full`);
  const upscaler = p.options.upscaler_for_img2img ?? null;
  if (upscaler !== null && !(PIXEL_UPSCALERS as readonly string[]).includes(upscaler)) {
    throw new InvalidParamsError('upscaler_for_img2img', `upscaler_for_img2img '${upscaler}' is not available; valid choices: ${PIXEL_UPSCALERS.join(', ')}`);
  }
}

export function validateImg2Img(p: Img2ImgParams, config: ModelConfig): void {
  validateTxt2Img(p, config);
  checkOptions(p);
  if (!Array.isArray(p.initImages) || p.initImages.length === 0)
    throw new InvalidParamsError('init_images', 'init_images must hold at least one image, got none');
  for (const [i, img] of p.initImages.entries()) checkImage(`init_images[${i}]`, img);
  if (p.initImages.length > p.batchSize) {
    throw new InvalidParamsError(
      'init_images',
      `bad number of images passed: ${p.initImages.length}; expecting ${p.batchSize} or less (batch_size ${p.batchSize})`,
    );
  }
  if (![0, 1, 2, 3].includes(p.resizeMode))
    throw new InvalidParamsError(
      'resize_mode',
      `resize_mode must be 0 (just resize), 1 (crop and resize), 2 (resize and fill) or 3 (latent upscale), got ${JSON.stringify(p.resizeMode)}`,
    );
  unitInterval('denoising_strength', p.denoisingStrength);
  if (p.initialNoiseMultiplier != null && !Number.isFinite(p.initialNoiseMultiplier)) {
    throw new InvalidParamsError(
      'initial_noise_multiplier',
      `initial_noise_multiplier must be a finite number, got ${JSON.stringify(p.initialNoiseMultiplier)}`,
    );
  }
  if (p.mask) validateMask(p);
}

function validateMask(p: Img2ImgParams): void {
  const mask = p.mask as RgbaImage;
  checkImage('mask', mask);
  intRange('mask_blur_x', p.maskBlurX ?? 4, 0, 64);
  intRange('mask_blur_y', p.maskBlurY ?? 4, 0, 64);
  const fill = p.inpaintingFill ?? 0;
  if (![0, 1, 2, 3].includes(fill))
    throw new InvalidParamsError(
      'inpainting_fill',
      `inpainting_fill must be 0 (fill), 1 (original), 2 (latent noise) or 3 (latent nothing), got ${JSON.stringify(fill)}`,
    );
  intRange('inpaint_full_res_padding', p.inpaintFullResPadding ?? 0, 0, MAX_SIDE);
  const fullRes = p.inpaintFullRes ?? true;
  for (const [i, img] of p.initImages.entries()) {
    const sameSize = img.width === mask.width && img.height === mask.height;
    // "Only masked" crops the init images with a box found on the mask; A1111 silently misplaces it otherwise.
    if (fullRes && !sameSize) {
      throw new InvalidParamsError(
        'mask',
        `inpaint_full_res needs the mask (${mask.width}x${mask.height}) to be the size of init_images[${i}] (${img.width}x${img.height})`,
      );
    }
    // Latent upscale keeps the image size, while the mask is resized to width × height: A1111 fails there.
    if (!fullRes && p.resizeMode === 3 && (img.width !== p.width || img.height !== p.height)) {
      throw new InvalidParamsError(
        'resize_mode',
        `resize_mode 3 with a mask needs init_images[${i}] (${img.width}x${img.height}) to be width x height (${p.width}x${p.height}); use resize mode 0-2`,
      );
    }
  }
}

/** Hires fix needs denoising_strength (A1111 crashes with a TypeError without it) and known names (`models`: model upscalers). */
export function validateHires(p: Txt2ImgParams, h: HiresFixParams, models: readonly string[] = []): void {
  if (p.denoisingStrength == null) {
    throw new InvalidParamsError('denoising_strength', 'enable_hr needs denoising_strength (0 to 1; 0.7 is the usual choice) for the second pass, got null');
  }
  unitInterval('denoising_strength', p.denoisingStrength);
  if (!(typeof h.scale === 'number' && Number.isFinite(h.scale) && h.scale > 0))
    throw new InvalidParamsError('hr_scale', `hr_scale must be a positive number, got ${JSON.stringify(h.scale)}`);
  intRange('hr_resize_x', h.resizeX, 0, MAX_SIDE);
  intRange('hr_resize_y', h.resizeY, 0, MAX_SIDE);
  intRange('hr_second_pass_steps', h.secondPassSteps, 0, 1000);
  const valid = [...HIRES_UPSCALERS, ...models];
  if (h.upscaler !== null && !valid.includes(h.upscaler)) {
    throw new InvalidParamsError('hr_upscaler', `could not find upscaler named ${h.upscaler}; valid choices: ${valid.join(', ')}`);
  }
  if (h.cfgScale != null && !Number.isFinite(h.cfgScale))
    throw new InvalidParamsError('hr_cfg', `hr_cfg must be a finite number, got ${JSON.stringify(h.cfgScale)}`);
}
