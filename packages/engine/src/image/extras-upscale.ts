/**
 * The Extras tab's upscale step (A1111's postprocessing "Upscale" script behind /sdapi/v1/extra-single-image and
 * extra-batch-images, spec §3.3), for the pixel upscalers Lanczos and Nearest, with Pillow's resize reproduced
 * exactly (pil-resize.ts). Behaviour learnt from A1111 v1.10.1, written anew:
 * - `upscaler_1` "None": nothing happens (no info either), whatever `upscaler_2` says.
 * - mode 0 scales by `upscaling_resize`; mode 1 by max(w/W, h/H), then with `crop` pastes the result centred
 *   on a black w × h canvas.
 * - An upscaler scales to ⌊W·s/8⌋·8 × ⌊H·s/8⌋·8 (A1111 rounds extras output down to a multiple of 8): its own
 *   filter resizes to ⌊W·s⌋ × ⌊H·s⌋ unless the image is already large enough (never at s = 1), then Lanczos
 *   fixes the size. Downscales (s < 1) are therefore a plain Lanczos resize.
 * - `upscaler_2` with visibility > 0 runs the same from the original image, and the two are blended
 *   (Pillow `Image.blend`: a + v·(b − a), truncated).
 * - RGBA images stay RGBA (Pillow resamples them premultiplied for Lanczos, as `resize` does for RGBA); the crop
 *   canvas is RGB, so a cropped result loses its alpha, as in A1111.
 * - A model upscaler (ESRGAN / Real-ESRGAN, upscalers/) takes the place of the filter step: the caller passes
 *   `model(name, img, scale)`, which runs it off this thread (the server hands it to the engine's process).
 */
import { PyFloat, quote } from '../pipeline/infotext.ts';
import { convert, type Pixels, pixels } from './compose.ts';
import { type ModelUpscale, multipleOf8, upscaleBy } from './pixel-upscale.ts';
import { PIXEL_UPSCALERS } from './resize.ts';

/** The built-in upscalers (model upscalers come from files, upscalers/catalog.ts). */
export const EXTRAS_UPSCALERS = PIXEL_UPSCALERS;
/** A built-in upscaler's name (EXTRAS_UPSCALERS) or a model upscaler's (checked by the caller). */
export type ExtrasUpscaler = string;

export interface ExtrasUpscaleParams {
  /** 0: scale by `upscalingResize`; 1: scale to `width` × `height`. */
  resizeMode: 0 | 1;
  upscalingResize: number;
  width: number;
  height: number;
  /** Mode 1: crop (or pad) to exactly width × height. */
  crop: boolean;
  upscaler1: ExtrasUpscaler;
  upscaler2: ExtrasUpscaler;
  upscaler2Visibility: number;
}

/** The postprocessing info items, in A1111's order (`Postprocess upscale by: 2, Postprocess upscaler: Lanczos`). */
export type PostprocessInfo = [key: string, value: string | number][];

/**
 * The `postprocessing` text of the info items (A1111's `k: v, k: v`, values quoted like infotext; upscale factors
 * are Python floats: `Postprocess upscale by: 2.0`).
 */
export function postprocessingText(items: PostprocessInfo): string {
  return items.map(([k, v]) => (k === v ? k : `${k}: ${quote(typeof v === 'number' ? new PyFloat(v) : v)}`)).join(', ');
}

/** The scale factor and the output size of one upscale, before any work (for size checks). */
export function extrasUpscalePlan(srcWidth: number, srcHeight: number, p: ExtrasUpscaleParams): { scale: number; width: number; height: number } {
  if (p.upscaler1 === 'None') return { scale: 1, width: srcWidth, height: srcHeight };
  const scale = p.resizeMode === 1 ? Math.max(p.width / srcWidth, p.height / srcHeight) : p.upscalingResize;
  if (p.resizeMode === 1 && p.crop) return { scale, width: p.width, height: p.height };
  return { scale, width: multipleOf8(srcWidth * scale), height: multipleOf8(srcHeight * scale) };
}

/** Runs the upscale step on an RGB or RGBA image (`model` runs the upscalers that are not built in). */
export async function extrasUpscale(
  img: Pixels,
  p: ExtrasUpscaleParams,
  model?: ModelUpscale,
  signal?: AbortSignal,
): Promise<{ image: Pixels; info: PostprocessInfo }> {
  const info = new Map<string, string | number>();
  if (p.upscaler1 === 'None') return { image: img, info: [] };
  let image = await upscaleOnce(img, p, p.upscaler1, info, model, signal);
  info.set('Postprocess upscaler', p.upscaler1);
  if (p.upscaler2 !== 'None' && p.upscaler2Visibility > 0) {
    // A model upscaler gives RGB, the built-in ones keep RGBA: A1111 converts the second to the first's mode.
    const second = convert(await upscaleOnce(img, p, p.upscaler2, info, model, signal), image.channels);
    image = blend(image, second, p.upscaler2Visibility);
    info.set('Postprocess upscaler 2', p.upscaler2);
  }
  return { image, info: [...info] };
}

async function upscaleOnce(
  img: Pixels,
  p: ExtrasUpscaleParams,
  upscaler: string,
  info: Map<string, string | number>,
  model?: ModelUpscale,
  signal?: AbortSignal,
): Promise<Pixels> {
  let scale = p.upscalingResize;
  if (p.resizeMode === 1) {
    scale = Math.max(p.width / img.width, p.height / img.height);
    info.set('Postprocess upscale to', `${p.width}x${p.height}`);
  } else {
    info.set('Postprocess upscale by', p.upscalingResize);
  }
  let out = await upscaleBy(img, scale, upscaler, model, signal);
  if (p.resizeMode === 1 && p.crop) {
    out = centreOnCanvas(out, p.width, p.height);
    info.set('Postprocess crop to', `${out.width}x${out.height}`);
  }
  return out;
}

/**
 * `Image.new("RGB", (w, h))` + `paste(img, (w//2 − W//2, h//2 − H//2))`: crops what overhangs, black elsewhere;
 * an RGBA image's colour bytes are copied as they are (Pillow stores both with 4 bytes a pixel), its alpha dropped.
 */
function centreOnCanvas(img: Pixels, width: number, height: number): Pixels {
  const out = pixels(width, height, 3);
  const x0 = Math.floor(width / 2) - Math.floor(img.width / 2);
  const y0 = Math.floor(height / 2) - Math.floor(img.height / 2);
  for (let y = Math.max(0, y0); y < Math.min(height, y0 + img.height); y++) {
    const xs = Math.max(0, x0);
    const xe = Math.min(width, x0 + img.width);
    if (xe <= xs) continue;
    for (let x = xs; x < xe; x++) {
      const src = ((y - y0) * img.width + (x - x0)) * img.channels;
      out.data.set(img.data.subarray(src, src + 3), (y * width + x) * 3);
    }
  }
  return out;
}

/**
 * Pillow `Image.blend(a, b, alpha)` for 0 ≤ alpha ≤ 1: `(UINT8)(a + alpha·(b − a))` per byte with a C float alpha
 * (python-pillow/Pillow@9.5.0 src/libImaging/Blend.c, HPND).
 */
export function blend(a: Pixels, b: Pixels, alpha: number): Pixels {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    throw new RangeError(`blend: ${a.width}x${a.height}x${a.channels} and ${b.width}x${b.height}x${b.channels} differ`);
  }
  const f = Math.fround(alpha);
  const out = pixels(a.width, a.height, a.channels);
  for (let i = 0; i < out.data.length; i++) out.data[i] = Math.trunc(Math.fround(a.data[i] + Math.fround(f * (b.data[i] - a.data[i]))));
  return out;
}
