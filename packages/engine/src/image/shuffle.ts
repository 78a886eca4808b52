/**
 * The `shuffle` ControlNet preprocessor (controlnet-api.md §9.2; the algorithm is lllyasviel's ContentShuffleDetector,
 * Apache-2.0, re-written here): the image is resized to 512 on its short side (the extension's resize-with-pad, pad
 * removed), then warped by a random smooth flow field: per axis, numpy `uniform(0, 1)` noise on a coarse grid of
 * (H // 256 + 2) × (W // 256 + 2), OpenCV bicubic-upsampled (float64) to (H + 512) × (W + 512), cropped by 256 on
 * every side, min-max normalised and scaled to W − 1 (x) or H − 1 (y), then `cv2.remap` (bilinear, black border).
 * The noise is numpy's legacy MT19937 stream (`RandomState(seed).random_sample()`: two 32-bit words → 53-bit double),
 * which the extension seeds per request with `(seed + subseed) & 0xFFFFFFFF` (see numpySeedFor).
 */
import { MT19937 } from '../rng/mt19937.ts';
import { atResolution } from './control-map.ts';
import type { CV, Image8 } from './opencv.ts';

/** numpy `RandomState(seed).random_sample()` / `uniform(0, 1)` as a generator of doubles. */
export function numpyRandom(seed: number): () => number {
  const mt = new MT19937(seed);
  return () => {
    const a = mt.random() >>> 5;
    const b = mt.random() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  };
}

/**
 * The extension's `set_numpy_seed(p)`: `(seed + subseed) & 0xFFFFFFFF`, where a -1 field counts as the job's first
 * actual seed (both fields: the first *seed*, as the extension does).
 */
export function numpySeedFor(seed: number, subseed: number, firstSeed: number): number {
  const s = seed === -1 ? firstSeed : Math.max(Math.trunc(seed), 0);
  const sub = subseed === -1 ? firstSeed : Math.max(Math.trunc(subseed), 0);
  return (s + sub) % 2 ** 32;
}

/** make_noise_disk(H, W, 1, F): bicubic-upsampled coarse noise, cropped and normalised to [0, 1] (float64). */
function noiseDisk(cv: CV, height: number, width: number, f: number, random: () => number): Float64Array {
  const rows = Math.floor(height / f) + 2;
  const cols = Math.floor(width / f) + 2;
  const coarse = Float64Array.from({ length: rows * cols }, random);
  const src = cv.matFromArray(rows, cols, (cv as CV & { CV_64FC1: number }).CV_64FC1, coarse);
  const dst = new cv.Mat();
  try {
    cv.resize(src, dst, new cv.Size(width + 2 * f, height + 2 * f), 0, 0, cv.INTER_CUBIC);
    const big = (dst as unknown as { data64F: Float64Array }).data64F;
    const stride = width + 2 * f;
    const out = new Float64Array(width * height);
    for (let y = 0; y < height; y++) out.set(big.subarray((f + y) * stride + f, (f + y) * stride + f + width), y * width);
    let min = Number.POSITIVE_INFINITY;
    for (const v of out) min = Math.min(min, v);
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < out.length; i++) {
      out[i] -= min;
      max = Math.max(max, out[i]);
    }
    for (let i = 0; i < out.length; i++) out[i] /= max;
    return out;
  } finally {
    src.delete();
    dst.delete();
  }
}

/** ContentShuffleDetector on an RGB image already at its working size (f = 256). */
export function contentShuffle(cv: CV, img: Image8, random: () => number): Image8 {
  const { width: W, height: H } = img;
  const f = 256;
  const x = noiseDisk(cv, H, W, f, random);
  const y = noiseDisk(cv, H, W, f, random);
  const flow = new Float32Array(2 * W * H);
  for (let p = 0; p < W * H; p++) {
    flow[2 * p] = x[p] * (W - 1);
    flow[2 * p + 1] = y[p] * (H - 1);
  }
  const ext = cv as CV & {
    CV_32FC2: number;
    remap(src: unknown, dst: unknown, map1: unknown, map2: unknown, interpolation: number): void;
  };
  const src = cv.matFromArray(H, W, cv.CV_8UC3, img.data);
  const map = cv.matFromArray(H, W, ext.CV_32FC2, flow);
  const none = new cv.Mat();
  const dst = new cv.Mat();
  try {
    ext.remap(src, dst, map, none, cv.INTER_LINEAR);
    return { width: W, height: H, channels: 3, data: Uint8Array.from(dst.data) };
  } finally {
    for (const m of [src, map, none, dst]) m.delete();
  }
}

/** The `shuffle` module: resize to 512 (pad removed again), then the content shuffle. */
export function shuffleModule(cv: CV, img: Image8, random: () => number): Image8 {
  return contentShuffle(
    cv,
    atResolution(cv, img, 512, (padded) => padded),
    random,
  );
}
