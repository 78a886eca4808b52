/**
 * Samplers A1111 adds on top of k-diffusion: Restart (Xu et al. 2023, "Restart Sampling for Improving Generative
 * Processes", arXiv:2306.14878) and LCM multistep sampling (Luo et al. 2023, "Latent Consistency Models",
 * arXiv:2310.04378, Algorithm 1), written in k-diffusion's style against the shared sampler signature. Restart's
 * automatic interval choice reproduces A1111 v1.10.1's behaviour.
 */
import type { Tensor } from '../tensor.ts';
import { abortable, addNoise, requireNoise, toD } from './helpers.ts';
import { getSigmasKarras } from './schedules.ts';
import type { Denoiser, SamplerOptions } from './types.ts';

/** Index of the sigma closest to `value` (first one on ties, as torch.argmin). */
function argminDistance(sigmas: readonly number[], value: number): number {
  let best = 0;
  for (let i = 1; i < sigmas.length; i++) if (Math.abs(sigmas[i] - value) < Math.abs(sigmas[best] - value)) best = i;
  return best;
}

/** One restart interval: after reaching the sigma nearest `sigmaMin`, jump back to the one nearest `sigmaMax`. */
export interface RestartInterval {
  sigmaMin: number;
  steps: number;
  times: number;
  sigmaMax: number;
}

/**
 * A1111's automatic plan: below 20 steps no restart; otherwise one restart of 9 Heun steps (two restarts of
 * ⌊steps/4⌋ from 36 steps) between σ ≈ 0.1 and σ ≈ 2, on a Karras main schedule shortened to keep the step count.
 */
export function restartPlan(sigmas: readonly number[]): { sigmas: readonly number[]; intervals: RestartInterval[] } {
  const steps = sigmas.length - 1;
  if (steps < 20) return { sigmas, intervals: [] };
  const [restartSteps, restartTimes] = steps >= 36 ? [Math.floor(steps / 4), 2] : [9, 1];
  const main = getSigmasKarras(steps - restartSteps * restartTimes, sigmas[sigmas.length - 2], sigmas[0]);
  return { sigmas: main, intervals: [{ sigmaMin: 0.1, steps: restartSteps + 1, times: restartTimes, sigmaMax: 2 }] };
}

/** The (sigma, sigmaNext) pairs to integrate: the main schedule with each restart segment spliced in. */
export function restartStepList(sigmas: readonly number[], intervals: readonly RestartInterval[]): [number, number][] {
  const byIndex = new Map(intervals.map((iv) => [argminDistance(sigmas, iv.sigmaMin), iv] as const));
  const list: [number, number][] = [];
  for (let i = 0; i < sigmas.length - 1; i++) {
    list.push([sigmas[i], sigmas[i + 1]]);
    const iv = byIndex.get(i + 1);
    if (!iv) continue;
    const maxIdx = argminDistance(sigmas, iv.sigmaMax);
    if (maxIdx >= i + 1) continue;
    const segment = getSigmasKarras(iv.steps, sigmas[i + 1], sigmas[maxIdx]).slice(0, -1);
    for (let k = 0; k < iv.times; k++) {
      for (let j = 0; j < segment.length - 1; j++) list.push([segment[j], segment[j + 1]]);
    }
  }
  return list;
}

/**
 * Restart sampling (Xu et al. 2023): Heun steps, and at each restart interval forward noise back up to σmax
 * followed by a fresh Heun descent. Options: `restartIntervals` overrides A1111's automatic plan.
 */
export async function sampleRestart(
  model: Denoiser,
  x: Tensor,
  sigmas: readonly number[],
  opts: SamplerOptions & { restartIntervals?: RestartInterval[] } = {},
): Promise<Tensor> {
  const { sNoise = 1, callback } = opts;
  model = abortable(model, opts.signal);
  const plan = opts.restartIntervals ? { sigmas, intervals: opts.restartIntervals } : restartPlan(sigmas);
  let lastSigma: number | null = null;
  let i = 0;
  for (const [oldSigma, newSigma] of restartStepList(plan.sigmas, plan.intervals)) {
    if (lastSigma !== null && lastSigma < oldSigma) {
      // Restart forward process: add noise from lastSigma back up to oldSigma.
      x = x.add(
        requireNoise(opts.noise, 'Restart')
          .mul(sNoise)
          .mul(Math.sqrt(oldSigma ** 2 - lastSigma ** 2)),
      );
    }
    const denoised = await model(x, oldSigma);
    const d = toD(x, oldSigma, denoised);
    callback?.({ x, i: i++, sigma: newSigma, sigmaHat: oldSigma, denoised });
    const dt = newSigma - oldSigma;
    if (newSigma === 0) {
      x = x.add(d.mul(dt)); // Euler method
    } else {
      // Heun's method
      const x2 = x.add(d.mul(dt));
      const d2 = toD(x2, newSigma, await model(x2, newSigma));
      x = x.add(d.add(d2).div(2).mul(dt));
    }
    lastSigma = newSigma;
  }
  return x;
}

/** LCM multistep sampling (Luo et al. 2023, Algorithm 1): jump to the consistency estimate, re-noise to σ_next. */
export async function sampleLcm(model: Denoiser, x: Tensor, sigmas: readonly number[], opts: SamplerOptions = {}): Promise<Tensor> {
  model = abortable(model, opts.signal);
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = await model(x, sigmas[i]);
    opts.callback?.({ x, i, sigma: sigmas[i], sigmaHat: sigmas[i], denoised });
    x = denoised;
    if (sigmas[i + 1] > 0) x = addNoise(x, opts, 'LCM', sigmas[i], sigmas[i + 1], sigmas[i + 1]);
  }
  return x;
}
