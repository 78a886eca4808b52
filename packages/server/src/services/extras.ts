/**
 * POST /sdapi/v1/extra-single-image and /extra-batch-images (spec §3.3) without HTTP: request → job (every
 * check before any work: upscaler names, face restorers, output size, image decoding), the run inside the queue
 * (progress job `extras`, `job_count` = images), and the A1111 response pieces (`html_info`, PNG text chunks).
 * The upscale itself is the engine's (image/extras-upscale.ts, Pillow-exact; model upscalers: upscalers.ts).
 * Deviations from A1111, on purpose:
 * unknown upscalers are a 422 listing the valid names (A1111: 500 AssertionError); GFPGAN/CodeFormer visibility
 * > 0 is a 422 (no face restorer weights here; A1111 runs them). RGBA inputs stay RGBA as in A1111 (also
 * grey+alpha ones, which A1111 turns into RGB).
 */
import {
  EXTRAS_UPSCALERS,
  type ExtrasUpscaleParams,
  encodeImage,
  encodePng,
  encodePngRgba,
  extrasUpscale,
  extrasUpscalePlan,
  type GenerationHooks,
  type Pixels,
  postprocessingText,
} from '@sdapi/engine';
import type { ExtrasSingleImageRequest, ValidationIssue } from '@sdapi/protocol';
import { ApiError, RequestValidationError } from './errors.ts';
import { decodeRequestImage } from './image-input.ts';
import { outputFormat } from './image-output.ts';
import type { ModelUpscalers } from './upscalers.ts';

type ExtrasBody = Omit<ExtrasSingleImageRequest, 'image'>;

/** Largest output side and area (a 16384² RGB image is 768 MiB: refused before any work). */
export const EXTRAS_MAX_SIDE = 16384;
export const EXTRAS_MAX_PIXELS = 8192 * 8192;

export interface ExtrasInputImage {
  /** RGB, or RGBA when the input has alpha (A1111 keeps RGBA; other modes become RGB). */
  pixels: Pixels;
  /** The input's `parameters` infotext (PNG chunk or EXIF UserComment), kept on the output as A1111 does. */
  parameters: string | null;
}

export interface ExtrasJob {
  params: ExtrasUpscaleParams;
  images: ExtrasInputImage[];
}

export interface ExtrasOutputImage {
  /** RGB, or RGBA (an RGBA input not cropped). */
  pixels: Pixels;
  parameters: string | null;
  /** The `postprocessing` text: the info items as `k: v, k: v`. */
  postprocessing: string;
}

export interface ExtrasOutput {
  images: ExtrasOutputImage[];
  /** `html_info`: the last image's info as A1111's plaintext_to_html. */
  htmlInfo: string;
  interrupted: boolean;
}

const invalid = (message: string) => new ApiError('INVALID_PARAMS', message);

/** pydantic's range constraints of the extras models (A1111's `Field(ge=…, le=…, gt=…)`), in field order. */
const RANGES: [keyof ExtrasBody, 'ge' | 'gt' | 'le', number][] = [
  ['gfpgan_visibility', 'ge', 0],
  ['gfpgan_visibility', 'le', 1],
  ['codeformer_visibility', 'ge', 0],
  ['codeformer_visibility', 'le', 1],
  ['codeformer_weight', 'ge', 0],
  ['codeformer_weight', 'le', 1],
  ['upscaling_resize', 'gt', 0],
  ['upscaling_resize_w', 'ge', 1],
  ['upscaling_resize_h', 'ge', 1],
  ['extras_upscaler_2_visibility', 'ge', 0],
  ['extras_upscaler_2_visibility', 'le', 1],
];
const RANGE_TEXT = { ge: 'greater than or equal to', gt: 'greater than', le: 'less than or equal to' };

/** The 422 pydantic gives for out-of-range numbers (the schema coercion checks types only). */
function checkRanges(body: ExtrasBody): void {
  const issues: ValidationIssue[] = [];
  const mode = body.resize_mode as unknown;
  if (mode !== undefined && mode !== null && mode !== 0 && mode !== 1) {
    issues.push({ loc: ['body', 'resize_mode'], msg: 'unexpected value; permitted: 0, 1', type: 'value_error.const', ctx: { given: mode, permitted: [0, 1] } });
  }
  for (const [field, op, limit] of RANGES) {
    const value = body[field];
    if (typeof value !== 'number') continue;
    const ok = op === 'ge' ? value >= limit : op === 'gt' ? value > limit : value <= limit;
    if (ok && Number.isFinite(value)) continue;
    if (issues.some((i) => i.loc[1] === field)) continue;
    issues.push({
      loc: ['body', field],
      msg: `ensure this value is ${RANGE_TEXT[op]} ${limit}`,
      type: `value_error.number.not_${op}`,
      ctx: { limit_value: limit },
    });
  }
  if (issues.length > 0) throw new RequestValidationError(issues);
}

/**
 * The request's options → engine parameters; 422 for upscalers we do not have (the built-in ones and `models`'s
 * files are valid) and for face restoration.
 */
export function toExtrasParams(request: ExtrasBody, models?: ModelUpscalers): ExtrasUpscaleParams {
  checkRanges(request);
  const body = { ...EXTRAS_DEFAULTS, ...definedOnly(request) };
  let valid = [...EXTRAS_UPSCALERS, ...(models?.names() ?? [])];
  for (const field of ['upscaler_1', 'upscaler_2'] as const) {
    const name = body[field];
    if (models && !valid.includes(name)) {
      models.refresh(); // a file dropped in since the last look
      valid = [...EXTRAS_UPSCALERS, ...models.names()];
    }
    const problem = models?.problem(name);
    if (problem) throw invalid(`${field}: upscaler ${JSON.stringify(name)} cannot be used: ${problem}`);
    if (!valid.includes(name)) {
      throw invalid(`${field}: could not find upscaler named ${JSON.stringify(name)}; valid choices (GET /sdapi/v1/upscalers): ${valid.join(', ')}`);
    }
  }
  for (const field of ['gfpgan_visibility', 'codeformer_visibility'] as const) {
    if (body[field] > 0) {
      throw new ApiError(
        'UNSUPPORTED_PARAM',
        `${field}=${body[field]}: face restoration (GFPGAN, CodeFormer) is not available on this server (no face restorer models; GET /sdapi/v1/face-restorers is empty); send 0`,
      );
    }
  }
  return {
    resizeMode: body.resize_mode,
    upscalingResize: body.upscaling_resize,
    width: body.upscaling_resize_w,
    height: body.upscaling_resize_h,
    crop: body.upscaling_crop,
    upscaler1: body.upscaler_1,
    upscaler2: body.upscaler_2,
    upscaler2Visibility: body.extras_upscaler_2_visibility,
  };
}

/**
 * Decodes the images and checks each output size; `field` names them in errors (`image`, `imageList[2].data`).
 * `maxImagePixels`: the server's `--max-image-pixels` (a larger input is a 413).
 */
export async function toExtrasJob(
  body: ExtrasBody,
  images: { value: string; field: string }[],
  options: Record<string, unknown>,
  maxImagePixels: number,
  models?: ModelUpscalers,
): Promise<ExtrasJob> {
  const params = toExtrasParams(body, models);
  outputFormat(options.samples_format); // an unusable samples_format fails now, not after the work
  const decoded: ExtrasInputImage[] = [];
  for (const { value, field } of images) {
    const image = await decodeRequestImage(value, options, { maxPixels: maxImagePixels, field }).catch((error: unknown) => {
      if (error instanceof ApiError && error.code === 'PAYLOAD_TOO_LARGE') throw error; // names the field already
      if (error instanceof ApiError) throw new ApiError(error.code, `${error.message} (${field})`, { cause: error });
      throw error;
    });
    const plan = extrasUpscalePlan(image.width, image.height, params);
    if (plan.width < 1 || plan.height < 1) {
      throw invalid(`${field}: upscaling ${image.width}x${image.height} by ${plan.scale} gives an empty image (A1111 rounds the size down to a multiple of 8)`);
    }
    if (Math.max(plan.width, plan.height) > EXTRAS_MAX_SIDE || plan.width * plan.height > EXTRAS_MAX_PIXELS) {
      throw invalid(
        `${field}: the result would be ${plan.width}x${plan.height}; at most ${EXTRAS_MAX_SIDE} pixels a side and ${EXTRAS_MAX_PIXELS} pixels in all`,
      );
    }
    const pixels: Pixels = image.hasAlpha
      ? { width: image.width, height: image.height, channels: 4, data: image.rgba }
      : { width: image.width, height: image.height, channels: 3, data: rgbOf(image.rgba) };
    decoded.push({ pixels, parameters: infotextOf(image) });
  }
  return { params, images: decoded };
}

/**
 * Inside the queue: one image after another; an interrupt stops before the next image (the done ones are kept).
 * A model upscaler runs through `models` (in the engine's process, not on this thread).
 */
export async function runExtras(job: ExtrasJob, hooks: GenerationHooks, models?: ModelUpscalers): Promise<ExtrasOutput> {
  const images: ExtrasOutputImage[] = [];
  let info = '';
  for (const [i, input] of job.images.entries()) {
    if (hooks.signal?.aborted) break;
    // One "step" per image, so that job progress moves (A1111 reports sampling_steps 0 for extras).
    hooks.onProgress?.({ jobNo: i, jobCount: job.images.length, samplingStep: 0, samplingSteps: 1 });
    // The resize is synchronous work: yield first so that progress and interrupts are served between images.
    await new Promise((resolve) => setImmediate(resolve));
    const { image, info: items } = await extrasUpscale(input.pixels, job.params, models?.run, hooks.signal);
    info = postprocessingText(items);
    images.push({ pixels: image, parameters: input.parameters, postprocessing: info });
  }
  return { images, htmlInfo: plaintextToHtml(info), interrupted: images.length < job.images.length };
}

/** A1111's plaintext_to_html: HTML-escaped lines joined by `<br>\n` inside `<p>…</p>`. */
export function plaintextToHtml(text: string): string {
  return `<p>${text.split('\n').map(escapeHtml).join('<br>\n')}</p>`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
}

/** One output image as A1111 encodes it: `samples_format`, with `parameters` (if the input had one) and `postprocessing`. */
export async function encodeExtrasImage(image: ExtrasOutputImage, options: Record<string, unknown>): Promise<Buffer> {
  const format = outputFormat(options.samples_format);
  const text = options.enable_pnginfo ? extrasText(image) : {};
  if (format === 'png') return extrasPng(image, text);
  const quality = typeof options.jpeg_quality === 'number' ? options.jpeg_quality : 80;
  // JPEG/WEBP: RGBA becomes RGB (alpha dropped, as Pillow's convert("RGB")).
  const { width, height, channels, data } = image.pixels;
  return encodeImage(channels === 4 ? rgbOf(data) : data, width, height, { format, quality, text });
}

/** The PNG of an output image, RGB or RGBA, with these text chunks. */
export function extrasPng(image: ExtrasOutputImage, text: Record<string, string>): Buffer {
  const { width, height, channels, data } = image.pixels;
  return channels === 4 ? encodePngRgba(data, width, height, text) : encodePng(data, width, height, text);
}

/** The text chunks of an output image: the input's `parameters` (if any), then `postprocessing`. */
export function extrasText(image: ExtrasOutputImage): Record<string, string> {
  return image.parameters === null ? { postprocessing: image.postprocessing } : { parameters: image.parameters, postprocessing: image.postprocessing };
}

/** The schema's defaults (spec §3.3), for fields a caller left out. */
const EXTRAS_DEFAULTS = {
  resize_mode: 0 as 0 | 1,
  gfpgan_visibility: 0,
  codeformer_visibility: 0,
  upscaling_resize: 2,
  upscaling_resize_w: 512,
  upscaling_resize_h: 512,
  upscaling_crop: true,
  upscaler_1: 'None',
  upscaler_2: 'None',
  extras_upscaler_2_visibility: 0,
};

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}

function rgbOf(rgba: Uint8Array): Uint8Array {
  const rgb = new Uint8Array((rgba.length / 4) * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return rgb;
}

function infotextOf(image: { text: Record<string, string>; userComment: string }): string | null {
  return image.text.parameters ?? (image.userComment !== '' ? image.userComment : null);
}
