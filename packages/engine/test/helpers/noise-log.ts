/**
 * Replays the noise of a fixtures/samplers run: `common.noise_pool` draws in the order of index.json's
 * `noise_log` ([pool index, 'randn_like' | 'noise_sampler', σ, σ_next]), checking that the sampler asks for the
 * kind of draw (and, for noise_sampler, the σ pair) that k-diffusion asked for at that point.
 */
import assert from 'node:assert/strict';
import type { NoiseFn, NoiseSampler } from '../../src/sampling/types.ts';
import { Tensor } from '../../src/tensor.ts';

export type NoiseLogEntry = [number, 'randn_like' | 'noise_sampler', number | null, number | null];

export interface NoiseReplay {
  noise: NoiseFn;
  noiseSampler: NoiseSampler;
  /** Draws taken so far. */
  used: () => number;
}

/** Draws from `pool` ([64, …shape] flattened) in log order starting at entry `start`. */
export function replayNoiseLog(label: string, log: readonly NoiseLogEntry[], pool: Float32Array, shape: readonly number[], start = 0): NoiseReplay {
  const numel = shape.reduce((a, b) => a * b, 1);
  let n = start;
  const next = (kind: NoiseLogEntry[1], sigmas?: [number, number]) => {
    const entry = log[n++];
    assert.ok(entry, `${label}: draw ${n - 1} beyond the ${log.length} logged`);
    assert.equal(entry[1], kind, `${label}: draw ${n - 1} is ${entry[1]}, the sampler asked for ${kind}`);
    if (sigmas) {
      const [s, sn] = [entry[2] as number, entry[3] as number];
      assert.ok(
        Math.abs(sigmas[0] - s) <= 1e-5 * s && Math.abs(sigmas[1] - sn) <= 1e-5 * sn,
        `${label}: noise_sampler(${sigmas}) but the log has (${s}, ${sn})`,
      );
    }
    return new Tensor([...shape], pool.slice(entry[0] * numel, (entry[0] + 1) * numel));
  };
  return { noise: () => next('randn_like'), noiseSampler: (s, sn) => next('noise_sampler', [s, sn]), used: () => n - start };
}
