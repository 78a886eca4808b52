/** Conversions between decoded VAE output and 8-bit pixels, as A1111's processing.py does them. */
import { Tensor } from '../tensor.ts';

/**
 * Image i of a VAE output [N, 3, H, W] in [-1, 1] → RGB HWC bytes: clamp((x+1)/2, 0, 1), ×255 in float32,
 * then truncation toward zero (numpy astype(uint8)), not rounding — what A1111 saves.
 */
export function toRgbBytes(images: Tensor, i: number): Uint8Array {
  const [, , height, width] = images.shape as [number, number, number, number];
  const plane = height * width;
  const src = images.get(i).data;
  const out = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = Math.min(Math.max(Math.fround((src[c * plane + p] + 1) / 2), 0), 1);
      out[p * 3 + c] = Math.trunc(Math.fround(255 * v));
    }
  }
  return out;
}

/** RGB(A) HWC bytes → [1, 3, H, W] in [-1, 1] (A1111: x / 255 · 2 − 1). */
export function fromRgbBytes(pixels: Uint8Array, width: number, height: number, channels = 3): Tensor {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[c * plane + p] = (pixels[p * channels + c] / 255) * 2 - 1;
  }
  return new Tensor([1, 3, height, width], out);
}
