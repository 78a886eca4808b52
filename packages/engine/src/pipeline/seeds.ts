/** A1111's seed handling (spec §4.1): random seeds for -1, per-image seeds and variation seeds. */
import { randomInt } from 'node:crypto';

/** -1 (or any negative / non-finite value) → a random seed in [0, 4294967294), as A1111's get_fixed_seed. */
export function resolveSeed(seed: number): number {
  return Number.isFinite(seed) && seed >= 0 ? Math.trunc(seed) : randomInt(0, 4294967294);
}

/**
 * all_seeds[i] = seed + i, unless a variation strength is set (then every image shares the seed);
 * all_subseeds[i] = subseed + i.
 */
export function allSeeds(seed: number, subseed: number, subseedStrength: number, count: number): { seeds: number[]; subseeds: number[] } {
  const seeds = Array.from({ length: count }, (_, i) => (subseedStrength === 0 ? seed + i : seed));
  const subseeds = Array.from({ length: count }, (_, i) => subseed + i);
  return { seeds, subseeds };
}

/** `YYYYmmddHHMMSS` in local time (A1111 job_timestamp). */
export function jobTimestamp(date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}
