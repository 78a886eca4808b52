/**
 * `torch.nn.functional.interpolate(x, size=(h, w), mode, align_corners=False, antialias)` on NCHW float
 * tensors, for A1111's latent resizes (img2img resize mode 3, hires fix latent upscalers). Separable: one
 * 1-D weight table per axis, applied along W then H. Index and weight rules follow PyTorch's
 * aten/src/ATen/native/UpSample.h (nearest, nearest-exact, bilinear, bicubic with A = −0.75 and clamped
 * taps) and, for antialias=True, the PIL-style support-scaled filters of UpSampleKernel.cpp (bilinear
 * triangle, bicubic with A = −0.5, weights normalised at the borders).
 */
import { Tensor } from '../tensor.ts';

export type InterpolateMode = 'nearest' | 'nearest-exact' | 'bilinear' | 'bicubic';

/** One output position: input indices and their weights. */
type Taps = { index: number[]; weight: number[] }[];

function nearestTaps(inSize: number, outSize: number, exact: boolean): Taps {
  const scale = inSize / outSize;
  return Array.from({ length: outSize }, (_, o) => ({ index: [Math.min(Math.floor((o + (exact ? 0.5 : 0)) * scale), inSize - 1)], weight: [1] }));
}

function bilinearTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  return Array.from({ length: outSize }, (_, o) => {
    const src = Math.max((o + 0.5) * scale - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const l1 = src - i0;
    return { index: [i0, i1], weight: [1 - l1, l1] };
  });
}

/** Keys' cubic convolution kernel with parameter A. */
function cubic(x: number, A: number): number {
  const ax = Math.abs(x);
  if (ax <= 1) return ((A + 2) * ax - (A + 3)) * ax * ax + 1;
  if (ax < 2) return ((A * ax - 5 * A) * ax + 8 * A) * ax - 4 * A;
  return 0;
}

function bicubicTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  return Array.from({ length: outSize }, (_, o) => {
    const src = (o + 0.5) * scale - 0.5;
    const i = Math.floor(src);
    const t = src - i;
    const index = [-1, 0, 1, 2].map((k) => Math.min(Math.max(i + k, 0), inSize - 1));
    return { index, weight: [cubic(t + 1, -0.75), cubic(t, -0.75), cubic(1 - t, -0.75), cubic(2 - t, -0.75)] };
  });
}

/** PyTorch's antialiased (PIL-style) taps: the filter is stretched by the downscale factor and renormalised. */
function antialiasTaps(inSize: number, outSize: number, mode: 'bilinear' | 'bicubic'): Taps {
  const scale = inSize / outSize;
  const filter = mode === 'bilinear' ? (x: number) => Math.max(0, 1 - Math.abs(x)) : (x: number) => cubic(x, -0.5);
  const support = (mode === 'bilinear' ? 1 : 2) * Math.max(scale, 1);
  const invScale = scale >= 1 ? 1 / scale : 1;
  return Array.from({ length: outSize }, (_, o) => {
    const centre = scale * (o + 0.5);
    const xmin = Math.max(Math.trunc(centre - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(centre + support + 0.5), inSize);
    const index: number[] = [];
    const weight: number[] = [];
    for (let j = xmin; j < xmax; j++) {
      index.push(j);
      weight.push(filter((j - centre + 0.5) * invScale));
    }
    const total = weight.reduce((a, b) => a + b, 0);
    return { index, weight: weight.map((w) => (total === 0 ? 0 : w / total)) };
  });
}

function taps(inSize: number, outSize: number, mode: InterpolateMode, antialias: boolean): Taps {
  if (mode === 'nearest' || mode === 'nearest-exact') return nearestTaps(inSize, outSize, mode === 'nearest-exact');
  if (antialias) return antialiasTaps(inSize, outSize, mode);
  return mode === 'bilinear' ? bilinearTaps(inSize, outSize) : bicubicTaps(inSize, outSize);
}

/** F.interpolate(x [N, C, H, W], size=(height, width), mode, align_corners=False, antialias). */
export function interpolate(x: Tensor, height: number, width: number, mode: InterpolateMode, antialias = false): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const tx = taps(w, width, mode, antialias);
  const ty = taps(h, height, mode, antialias);
  const planes = n * c;
  const rows = new Float32Array(planes * h * width); // W pass: [planes, h, width]
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < h; y++) {
      const src = (p * h + y) * w;
      for (let o = 0; o < width; o++) {
        const { index, weight } = tx[o];
        let acc = 0;
        for (let k = 0; k < index.length; k++) acc += weight[k] * x.data[src + index[k]];
        rows[(p * h + y) * width + o] = acc;
      }
    }
  }
  const out = new Float32Array(planes * height * width); // H pass
  for (let p = 0; p < planes; p++) {
    for (let o = 0; o < height; o++) {
      const { index, weight } = ty[o];
      for (let xo = 0; xo < width; xo++) {
        let acc = 0;
        for (let k = 0; k < index.length; k++) acc += weight[k] * rows[(p * h + index[k]) * width + xo];
        out[(p * height + o) * width + xo] = acc;
      }
    }
  }
  return new Tensor([n, c, height, width], out);
}

/** A1111 `shared.latent_upscale_modes`: the hires-fix latent upscalers by name. */
export const LATENT_UPSCALE_MODES: Readonly<Record<string, { mode: InterpolateMode; antialias: boolean }>> = {
  Latent: { mode: 'bilinear', antialias: false },
  'Latent (antialiased)': { mode: 'bilinear', antialias: true },
  'Latent (bicubic)': { mode: 'bicubic', antialias: false },
  'Latent (bicubic antialiased)': { mode: 'bicubic', antialias: true },
  'Latent (nearest)': { mode: 'nearest', antialias: false },
  'Latent (nearest-exact)': { mode: 'nearest-exact', antialias: false },
};
