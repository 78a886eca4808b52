/**
 * Live-preview pixels straight from a latent, without the VAE: A1111's "Approx cheap" method, a fixed 4×3
 * linear map of the latent channels to RGB, then x·0.5 + 0.5 clamped to bytes, at latent resolution (H/8 × W/8).
 * The factors (and the SDXL bias) are stable-diffusion.cpp's (MIT), latent-preview.h@030aa3df
 * `sd_latent_rgb_proj` / `sdxl_latent_rgb_proj` / `sdxl_latent_rgb_bias`; A1111's own table is fitted the same way
 * (keturn, "Decoding latents to RGB without upscaling", huggingface forum #23204), so the previews look alike.
 */
import type { Tensor } from '../tensor.ts';

export type LatentPreviewFormat = 'sd' | 'sdxl';

/** [channel][R, G, B] factors and an RGB bias per latent space. */
const FACTORS: Record<LatentPreviewFormat, { proj: readonly (readonly number[])[]; bias: readonly number[] }> = {
  sd: {
    proj: [
      [0.3512, 0.2297, 0.3227],
      [0.325, 0.4974, 0.235],
      [-0.2829, 0.1762, 0.2721],
      [-0.212, -0.2616, -0.7177],
    ],
    bias: [0, 0, 0],
  },
  sdxl: {
    proj: [
      [0.3651, 0.4232, 0.4341],
      [-0.2533, -0.0042, 0.1068],
      [0.1076, 0.1111, -0.0362],
      [-0.3165, -0.2492, -0.2188],
    ],
    bias: [0.1084, -0.0175, -0.0011],
  },
};

export interface PreviewImage {
  width: number;
  height: number;
  /** 8-bit RGB, row-major HWC. */
  rgb: Uint8Array;
}

/**
 * Image `index` of a latent batch [N, 4, h, w] → an h×w RGB preview ("Approx cheap").
 * @example const { rgb, width, height } = approxCheapPreview(progress.latent, 'sd');
 */
export function approxCheapPreview(latent: Tensor, format: LatentPreviewFormat, index = 0): PreviewImage {
  const [n, channels, height, width] = latent.shape as [number, number, number, number];
  if (latent.shape.length !== 4 || channels < 4) throw new RangeError(`approxCheapPreview: expected a [N, 4, h, w] latent, got [${latent.shape.join(', ')}]`);
  if (index < 0 || index >= n) throw new RangeError(`approxCheapPreview: image ${index} of a batch of ${n}`);
  const { proj, bias } = FACTORS[format];
  const plane = height * width;
  const base = index * channels * plane;
  const rgb = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      let v = bias[c];
      for (let l = 0; l < 4; l++) v += latent.data[base + l * plane + p] * proj[l][c];
      rgb[p * 3 + c] = Math.round(Math.min(Math.max(v * 0.5 + 0.5, 0), 1) * 255);
    }
  }
  return { width, height, rgb };
}
