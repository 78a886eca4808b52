/**
 * A1111's "NV" noise source: an imitation of CUDA `torch.randn` built on the Philox-4x32-10 counter-based
 * generator (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011), so that CPU-only
 * hosts reproduce NVIDIA GPU seeds. Written from the paper and the behaviour documented in the rng fixture README:
 * element i of draw number `offset` uses counter (offset, 0, i, 0) and key (seed low word, seed high word); curand's
 * Box–Muller turns the first two output words into one normal, keeping only the sine branch.
 */
import { InvalidParamsError } from '../errors.ts';
import { numel, type Shape, Tensor } from '../tensor.ts';
import { checkSeed, checkShape } from './randn.ts';

// Philox multipliers and Weyl key increments (the golden ratio and √3 − 1 in 0.32 fixed point), from the paper.
const PHILOX_M0 = 0xd2511f53;
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9;
const PHILOX_W1 = 0xbb67ae85;
const PHILOX_ROUNDS = 10;

/** High 32 bits of the 64-bit product of two uint32 (split so every partial product is exact in a double). */
export function mulhi32(a: number, b: number): number {
  const p0 = a * (b & 0xffff);
  const p1 = a * (b >>> 16);
  const mid = (p1 % 65536) * 65536 + p0;
  return (Math.floor(p1 / 65536) + Math.floor(mid / 2 ** 32)) >>> 0;
}

/** Philox-4x32 with `rounds` rounds (10 for Philox4x32-10); writes and returns the four output words. */
export function philox4x32(
  counter: readonly number[],
  key: readonly number[],
  rounds = PHILOX_ROUNDS,
  out = new Uint32Array(4),
): Uint32Array {
  out.set(counter);
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let r = 0; r < rounds; r++) {
    const c0 = out[0];
    const c1 = out[1];
    const c2 = out[2];
    const c3 = out[3];
    const hi0 = mulhi32(PHILOX_M0, c0);
    const hi1 = mulhi32(PHILOX_M1, c2);
    out[0] = hi1 ^ c1 ^ k0;
    out[1] = Math.imul(PHILOX_M1, c2);
    out[2] = hi0 ^ c3 ^ k1;
    out[3] = Math.imul(PHILOX_M0, c0);
    k0 = (k0 + PHILOX_W0) >>> 0; // key schedule: bump between rounds
    k1 = (k1 + PHILOX_W1) >>> 0;
  }
  return out;
}

// curand's float constants: 2^-32 and 2^-32·2π as float32, then arithmetic in double (numpy promotes uint32×float32).
const TWO_POW32_INV = Math.fround(2 ** -32);
const TWO_POW32_INV_2PI = Math.fround(2 ** -32 * 2 * Math.PI);

/** curand-style Box–Muller on two uint32 words, keeping only `sqrt(-2 ln u) · sin(v)`; u, v are centred in their bins. */
export function boxMullerSin(x: number, y: number): number {
  const u = x * TWO_POW32_INV + TWO_POW32_INV / 2;
  const v = y * TWO_POW32_INV_2PI + TWO_POW32_INV_2PI / 2;
  return Math.fround(Math.sqrt(-2 * Math.log(u)) * Math.sin(v));
}

/**
 * A1111 `rng_philox.Generator`: each `randn` call consumes one counter offset, so draw k of a seed is independent of
 * the shapes of earlier draws.
 *
 * @example
 * const g = new PhiloxGenerator(1234);
 * const x0 = g.randn([4, 64, 64]);             // A1111 "NV" initial latent for seed 1234
 */
export class PhiloxGenerator {
  /** Counter word 0 of the next draw (A1111 `offset`). */
  offset = 0;
  private readonly key: readonly [number, number];

  constructor(seed: number) {
    checkSeed(seed);
    if (seed < 0) throw new InvalidParamsError('seed', `NV noise needs a seed >= 0 (it is used as a uint64), got ${seed}`);
    this.key = [seed % 2 ** 32, Math.floor(seed / 2 ** 32)]; // the uint64 seed as (low, high) words
  }

  /** Standard normal float32 samples of `shape`; advances `offset` by one. */
  randn(shape: Shape): Tensor {
    checkShape(shape);
    const out = new Float32Array(numel(shape));
    const counter = [this.offset >>> 0, 0, 0, 0];
    const words = new Uint32Array(4);
    for (let i = 0; i < out.length; i++) {
      counter[2] = i; // element index (< 2^32 for any latent)
      philox4x32(counter, this.key, PHILOX_ROUNDS, words);
      out[i] = boxMullerSin(words[0], words[1]);
    }
    this.offset += 1;
    return new Tensor(shape, out);
  }
}
