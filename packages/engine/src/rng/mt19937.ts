/**
 * torch's CPU Mersenne Twister: `at::mt19937` seeded with `init_genrand(seed & 0xffffffff)`, giving the same
 * raw 32-bit words as `numpy.random.RandomState(seed)`. Port of pytorch aten/src/ATen/core/MT19937RNGEngine.h
 * (BSD-3-Clause) and `CPUGeneratorImpl::random64` (two words, first one high), from Matsumoto & Nishimura (1998).
 */
const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** torch's `seed & 0xffffffff` for any safe integer, negatives as their two's complement (torch casts to uint64). */
export function seedToUint32(seed: number): number {
  return ((seed % 2 ** 32) + 2 ** 32) % 2 ** 32;
}

/** 32-bit Mersenne Twister with torch's state layout (`left_`/`next_` counters, lazy regeneration). */
export class MT19937 {
  private readonly state = new Uint32Array(N);
  private left = 1;
  private next = 0;

  constructor(seed: number) {
    const s = this.state;
    s[0] = seedToUint32(seed);
    for (let j = 1; j < N; j++) {
      const prev = s[j - 1] ^ (s[j - 1] >>> 30);
      s[j] = Math.imul(1812433253, prev) + j; // uint32 wrap-around as in C
    }
  }

  /** The next raw uint32 word (torch `random()`). */
  random(): number {
    if (--this.left === 0) this.nextState();
    let y = this.state[this.next++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** torch `random64()`: two words, the first in the high half (`make64BitsFrom32Bits(hi, lo)`). */
  random64(): bigint {
    const hi = this.random();
    const lo = this.random();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Regenerates all 624 words at once (the reference "twist"). */
  private nextState(): void {
    const s = this.state;
    this.left = N;
    this.next = 0;
    for (let k = 0; k < N; k++) {
      const y = (s[k] & UPPER_MASK) | (s[(k + 1) % N] & LOWER_MASK);
      s[k] = s[(k + M) % N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
  }
}
