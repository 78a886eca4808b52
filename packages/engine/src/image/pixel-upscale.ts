/**
 * A1111's `Upscaler.upscale(img, scale)` for the upscalers whose one step is a Pillow resize (Lanczos, Nearest),
 * shared by the Extras upscale and by `resize_image` (hires fix, img2img resizing). Behaviour learnt from A1111
 * v1.10.1, written anew: the target is rounded down to a multiple of 8 (⌊W·s/8⌋·8 × ⌊H·s/8⌋·8); the upscaler's
 * own filter scales by s (up to three times, until the image covers the target; never skipped at s = 1), then a
 * Lanczos resize fixes the size.
 */
import { type Pixels, premultiply, unpremultiply } from './compose.ts';
import { pilResize } from './pil-resize.ts';

/** Runs the named model upscaler: A1111's Upscaler.upscale of `img` by `scale` (`signal`: an interrupt stops it early). */
export type ModelUpscale = (name: string, img: Pixels, scale: number, signal?: AbortSignal) => Promise<Pixels>;

/**
 * A1111's Upscaler.upscale by any upscaler name: None leaves the image as it is, Lanczos and Nearest are Pillow
 * resizes, any other name is a model upscaler (upscalers/), which `model` runs (`signal`: an interrupt stops it
 * between tiles).
 */
export async function upscaleBy(img: Pixels, scale: number, upscaler: string, model?: ModelUpscale, signal?: AbortSignal): Promise<Pixels> {
  if (upscaler === 'None') return img;
  if (upscaler === 'Lanczos' || upscaler === 'Nearest') return pixelUpscale(img, scale, upscaler);
  if (!model) throw new RangeError(`upscaler ${JSON.stringify(upscaler)} is not built in and no model upscaler was given`);
  return model(upscaler, img, scale, signal);
}

/** A1111's Upscaler.upscale for an upscaler whose one step is a Pillow resize by `scale`. */
export function pixelUpscale(img: Pixels, scale: number, upscaler: 'Lanczos' | 'Nearest'): Pixels {
  const filter = upscaler === 'Nearest' ? 'nearest' : 'lanczos';
  const { destW, destH } = upscaleTarget(img, scale);
  let out = img;
  for (let i = 0; i < 3 && !covers(out, destW, destH, i, scale); i++) {
    const before = out;
    out = pillowResize(out, Math.trunc(out.width * scale), Math.trunc(out.height * scale), filter);
    if (sameSize(before, out)) break;
  }
  return fitTo(out, destW, destH);
}

/**
 * The same for an upscaler whose step is a model with a fixed scale of its own (model-upscaler.ts). An interrupt
 * (`signal`) ends the steps, as A1111's loop checks `state.interrupted`; the Lanczos resize still gives the size.
 */
export async function pixelUpscaleSteps(img: Pixels, scale: number, step: (img: Pixels) => Promise<Pixels>, signal?: AbortSignal): Promise<Pixels> {
  const { destW, destH } = upscaleTarget(img, scale);
  let out = img;
  for (let i = 0; i < 3 && !covers(out, destW, destH, i, scale) && !signal?.aborted; i++) {
    const before = out;
    out = await step(out);
    if (sameSize(before, out)) break;
  }
  return fitTo(out, destW, destH);
}

/** ⌊W·s/8⌋·8 × ⌊H·s/8⌋·8, never empty. */
function upscaleTarget(img: Pixels, scale: number): { destW: number; destH: number } {
  const destW = multipleOf8(img.width * scale);
  const destH = multipleOf8(img.height * scale);
  if (destW < 1 || destH < 1) throw new RangeError(`upscaling ${img.width}x${img.height} by ${scale} gives ${destW}x${destH}, an empty image`);
  return { destW, destH };
}

/** Whether step `i` is not needed: the image covers the target (the first step always runs at scale 1). */
const covers = (img: Pixels, destW: number, destH: number, i: number, scale: number) => img.width >= destW && img.height >= destH && (i > 0 || scale !== 1);
const sameSize = (a: Pixels, b: Pixels) => a.width === b.width && a.height === b.height;
/** The last Lanczos resize to the exact target, when the steps did not land on it. */
const fitTo = (img: Pixels, destW: number, destH: number) => (img.width === destW && img.height === destH ? img : pillowResize(img, destW, destH, 'lanczos'));

/** Pillow's `Image.resize`: RGBA goes through premultiplied RGBa for every filter but NEAREST. */
function pillowResize(img: Pixels, width: number, height: number, filter: 'lanczos' | 'nearest'): Pixels {
  if (img.channels !== 4 || filter === 'nearest' || (img.width === width && img.height === height)) return pilResize(img, width, height, filter);
  return unpremultiply(pilResize(premultiply(img), width, height, filter));
}

/** Python's `int(x // 8 * 8)` for x ≥ 0. */
export function multipleOf8(x: number): number {
  return Math.floor(x / 8) * 8;
}
