/**
 * img2img colour correction (A1111 option `img2img_color_correction`, spec §3.2): the generated image's colours
 * are matched to the init image's in CIELAB, and the result keeps the generated image's luminosity.
 *
 * 1. Both images go to 8-bit CIELAB as OpenCV stores it (L·255/100, a+128, b+128; sRGB, D65).
 * 2. Each channel of the generated image is histogram-matched to the init image's: every value maps to the reference
 *    value at the same cumulative-distribution quantile, interpolated linearly between the reference's distinct
 *    values. This is histogram specification (Gonzalez & Woods, Digital Image Processing, §3.3.2) in the form of
 *    scikit-image's `match_histograms` (`_match_cumulative_cdf`, BSD-3-Clause), written here from that description.
 * 3. Back to RGB, then the W3C "luminosity" blend (Compositing and Blending Level 1, §10.2 non-separable modes):
 *    SetLum(corrected, Lum(generated)): hue and saturation from the corrected image, luminosity from the generated
 *    one, so shading and detail are the model's and only the colour cast moves.
 */

/** 8-bit RGB pixels (row-major, 3 bytes per pixel) → 8-bit OpenCV-style Lab, as floats (not rounded). */
export function rgbToLab8(rgb: Uint8Array): Float32Array {
  const lab = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) {
    const [r, g, b] = [srgbToLinear(rgb[i] / 255), srgbToLinear(rgb[i + 1] / 255), srgbToLinear(rgb[i + 2] / 255)];
    // linear sRGB → XYZ, normalised by the D65 white (Xn 0.950456, Zn 1.088754)
    const x = (0.412453 * r + 0.35758 * g + 0.180423 * b) / 0.950456;
    const y = 0.212671 * r + 0.71516 * g + 0.072169 * b;
    const z = (0.019334 * r + 0.119193 * g + 0.950227 * b) / 1.088754;
    const [fx, fy, fz] = [labF(x), labF(y), labF(z)];
    const L = y > 0.008856 ? 116 * Math.cbrt(y) - 16 : 903.3 * y;
    lab[i] = (L * 255) / 100;
    lab[i + 1] = 500 * (fx - fy) + 128;
    lab[i + 2] = 200 * (fy - fz) + 128;
  }
  return lab;
}

/** The inverse of rgbToLab8, rounded and clipped to 8-bit RGB. */
export function lab8ToRgb(lab: Float32Array): Uint8Array {
  const rgb = new Uint8Array(lab.length);
  for (let i = 0; i < lab.length; i += 3) {
    const L = (lab[i] * 100) / 255;
    const fy = (L + 16) / 116;
    const fx = fy + (lab[i + 1] - 128) / 500;
    const fz = fy - (lab[i + 2] - 128) / 200;
    const y = L > 7.9996 ? fy ** 3 : L / 903.3;
    const x = labFInverse(fx) * 0.950456;
    const z = labFInverse(fz) * 1.088754;
    const r = 3.240479 * x - 1.53715 * y - 0.498535 * z;
    const g = -0.969256 * x + 1.875991 * y + 0.041556 * z;
    const b = 0.055648 * x - 0.204043 * y + 1.057311 * z;
    rgb[i] = toByte(linearToSrgb(r));
    rgb[i + 1] = toByte(linearToSrgb(g));
    rgb[i + 2] = toByte(linearToSrgb(b));
  }
  return rgb;
}

/**
 * Histogram matching of one interleaved channel (`channel` of `channels`): each source value becomes the reference
 * value at the same CDF quantile. Values are quantised to integers first (the images are 8-bit), as on uint8 data.
 */
export function matchChannel(source: Float32Array, reference: Float32Array, channel: number, channels: number): Float32Array {
  const src = quantisedHistogram(source, channel, channels);
  const ref = quantisedHistogram(reference, channel, channels);
  const srcQuantiles = cumulative(src.counts, src.total);
  const refQuantiles = cumulative(ref.counts, ref.total);
  const mapped = new Map<number, number>();
  for (const [k, value] of src.values.entries()) mapped.set(value, interp(srcQuantiles[k], refQuantiles, ref.values));
  const out = new Float32Array(source.length / channels);
  for (let p = 0; p < out.length; p++) out[p] = mapped.get(Math.round(source[p * channels + channel])) as number;
  return out;
}

/**
 * The colour-corrected image: `generated`'s Lab channels matched to `reference`'s, back to RGB, then the
 * luminosity blend that keeps `generated`'s luminosity. Both are 8-bit RGB; their sizes may differ.
 */
export function applyColorCorrection(generated: Uint8Array, reference: Uint8Array): Uint8Array {
  const src = rgbToLab8(generated);
  const ref = rgbToLab8(reference);
  const matched = new Float32Array(src.length);
  for (let c = 0; c < 3; c++) {
    const channel = matchChannel(src, ref, c, 3);
    for (let p = 0; p < channel.length; p++) matched[p * 3 + c] = channel[p];
  }
  return luminosityBlend(lab8ToRgb(matched), generated);
}

/** W3C luminosity blend: SetLum(backdrop, Lum(source)) per pixel, 8-bit RGB in and out. */
export function luminosityBlend(backdrop: Uint8Array, source: Uint8Array): Uint8Array {
  const out = new Uint8Array(backdrop.length);
  for (let i = 0; i < backdrop.length; i += 3) {
    const cb = [backdrop[i] / 255, backdrop[i + 1] / 255, backdrop[i + 2] / 255];
    const l = lum(source[i] / 255, source[i + 1] / 255, source[i + 2] / 255);
    const [r, g, b] = setLum(cb[0], cb[1], cb[2], l);
    out[i] = toByte(r);
    out[i + 1] = toByte(g);
    out[i + 2] = toByte(b);
  }
  return out;
}

const lum = (r: number, g: number, b: number) => 0.3 * r + 0.59 * g + 0.11 * b;

/** W3C SetLum + ClipColor: shift to luminosity `l`, then pull out-of-gamut colours back towards the grey of `l`. */
function setLum(r: number, g: number, b: number, l: number): [number, number, number] {
  const d = l - lum(r, g, b);
  const c = [r + d, g + d, b + d];
  const L = lum(c[0], c[1], c[2]);
  const n = Math.min(...c);
  const x = Math.max(...c);
  if (n < 0) for (let k = 0; k < 3; k++) c[k] = L + ((c[k] - L) * L) / (L - n);
  if (x > 1) for (let k = 0; k < 3; k++) c[k] = L + ((c[k] - L) * (1 - L)) / (x - L);
  return [c[0], c[1], c[2]];
}

function quantisedHistogram(data: Float32Array, channel: number, channels: number): { values: number[]; counts: number[]; total: number } {
  const counts = new Map<number, number>();
  for (let i = channel; i < data.length; i += channels) {
    const v = Math.round(data[i]);
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const values = [...counts.keys()].sort((a, b) => a - b);
  return { values, counts: values.map((v) => counts.get(v) as number), total: data.length / channels };
}

function cumulative(counts: readonly number[], total: number): number[] {
  let sum = 0;
  return counts.map((c) => {
    sum += c;
    return sum / total;
  });
}

/** numpy.interp: piecewise-linear through (xs, ys), clamped to the end values outside. */
function interp(x: number, xs: readonly number[], ys: readonly number[]): number {
  if (x <= xs[0]) return ys[0];
  const last = xs.length - 1;
  if (x >= xs[last]) return ys[last];
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  return ys[lo] + ((ys[hi] - ys[lo]) * (x - xs[lo])) / (xs[hi] - xs[lo]);
}

const srgbToLinear = (v: number) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
const linearToSrgb = (v: number) => (v <= 0.0031308 ? 12.92 * v : 1.055 * Math.max(v, 0) ** (1 / 2.4) - 0.055);
const labF = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
const labFInverse = (f: number) => (f ** 3 > 0.008856 ? f ** 3 : (f - 16 / 116) / 7.787);
const toByte = (v: number) => Math.min(255, Math.max(0, Math.round(v * 255)));
