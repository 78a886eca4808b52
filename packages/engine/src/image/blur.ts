/**
 * The two blurs of A1111's inpainting path:
 * - the mask blur through OpenCV (cv2.GaussianBlur, as A1111);
 * - Pillow's `ImageFilter.GaussianBlur(radius)` (used by the "fill" masked content): three passes of an
 *   extended box blur per axis, ported from python-pillow/Pillow@9.5.0 src/libImaging/BoxBlur.c (HPND),
 *   with its 24-bit fixed-point weights, so it is byte-exact.
 */

import type { Pixels } from './compose.ts';
import { loadOpenCV } from './opencv.ts';

/**
 * A1111's mask blur on an L image: `cv2.GaussianBlur(mask, (k, 1), σx)` then `(1, k)` with σy, each with
 * k = 2·⌊2.5σ + 0.5⌋ + 1 (σ ≤ 0 skips that pass), through the genuine OpenCV kernels (opencv.ts), so the
 * 16-bit fixed-point rounding of 8-bit images is OpenCV's own.
 */
export async function maskBlur(mask: Pixels, sigmaX: number, sigmaY: number): Promise<Pixels> {
  if (mask.channels !== 1) throw new RangeError(`maskBlur needs an L image, got ${mask.channels} channels`);
  if (sigmaX <= 0 && sigmaY <= 0) return mask;
  const cv = await loadOpenCV();
  const pass = (img: Pixels, sigma: number, horizontal: boolean): Pixels => {
    const k = 2 * Math.floor(2.5 * sigma + 0.5) + 1;
    const src = cv.matFromArray(img.height, img.width, cv.CV_8UC1, img.data);
    const dst = new cv.Mat();
    try {
      cv.GaussianBlur(src, dst, new cv.Size(horizontal ? k : 1, horizontal ? 1 : k), sigma);
      return { ...img, data: Uint8Array.from(dst.data) };
    } finally {
      src.delete();
      dst.delete();
    }
  };
  let out = mask;
  if (sigmaX > 0) out = pass(out, sigmaX, true);
  if (sigmaY > 0) out = pass(out, sigmaY, false);
  return out;
}

/** BoxBlur.c _gaussian_blur_radius: the extended-box radius whose `passes` passes approximate σ = radius. */
export function boxRadiusForGaussian(radius: number, passes = 3): number {
  const f = Math.fround;
  const sigma2 = f(f(radius * radius) / passes);
  const L = f(Math.sqrt(12 * sigma2 + 1));
  const l = Math.floor((L - 1) / 2);
  let a = f((2 * l + 1) * f(l * (l + 1) - 3 * sigma2));
  a = f(a / f(6 * f(sigma2 - (l + 1) * (l + 1))));
  return f(l + a);
}

/** One BoxBlur.c line pass: a (2r+1)-wide box with fractional ends, edge pixels repeated, 24-bit fixed point. */
function boxLine(line: Float64Array | Uint8Array, out: Uint8Array, floatRadius: number): void {
  const n = line.length;
  const radius = Math.trunc(floatRadius);
  const ww = Math.floor(Math.fround(2 ** 24 / Math.fround(floatRadius * 2 + 1))); // C float division, truncated
  const fw = Math.floor((2 ** 24 - (radius * 2 + 1) * ww) / 2);
  const px = (i: number) => line[Math.min(Math.max(i, 0), n - 1)];
  let acc = 0;
  for (let k = -radius; k <= radius; k++) acc += px(k);
  for (let x = 0; x < n; x++) {
    const bulk = acc * ww + (px(x - radius - 1) + px(x + radius + 1)) * fw;
    out[x] = Math.floor((bulk + 2 ** 23) / 2 ** 24);
    acc += px(x + radius + 1) - px(x - radius);
  }
}

/** Pillow `image.filter(ImageFilter.GaussianBlur(radius))` on any 8-bit image (channels blurred independently). */
export function pilGaussianBlur(img: Pixels, radius: number, passes = 3): Pixels {
  const r = boxRadiusForGaussian(radius, passes);
  let data: Uint8Array = img.data.slice();
  if (r === 0) return { ...img, data };
  const { width, height, channels } = img;
  // BoxBlur.c ImagingBoxBlur: every horizontal pass first, then every vertical one (each rounds to 8 bits).
  for (let pass = 0; pass < passes; pass++) data = blurAxis(data, width, height, channels, r, true);
  for (let pass = 0; pass < passes; pass++) data = blurAxis(data, width, height, channels, r, false);
  return { ...img, data };
}

function blurAxis(src: Uint8Array, width: number, height: number, channels: number, r: number, horizontal: boolean): Uint8Array {
  const out = new Uint8Array(src.length);
  const [len, lines] = horizontal ? [width, height] : [height, width];
  const line = new Uint8Array(len);
  const res = new Uint8Array(len);
  for (let l = 0; l < lines; l++) {
    for (let c = 0; c < channels; c++) {
      const index = (i: number) => (horizontal ? l * width + i : i * width + l) * channels + c;
      for (let i = 0; i < len; i++) line[i] = src[index(i)];
      boxLine(line, res, r);
      for (let i = 0; i < len; i++) out[index(i)] = res[i];
    }
  }
  return out;
}
