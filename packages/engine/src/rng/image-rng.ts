/**
 * A1111's per-image noise (modules/rng.py `ImageRNG`), re-implemented from the behaviour documented in the rng
 * fixture README: each image of a batch has its own generator seeded with its seed; `first()` gives the stacked
 * initial latents (with variation seeds and seed resize applied) and `next()` the sampler noise that continues each
 * image's stream, restarted at seed + ENSD when an eta noise seed delta is set.
 */
import { InvalidParamsError } from '../errors.ts';
import { type Shape, Tensor } from '../tensor.ts';
import { PhiloxGenerator } from './philox.ts';
import { checkSeed, type CpuKernel, TorchGenerator } from './randn.ts';
import { slerp } from './slerp.ts';

/** A1111 "Random number generator source" setting. */
export type RngSource = 'CPU' | 'GPU' | 'NV';
export const RNG_SOURCES: readonly RngSource[] = ['CPU', 'GPU', 'NV'];

/** Anything that continues a seeded normal stream. */
export interface NoiseGenerator {
  randn(shape: Shape): Tensor;
}

/**
 * A1111 `create_generator(seed)`. 'GPU' means CUDA's `torch.randn` on A1111's NVIDIA machines, which is exactly what
 * the NV philox generator imitates, so 'GPU' and 'NV' share it (there is no CUDA generator on an ONNX host).
 */
export function createGenerator(seed: number, source: RngSource = 'CPU', kernel: CpuKernel = 'avx2'): NoiseGenerator {
  if (!RNG_SOURCES.includes(source)) {
    throw new InvalidParamsError('source', `source must be one of ${RNG_SOURCES.join(', ')}, got ${String(source)}`);
  }
  return source === 'CPU' ? new TorchGenerator(seed, { kernel }) : new PhiloxGenerator(seed);
}

/** A1111 `randn(seed, shape)` through the re-seeded global generator: the first draw of a fresh stream. */
export function seededRandn(seed: number, shape: Shape, source: RngSource = 'CPU', kernel: CpuKernel = 'avx2'): Tensor {
  return createGenerator(seed, source, kernel).randn(shape);
}

export interface ImageRNGOptions {
  /** Per-image latent shape [C, H, W] (H and W are the image size / 8). */
  shape: Shape;
  seeds: readonly number[];
  /** Variation seeds; image i uses `subseeds[i]`, or 0 past the end of the list. */
  subseeds?: readonly number[] | null;
  /** Variation strength: 0 keeps the seed's noise, 1 gives (about) the subseed's. */
  subseedStrength?: number;
  /** "Resize seed from height/width" in pixels; both > 0 enables it. */
  seedResizeFromH?: number;
  seedResizeFromW?: number;
  source?: RngSource;
  /** ENSD: sampler noise comes from seed + delta after the initial latent (0 = off). */
  etaNoiseSeedDelta?: number;
  /** torch CPU kernel for source 'CPU'. */
  kernel?: CpuKernel;
}

/**
 * Per-image seeded noise for a batch, as A1111 `ImageRNG`.
 *
 * @example
 * const rng = new ImageRNG({ shape: [4, 64, 64], seeds: [1234, 1235], source: 'CPU' });
 * const x = rng.first();                       // [2, 4, 64, 64] initial latent noise
 * const eps = rng.next();                      // next draw of each image's generator (ancestral noise)
 */
export class ImageRNG {
  readonly shape: readonly [number, number, number];
  readonly seeds: readonly number[];
  private readonly opts: Required<Omit<ImageRNGOptions, 'shape' | 'seeds' | 'subseeds'>> & {
    subseeds: readonly number[] | null;
  };
  private generators: NoiseGenerator[];
  private isFirst = true;

  constructor(options: ImageRNGOptions) {
    const { shape, seeds, subseeds = null, subseedStrength = 0, seedResizeFromH = 0, seedResizeFromW = 0 } = options;
    const { source = 'CPU', etaNoiseSeedDelta = 0, kernel = 'avx2' } = options;
    if (shape.length !== 3) {
      throw new InvalidParamsError('shape', `shape must be per-image [C, H, W], got [${shape.join(', ')}]`);
    }
    if (seeds.length === 0) throw new InvalidParamsError('seeds', 'seeds must hold one seed per image, got []');
    if (!Number.isFinite(subseedStrength)) {
      throw new InvalidParamsError('subseedStrength', `subseedStrength must be finite, got ${subseedStrength}`);
    }
    checkSeed(etaNoiseSeedDelta, 'etaNoiseSeedDelta');
    for (const s of [...seeds, ...(subseeds ?? [])]) checkSeed(s);
    this.shape = [shape[0], shape[1], shape[2]];
    this.seeds = [...seeds];
    this.opts = { subseeds, subseedStrength, seedResizeFromH, seedResizeFromW, source, etaNoiseSeedDelta, kernel };
    this.generators = seeds.map((s) => createGenerator(s, source, kernel));
  }

  /** The initial latent noise [B, C, H, W]; call once, before any `next()` (or let `next()` call it). */
  first(): Tensor {
    this.isFirst = false;
    const { source, kernel, etaNoiseSeedDelta } = this.opts;
    const xs = this.seeds.map((seed, i) => this.initialNoise(seed, i));
    if (etaNoiseSeedDelta !== 0) {
      this.generators = this.seeds.map((s) => createGenerator(s + etaNoiseSeedDelta, source, kernel));
    }
    return Tensor.stack(xs);
  }

  /** The first call returns `first()`; later calls return the next draw of every image's generator, stacked. */
  next(): Tensor {
    if (this.isFirst) return this.first();
    return Tensor.stack(this.generators.map((g) => g.randn(this.shape)));
  }

  /** The shape the seed's noise is drawn at: the "resize seed from" size when enabled, else `shape`. */
  private noiseShape(): [number, number, number] {
    const { seedResizeFromH: h0, seedResizeFromW: w0 } = this.opts;
    if (h0 <= 0 || w0 <= 0) return [...this.shape];
    return [this.shape[0], Math.floor(Math.trunc(h0) / 8), Math.floor(Math.trunc(w0) / 8)];
  }

  /** Image i's initial noise: its seed's draw, slerped towards the subseed's, pasted centred if resized. */
  private initialNoise(seed: number, i: number): Tensor {
    const { subseeds, subseedStrength, source, kernel } = this.opts;
    const noiseShape = this.noiseShape();
    const resized = noiseShape.join() !== this.shape.join();
    // With resize the seed's small noise comes from the re-seeded global generator; the per-image one is kept.
    let noise = resized ? seededRandn(seed, noiseShape, source, kernel) : this.generators[i].randn(this.shape);
    if (subseeds !== null && subseedStrength !== 0) {
      const subnoise = seededRandn(subseeds[i] ?? 0, noiseShape, source, kernel);
      noise = slerp(subseedStrength, noise, subnoise);
    }
    if (!resized) return noise;
    return pasteCentred(this.generators[i].randn(this.shape), noise);
  }
}

/**
 * Copies the centre of `src` [C, h, w] into the centre of `dst` [C, H, W], as A1111's seed resize does: a smaller
 * source is kept whole; a larger one is cropped, and with an odd margin the crop is one short (h + 2·floor((H-h)/2)),
 * leaving that last row/column of `dst` as drawn.
 */
export function pasteCentred(dst: Tensor, src: Tensor): Tensor {
  const [C, H, W] = dst.shape;
  const [, h0, w0] = src.shape;
  const dy = Math.floor((H - h0) / 2); // Python floor division: negative when the old size was larger
  const dx = Math.floor((W - w0) / 2);
  const h = dy >= 0 ? h0 : h0 + 2 * dy;
  const w = dx >= 0 ? w0 : w0 + 2 * dx;
  const [ty, sy] = dy >= 0 ? [dy, 0] : [0, -dy];
  const [tx, sx] = dx >= 0 ? [dx, 0] : [0, -dx];
  const out = dst.clone();
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < h; y++) {
      const from = (c * h0 + sy + y) * w0 + sx;
      out.data.set(src.data.subarray(from, from + w), (c * H + ty + y) * W + tx);
    }
  }
  return out;
}
