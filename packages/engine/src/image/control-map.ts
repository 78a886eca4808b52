/**
 * Control image → "detected map" at the generation size (spec controlnet-api.md §3–§4, our own words): RGBA
 * composited over white, the preprocessor's resize-to-resolution helper, the three resize modes with the
 * extension's "high quality resize", and pixel perfect. cv2 kernels come from opencv.ts.
 */
import { type CV, type Image8, otsuThreshold, resize } from './opencv.ts';

export type ControlResizeMode = 'Just Resize' | 'Crop and Resize' | 'Resize and Fill';

/** numpy's round (half to even), which the extension uses for sizes. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** 3-channel control image from RGBA: alpha composited over white in float32, truncated to uint8 (§3). */
export function compositeOverWhite(rgba: Uint8Array, width: number, height: number): Image8 {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const a = Math.fround(rgba[4 * p + 3] / 255);
    for (let c = 0; c < 3; c++) {
      const v = Math.fround(Math.fround(rgba[4 * p + c] * a) + Math.fround(255 * Math.fround(1 - a)));
      data[3 * p + c] = Math.min(255, Math.max(0, Math.trunc(v)));
    }
  }
  return { width, height, channels: 3, data };
}

/** §4.3: processor_res for pixel perfect, from the input size (H, W) and the target size (h, w). */
export function pixelPerfectResolution(H: number, W: number, h: number, w: number, mode: ControlResizeMode): number {
  const k = mode === 'Resize and Fill' ? Math.min(h / H, w / W) : Math.max(h / H, w / W);
  return roundHalfEven(k * Math.min(H, W));
}

/** Copies `img` into a larger canvas, replicating the last row/column (numpy pad mode 'edge', bottom/right only). */
export function padEdge(img: Image8, width: number, height: number): Image8 {
  const { channels: c } = img;
  const data = new Uint8Array(width * height * c);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(y, img.height - 1);
    for (let x = 0; x < width; x++) {
      const sx = Math.min(x, img.width - 1);
      for (let k = 0; k < c; k++) data[(y * width + x) * c + k] = img.data[(sy * img.width + sx) * c + k];
    }
  }
  return { width, height, channels: c, data };
}

/** The top-left `width × height` of `img`. */
export function crop(img: Image8, left: number, top: number, width: number, height: number): Image8 {
  const c = img.channels;
  const data = new Uint8Array(width * height * c);
  for (let y = 0; y < height; y++) data.set(img.data.subarray(((top + y) * img.width + left) * c, ((top + y) * img.width + left + width) * c), y * width * c);
  return { width, height, channels: c, data };
}

/**
 * The preprocessors' resize-to-resolution helper: short side → `res` (bicubic up, area down), padded by edge
 * replication to multiples of 64 for `op`, whose output is cropped back to the resized size.
 */
export function atResolution(cv: CV, img: Image8, res: number, op: (padded: Image8) => Image8): Image8 {
  const k = res / Math.min(img.height, img.width);
  const h = roundHalfEven(img.height * k);
  const w = roundHalfEven(img.width * k);
  const resized = resize(cv, img, w, h, k > 1 ? 'cubic' : 'area');
  const padded = padEdge(resized, Math.ceil(w / 64) * 64, Math.ceil(h / 64) * 64);
  return crop(op(padded), 0, 0, w, h);
}

/** Distinct colours of `img`, counting at most up to `limit` (then returns limit). */
function distinctColours(img: Image8, limit: number): number {
  const seen = new Set<number>();
  const c = img.channels;
  for (let p = 0; p < img.width * img.height && seen.size < limit; p++) {
    let key = 0;
    for (let k = 0; k < c; k++) key = key * 256 + img.data[p * c + k];
    seen.add(key);
  }
  return seen.size;
}

/**
 * The extension's "high quality resize" (§4.2): nearest for 3–199 colours, area when shrinking, bicubic when
 * growing; binary maps (2 colours, min < 16, max > 240) are averaged over channels and Otsu-thresholded after the
 * resize. PARTIAL: the extra thinning the extension applies to one-pixel-edge binary maps (3-direction NMS and
 * morphological thinning) is not implemented, so resized Canny-like edges stay about as thick as the resize
 * leaves them.
 */
export function highQualityResize(cv: CV, img: Image8, width: number, height: number): Image8 {
  if (img.width === width && img.height === height) return img;
  const colours = distinctColours(img, 200);
  let min = 255;
  let max = 0;
  for (const v of img.data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const binary = colours === 2 && min < 16 && max > 240;
  const interpolation = colours >= 3 && colours < 200 ? 'nearest' : width * height < img.width * img.height ? 'area' : 'cubic';
  const out = resize(cv, img, width, height, interpolation);
  if (!binary) return out;
  const grey = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p++) {
    let sum = 0;
    for (let k = 0; k < out.channels; k++) sum += out.data[p * out.channels + k];
    grey[p] = Math.trunc(Math.fround(sum / out.channels));
  }
  return replicate(otsuThreshold(cv, { width, height, channels: 1, data: grey }), out.channels);
}

/** A 1-channel image repeated to `channels` channels. */
export function replicate(img: Image8, channels: number): Image8 {
  if (img.channels === channels) return img;
  const data = new Uint8Array(img.width * img.height * channels);
  for (let p = 0; p < img.width * img.height; p++) data.fill(img.data[p], p * channels, (p + 1) * channels);
  return { width: img.width, height: img.height, channels, data };
}

/** Per-channel median of the border pixels (all four edges), truncated to uint8 (Resize and Fill's canvas colour). */
function borderMedian(img: Image8): number[] {
  const { width: W, height: H, channels: c } = img;
  const at = (x: number, y: number, k: number) => img.data[(y * W + x) * c + k];
  return Array.from({ length: c }, (_, k) => {
    const values: number[] = [];
    for (let x = 0; x < W; x++) values.push(at(x, 0, k), at(x, H - 1, k));
    for (let y = 0; y < H; y++) values.push(at(0, y, k), at(W - 1, y, k));
    values.sort((a, b) => a - b);
    const mid = values.length >> 1;
    const median = values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    return Math.trunc(median);
  });
}

/** §4.2 step 2: fits the detected map to `width × height` with the unit's resize mode. */
export function fitToSize(cv: CV, map: Image8, width: number, height: number, mode: ControlResizeMode): Image8 {
  if (map.width === width && map.height === height) return map;
  if (mode === 'Just Resize') return highQualityResize(cv, map, width, height);
  const { width: W, height: H } = map;
  const k = mode === 'Crop and Resize' ? Math.max(height / H, width / W) : Math.min(height / H, width / W);
  const newW = roundHalfEven(W * k);
  const newH = roundHalfEven(H * k);
  const scaled = highQualityResize(cv, map, newW, newH);
  if (mode === 'Crop and Resize') return crop(scaled, Math.max(0, (newW - width) >> 1), Math.max(0, (newH - height) >> 1), width, height);
  const fill = borderMedian(map);
  if (map.channels === 4) fill[3] = 255;
  const c = map.channels;
  const data = new Uint8Array(width * height * c);
  for (let p = 0; p < width * height; p++) for (let k = 0; k < c; k++) data[p * c + k] = fill[k];
  const top = Math.floor((height - newH) / 2);
  const left = Math.floor((width - newW) / 2);
  for (let y = 0; y < newH; y++) data.set(scaled.data.subarray(y * newW * c, (y + 1) * newW * c), ((top + y) * width + left) * c);
  return { width, height, channels: c, data };
}
