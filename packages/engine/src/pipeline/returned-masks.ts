/**
 * A1111 options `return_mask` and `return_mask_composite` (spec §3.2): after each inpainted image the response
 * also carries the mask used for the overlay (`mask_for_overlay` as RGB) and/or the composite: the generated image
 * (before the original was pasted back; for "only masked" placed in its box on the full canvas) where the mask is
 * set, nothing elsewhere. A1111 returns that composite as RGBA with transparency; responses here are RGB, so the
 * "nothing" is black (what A1111's own JPEG/WEBP output of it shows).
 */
import { convert, type Pixels, pixels } from '../image/compose.ts';
import { resizeImage } from '../image/resize.ts';

type Box = readonly [x: number, y: number, w: number, h: number];

export interface ReturnedImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** The images to append after one generated image (`denoised`: RGB before the overlay), in A1111's order. */
export async function returnedMasks(
  denoised: Pixels,
  maskForOverlay: Pixels | null,
  pasteTo: Box | null,
  options: { return_mask?: boolean; return_mask_composite?: boolean },
): Promise<ReturnedImage[]> {
  if (!maskForOverlay || (!options.return_mask && !options.return_mask_composite)) return [];
  const out: ReturnedImage[] = [];
  if (options.return_mask) {
    const rgb = convert(maskForOverlay, 3);
    out.push({ width: rgb.width, height: rgb.height, rgb: rgb.data });
  }
  if (options.return_mask_composite) out.push(await composite(denoised, maskForOverlay, pasteTo));
  return out;
}

async function composite(denoised: Pixels, mask: Pixels, pasteTo: Box | null): Promise<ReturnedImage> {
  let image = convert(denoised, 4);
  if (pasteTo) {
    // A1111 uncrop(): the crop scaled into its box on a transparent canvas of the original size.
    const [x, y, w, h] = pasteTo;
    const canvas = pixels(mask.width, mask.height, 4);
    const scaled = convert(await resizeImage(1, denoised, w, h), 4);
    for (let row = 0; row < h; row++) canvas.data.set(scaled.data.subarray(row * w * 4, (row + 1) * w * 4), ((y + row) * canvas.width + x) * 4);
    image = canvas;
  }
  const m = await resizeImage(2, convert(mask, 1), image.width, image.height);
  const rgb = new Uint8Array(image.width * image.height * 3);
  for (let p = 0; p < image.width * image.height; p++) {
    const alpha = (m.data[p] * image.data[p * 4 + 3]) / 255; // mask × the canvas's own coverage
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round((image.data[p * 4 + c] * alpha) / 255);
  }
  return { width: image.width, height: image.height, rgb };
}
