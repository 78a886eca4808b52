/**
 * Tiled VAE decoding for large images: the latent is cut into overlapping tiles, each decoded on its own, and the
 * pixels blended with linear ramps across the overlaps (the approach of diffusers' `AutoencoderKL.tiled_decode`,
 * Apache-2.0, written here as a weighted sum). Peak memory then follows the tile, not the image: a 2048² SD1.5
 * decode holds [1, 128, 2048, 2048] float32 activations (2 GiB each) without it.
 *
 * Not exact: GroupNorm statistics are taken per tile, so colours can shift slightly between tiles (A1111 1.10
 * decodes whole images; so do we up to `DEFAULT_TILE_ABOVE`).
 */
import { Tensor } from '../tensor.ts';

export interface VaeTiling {
  /** Tile edge in latent pixels (×8 in image pixels). */
  tile: number;
  /** Overlap between neighbouring tiles in latent pixels. */
  overlap: number;
}

/** Latents with more than this many latent pixels (128², a 1024² image) are decoded in tiles by default. */
export const DEFAULT_TILE_ABOVE = 128 * 128;
export const DEFAULT_TILING: VaeTiling = { tile: 64, overlap: 16 };

/** Tile starts along one axis: every `tile − overlap`, the last one flush with the end. */
export function tileStarts(size: number, { tile, overlap }: VaeTiling): number[] {
  if (size <= tile) return [0];
  const stride = tile - overlap;
  const starts: number[] = [];
  for (let s = 0; s + tile < size; s += stride) starts.push(s);
  starts.push(size - tile);
  return starts;
}

/**
 * Decodes `latent` [N, C, h, w] tile by tile with `decode` (latent tile → image tile at `scale`× the size) and
 * blends the tiles into [N, 3, h·scale, w·scale].
 */
export async function decodeTiled(latent: Tensor, decode: (tile: Tensor) => Promise<Tensor>, tiling: VaeTiling = DEFAULT_TILING): Promise<Tensor> {
  const [n, , h, w] = latent.shape;
  const th = Math.min(tiling.tile, h);
  const tw = Math.min(tiling.tile, w);
  let out: { sum: Float32Array; weight: Float32Array; channels: number; scale: number } | null = null;
  for (const y0 of tileStarts(h, tiling)) {
    for (const x0 of tileStarts(w, tiling)) {
      const image = await decode(crop(latent, y0, x0, th, tw));
      const [, channels, ih, iw] = image.shape;
      const scale = ih / th;
      out ??= { sum: new Float32Array(n * channels * h * scale * w * scale), weight: new Float32Array(h * scale * w * scale), channels, scale };
      const wy = ramp(y0 > 0, y0 + th < h, ih, tiling.overlap * scale);
      const wx = ramp(x0 > 0, x0 + tw < w, iw, tiling.overlap * scale);
      const rowStride = w * scale;
      const plane = out.weight.length;
      for (let py = 0; py < ih; py++) {
        for (let px = 0; px < iw; px++) {
          const weight = wy[py] * wx[px];
          const at = (y0 * scale + py) * rowStride + x0 * scale + px;
          out.weight[at] += weight;
          for (let bk = 0; bk < n * channels; bk++) out.sum[bk * plane + at] += weight * image.data[(bk * ih + py) * iw + px];
        }
      }
    }
  }
  if (!out) throw new Error('decodeTiled: empty latent');
  const plane = out.weight.length;
  for (let i = 0; i < out.sum.length; i++) out.sum[i] /= out.weight[i % plane];
  return new Tensor([n, out.channels, h * out.scale, w * out.scale], out.sum);
}

/** Per-pixel weights of one tile along an axis: rising over `overlap` pixels at an inner start, falling at an inner end. */
function ramp(innerStart: boolean, innerEnd: boolean, length: number, overlap: number): Float32Array {
  const weights = new Float32Array(length);
  for (let p = 0; p < length; p++) {
    const rise = innerStart ? Math.min(1, (p + 0.5) / overlap) : 1;
    const fall = innerEnd ? Math.min(1, (length - p - 0.5) / overlap) : 1;
    weights[p] = Math.min(rise, fall);
  }
  return weights;
}

function crop(x: Tensor, y0: number, x0: number, th: number, tw: number): Tensor {
  const [n, c, h, w] = x.shape;
  const out = new Float32Array(n * c * th * tw);
  for (let b = 0; b < n * c; b++) {
    for (let y = 0; y < th; y++) out.set(x.data.subarray((b * h + y0 + y) * w + x0, (b * h + y0 + y) * w + x0 + tw), (b * th + y) * tw);
  }
  return new Tensor([n, c, th, tw], out);
}
