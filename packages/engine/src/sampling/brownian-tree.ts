/**
 * A seeded Brownian motion that can be queried at any time in any order, for the SDE samplers' `noise_sampler`
 * (DPM++ SDE, 2M SDE, 2M SDE Heun, 3M SDE). A1111 passes k-diffusion's `BrownianTreeNoiseSampler(x, σ_min, σ_max,
 * seed=<the batch's image seeds>)`: one tree per image over t = σ (k-diffusion's default identity transform), and
 * `noise(σ, σ_next) = (W(σ_next) − W(σ)) / sqrt|σ_next − σ|` (crowsonkb/k-diffusion@ab527a9
 * k_diffusion/sampling.py BatchedBrownianTree, BrownianTreeNoiseSampler; MIT).
 *
 * The construction is the "virtual Brownian tree" of Li, Wong, Chen & Duvenaud (2020), "Scalable Gradients for
 * Stochastic Differential Equations", arXiv:2001.01328, Algorithm 3 — the algorithm of torchsde's original
 * BrownianTree: W(t0) = 0, W(t1) = sqrt(t1 − t0)·Z, and every dyadic midpoint m of a node [a, b] is the Brownian
 * bridge sample W(m) = (W(a) + W(b))/2 + sqrt((b − a)/4)·Z_node (Lévy's construction). A query descends `depth`
 * bisections (default 32: leaves of 2^-32 of the span, 3.4e-9 for SD's σ range, where torchsde's absolute tol is
 * 1e-6) and interpolates linearly inside the leaf.
 *
 * Z_node is seeded by Philox-4x32-10 keyed by the image seed, with the node's (level, index) in the counter, so a
 * node's noise is a pure function of (seed, node): repeated or reordered queries return the same values, and the
 * increments of disjoint intervals are independent N(0, |Δt|) (up to the sub-leaf linear interpolation, whose
 * variance defect is at most half a leaf per increment: 2e-4 of the variance of a 1e-5-wide step).
 *
 * DIFFERENCE FROM A1111/torchsde: torchsde 0.2.x builds a `BrownianInterval` (Kidger et al. 2021) on torch's own
 * generator with a different splitting and seeding scheme, so its bits cannot be reproduced without torch. Images
 * from the SDE samplers therefore have the same statistics as A1111's, and are deterministic per seed, but are
 * not pixel-identical to A1111's. As in A1111, the tree ignores ENSD and the randn source.
 */
import { philox4x32 } from '../rng/philox.ts';
import { type Shape, Tensor } from '../tensor.ts';
import type { NoiseSampler } from './types.ts';

/** Bisections per query; below the leaves (2^-32 of the span) a path is interpolated linearly. */
const DEFAULT_DEPTH = 32;
/** Counter word 3 tags our streams, so that they never coincide with A1111 "NV" draws (which use 0). */
const STREAM_TAG = 0x42524f57; // "BROW"
/** Node values kept between queries: a descent's path plus the last few queries' neighbourhoods. */
const CACHE_NODES = 4 * DEFAULT_DEPTH;

/** One image's Brownian motion on [t0, t1] with `numel` independent components. */
export class BrownianTree {
  readonly t0: number;
  readonly t1: number;
  private readonly depth: number;
  private readonly key: [number, number];
  private readonly numel: number;
  private readonly w1: Float64Array;
  private readonly nodes = new Map<string, Float64Array>();

  constructor(t0: number, t1: number, seed: number, numel: number, depth = DEFAULT_DEPTH) {
    if (!(t0 < t1) || !Number.isFinite(t0) || !Number.isFinite(t1)) throw new RangeError(`BrownianTree needs t0 < t1, got [${t0}, ${t1}]`);
    if (!Number.isSafeInteger(seed)) throw new RangeError(`BrownianTree seed must be a safe integer, got ${seed}`);
    this.t0 = t0;
    this.t1 = t1;
    this.numel = numel;
    this.key = [Number(BigInt.asUintN(32, BigInt(seed))), Number(BigInt.asUintN(32, BigInt(seed) >> 32n))];
    if (!Number.isInteger(depth) || depth < 0 || depth > 48) throw new RangeError(`BrownianTree depth must be an integer in [0, 48], got ${depth}`);
    this.depth = depth;
    this.w1 = this.normals(0, 0).map((z) => z * Math.sqrt(t1 - t0));
  }

  /** W(t) − W(t0) for t in [t0, t1] (values a hair outside, from σ ↔ log σ round trips, are clamped). */
  at(t: number): Float64Array {
    const span = this.t1 - this.t0;
    if (!(t >= this.t0 - 1e-6 * span && t <= this.t1 + 1e-6 * span)) {
      throw new RangeError(`BrownianTree queried at t = ${t}, outside its interval [${this.t0}, ${this.t1}]`);
    }
    const u = Math.min(1, Math.max(0, (t - this.t0) / span)); // position in unit time
    let lo = 0; // the node [lo, lo + 1] / 2^level
    let [wa, wb]: Float64Array[] = [new Float64Array(this.numel), this.w1];
    for (let level = 1; level <= this.depth; level++) {
      const mid = 2 * lo + 1; // the node's midpoint, index at `level`
      const m = mid / 2 ** level;
      if (u === m) return this.midpoint(level, mid, wa, wb).slice();
      const wm = this.midpoint(level, mid, wa, wb);
      if (u < m) [lo, wb] = [2 * lo, wm];
      else [lo, wa] = [mid, wm];
    }
    // Inside a leaf: linear interpolation between its ends.
    const a = lo / 2 ** this.depth;
    const frac = (u - a) * 2 ** this.depth;
    return wa.map((v, k) => v + frac * (wb[k] - v));
  }

  /** W(m) at the dyadic point mid / 2^level, given W at the ends of its parent node. */
  private midpoint(level: number, mid: number, wa: Float64Array, wb: Float64Array): Float64Array {
    const id = `${level}:${mid}`;
    let w = this.nodes.get(id);
    if (w) {
      this.nodes.delete(id); // refresh its LRU position
    } else {
      const std = Math.sqrt((this.t1 - this.t0) / 2 ** (level + 1)); // bridge midpoint variance (b − a)/4
      const z = this.normals(level, mid);
      w = z.map((v, k) => (wa[k] + wb[k]) / 2 + std * v);
    }
    this.nodes.set(id, w);
    if (this.nodes.size > CACHE_NODES) this.nodes.delete(this.nodes.keys().next().value as string);
    return w;
  }

  /**
   * `numel` standard normals for node (level, index): Philox-4x32-10 of the node's counter under the seed's key gives
   * a 128-bit state that is unique to the node; xoshiro128** (Blackman & Vigna 2018, public domain) streams the
   * words from it (a Philox call per element would cost 10× more), and the polar method turns them into normals.
   */
  private normals(level: number, index: number): Float64Array {
    const out = new Float64Array(this.numel);
    let [s0, s1, s2, s3] = philox4x32([index >>> 0, level, 0, STREAM_TAG], this.key);
    if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // xoshiro's one forbidden state
    const next = () => {
      const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
      return result;
    };
    for (let k = 0; k < out.length; k += 2) {
      // Marsaglia's polar method: a uniform point of the unit disc → two independent normals, no trigonometry.
      let u: number;
      let v: number;
      let q: number;
      do {
        u = (next() + 0.5) * 2 ** -31 - 1;
        v = (next() + 0.5) * 2 ** -31 - 1;
        q = u * u + v * v;
      } while (q >= 1);
      const f = Math.sqrt((-2 * Math.log(q)) / q);
      out[k] = u * f;
      if (k + 1 < out.length) out[k + 1] = v * f;
    }
    return out;
  }
}

const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));

/**
 * k-diffusion `BrownianTreeNoiseSampler` with one tree per image (A1111: seeded with each image's seed), for a batch
 * of `shape` [B, …]: `noise(σ, σ_next)` = (W(σ_next) − W(σ)) / sqrt|σ_next − σ| per image, stacked.
 * @example
 * const noiseSampler = brownianTreeNoiseSampler([1, 4, 64, 64], sigmaMin, sigmaMax, [1234]);
 * const z = noiseSampler(sigmas[i], sigmas[i + 1]);   // ~ N(0, 1), fixed by the seed and the two sigmas
 */
export function brownianTreeNoiseSampler(shape: Shape, sigmaMin: number, sigmaMax: number, seeds: readonly number[]): NoiseSampler {
  if (seeds.length !== shape[0]) throw new RangeError(`brownianTreeNoiseSampler: ${seeds.length} seeds for a batch of ${shape[0]}`);
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  const trees = seeds.map((seed) => new BrownianTree(sigmaMin, sigmaMax, seed, per));
  return (sigma, sigmaNext) => {
    const scale = 1 / Math.sqrt(Math.abs(sigmaNext - sigma));
    const out = new Float32Array(per * seeds.length);
    trees.forEach((tree, b) => {
      const [w0, w1] = [tree.at(sigma), tree.at(sigmaNext)];
      for (let k = 0; k < per; k++) out[b * per + k] = (w1[k] - w0[k]) * scale;
    });
    return new Tensor(shape, out);
  };
}
