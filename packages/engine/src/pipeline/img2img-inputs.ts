/**
 * The pixel half of A1111's `StableDiffusionProcessingImg2Img.init` (behaviour from spec §3.2): the mask
 * (alpha or luma, inversion, blur, "only masked" crop region), the init images (flattened onto the background
 * colour, resized by resize mode, cropped, masked content filled) and the overlays that put the original back
 * over the result. The latent half (VAE encode, latent mask, noise fill, inpainting conditioning) is in
 * img2img-latents.ts.
 */

import { InvalidParamsError } from '../errors.ts';
import { maskBlur, pilGaussianBlur } from '../image/blur.ts';
import {
  alphaComposite,
  convert,
  crop,
  flatten,
  invert,
  maskedOntoBlank,
  type Pixels,
  parseHexColor,
  pixels,
  premultiply,
  toL,
  unpremultiply,
} from '../image/compose.ts';
import { resizeImage } from '../image/resize.ts';
import type { Img2ImgParams, RgbaImage } from './types.ts';

export type Box = readonly [number, number, number, number];

export interface PreparedImages {
  /** RGB images to encode, one per batch image (width × height, or the original size for resize mode 3). */
  images: Pixels[];
  /** The processing mask (L, the images' size) or null for plain img2img. */
  imageMask: Pixels | null;
  /** RGBA overlays (original pixels where the mask is clear) composited over each result; null if none. */
  overlays: Pixels[] | null;
  /** "Only masked": where the processed crop goes back in the original image (x, y, w, h). */
  pasteTo: Box | null;
  /** A1111 `mask_for_overlay` (L): what return_mask returns and return_mask_composite composites with; null without a mask. */
  maskForOverlay?: Pixels | null;
  batchSize: number;
  /** Infotext keys in A1111's insertion order. */
  extra: Record<string, unknown>;
}

const rgbaPixels = (img: RgbaImage): Pixels => pixels(img.width, img.height, 4, img.rgba);

/** A1111 `create_binary_mask`: the alpha channel when the mask has any transparency (binarised at 128), else luma. */
export function binaryMask(mask: RgbaImage, round: boolean): Pixels {
  const img = rgbaPixels(mask);
  let transparent = false;
  for (let i = 3; i < img.data.length; i += 4) if (img.data[i] !== 255) transparent = true;
  if (!transparent) return toL(img);
  const alpha = pixels(img.width, img.height, 1);
  for (let p = 0; p < alpha.data.length; p++) {
    const a = img.data[p * 4 + 3];
    alpha.data[p] = round ? (a > 128 ? 255 : 0) : a;
  }
  return alpha;
}

/** PIL `getbbox()` of the non-zero pixels of an L image (exclusive ends), or null when it is all zero. */
export function bbox(mask: Pixels): Box | null {
  let [x1, y1, x2, y2] = [mask.width, mask.height, -1, -1];
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      if (mask.data[y * mask.width + x] === 0) continue;
      x1 = Math.min(x1, x);
      y1 = Math.min(y1, y);
      x2 = Math.max(x2, x);
      y2 = Math.max(y2, y);
    }
  }
  return x2 < 0 ? null : [x1, y1, x2 + 1, y2 + 1];
}

/** A1111 masking.get_crop_region_v2: the mask's bounding box grown by `pad`, clipped to the image. */
export function cropRegion(mask: Pixels, pad: number): Box | null {
  const box = bbox(mask);
  if (!box || !pad) return box;
  return [Math.max(box[0] - pad, 0), Math.max(box[1] - pad, 0), Math.min(box[2] + pad, mask.width), Math.min(box[3] + pad, mask.height)];
}

/** Grows one axis of a crop region to `desired` length around its centre, shifted back inside [0, limit]. */
function growAxis(a1: number, a2: number, desired: number, limit: number): [number, number] {
  const diff = Math.trunc(desired - (a2 - a1));
  a1 -= Math.floor(diff / 2);
  a2 += diff - Math.floor(diff / 2);
  if (a2 >= limit) {
    a1 -= a2 - limit;
    a2 = limit;
  }
  if (a1 < 0) {
    a2 -= a1;
    a1 = 0;
  }
  return [a1, Math.min(a2, limit)];
}

/** A1111 masking.expand_crop_region: widen the region to the processing aspect ratio, staying inside the image. */
export function expandCropRegion(box: Box, width: number, height: number, imageWidth: number, imageHeight: number): Box {
  const [x1, y1, x2, y2] = box;
  const ratioProcessing = width / height;
  if ((x2 - x1) / (y2 - y1) > ratioProcessing) {
    const [ny1, ny2] = growAxis(y1, y2, (x2 - x1) / ratioProcessing, imageHeight);
    return [x1, ny1, x2, ny2];
  }
  const [nx1, nx2] = growAxis(x1, x2, (y2 - y1) * ratioProcessing, imageWidth);
  return [nx1, y1, nx2, y2];
}

/** A1111 masking.fill: the masked area filled with ever finer blurs of the unmasked colours. */
export function fillMasked(image: Pixels, mask: Pixels): Pixels {
  let out = pixels(image.width, image.height, 4);
  const masked = maskedOntoBlank(premultiply(convert(image, 4)), invert(toL(mask)));
  for (const [radius, repeats] of [
    [256, 1],
    [64, 1],
    [16, 2],
    [4, 4],
    [2, 2],
    [0, 1],
  ] as const) {
    const blurred = unpremultiply(pilGaussianBlur(masked, radius));
    for (let i = 0; i < repeats; i++) out = alphaComposite(out, blurred);
  }
  return convert(out, 3);
}

/** The processing mask and, with "only masked", the crop region (spec §3.2, A1111 order of operations). */
async function prepareMask(p: Img2ImgParams, extra: Record<string, unknown>) {
  if (!p.mask) return { imageMask: null, maskForOverlay: null, crop: null };
  let mask = binaryMask(p.mask, p.maskRound ?? true);
  if (p.inpaintingMaskInvert) {
    mask = invert(mask);
    extra['Mask mode'] = 'Inpaint not masked';
  }
  const [bx, by] = [p.maskBlurX ?? 4, p.maskBlurY ?? 4];
  mask = await maskBlur(mask, bx, by);
  if (bx > 0 || by > 0) extra['Mask blur'] = bx === by ? bx : null; // A1111's mask_blur property: null when x ≠ y
  if (p.inpaintFullRes ?? true) {
    const region = cropRegion(mask, p.inpaintFullResPadding ?? 0);
    // A blank mask cannot be cropped to: A1111 logs it and runs plain img2img (no mask at all).
    if (!region) return { imageMask: null, maskForOverlay: null, crop: null };
    const box = expandCropRegion(region, p.width, p.height, mask.width, mask.height);
    extra['Inpaint area'] = 'Only masked';
    extra['Masked area padding'] = p.inpaintFullResPadding ?? 0;
    return { imageMask: toL(await resizeImage(2, crop(mask, box), p.width, p.height)), maskForOverlay: mask, crop: box };
  }
  const imageMask = toL(await resizeImage(p.resizeMode === 0 ? 0 : p.resizeMode === 1 ? 1 : 2, mask, p.width, p.height));
  // The overlay keeps the original wherever the mask is below half: its alpha is 255 − clip(2·mask).
  const maskForOverlay = { ...imageMask, data: imageMask.data.map((v) => Math.min(255, 2 * v)) };
  return { imageMask, maskForOverlay, crop: null };
}

/** Steps 1–4 of the pixel side: mask, per-image flatten/resize/overlay/crop/fill, batch size rule. */
export async function prepareImages(p: Img2ImgParams): Promise<PreparedImages> {
  const extra: Record<string, unknown> = { 'Denoising strength': p.denoisingStrength };
  const { imageMask, maskForOverlay, crop: box } = await prepareMask(p, extra);
  const background = parseHexColor(p.options.img2img_background_color ?? '#ffffff');
  const fill = p.inpaintingFill ?? 0;
  const images: Pixels[] = [];
  const overlays: Pixels[] = [];
  for (const init of p.initImages) {
    let image = flatten(rgbaPixels(init), background);
    if (!box && p.resizeMode !== 3) image = await resizeImage(p.resizeMode, image, p.width, p.height);
    if (imageMask && maskForOverlay) {
      let overlayMask = maskForOverlay;
      if (overlayMask.width !== image.width || overlayMask.height !== image.height) {
        overlayMask = toL(await resizeImage(p.resizeMode === 3 ? 2 : p.resizeMode, overlayMask, image.width, image.height));
      }
      overlays.push(unpremultiply(maskedOntoBlank(premultiply(convert(image, 4)), invert(overlayMask))));
    }
    if (box) image = await resizeImage(2, crop(image, box), p.width, p.height);
    if (imageMask && fill !== 1) image = fillMasked(image, imageMask);
    images.push(image);
  }
  if (imageMask && fill === 0) extra['Masked content'] = 'fill';
  const batchSize = batchSizeFor(images.length, p.batchSize);
  const repeat = <T>(xs: T[]): T[] => (xs.length === 1 ? Array<T>(batchSize).fill(xs[0]) : xs);
  const overlayList = imageMask && (p.options.overlay_inpaint ?? true) ? repeat(overlays) : null;
  return {
    images: repeat(images),
    imageMask,
    overlays: overlayList,
    pasteTo: box ? [box[0], box[1], box[2] - box[0], box[3] - box[1]] : null,
    maskForOverlay: imageMask ? maskForOverlay : null,
    batchSize,
    extra,
  };
}

/** A1111's rule: 1 image serves the whole batch; k ≤ batch_size images make the batch k; more is an error. */
export function batchSizeFor(images: number, batchSize: number): number {
  if (images === 0) throw new InvalidParamsError('init_images', 'init_images must hold at least one image, got []');
  if (images > batchSize) {
    throw new InvalidParamsError('init_images', `bad number of images passed: ${images}; expecting ${batchSize} or less (batch_size ${batchSize})`);
  }
  return images === 1 ? batchSize : images;
}

/**
 * A1111 apply_overlay: "only masked" results are first scaled (crop-and-resize) into their box on a transparent
 * canvas of the original size; then the overlay (the original outside the mask) is alpha-composited on top.
 */
export async function applyOverlay(rgb: Pixels, overlay: Pixels, pasteTo: Box | null): Promise<Pixels> {
  let base = convert(rgb, 4);
  if (pasteTo) {
    const [x, y, w, h] = pasteTo;
    const canvas = pixels(overlay.width, overlay.height, 4);
    const scaled = convert(await resizeImage(1, rgb, w, h), 4);
    for (let row = 0; row < h; row++) canvas.data.set(scaled.data.subarray(row * w * 4, (row + 1) * w * 4), ((y + row) * canvas.width + x) * 4);
    base = canvas;
  }
  return convert(alphaComposite(base, overlay), 3);
}
