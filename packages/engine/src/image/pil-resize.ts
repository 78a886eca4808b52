/**
 * Pillow's `Image.resize(size, LANCZOS | NEAREST)` on 8-bit images, reproduced exactly: A1111's Lanczos and
 * Nearest upscalers are these two calls, and sharp's kernels do not match them (sharp `lanczos3` vs Pillow
 * LANCZOS on a 37×29 test image: up to 106 levels apart at ×2, mean 12.6; downscaling ×0.5 up to 11 levels;
 * sharp `nearest` picks other source pixels at non-integer scales — see test/image/pil-resize.test.ts).
 *
 * Ported from python-pillow/Pillow@9.5.0 (HPND licence): src/libImaging/Resample.c (`precompute_coeffs`,
 * `normalize_coeffs_8bpc`, `ImagingResampleHorizontal_8bpc`/`Vertical_8bpc`, the two-pass order of
 * `ImagingResampleInner`: horizontal over the rows the vertical pass needs, then vertical, each pass rounding
 * to 8 bits) and src/libImaging/Geometry.c (`ImagingScaleAffine`, which `resize` uses for NEAREST).
 */
import { type Pixels, pixels } from './compose.ts';

/** Resample.c PRECISION_BITS: 32 − 8 − 2. */
const PRECISION_BITS = 22;
const ONE = 2 ** PRECISION_BITS;
const LANCZOS_SUPPORT = 3;

const sinc = (x: number) => {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
};
const lanczos = (x: number) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0);

export type PilFilter = 'lanczos' | 'nearest';

/**
 * `im.resize((width, height), resample)` for L, RGB and RGBA pixels (channels treated independently; Pillow would
 * premultiply RGBA for Lanczos, callers here pass opaque or RGB images). A same-size resize is a copy.
 */
export function pilResize(img: Pixels, width: number, height: number, filter: PilFilter): Pixels {
  if (width < 1 || height < 1) throw new RangeError(`pilResize: target size ${width}x${height} must be at least 1x1`);
  if (img.width === width && img.height === height) return { ...img, data: img.data.slice() };
  return filter === 'nearest' ? scaleNearest(img, width, height) : resampleLanczos(img, width, height);
}

interface Coeffs {
  /** Per output pixel: first input index and count. */
  bounds: Int32Array;
  /** Fixed-point weights, `ksize` per output pixel. */
  kk: Int32Array;
  ksize: number;
}

/** precompute_coeffs + normalize_coeffs_8bpc for one axis (box = the whole input). */
function precomputeCoeffs(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = LANCZOS_SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const weights = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      weights[x] = lanczos((x + xmin - center + 0.5) * ss);
      ww += weights[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? weights[x] / ww : weights[x];
      kk[xx * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, kk, ksize };
}

/** Resample.c clip8: the fixed-point sum back to a byte. */
const clip8 = (ss: number) => (ss >= ONE * 256 ? 255 : ss <= 0 ? 0 : Math.floor(ss / ONE));

function resampleLanczos(img: Pixels, width: number, height: number): Pixels {
  const ch = img.channels;
  const needHorizontal = width !== img.width;
  const needVertical = height !== img.height;
  const horiz = precomputeCoeffs(img.width, width);
  const vert = precomputeCoeffs(img.height, height);
  // The horizontal pass covers only the source rows the vertical pass reads.
  const yFirst = vert.bounds[0];
  const yLast = vert.bounds[height * 2 - 2] + vert.bounds[height * 2 - 1];
  let src = img;
  let rowOffset = 0;
  if (needHorizontal) {
    const tmp = pixels(width, yLast - yFirst, ch);
    for (let yy = 0; yy < tmp.height; yy++) {
      const inRow = (yy + yFirst) * img.width * ch;
      for (let xx = 0; xx < width; xx++) {
        const xmin = horiz.bounds[xx * 2];
        const count = horiz.bounds[xx * 2 + 1];
        const k = xx * horiz.ksize;
        for (let c = 0; c < ch; c++) {
          let ss = ONE / 2;
          for (let x = 0; x < count; x++) ss += img.data[inRow + (x + xmin) * ch + c] * horiz.kk[k + x];
          tmp.data[(yy * width + xx) * ch + c] = clip8(ss);
        }
      }
    }
    src = tmp;
    rowOffset = yFirst;
  }
  if (!needVertical) return src;
  const out = pixels(width, height, ch);
  const stride = src.width * ch;
  for (let yy = 0; yy < height; yy++) {
    const ymin = vert.bounds[yy * 2] - rowOffset;
    const count = vert.bounds[yy * 2 + 1];
    const k = yy * vert.ksize;
    for (let i = 0; i < stride; i++) {
      let ss = ONE / 2;
      for (let y = 0; y < count; y++) ss += src.data[(y + ymin) * stride + i] * vert.kk[k + y];
      out.data[yy * stride + i] = clip8(ss);
    }
  }
  return out;
}

/**
 * Geometry.c ImagingScaleAffine with the nearest filter, as `resize(NEAREST)` calls it: the source coordinate
 * of output pixel x is ⌊(x + ½)·in/out⌋, accumulated in doubles as Pillow does.
 */
function scaleNearest(img: Pixels, width: number, height: number): Pixels {
  const ch = img.channels;
  const out = pixels(width, height, ch);
  const xin = new Int32Array(width);
  const ax = img.width / width;
  let xo = ax * 0.5;
  for (let x = 0; x < width; x++, xo += ax) xin[x] = Math.min(Math.floor(xo), img.width - 1);
  const ay = img.height / height;
  let yo = ay * 0.5;
  for (let y = 0; y < height; y++, yo += ay) {
    const yi = Math.min(Math.floor(yo), img.height - 1);
    for (let x = 0; x < width; x++) {
      const s = (yi * img.width + xin[x]) * ch;
      const d = (y * width + x) * ch;
      for (let c = 0; c < ch; c++) out.data[d + c] = img.data[s + c];
    }
  }
  return out;
}
