/**
 * Request builders for the image routes from bytes/Blobs (webuiapi's img2img / inpainting / extras helpers):
 * images become `data:image/png;base64,` URLs, as webuiapi sends them (spec webuiapi-client.md), every other
 * field is A1111's own and passes through unchanged.
 */
import type { ExtrasBatchImagesRequest, ExtrasSingleImageRequest, Img2ImgRequest, PNGInfoRequest } from '@sdapi/protocol';
import { type ImageInput, imageToDataURL } from './images.ts';

export interface Img2ImgInput extends Omit<Img2ImgRequest, 'init_images' | 'mask'> {
  /** One image is used for the whole batch; k ≤ batch_size images give one image each (A1111's rule). */
  images: ImageInput[];
  /** White = repaint. Makes it an inpainting request. */
  mask?: ImageInput;
}

export interface InpaintInput extends Omit<Img2ImgRequest, 'init_images' | 'mask'> {
  image: ImageInput;
  mask: ImageInput;
}

/** A1111's `inpainting_fill` values by the UI's names. */
export const INPAINTING_FILL = { fill: 0, original: 1, 'latent noise': 2, 'latent nothing': 3 } as const;

/** The extras options (every field but the image). */
export type ExtrasInput = Omit<ExtrasSingleImageRequest, 'image'>;

export async function img2imgRequest({ images, mask, ...fields }: Img2ImgInput): Promise<Img2ImgRequest> {
  if (!Array.isArray(images) || images.length === 0) throw new TypeError('img2img: `images` must be a non-empty array of images');
  const body: Img2ImgRequest = { ...fields, init_images: await Promise.all(images.map((image) => imageToDataURL(image))) };
  if (mask !== undefined) body.mask = await imageToDataURL(mask);
  return body;
}

/** Inpainting with webuiapi's explicit defaults (mask_blur 4, fill, only masked, padding 0, not inverted). */
export async function inpaintRequest({ image, mask, ...fields }: InpaintInput): Promise<Img2ImgRequest> {
  if (mask === undefined || mask === null) throw new TypeError('inpaint: `mask` is required (white = the area to repaint)');
  const defaults = { mask_blur: 4, inpainting_fill: INPAINTING_FILL.fill, inpaint_full_res: true, inpaint_full_res_padding: 0, inpainting_mask_invert: 0 };
  return img2imgRequest({ ...defaults, ...fields, images: [image], mask });
}

export async function extraSingleImageRequest(image: ImageInput, fields: ExtrasInput = {}): Promise<ExtrasSingleImageRequest> {
  return { ...fields, image: await imageToDataURL(image) };
}

/** Names default to `image00001`, `image00002`, … (webuiapi's); A1111 requires a name but does not use it. */
export async function extraBatchImagesRequest(
  images: ImageInput[],
  { names, ...fields }: ExtrasInput & { names?: string[] } = {},
): Promise<ExtrasBatchImagesRequest> {
  if (names && names.length !== images.length) throw new TypeError(`extra-batch-images: ${names.length} names for ${images.length} images`);
  const data = await Promise.all(images.map((image) => imageToDataURL(image)));
  return { ...fields, imageList: data.map((d, i) => ({ data: d, name: names?.[i] ?? `image${String(i + 1).padStart(5, '0')}` })) };
}

export async function pngInfoRequest(image: ImageInput): Promise<PNGInfoRequest> {
  return { image: await imageToDataURL(image) };
}
