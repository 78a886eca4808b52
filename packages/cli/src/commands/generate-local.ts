/**
 * In-process engine parameters for `sdapi generate`: txt2img, or img2img/inpainting when --init-image is given
 * (images and masks of any format sharp reads, EXIF orientation applied), plus the hires-fix flags.
 */
import { readFileSync } from 'node:fs';
import {
  decodeImage,
  defaultImg2ImgParams,
  defaultTxt2ImgParams,
  type HiresFixParams,
  type Img2ImgParams,
  type InpaintingFill,
  type ResizeMode,
  type RgbaImage,
  type Txt2ImgParams,
} from '@sdapi/engine';
import { CliError } from '../output.ts';

/** The flags this module reads (a subset of generate's parsed values). */
export interface LocalValues {
  prompt: string;
  'negative-prompt': string;
  sampler: string;
  scheduler: string;
  'init-image'?: string[];
  mask?: string;
  'denoising-strength'?: string;
  'resize-mode'?: string;
  'mask-blur'?: string;
  'inpainting-fill'?: string;
  'inpaint-full-res'?: boolean;
  'hires-scale'?: string;
  'hires-steps'?: string;
  'hires-upscaler'?: string;
  [flag: string]: unknown;
}

export type LocalJob = { kind: 'txt2img'; params: Txt2ImgParams } | { kind: 'img2img'; params: Img2ImgParams };

const FILLS: Record<string, InpaintingFill> = { fill: 0, original: 1, 'latent-noise': 2, 'latent-nothing': 3 };

/** Parses a numeric flag, naming it in the error. */
function num(values: LocalValues, name: string): number {
  const value = Number(values[name]);
  if (values[name] === undefined || !Number.isFinite(value)) throw new CliError(`--${name} must be a number, got '${String(values[name])}'`);
  return value;
}

/** The job the flags describe; `base` holds the txt2img fields generate already parsed. */
export async function localJob(values: LocalValues, base: Partial<Txt2ImgParams>): Promise<LocalJob> {
  const hires = hiresParams(values);
  const inits = values['init-image'] ?? [];
  if (inits.length === 0) {
    if (values.mask) throw new CliError('--mask needs --init-image (the picture to inpaint)');
    const denoisingStrength = hires ? denoising(values, 0.7) : null;
    return { kind: 'txt2img', params: defaultTxt2ImgParams({ ...base, hires, denoisingStrength }) };
  }
  if (hires) throw new CliError('--hires-* flags apply to txt2img only (A1111 has no hires fix in img2img); drop them or --init-image');
  const params = defaultImg2ImgParams({
    ...base,
    initImages: await Promise.all(inits.map((file) => readImage(file, '--init-image'))),
    mask: values.mask ? await readImage(values.mask, '--mask') : null,
    denoisingStrength: denoising(values, 0.75),
    resizeMode: choice(values, 'resize-mode', ['0', '1', '2', '3']) as ResizeMode,
    inpaintFullRes: Boolean(values['inpaint-full-res']),
  });
  if (values['mask-blur'] !== undefined) params.maskBlurX = params.maskBlurY = num(values, 'mask-blur');
  if (values['inpainting-fill'] !== undefined) {
    const fill = FILLS[values['inpainting-fill']];
    if (fill === undefined) throw new CliError(`--inpainting-fill must be one of ${Object.keys(FILLS).join(', ')}, got '${values['inpainting-fill']}'`);
    params.inpaintingFill = fill;
  }
  // Several init images: one per batch item (A1111 lowers batch_size to their count).
  if (params.initImages.length > 1) params.batchSize = params.initImages.length;
  return { kind: 'img2img', params };
}

function denoising(values: LocalValues, fallback: number): number {
  if (values['denoising-strength'] === undefined) return fallback;
  const d = num(values, 'denoising-strength');
  if (d < 0 || d > 1) throw new CliError(`--denoising-strength must be from 0 to 1, got ${d}`);
  return d;
}

function choice(values: LocalValues, name: string, allowed: string[]): number {
  const v = String(values[name] ?? allowed[0]);
  if (!allowed.includes(v)) throw new CliError(`--${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  return Number(v);
}

/** --hires-scale / --hires-steps / --hires-upscaler → A1111's hires fix (any of them turns it on). */
function hiresParams(values: LocalValues): HiresFixParams | null {
  if (values['hires-scale'] === undefined && values['hires-steps'] === undefined && values['hires-upscaler'] === undefined) return null;
  const scale = values['hires-scale'] === undefined ? 2 : num(values, 'hires-scale');
  if (scale <= 0) throw new CliError(`--hires-scale must be > 0, got ${scale}`);
  const steps = values['hires-steps'] === undefined ? 0 : num(values, 'hires-steps');
  if (!Number.isInteger(steps) || steps < 0) throw new CliError(`--hires-steps must be an integer ≥ 0 (0 = as many as --steps), got ${steps}`);
  return {
    scale,
    resizeX: 0,
    resizeY: 0,
    upscaler: values['hires-upscaler'] ?? null,
    secondPassSteps: steps,
    samplerName: null,
    scheduler: null,
    prompt: '',
    negativePrompt: '',
  };
}

async function readImage(file: string, flag: string): Promise<RgbaImage> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new CliError(`${flag} ${file}: ${(e as Error).message}`);
  }
  try {
    const image = await decodeImage(bytes);
    return { width: image.width, height: image.height, rgba: image.rgba };
  } catch (e) {
    throw new CliError(`${flag} ${file} is not an image this build can read (${(e as Error).message})`);
  }
}
