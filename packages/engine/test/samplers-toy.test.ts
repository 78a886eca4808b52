/**
 * Replays every run of fixtures/samplers/toy.safetensors (k-diffusion ab527a9 + A1111 DDIM on the analytic toy
 * denoiser): the sigma schedule built through the registry, each trajectory free-running (x and denoised at every
 * callback, the model's sigmas, the final latent), and, for the samplers without history, each step again from the
 * fixture's own x (teacher forcing). Noise comes from `common.noise_pool` in the order of index.json's noise_log.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import type { SafetensorsFile } from '../src/checkpoint/safetensors.ts';
import { DiscreteSchedule } from '../src/sampling/discrete-schedule.ts';
import { buildSigmas, findSampler, type KDiffusionSamplerEntry, samplerOptionsFor, type TimestepsSamplerEntry } from '../src/sampling/registry.ts';
import { getTimesteps } from '../src/sampling/samplers-timesteps.ts';
import type { Denoiser, NoiseFn, NoiseSampler, StepInfo } from '../src/sampling/types.ts';
import { Tensor } from '../src/tensor.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { fixturePath, needFixture, openFixture } from './helpers/fixtures.ts';
import { toyDenoiser, toyEpsModel, unguided } from './helpers/toy-model.ts';

interface Run {
  key: string;
  sampler: string;
  kdiffusion_function?: string;
  kwargs?: Record<string, unknown>;
  schedule?: string;
  steps: number;
  eta?: number;
  model_calls: number;
  noise_draws: number;
  noise_log: [number, 'randn_like' | 'noise_sampler', number | null, number | null][];
}

const skip = needFixture('samplers', 'toy.safetensors') || needFixture('samplers', 'index.json');
const runs: Run[] = skip ? [] : JSON.parse(readFileSync(fixturePath('samplers', 'index.json'), 'utf8')).runs['toy.safetensors'];
const SHAPE = [1, 4, 8, 8];
const NUMEL = 256;
/** Float32 trajectories agree to ~1e-7 of the step's scale; 1e-5 catches any real formula or order bug. */
const TOL = 1e-5;
/** Samplers without history between steps: each step can be replayed alone from the fixture's x. */
const MEMORYLESS = new Set(['Euler', 'Euler a', 'Heun', 'DPM2', 'DPM2 a', 'DPM++ 2S a', 'DPM++ SDE']);
const SCHEDULE_LABELS: Record<string, string> = { uniform: 'Uniform', karras: 'Karras', exponential: 'Exponential' };

let file: SafetensorsFile;
let schedule: DiscreteSchedule;
let model: Denoiser;
let pool: Float32Array;

/** `torch.randn_like` / noise_sampler draws replayed from the log, starting at draw `start`; `used()` counts them. */
function replayNoise(run: Run, start = 0): { noise: NoiseFn; noiseSampler: NoiseSampler; used: () => number } {
  let n = start;
  const next = (kind: string, sigmas?: [number, number]) => {
    const entry = run.noise_log[n++];
    assert.ok(entry, `${run.key}: draw ${n - 1} beyond the ${run.noise_log.length} logged`);
    assert.equal(entry[1], kind, `${run.key}: draw ${n - 1} is ${entry[1]}, sampler asked for ${kind}`);
    if (sigmas) {
      assert.ok(
        Math.abs(sigmas[0] - entry[2]!) <= 1e-5 * entry[2]! && Math.abs(sigmas[1] - entry[3]!) <= 1e-5 * entry[3]!,
        `${run.key}: noise_sampler(${sigmas}) but the log has (${entry[2]}, ${entry[3]})`,
      );
    }
    return new Tensor(SHAPE, pool.slice(entry[0] * NUMEL, (entry[0] + 1) * NUMEL));
  };
  return { noise: () => next('randn_like'), noiseSampler: (s, sn) => next('noise_sampler', [s, sn]), used: () => n - start };
}

/** Max over a step of |a − e| / (max|e| of the step), and a check with atol = TOL·max|e|, rtol = TOL. */
function stepError(actual: Float32Array, expected: Float32Array, label: string): number {
  let scale = 0;
  let max = 0;
  for (let k = 0; k < expected.length; k++) scale = Math.max(scale, Math.abs(expected[k]));
  for (let k = 0; k < expected.length; k++) {
    const d = Math.abs(actual[k] - expected[k]);
    max = Math.max(max, d);
    assert.ok(d <= TOL * scale + TOL * Math.abs(expected[k]), `${label}[${k}]: ${actual[k]} vs ${expected[k]} (step max |ref| ${scale})`);
  }
  return max / scale;
}

const step = (data: Float32Array, i: number) => data.subarray(i * NUMEL, (i + 1) * NUMEL);

function kdiffusionEntry(run: Run): KDiffusionSamplerEntry {
  const entry = findSampler(run.sampler);
  assert.ok(entry?.kind === 'k-diffusion', `${run.sampler} is a k-diffusion sampler in the registry`);
  // The registry's function is the transliteration of the fixture's k-diffusion function (sample_dpm_2 → sampleDpm2).
  const expected = run.kdiffusion_function!.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  assert.equal(entry.sample.name, expected);
  return entry;
}

/** A1111's parameters (eta_ancestral 1, s_churn 0, s_noise 1) filtered by the registry, plus replayed noise. */
function optionsFor(entry: KDiffusionSamplerEntry, noise: ReturnType<typeof replayNoise>) {
  const opts = samplerOptionsFor(entry, { eta: 1, sChurn: 0, sTmin: 0, sTmax: Infinity, sNoise: 1 });
  return { ...opts, noise: noise.noise, noiseSampler: entry.options.brownian_noise === 'True' ? noise.noiseSampler : undefined };
}

async function freeRun(run: Run, entry: KDiffusionSamplerEntry, sigmas: number[]): Promise<string> {
  const noise = replayNoise(run);
  const traj: StepInfo[] = [];
  const modelSigmas: number[] = [];
  const counting: Denoiser = (x, s) => {
    modelSigmas.push(s);
    return model(x, s);
  };
  const x0 = new Tensor(SHAPE, file.readFloat32(`${run.key}.x_init`));
  const final = await entry.sample(counting, x0, sigmas, { ...optionsFor(entry, noise), callback: (info) => traj.push(info) });
  assert.equal(noise.used(), run.noise_draws, `${run.key}: noise draws`);
  assert.deepEqual(
    traj.map((t) => t.i),
    [...Array(run.steps).keys()],
  );
  assertCloseTensor(modelSigmas, file.readFloat32(`${run.key}.model_sigmas`), { rtol: 1e-6, label: `${run.key} model sigmas` });
  const [tx, td] = [file.readFloat32(`${run.key}.traj_x`), file.readFloat32(`${run.key}.traj_denoised`)];
  let [ex, ed] = [0, 0];
  traj.forEach(({ x, denoised }, i) => {
    ex = Math.max(ex, stepError(x.data, step(tx, i), `${run.key} traj_x[${i}]`));
    ed = Math.max(ed, stepError(denoised.data, step(td, i), `${run.key} traj_denoised[${i}]`));
  });
  const expectedFinal = file.readFloat32(`${run.key}.final`);
  const scale = expectedFinal.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assertCloseTensor(final.data, expectedFinal, { atol: TOL * scale, rtol: TOL, label: `${run.key} final` });
  return `free run: x ${ex.toExponential(2)}, denoised ${ed.toExponential(2)} (max rel. to step scale)`;
}

/** Each step alone, from the fixture's x at that step, with the draws that step consumes. */
async function teacherForced(run: Run, entry: KDiffusionSamplerEntry, sigmas: number[]): Promise<string> {
  const [tx, td, fin] = [file.readFloat32(`${run.key}.traj_x`), file.readFloat32(`${run.key}.traj_denoised`), file.readFloat32(`${run.key}.final`)];
  let [offset, ex, ed] = [0, 0, 0];
  for (let i = 0; i < run.steps; i++) {
    const noise = replayNoise(run, offset);
    let denoised: Tensor | null = null;
    const x = await entry.sample(model, new Tensor(SHAPE, step(tx, i).slice()), sigmas.slice(i, i + 2), {
      ...optionsFor(entry, noise),
      callback: (info) => (denoised = info.denoised),
    });
    ed = Math.max(ed, stepError(denoised!.data, step(td, i), `${run.key} step ${i} denoised`));
    ex = Math.max(ex, stepError(x.data, i + 1 < run.steps ? step(tx, i + 1) : fin, `${run.key} step ${i} x`));
    offset += noise.used();
  }
  assert.equal(offset, run.noise_draws);
  return `; per step: x ${ex.toExponential(2)}, denoised ${ed.toExponential(2)}`;
}

describe('samplers on the toy fixture (k-diffusion ab527a9, A1111 DDIM)', { skip }, () => {
  before(() => {
    file = openFixture('samplers', 'toy.safetensors');
    schedule = DiscreteSchedule.fromAlphasCumprod(file.readFloat32('common.alphas_cumprod'));
    model = toyDenoiser(new Tensor(SHAPE, file.readFloat32('toy.mu')), file.readFloat32('toy.s2')[0]);
    pool = file.readFloat32('common.noise_pool');
  });

  for (const run of runs.filter((r) => r.kdiffusion_function)) {
    test(run.key, async () => {
      const entry = kdiffusionEntry(run);
      const { sigmas } = buildSigmas({ sampler: entry, scheduler: SCHEDULE_LABELS[run.schedule!], steps: run.steps, schedule });
      // 1-ulp level differences from torch's SLEEF log/exp (see sampling-schedules.test.ts); ρ = 7 scales them by 7.
      assertCloseTensor(sigmas, file.readFloat32(`${run.key}.sigmas`), { rtol: 1e-6, atol: 0, label: `${run.key} sigmas` });
      const fixtureSigmas = Array.from(file.readFloat32(`${run.key}.sigmas`));
      let summary = await freeRun(run, entry, fixtureSigmas);
      if (MEMORYLESS.has(run.sampler)) summary += await teacherForced(run, entry, fixtureSigmas);
      console.log(`# ${run.key}: ${summary}`);
    });
  }

  for (const run of runs.filter((r) => r.key.startsWith('ddim.'))) {
    test(run.key, async () => {
      const entry = findSampler('DDIM') as TimestepsSamplerEntry;
      const alphasCumprod = file.readFloat32('common.alphas_cumprod');
      const timesteps = getTimesteps(run.steps);
      assert.deepEqual(timesteps, file.readIntegers(`${run.key}.timesteps`));
      const noise = replayNoise(run);
      const calls: number[] = [];
      const eps = toyEpsModel(new Tensor(SHAPE, file.readFloat32('toy.mu')), alphasCumprod, file.readFloat32('toy.s2')[0]);
      const traj: StepInfo[] = [];
      const x0 = new Tensor(SHAPE, file.readFloat32(`${run.key}.x_init`));
      const recording = (x: Tensor, t: number) => {
        calls.push(t);
        return eps(x, t);
      };
      const final = await entry.sample(unguided(recording), x0, timesteps, {
        alphasCumprod,
        eta: run.eta,
        noise: noise.noise,
        callback: (info) => traj.push(info),
      });
      assert.equal(noise.used(), run.noise_draws);
      assert.deepEqual(calls, Array.from(file.readFloat32(`${run.key}.model_t`)));
      const [tx, tp] = [file.readFloat32(`${run.key}.traj_x_after_step`), file.readFloat32(`${run.key}.traj_pred_x0`)];
      let [ex, ep] = [0, 0];
      traj.forEach(({ x, denoised }, i) => {
        ex = Math.max(ex, stepError(x.data, step(tx, i), `${run.key} x_after_step[${i}]`));
        ep = Math.max(ep, stepError(denoised.data, step(tp, i), `${run.key} pred_x0[${i}]`));
      });
      assertCloseTensor(final.data, file.readFloat32(`${run.key}.final`), { atol: TOL, rtol: TOL, label: `${run.key} final` });
      console.log(`# ${run.key}: x ${ex.toExponential(2)}, pred_x0 ${ep.toExponential(2)}`);
    });
  }
});
