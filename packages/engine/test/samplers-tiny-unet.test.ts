/**
 * Every run of fixtures/samplers/tiny_{sd15,sd2v,sdxl}_cfg7 (12 k-diffusion samplers × 3 schedules × 4/10 steps,
 * A1111 DDIM eta 0/1) replayed with the REAL tiny UNet built by our graph code, CFG 7 in A1111's shape ([cond;
 * uncond] in one call, combined on the denoised prediction, or on eps for DDIM).
 *
 * Step by step (teacher forcing): each model call is evaluated at the fixture's own x of that step, so every
 * denoised prediction (UNet + CFG + c_in/c_out + σ→t) is checked on its own, and the sampler's update x[i] → x[i+1]
 * from there, without errors compounding. Samplers that call the model twice per step (the second input is not in
 * the fixture) restart from traj_x[i] at every step. The timestep and σ of every UNet call are checked, and a free
 * run with the real model checks the final latent. Noise: `common.noise_pool` in noise_log order (the SDE samplers'
 * noise_sampler included; A1111's Brownian tree is not reproducible, see sampling/brownian-tree.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import type { ModelConfig } from '../src/checkpoint/config.ts';
import { SafetensorsFile } from '../src/checkpoint/safetensors.ts';
import { buildUNetGraph } from '../src/models/unet-model.ts';
import { compileGraph } from '../src/runtime/compile.ts';
import type { OrtSession } from '../src/runtime/ort.ts';
import { cfgDenoiser, cfgEpsModel, compVisDenoiser, compVisTimestepsModel, type UNetFn } from '../src/sampling/denoiser.ts';
import { DiscreteSchedule } from '../src/sampling/discrete-schedule.ts';
import { findSampler, type KDiffusionSamplerEntry, samplerOptionsFor, type TimestepsSamplerEntry } from '../src/sampling/registry.ts';
import { getTimesteps } from '../src/sampling/samplers-timesteps.ts';
import type { Denoiser, GuidedEpsModel } from '../src/sampling/types.ts';
import { Tensor } from '../src/tensor.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';
import { type NoiseLogEntry, replayNoiseLog } from './helpers/noise-log.ts';
import { TINY_SD2V, TINY_SD15, TINY_SDXL } from './helpers/tiny-configs.ts';

interface Run {
  key: string;
  sampler: string;
  schedule?: string;
  steps: number;
  eta?: number;
  model_calls: number;
  noise_draws: number;
  noise_log: NoiseLogEntry[];
}

const SHAPE = [1, 4, 8, 8];
const NUMEL = 256;
const CFG = 7;
/**
 * Per step, |ours − fixture| ≤ TOL·max|fixture| of that step. ORT's float32 UNet differs from torch's by ~1e-6
 * of the output's scale; CFG 7 multiplies that by ~13 and σ_max ≈ 14.6 by more, so real agreement is ~1e-6–1e-5
 * while any formula, σ→t or noise-order bug is ≥ 1e-2. The free runs stay within the same bound (≤ 1.3e-5
 * measured): the small differences do not grow over 19 calls.
 */
const TOL = 1e-4;
const step = (data: Float32Array, i: number) => data.subarray(i * NUMEL, (i + 1) * NUMEL);
const tensorAt = (data: Float32Array, i: number) => new Tensor(SHAPE, step(data, i).slice());

const MODELS: { file: string; fixture: string; config: ModelConfig }[] = [
  { file: 'tiny_sd15_cfg7', fixture: 'tiny-sd15', config: TINY_SD15 },
  { file: 'tiny_sd2v_cfg7', fixture: 'tiny-sd2v', config: TINY_SD2V },
  { file: 'tiny_sdxl_cfg7', fixture: 'tiny-sdxl', config: TINY_SDXL },
];

/** |a − e| ≤ tol·max|e| everywhere; returns max|a − e| / max|e|. */
function stepError(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, tol = TOL): number {
  let [scale, max] = [0, 0];
  for (let k = 0; k < expected.length; k++) scale = Math.max(scale, Math.abs(expected[k]));
  for (let k = 0; k < expected.length; k++) max = Math.max(max, Math.abs(actual[k] - expected[k]));
  assert.ok(max <= tol * scale, `${label}: max abs diff ${max} > ${tol} × step scale ${scale}`);
  return max / scale;
}

/** One oracle file with its compiled UNet, CFG conditioning and a log of every UNet call's σ and timestep. */
class Oracle {
  readonly file: SafetensorsFile;
  readonly runs: Run[];
  readonly pool: Float32Array;
  readonly alphasCumprod: Float32Array;
  readonly schedule: DiscreteSchedule;
  readonly calls: { t: number[]; sigmas: number[] } = { t: [], sigmas: [] };
  private readonly context: Tensor;
  private readonly y: Tensor | null;

  constructor(
    readonly name: string,
    private readonly session: OrtSession,
    private readonly config: ModelConfig,
  ) {
    this.file = SafetensorsFile.open(fixturePath('samplers', `${name}.safetensors`));
    this.runs = JSON.parse(readFileSync(fixturePath('samplers', 'index.json'), 'utf8')).runs[`${name}.safetensors`];
    this.pool = this.file.readFloat32('common.noise_pool');
    this.alphasCumprod = this.file.readFloat32('common.alphas_cumprod');
    this.schedule = DiscreteSchedule.fromAlphasCumprod(this.alphasCumprod);
    const sdxl = config.unet.adm_in_channels !== null;
    // CFG batch: cond rows first, uncond last (A1111 CFGDenoiser); SDXL concatenates each conditioning key.
    this.context = Tensor.cat([this.read(sdxl ? 'common.cond.crossattn' : 'common.cond'), this.read(sdxl ? 'common.uncond.crossattn' : 'common.uncond')]);
    this.y = sdxl ? Tensor.cat([this.read('common.cond.vector'), this.read('common.uncond.vector')]) : null;
  }

  read(key: string): Tensor {
    return new Tensor(this.file.info(key).shape, this.file.readFloat32(key));
  }

  private readonly unet: UNetFn = async (xIn, t) => {
    this.calls.t.push(t[0]);
    const feeds = { x: xIn, timesteps: new Tensor([t.length], Float32Array.from(t)), context: this.context, ...(this.y ? { y: this.y } : {}) };
    return (await this.session.run(feeds)).out;
  };

  get prediction() {
    return this.config.prediction_type === 'v' ? ('v' as const) : ('eps' as const);
  }

  /** k-diffusion CompVis(V)Denoiser under A1111's CFG, logging each call's σ. */
  denoiser(): Denoiser {
    const inner = cfgDenoiser(compVisDenoiser(this.unet, this.schedule, this.prediction), CFG);
    return (x, sigma) => {
      this.calls.sigmas.push(sigma);
      return inner(x, sigma);
    };
  }

  /** A1111 CompVisTimesteps(V)Denoiser under CFG on eps. */
  epsModel(): GuidedEpsModel {
    return cfgEpsModel(compVisTimestepsModel(this.unet, this.alphasCumprod, this.prediction), CFG);
  }

  resetCalls(): void {
    this.calls.t.length = 0;
    this.calls.sigmas.length = 0;
  }
}

/** A1111's parameters (eta_ancestral 1, s_churn 0, s_noise 1) filtered by the registry, plus the replayed noise. */
function optionsFor(entry: KDiffusionSamplerEntry, noise: ReturnType<typeof replayNoiseLog>) {
  const opts = samplerOptionsFor(entry, { eta: 1, sChurn: 0, sTmin: 0, sTmax: Number.POSITIVE_INFINITY, sNoise: 1 });
  return { ...opts, noise: noise.noise, noiseSampler: entry.options.brownian_noise === 'True' ? noise.noiseSampler : undefined };
}

/** One model call per step: every call is evaluated at the fixture's x of that step; the sampler runs once. */
async function teacherSingleCall(o: Oracle, run: Run, entry: KDiffusionSamplerEntry, sigmas: number[]): Promise<[number, number]> {
  const [tx, td] = [o.file.readFloat32(`${run.key}.traj_x`), o.file.readFloat32(`${run.key}.traj_denoised`)];
  const real = o.denoiser();
  let [call, ex, ed] = [0, 0, 0];
  const teacher: Denoiser = async (x, sigma) => {
    const i = call++;
    ex = Math.max(ex, stepError(x.data, step(tx, i), `${o.name} ${run.key} x[${i}]`));
    const denoised = await real(tensorAt(tx, i), sigma);
    ed = Math.max(ed, stepError(denoised.data, step(td, i), `${o.name} ${run.key} denoised[${i}]`));
    return denoised;
  };
  const noise = replayNoiseLog(run.key, run.noise_log, o.pool, SHAPE);
  const final = await entry.sample(teacher, o.read(`${run.key}.x_init`), sigmas, optionsFor(entry, noise));
  ex = Math.max(ex, stepError(final.data, o.file.readFloat32(`${run.key}.final`), `${o.name} ${run.key} final`));
  assert.equal(noise.used(), run.noise_draws, `${run.key}: noise draws`);
  return [ex, ed];
}

/** Two calls per step (no history): each step alone from traj_x[i] with the draws that step consumes. */
async function teacherPerStep(o: Oracle, run: Run, entry: KDiffusionSamplerEntry, sigmas: number[]): Promise<[number, number]> {
  const [tx, td, fin] = [o.file.readFloat32(`${run.key}.traj_x`), o.file.readFloat32(`${run.key}.traj_denoised`), o.file.readFloat32(`${run.key}.final`)];
  const real = o.denoiser();
  let [offset, ex, ed] = [0, 0, 0];
  for (let i = 0; i < run.steps; i++) {
    const noise = replayNoiseLog(run.key, run.noise_log, o.pool, SHAPE, offset);
    let denoised: Tensor | null = null;
    const x = await entry.sample(real, tensorAt(tx, i), sigmas.slice(i, i + 2), {
      ...optionsFor(entry, noise),
      callback: (info) => (denoised = info.denoised),
    });
    ed = Math.max(ed, stepError((denoised as Tensor | null)!.data, step(td, i), `${o.name} ${run.key} step ${i} denoised`));
    ex = Math.max(ex, stepError(x.data, i + 1 < run.steps ? step(tx, i + 1) : fin, `${o.name} ${run.key} step ${i} x`));
    offset += noise.used();
  }
  assert.equal(offset, run.noise_draws, `${run.key}: noise draws`);
  return [ex, ed];
}

/** The whole run on the real model from x_init; returns the final latent's error relative to its scale. */
async function freeRun(o: Oracle, run: Run, entry: KDiffusionSamplerEntry, sigmas: number[]): Promise<number> {
  const noise = replayNoiseLog(run.key, run.noise_log, o.pool, SHAPE);
  const final = await entry.sample(o.denoiser(), o.read(`${run.key}.x_init`), sigmas, optionsFor(entry, noise));
  return stepError(final.data, o.file.readFloat32(`${run.key}.final`), `${o.name} ${run.key} free-run final`);
}

/** The σ and timestep of every UNet call against model_sigmas / model_t. */
function checkCalls(o: Oracle, run: Run): string {
  const label = `${o.name} ${run.key}`;
  assert.equal(o.calls.t.length, run.model_calls, `${label}: UNet calls`);
  const sigmaErr = assertCloseTensor(o.calls.sigmas, o.file.readFloat32(`${run.key}.model_sigmas`), { rtol: 1e-6, atol: 0, label: `${label} model σ` });
  // σ→t interpolates log σ in float32: one float32 ulp of t ≈ 999 is 6e-5.
  const tErr = assertCloseTensor(o.calls.t, o.file.readFloat32(`${run.key}.model_t`), { atol: 2e-4, label: `${label} model t` });
  return `σ ${sigmaErr.toExponential(1)}, t ${tErr.toExponential(1)}`;
}

for (const { file, fixture, config } of MODELS) {
  const skip = needFixture('samplers', `${file}.safetensors`) || needFixture(fixture, 'model.safetensors') || needFixture('samplers', 'index.json');
  describe(`${file}: every sampler run with the real tiny UNet, step by step`, { skip }, () => {
    let o: Oracle;
    before(async () => {
      const session = await compileGraph(buildUNetGraph(config.unet), SafetensorsFile.open(fixturePath(fixture, 'model.safetensors')));
      o = new Oracle(file, session, config);
    });
    const runs: Run[] = skip ? [] : JSON.parse(readFileSync(fixturePath('samplers', 'index.json'), 'utf8')).runs[`${file}.safetensors`];

    for (const run of runs.filter((r) => r.schedule)) {
      test(run.key, async () => {
        const entry = findSampler(run.sampler) as KDiffusionSamplerEntry;
        assert.equal(entry?.kind, 'k-diffusion', `${run.sampler} is a k-diffusion sampler`);
        const sigmas = Array.from(o.file.readFloat32(`${run.key}.sigmas`));
        o.resetCalls();
        const [ex, ed] = run.model_calls === run.steps ? await teacherSingleCall(o, run, entry, sigmas) : await teacherPerStep(o, run, entry, sigmas);
        const calls = checkCalls(o, run);
        const free = await freeRun(o, run, entry, sigmas);
        console.log(
          `# ${file} ${run.key}: per step x ${ex.toExponential(2)}, denoised ${ed.toExponential(2)}; free-run final ${free.toExponential(2)} (max error / step scale); calls ${calls}`,
        );
      });
    }

    for (const run of runs.filter((r) => r.key.startsWith('ddim.'))) {
      test(run.key, async () => {
        const entry = findSampler('DDIM') as TimestepsSamplerEntry;
        const timesteps = getTimesteps(run.steps);
        assert.deepEqual(timesteps, o.file.readIntegers(`${run.key}.timesteps`));
        const [x0, txa, tp] = [
          o.file.readFloat32(`${run.key}.x_init`),
          o.file.readFloat32(`${run.key}.traj_x_after_step`),
          o.file.readFloat32(`${run.key}.traj_pred_x0`),
        ];
        const xAt = (i: number) => (i === 0 ? x0 : step(txa, i - 1));
        const real = o.epsModel();
        o.resetCalls();
        let [call, ex, ep] = [0, 0, 0];
        const teacher: GuidedEpsModel = async (x, t) => {
          const i = call++;
          ex = Math.max(ex, stepError(x.data, xAt(i), `${file} ${run.key} x[${i}]`));
          return real(new Tensor(SHAPE, xAt(i).slice()), t);
        };
        const noise = replayNoiseLog(run.key, run.noise_log, o.pool, SHAPE);
        const final = await entry.sample(teacher, new Tensor(SHAPE, x0.slice()), timesteps, {
          alphasCumprod: o.alphasCumprod,
          eta: run.eta,
          noise: noise.noise,
          callback: ({ x, i, denoised }) => {
            ex = Math.max(ex, stepError(x.data, step(txa, i), `${file} ${run.key} x_after_step[${i}]`));
            ep = Math.max(ep, stepError(denoised.data, step(tp, i), `${file} ${run.key} pred_x0[${i}]`));
          },
        });
        ex = Math.max(ex, stepError(final.data, o.file.readFloat32(`${run.key}.final`), `${file} ${run.key} final`));
        assert.equal(noise.used(), run.noise_draws);
        assert.deepEqual(o.calls.t, Array.from(o.file.readFloat32(`${run.key}.model_t`)), 'DDIM feeds the integer timesteps');
        const free = await entry.sample(real, new Tensor(SHAPE, x0.slice()), timesteps, {
          alphasCumprod: o.alphasCumprod,
          eta: run.eta,
          noise: replayNoiseLog(run.key, run.noise_log, o.pool, SHAPE).noise,
        });
        const freeErr = stepError(free.data, o.file.readFloat32(`${run.key}.final`), `${file} ${run.key} free-run final`);
        console.log(`# ${file} ${run.key}: per step x ${ex.toExponential(2)}, pred_x0 ${ep.toExponential(2)}; free-run final ${freeErr.toExponential(2)}`);
      });
    }
  });
}
