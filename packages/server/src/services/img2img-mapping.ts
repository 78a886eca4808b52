/**
 * img2img's wire contract ↔ the engine (spec §3.2): the fields img2img shares with txt2img go through the txt2img
 * mapping, the image fields are checked and decoded here, and the response echoes the request with A1111's
 * `include_init_images` rule. No I/O other than decoding the request's images.
 */
import type { DecodedImage, Img2ImgParams, Img2ImgResult, InpaintingFill, ResizeMode } from '@sdapi/engine';
import { Img2ImgRequest, type Img2ImgResponse, providedFields, type Txt2ImgRequest } from '@sdapi/protocol';
import { pyTyped } from '../wire/py-typed.ts';
import type { Catalog } from './catalog.ts';
import { ApiError } from './errors.ts';
import { type MappingOptions, type ResponseContext, type Txt2ImgJob, toTxt2ImgJob, toTxt2ImgResponse } from './mapping.ts';

export interface Img2ImgJob extends Omit<Txt2ImgJob, 'params'> {
  params: Img2ImgParams;
}

/** Decodes one request image (image-input.ts `decodeRequestImage` with the options and pixel limit bound); `field` is named in its errors. */
export type ImageDecoder = (value: string, field: string) => Promise<DecodedImage>;

const RESIZE_MODES = ['0 (just resize)', '1 (crop and resize)', '2 (resize and fill)', '3 (just resize, latent upscale)'];
const FILLS = ['0 (fill)', '1 (original)', '2 (latent noise)', '3 (latent nothing)'];

/**
 * A validated img2img request → the engine job. Order as A1111: `init_images` null → 404 `Init image not found`,
 * then the mask, then the init images (A1111 decodes those inside the queue lock; here before queueing, so a bad
 * image is refused without waiting). More images than `batch_size` is a 422 (A1111: 500 RuntimeError).
 */
export async function toImg2ImgJob(
  body: Img2ImgRequest,
  options: Record<string, unknown>,
  catalog: Catalog,
  decode: ImageDecoder,
  mapping: MappingOptions = {},
): Promise<Img2ImgJob> {
  if (body.init_images === null || body.init_images === undefined) throw new ApiError('NOT_FOUND', 'Init image not found');
  const mask = typeof body.mask === 'string' && body.mask !== '' ? await decode(body.mask, 'mask') : null;
  const initImages = await decodeInitImages(body.init_images, body.batch_size ?? 1, decode);
  // The shared fields; `infotext` was applied by the route with the img2img field table, so it is cleared here.
  const base = toTxt2ImgJob({ ...(body as unknown as Txt2ImgRequest), infotext: null }, options, catalog, mapping);
  const blur = body.mask_blur;
  const params: Img2ImgParams = {
    ...base.params,
    batchSize: initImages.length > 1 ? initImages.length : base.params.batchSize,
    initImages: initImages.map(rgba),
    resizeMode: choice(body, 'resize_mode', 4, RESIZE_MODES) as ResizeMode,
    denoisingStrength: unit(body.denoising_strength, 'denoising_strength'),
    initialNoiseMultiplier: body.initial_noise_multiplier ?? null,
    mask: mask ? rgba(mask) : null,
    maskBlurX: nonNegative(typeof blur === 'number' ? blur : body.mask_blur_x, 'mask_blur_x'),
    maskBlurY: nonNegative(typeof blur === 'number' ? blur : body.mask_blur_y, 'mask_blur_y'),
    maskRound: body.mask_round ?? true,
    inpaintingFill: choice(body, 'inpainting_fill', 4, FILLS) as InpaintingFill,
    inpaintFullRes: body.inpaint_full_res ?? true,
    inpaintFullResPadding: nonNegative(body.inpaint_full_res_padding, 'inpaint_full_res_padding'),
    inpaintingMaskInvert: choice(body, 'inpainting_mask_invert', 2, ['0 (inpaint masked)', '1 (inpaint not masked)']) === 1,
  };
  return { ...base, params };
}

async function decodeInitImages(values: unknown[], batchSize: number, decode: ImageDecoder): Promise<DecodedImage[]> {
  if (values.length === 0) throw new ApiError('INVALID_PARAMS', 'init_images is empty: send at least one image (base64, a data: URL or an http(s) URL)');
  if (values.length > batchSize)
    throw new ApiError(
      'INVALID_PARAMS',
      `bad number of images passed: ${values.length}; expecting ${batchSize} or less (init_images may hold at most batch_size images)`,
    );
  const out: DecodedImage[] = [];
  for (const [i, value] of values.entries()) {
    if (typeof value !== 'string')
      throw new ApiError('INVALID_PARAMS', `init_images[${i}] must be a string (base64, a data: URL or an http(s) URL), got ${JSON.stringify(value)}`);
    out.push(await decode(value, `init_images[${i}]`));
  }
  return out;
}

const rgba = (image: DecodedImage) => ({ width: image.width, height: image.height, rgba: image.rgba });

type IntField = 'resize_mode' | 'inpainting_fill' | 'inpainting_mask_invert';

/** An int field that must be one of 0…count-1 (null = its default 0). */
function choice(body: Img2ImgRequest, field: IntField, count: number, labels: string[]): number {
  const v = body[field] ?? 0;
  if (!Number.isInteger(v) || v < 0 || v >= count) throw new ApiError('INVALID_PARAMS', `${field} must be one of ${labels.join(', ')}; got ${v}`);
  return v;
}

function unit(v: number | null | undefined, field: string): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || v > 1)
    throw new ApiError('INVALID_PARAMS', `${field} must be a number from 0 to 1, got ${JSON.stringify(v ?? null)}`);
  return v;
}

function nonNegative(v: number | null | undefined, field: string): number {
  if (typeof v !== 'number' || v < 0) throw new ApiError('INVALID_PARAMS', `${field} must be an integer ≥ 0, got ${JSON.stringify(v ?? null)}`);
  return v;
}

/**
 * Engine result → `{images, parameters, info}`. `parameters` echoes the request in model order; without
 * `include_init_images` its `init_images` and `mask` are null (A1111 drops them from the echo).
 */
export function toImg2ImgResponse(body: Img2ImgRequest, result: Img2ImgResult, ctx: ResponseContext & { images: string[] }): Img2ImgResponse {
  const provided = providedFields(body) ?? new Set(Object.keys(body));
  const echo: Img2ImgRequest = body.include_init_images ? body : { ...body, init_images: null, mask: null };
  // The info object is the one txt2img builds (§4.6) from the shared fields; images come encoded.
  const { info } = toTxt2ImgResponse(body as unknown as Txt2ImgRequest, result, { ...ctx, images: [] });
  return {
    images: body.send_images === false ? [] : ctx.images,
    parameters: pyTyped(Img2ImgRequest, echo, { provided }) as Record<string, unknown>,
    info,
  };
}
