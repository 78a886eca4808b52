/**
 * The tiny SD1.5 / SD2-v / SDXL sampler runs (CFG 7, latents with std ≈ 17–38) replayed without a UNet: for every
 * sampler that calls the model once per step, a stand-in model returns the fixture's own (CFG-combined) denoised
 * prediction for each call after checking the sigma it was asked for. This checks the samplers' arithmetic, the
 * noise order and x_init = init_noise·σmax at the magnitudes real models produce.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { DiscreteSchedule } from '../src/sampling/discrete-schedule.ts';
import { buildSigmas, findSampler, type KDiffusionSamplerEntry, samplerOptionsFor, type TimestepsSamplerEntry } from '../src/sampling/registry.ts';
import { getTimesteps } from '../src/sampling/samplers-timesteps.ts';
import type { Denoiser, GuidedEpsModel } from '../src/sampling/types.ts';
import { Tensor } from '../src/tensor.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { fixturePath, needFixture, openFixture } from './helpers/fixtures.ts';

interface Run {
  key: string;
  sampler: string;
  schedule?: string;
  steps: number;
  eta?: number;
  model_calls: number;
  noise_log: [number, string, number | null, number | null][];
}

const SHAPE = [1, 4, 8, 8];
const NUMEL = 256;
const LABELS: Record<string, string> = { uniform: 'Uniform', karras: 'Karras', exponential: 'Exponential' };
const step = (data: Float32Array, i: number) => data.subarray(i * NUMEL, (i + 1) * NUMEL);

/** Every comparison of a run, relative to the scale of the tensor compared; returns the worst ratio. */
function closeToScale(actual: Float32Array, expected: Float32Array, label: string): number {
  let [scale, max] = [0, 0];
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  for (let k = 0; k < expected.length; k++) max = Math.max(max, Math.abs(actual[k] - expected[k]));
  assert.ok(max <= 1e-5 * scale, `${label}: max abs diff ${max} > 1e-5 × ${scale}`);
  return max / scale;
}

for (const name of ['tiny_sd15_cfg7', 'tiny_sd2v_cfg7', 'tiny_sdxl_cfg7']) {
  const skip = needFixture('samplers', `${name}.safetensors`) || needFixture('samplers', 'index.json');
  describe(`${name}: first-order samplers replayed on the fixture's denoised predictions`, { skip }, () => {
    const runs: Run[] = skip ? [] : JSON.parse(readFileSync(fixturePath('samplers', 'index.json'), 'utf8')).runs[`${name}.safetensors`];
    const file = skip ? null! : openFixture('samplers', `${name}.safetensors`);
    const pool = skip ? null! : file.readFloat32('common.noise_pool');
    const draws = (run: Run) => {
      let n = 0;
      return () => new Tensor(SHAPE, step(pool, run.noise_log[n++][0]).slice());
    };

    for (const run of runs.filter((r) => r.schedule && r.model_calls === r.steps)) {
      test(run.key, async () => {
        const entry = findSampler(run.sampler) as KDiffusionSamplerEntry;
        const schedule = DiscreteSchedule.fromAlphasCumprod(file.readFloat32('common.alphas_cumprod'));
        const sigmas = Array.from(file.readFloat32(`${run.key}.sigmas`));
        assertCloseTensor(buildSigmas({ sampler: entry, scheduler: LABELS[run.schedule!], steps: run.steps, schedule }).sigmas, sigmas, {
          rtol: 1e-6,
          atol: 0,
          label: `${run.key} sigmas`,
        });
        const [td, tx, modelSigmas] = [
          file.readFloat32(`${run.key}.traj_denoised`),
          file.readFloat32(`${run.key}.traj_x`),
          file.readFloat32(`${run.key}.model_sigmas`),
        ];
        let call = 0;
        const replay: Denoiser = async (_x, sigma) => {
          assert.ok(Math.abs(sigma - modelSigmas[call]) <= 1e-6 * modelSigmas[call], `${run.key}: call ${call} at σ ${sigma}, fixture ${modelSigmas[call]}`);
          return new Tensor(SHAPE, step(td, call++).slice());
        };
        const x0 = new Tensor(SHAPE, file.readFloat32('common.init_noise')).mul(sigmas[0]);
        assertCloseTensor(x0.data, file.readFloat32(`${run.key}.x_init`), { atol: 0, label: `${run.key} x_init` });
        const noise = draws(run);
        let worst = 0;
        const opts = { ...samplerOptionsFor(entry, { eta: 1, sChurn: 0, sTmin: 0, sTmax: Infinity, sNoise: 1 }), noise, noiseSampler: () => noise() };
        const final = await entry.sample(replay, x0, sigmas, {
          ...opts,
          callback: ({ x, i }) => (worst = Math.max(worst, closeToScale(x.data, step(tx, i), `${run.key} x[${i}]`))),
        });
        worst = Math.max(worst, closeToScale(final.data, file.readFloat32(`${run.key}.final`), `${run.key} final`));
        console.log(`# ${name} ${run.key}: max error / scale ${worst.toExponential(2)}`);
      });
    }

    for (const run of runs.filter((r) => r.key.startsWith('ddim.'))) {
      test(run.key, async () => {
        const alphasCumprod = file.readFloat32('common.alphas_cumprod');
        const timesteps = getTimesteps(run.steps);
        const [tp, tx, x0] = [
          file.readFloat32(`${run.key}.traj_pred_x0`),
          file.readFloat32(`${run.key}.traj_x_after_step`),
          file.readFloat32(`${run.key}.x_init`),
        ];
        let call = 0;
        // eps that makes A1111's pred_x0 at the fixture's own x: eps = (x − √ᾱ·pred_x0)/√(1 − ᾱ).
        const replay: GuidedEpsModel = async (_x, t) => {
          const a = alphasCumprod[t];
          const xFixture = call === 0 ? x0 : step(tx, call - 1);
          const predX0 = step(tp, call++);
          const eps = new Tensor(
            SHAPE,
            xFixture.map((v, k) => (v - Math.sqrt(a) * predX0[k]) / Math.sqrt(1 - a)),
          );
          return { eps, epsUncond: eps };
        };
        const entry = findSampler('DDIM') as TimestepsSamplerEntry;
        let worst = 0;
        const final = await entry.sample(replay, new Tensor(SHAPE, x0.slice()), timesteps, {
          alphasCumprod,
          eta: run.eta,
          noise: draws(run),
          callback: ({ x, i }) => (worst = Math.max(worst, closeToScale(x.data, step(tx, i), `${run.key} x[${i}]`))),
        });
        worst = Math.max(worst, closeToScale(final.data, file.readFloat32(`${run.key}.final`), `${run.key} final`));
        console.log(`# ${name} ${run.key}: max error / scale ${worst.toExponential(2)}`);
      });
    }
  });
}
