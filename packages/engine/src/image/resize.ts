/**
 * A1111's `images.resize_image(resize_mode, im, width, height, upscaler_name)` for the pixel modes. LANCZOS and
 * NEAREST are our port of Pillow's resize (pil-resize.ts, byte-exact against Pillow 9.4): sharp's lanczos3 was
 * up to 161 levels off when enlarging (docs/extras.md). BICUBIC still goes through sharp. Modes (spec §3.2):
 * 0 stretch to width × height; 1 scale to cover, centre-crop; 2 scale to fit, centre, and fill the borders
 * with the stretched edge rows/columns.
 */
import sharp from 'sharp';
import { type Pixels, pasteInto, pixels } from './compose.ts';
import { pilResize } from './pil-resize.ts';
import { type ModelUpscale, multipleOf8, upscaleBy } from './pixel-upscale.ts';

/** The pixel upscalers we have: A1111's `Lanczos` and `Nearest` (and `None`, which leaves it to the Lanczos resize). */
export const PIXEL_UPSCALERS = ['None', 'Lanczos', 'Nearest'] as const;
export type PixelUpscaler = (typeof PIXEL_UPSCALERS)[number];

/**
 * PIL `im.resize((w, h), resample)`: LANCZOS (lanczos3) and NEAREST through the Pillow port, BICUBIC → sharp's
 * cubic (Catmull-Rom, PIL's a = −0.5). A same-size resize is a copy, as in PIL.
 */
export async function resizePixels(img: Pixels, width: number, height: number, kernel: 'lanczos3' | 'cubic' | 'nearest' = 'lanczos3'): Promise<Pixels> {
  if (img.width === width && img.height === height) return { ...img, data: img.data.slice() };
  if (kernel !== 'cubic') return pilResize(img, width, height, kernel === 'nearest' ? 'nearest' : 'lanczos');
  const input = sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } });
  let pipeline = input.resize(width, height, { kernel, fit: 'fill' });
  if (img.channels === 1) pipeline = pipeline.toColourspace('b-w'); // else sharp outputs single-band images as sRGB
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== img.channels) throw new Error(`sharp returned ${info.channels} channels for a ${img.channels}-channel image`);
  return pixels(width, height, img.channels, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/**
 * The inner `resize(im, w, h)` of resize_image: L images and upscaler None go straight to a Lanczos resize; when
 * w × h is larger, an upscaler (Lanczos, Nearest, or a model through `model`) first runs as A1111's
 * Upscaler.upscale by max(w/W, h/H) (pixel-upscale.ts: to a multiple of 8), then Lanczos fixes the exact size.
 */
async function resizeWith(img: Pixels, w: number, h: number, upscaler: string, model?: ModelUpscale): Promise<Pixels> {
  if (upscaler === 'None' || img.channels === 1) return resizePixels(img, w, h);
  const scale = Math.max(w / img.width, h / img.height);
  // An empty rounded target (below 8 px) makes Pillow raise in A1111; we resize straight to w × h instead.
  const upscale = scale > 1 && multipleOf8(img.width * scale) > 0 && multipleOf8(img.height * scale) > 0;
  const out = upscale ? await upscaleBy(img, scale, upscaler, model) : img;
  return out.width === w && out.height === h ? out : resizePixels(out, w, h);
}

/** A1111 resize_image for modes 0–2 (mode 3 resizes the latent instead; see pipeline/img2img.ts). */
export async function resizeImage(
  mode: 0 | 1 | 2,
  img: Pixels,
  width: number,
  height: number,
  upscaler: string = 'None',
  model?: ModelUpscale,
): Promise<Pixels> {
  if (mode === 0) return resizeWith(img, width, height, upscaler, model);
  const ratio = width / height;
  const srcRatio = img.width / img.height;
  const cover = mode === 1;
  // Mode 1 matches the side that makes the image cover the box, mode 2 the side that makes it fit inside.
  const matchWidth = cover ? ratio > srcRatio : ratio < srcRatio;
  const matchHeight = cover ? ratio <= srcRatio : ratio >= srcRatio;
  const srcW = matchWidth ? width : Math.floor((img.width * height) / img.height);
  const srcH = matchHeight ? height : Math.floor((img.height * width) / img.width);
  const resized = await resizeWith(img, srcW, srcH, upscaler, model);
  // A1111 pastes into Image.new("RGB"): masks come back as RGB there; we keep the channel count (same values).
  const res = pixels(width, height, img.channels);
  const x0 = Math.floor(width / 2) - Math.floor(srcW / 2);
  const y0 = Math.floor(height / 2) - Math.floor(srcH / 2);
  pasteInto(res, resized, x0, y0);
  if (mode === 2) fillBorders(res, resized, x0, y0, ratio, srcRatio);
  return res;
}

/**
 * Mode 2's borders. A1111 fills them by resizing a zero-height box at the fitted image's top (bottom) edge to
 * the border's size: PIL then weighs the three edge rows with Lanczos taps at distance 0.5, 1.5 and 2.5 (a
 * slightly sharpened edge row, repeated). Reproduced with Pillow's 8-bit fixed-point coefficients
 * (python-pillow/Pillow@9.5.0 src/libImaging/Resample.c precompute_coeffs / normalize_coeffs_8bpc, HPND).
 */
function fillBorders(res: Pixels, resized: Pixels, x0: number, y0: number, ratio: number, srcRatio: number): void {
  if (ratio < srcRatio && y0 > 0) {
    const top = edgeLine(resized, 0, false);
    const bottom = edgeLine(resized, resized.height, false);
    for (let y = 0; y < y0; y++) pasteInto(res, top, 0, y);
    for (let y = y0 + resized.height; y < res.height; y++) pasteInto(res, bottom, 0, y);
  } else if (ratio > srcRatio && x0 > 0) {
    const left = edgeLine(resized, 0, true);
    const right = edgeLine(resized, resized.width, true);
    for (let x = 0; x < x0; x++) pasteInto(res, left, x, y0);
    for (let x = x0 + resized.width; x < res.width; x++) pasteInto(res, right, x, y0);
  }
}

const sinc = (x: number) => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));
const lanczos = (x: number) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0);

/** The row (or column, `vertical`) PIL computes for a zero-size box at `edge`: Lanczos taps around it. */
function edgeLine(img: Pixels, edge: number, vertical: boolean): Pixels {
  const inSize = vertical ? img.width : img.height;
  const xmin = Math.max(Math.trunc(edge - 3 + 0.5), 0);
  const xmax = Math.min(Math.trunc(edge + 3 + 0.5), inSize);
  const weights: number[] = [];
  for (let x = xmin; x < xmax; x++) weights.push(lanczos(x - edge + 0.5));
  const total = weights.reduce((a, b) => a + b, 0);
  const PRECISION = 22; // 32 − 8 − 2 bits
  const fixed = weights.map((w) => Math.trunc((w / total) * 2 ** PRECISION + (w < 0 ? -0.5 : 0.5)));
  const len = vertical ? img.height : img.width;
  const out = pixels(vertical ? 1 : len, vertical ? len : 1, img.channels);
  for (let i = 0; i < len; i++) {
    for (let c = 0; c < img.channels; c++) {
      let acc = 2 ** (PRECISION - 1);
      fixed.forEach((k, j) => {
        const [x, y] = vertical ? [xmin + j, i] : [i, xmin + j];
        acc += img.data[(y * img.width + x) * img.channels + c] * k;
      });
      out.data[i * img.channels + c] = Math.min(255, Math.max(0, Math.floor(acc / 2 ** PRECISION)));
    }
  }
  return out;
}
