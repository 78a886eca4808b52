/**
 * A1111's sampler and scheduler tables (spec §3.11, v1.10.1 order and wire shape) with the functions behind them,
 * name resolution exactly as `sd_samplers.get_sampler_and_scheduler` (spec §4.2), and how A1111 picks each
 * sampler's keyword arguments (by the k-diffusion function's signature).
 */
import type { DiscreteSchedule } from './discrete-schedule.ts';
import { sampleDpmAdaptive, sampleDpmFast } from './samplers-dpm-solver.ts';
import { sampleDpmpp2m, sampleDpmpp2mSde, sampleDpmpp2sAncestral, sampleDpmpp3mSde, sampleDpmppSde } from './samplers-dpmpp.ts';
import { sampleLcm, sampleRestart } from './samplers-extra.ts';
import { sampleDpm2, sampleDpm2Ancestral, sampleEuler, sampleEulerAncestral, sampleHeun, sampleLms } from './samplers-karras.ts';
import { getTimesteps, sampleDdim, sampleDdimCfgpp, samplePlms } from './samplers-timesteps.ts';
import {
  discardNextToLastSigma,
  getSigmasAlignYourSteps,
  getSigmasBeta,
  getSigmasDdim,
  getSigmasExponential,
  getSigmasKarras,
  getSigmasKlOptimal,
  getSigmasNormal,
  getSigmasPolyexponential,
  getSigmasSgmUniform,
  getSigmasSimple,
  getSigmasUniform,
} from './schedules.ts';
import type { Sampler, SamplerOptions, TimestepsSampler } from './types.ts';
import { sampleUniPc } from './unipc.ts';

/** A1111 per-call parameters that a sampler function may accept (A1111 passes those its signature names). */
export type ExtraParam = 'eta' | 's_churn' | 's_tmin' | 's_tmax' | 's_noise';

interface SamplerBase {
  name: string;
  aliases: readonly string[];
  /** A1111's `options`, values as the API returns them (strings), in A1111's key order. */
  options: Readonly<Record<string, string>>;
  /** The A1111 parameters this function takes. */
  params: readonly ExtraParam[];
}

export interface KDiffusionSamplerEntry extends SamplerBase {
  kind: 'k-diffusion';
  sample: Sampler;
  /** Fixed keyword arguments of the A1111 entry (e.g. solver_type='heun'). */
  defaults: Partial<SamplerOptions>;
  /** The model wrapper A1111 uses: the CompVis discrete denoiser, or LCM's boundary-condition one. */
  denoiser: 'compvis' | 'lcm';
}

export interface TimestepsSamplerEntry extends SamplerBase {
  kind: 'timesteps';
  sample: TimestepsSampler;
  /** DDIM CFG++ maps CFG [0, 12.5] to [0, 1]: the guidance scale is multiplied by this. */
  cfgScaleMultiplier: number;
}

export type SamplerEntry = KDiffusionSamplerEntry | TimestepsSamplerEntry;

const CHURN: readonly ExtraParam[] = ['s_churn', 's_tmin', 's_tmax', 's_noise'];
const ETA_NOISE: readonly ExtraParam[] = ['eta', 's_noise'];

function k(
  name: string,
  aliases: string[],
  sample: Sampler,
  options: Record<string, string>,
  params: readonly ExtraParam[],
  defaults: Partial<SamplerOptions> = {},
): KDiffusionSamplerEntry {
  return { kind: 'k-diffusion', name, aliases, sample, options, params, defaults, denoiser: name === 'LCM' ? 'lcm' : 'compvis' };
}

function ts(name: string, aliases: string[], sample: TimestepsSampler, params: readonly ExtraParam[], cfgScaleMultiplier = 1): TimestepsSamplerEntry {
  return { kind: 'timesteps', name, aliases, sample, options: {}, params, cfgScaleMultiplier };
}

/** GET /sdapi/v1/samplers, in order, with the function behind each entry. */
export const SAMPLERS: readonly SamplerEntry[] = [
  k('DPM++ 2M', ['k_dpmpp_2m'], sampleDpmpp2m, { scheduler: 'karras' }, []),
  k('DPM++ SDE', ['k_dpmpp_sde'], sampleDpmppSde, { scheduler: 'karras', second_order: 'True', brownian_noise: 'True' }, ETA_NOISE),
  k('DPM++ 2M SDE', ['k_dpmpp_2m_sde'], sampleDpmpp2mSde, { scheduler: 'exponential', brownian_noise: 'True' }, ETA_NOISE),
  k('DPM++ 2M SDE Heun', ['k_dpmpp_2m_sde_heun'], sampleDpmpp2mSde, { scheduler: 'exponential', brownian_noise: 'True', solver_type: 'heun' }, ETA_NOISE, {
    solverType: 'heun',
  }),
  k('DPM++ 2S a', ['k_dpmpp_2s_a'], sampleDpmpp2sAncestral, { scheduler: 'karras', uses_ensd: 'True', second_order: 'True' }, ETA_NOISE),
  k('DPM++ 3M SDE', ['k_dpmpp_3m_sde'], sampleDpmpp3mSde, { scheduler: 'exponential', discard_next_to_last_sigma: 'True', brownian_noise: 'True' }, ETA_NOISE),
  // A1111 does not list s_noise as an extra parameter of sample_euler_ancestral.
  k('Euler a', ['k_euler_a', 'k_euler_ancestral'], sampleEulerAncestral, { uses_ensd: 'True' }, ['eta']),
  k('Euler', ['k_euler'], sampleEuler, {}, CHURN),
  k('LMS', ['k_lms'], sampleLms, {}, []),
  k('Heun', ['k_heun'], sampleHeun, { second_order: 'True' }, CHURN),
  k('DPM2', ['k_dpm_2'], sampleDpm2, { scheduler: 'karras', discard_next_to_last_sigma: 'True', second_order: 'True' }, CHURN),
  k(
    'DPM2 a',
    ['k_dpm_2_a'],
    sampleDpm2Ancestral,
    { scheduler: 'karras', discard_next_to_last_sigma: 'True', uses_ensd: 'True', second_order: 'True' },
    ETA_NOISE,
  ),
  k('DPM fast', ['k_dpm_fast'], sampleDpmFast, { uses_ensd: 'True' }, ETA_NOISE),
  k('DPM adaptive', ['k_dpm_ad'], sampleDpmAdaptive, { uses_ensd: 'True' }, ['eta']),
  k('Restart', ['restart'], sampleRestart, { scheduler: 'karras', second_order: 'True' }, []),
  ts('DDIM', ['ddim'], sampleDdim, ['eta']),
  ts('DDIM CFG++', ['ddim_cfgpp'], sampleDdimCfgpp, ['eta'], 1 / 12.5),
  ts('PLMS', ['plms'], samplePlms, []),
  ts('UniPC', ['unipc'], sampleUniPc, []),
  k('LCM', ['k_lcm'], sampleLcm, {}, []),
];

export interface SchedulerEntry {
  name: string;
  label: string;
  aliases: readonly string[] | null;
  /** -1 when the scheduler has no rho. */
  defaultRho: number;
  /** Whether it needs the model's discrete sigma table. */
  needInnerModel: boolean;
}

/** GET /sdapi/v1/schedulers, in order. */
export const SCHEDULERS: readonly SchedulerEntry[] = [
  { name: 'automatic', label: 'Automatic', aliases: null, defaultRho: -1, needInnerModel: false },
  { name: 'uniform', label: 'Uniform', aliases: null, defaultRho: -1, needInnerModel: true },
  { name: 'karras', label: 'Karras', aliases: null, defaultRho: 7.0, needInnerModel: false },
  { name: 'exponential', label: 'Exponential', aliases: null, defaultRho: -1, needInnerModel: false },
  { name: 'polyexponential', label: 'Polyexponential', aliases: null, defaultRho: 1.0, needInnerModel: false },
  { name: 'sgm_uniform', label: 'SGM Uniform', aliases: ['SGMUniform'], defaultRho: -1, needInnerModel: true },
  { name: 'kl_optimal', label: 'KL Optimal', aliases: null, defaultRho: -1, needInnerModel: false },
  { name: 'align_your_steps', label: 'Align Your Steps', aliases: null, defaultRho: -1, needInnerModel: false },
  { name: 'simple', label: 'Simple', aliases: null, defaultRho: -1, needInnerModel: true },
  { name: 'normal', label: 'Normal', aliases: null, defaultRho: -1, needInnerModel: true },
  { name: 'ddim', label: 'DDIM', aliases: null, defaultRho: -1, needInnerModel: true },
  { name: 'beta', label: 'Beta', aliases: null, defaultRho: -1, needInnerModel: true },
];

/** The `/sdapi/v1/samplers` body. */
export function samplersResponse(): { name: string; aliases: string[]; options: Record<string, string> }[] {
  return SAMPLERS.map((s) => ({ name: s.name, aliases: [...s.aliases], options: { ...s.options } }));
}

/** The `/sdapi/v1/schedulers` body. */
export function schedulersResponse(): { name: string; label: string; aliases: string[] | null; default_rho: number; need_inner_model: boolean }[] {
  return SCHEDULERS.map((s) => ({
    name: s.name,
    label: s.label,
    aliases: s.aliases ? [...s.aliases] : null,
    default_rho: s.defaultRho,
    need_inner_model: s.needInnerModel,
  }));
}

/** A1111 `samplers_map`: lower-cased names and all aliases → sampler name (infotext / XYZ lookups). */
export const SAMPLERS_MAP_LOWERCASE: ReadonlyMap<string, string> = new Map(
  SAMPLERS.flatMap((s) => [[s.name.toLowerCase(), s.name], ...s.aliases.map((a) => [a, s.name])] as [string, string][]),
);

export function findSampler(name: string): SamplerEntry | undefined {
  return SAMPLERS.find((s) => s.name === name);
}

/** A scheduler by exact name or label (aliases are not consulted, as in A1111's schedulers_map). */
export function findScheduler(nameOrLabel: string | null | undefined): SchedulerEntry | undefined {
  return SCHEDULERS.find((s) => s.name === nameOrLabel || s.label === nameOrLabel);
}

/**
 * `get_sampler_and_scheduler` (spec §4.2): a scheduler suffix in the sampler name ("DPM++ 2M Karras") overrides
 * `scheduler`; unknown samplers silently become DPM++ 2M; with `convertAutomatic` a scheduler equal to the
 * sampler's own default is reported as Automatic.
 */
export function resolveSamplerAndScheduler(
  samplerName: string | null | undefined,
  scheduler: string | null | undefined,
  convertAutomatic = true,
): { sampler: string; schedulerLabel: string } {
  const defaultSampler = SAMPLERS[0];
  let found = findScheduler(scheduler) ?? SCHEDULERS[0];
  let name = samplerName || defaultSampler.name;
  for (const candidate of SCHEDULERS) {
    for (const option of [candidate.label, candidate.name, ...(candidate.aliases ?? [])]) {
      if (name.endsWith(` ${option}`)) {
        found = candidate;
        name = name.slice(0, -(option.length + 1));
        break;
      }
    }
  }
  const sampler = findSampler(name) ?? defaultSampler;
  if (convertAutomatic && sampler.options.scheduler === found.name) found = SCHEDULERS[0];
  return { sampler: sampler.name, schedulerLabel: found.label };
}

/** A1111's per-call sampler parameters (options merged with request values; s_tmax already 0 → ∞). */
export interface SamplerParams {
  eta: number;
  sChurn: number;
  sTmin: number;
  sTmax: number;
  sNoise: number;
}

/** The options A1111 passes: the entry's fixed kwargs plus those parameters its function's signature accepts. */
export function samplerOptionsFor(entry: SamplerEntry, params: SamplerParams): SamplerOptions {
  const opts: SamplerOptions = entry.kind === 'k-diffusion' ? { ...entry.defaults } : {};
  const names: Record<ExtraParam, keyof SamplerParams> = { eta: 'eta', s_churn: 'sChurn', s_tmin: 'sTmin', s_tmax: 'sTmax', s_noise: 'sNoise' };
  for (const p of entry.params) opts[names[p]] = params[names[p]];
  return opts;
}

/** What A1111 reads from options and the model when it builds the sigma schedule. */
export interface SigmaScheduleParams {
  sampler: KDiffusionSamplerEntry;
  /** A scheduler label or name; 'Automatic' (or empty) takes the sampler's own default. */
  scheduler: string;
  steps: number;
  /** The model's discrete schedule (k-diffusion model_wrap). */
  schedule: DiscreteSchedule;
  /** Options sigma_min / sigma_max / rho: 0 = the model's (scheduler's) own. */
  sigmaMin?: number;
  sigmaMax?: number;
  rho?: number;
  alwaysDiscardNextToLastSigma?: boolean;
  useOldKarrasSchedulerSigmas?: boolean;
  /** Align Your Steps table. */
  modelFamily?: 'sd15' | 'sdxl';
  betaAlpha?: number;
  betaBeta?: number;
}

type SchedulerFn = (n: number, sigmaMin: number, sigmaMax: number, rho: number | undefined, p: SigmaScheduleParams) => number[];

const SCHEDULER_FUNCTIONS: Readonly<Record<string, SchedulerFn>> = {
  uniform: (n, _min, _max, _rho, p) => getSigmasUniform(n, p.schedule),
  karras: (n, min, max, rho) => getSigmasKarras(n, min, max, rho),
  exponential: (n, min, max) => getSigmasExponential(n, min, max),
  polyexponential: (n, min, max, rho) => getSigmasPolyexponential(n, min, max, rho),
  sgm_uniform: (n, min, max, _rho, p) => getSigmasSgmUniform(n, min, max, p.schedule),
  kl_optimal: (n, min, max) => getSigmasKlOptimal(n, min, max),
  align_your_steps: (n, _min, _max, _rho, p) => getSigmasAlignYourSteps(n, p.modelFamily),
  simple: (n, _min, _max, _rho, p) => getSigmasSimple(n, p.schedule),
  normal: (n, min, max, _rho, p) => getSigmasNormal(n, min, max, p.schedule),
  ddim: (n, _min, _max, _rho, p) => getSigmasDdim(n, p.schedule),
  beta: (n, min, max, _rho, p) => getSigmasBeta(n, min, max, p.betaAlpha, p.betaBeta),
};

/**
 * A1111's k-diffusion `get_sigmas`: 'Automatic' → the sampler's default scheduler, else the model's own
 * discretisation (`get_sigmas(steps)`); options override sigma_min/max/rho when non-zero and different; samplers
 * with discard_next_to_last_sigma (or the always_* option) get one more step and lose the penultimate sigma.
 * Returns the sigmas and the infotext entries A1111 adds on the way.
 */
export function buildSigmas(p: SigmaScheduleParams): { sigmas: number[]; extraGenerationParams: Record<string, string | number | boolean> } {
  const extra: Record<string, string | number | boolean> = {};
  const label = p.scheduler && p.scheduler !== 'Automatic' ? p.scheduler : p.sampler.options.scheduler;
  const scheduler = findScheduler(label);
  let discard = p.sampler.options.discard_next_to_last_sigma === 'True';
  if (p.alwaysDiscardNextToLastSigma && !discard) {
    discard = true;
    extra['Discard penultimate sigma'] = true;
  }
  const steps = p.steps + (discard ? 1 : 0);
  let sigmas: number[];
  const fn = scheduler && SCHEDULER_FUNCTIONS[scheduler.name];
  if (!scheduler || !fn) {
    sigmas = p.schedule.getSigmas(steps);
  } else {
    const [mSigmaMin, mSigmaMax] = [p.schedule.sigmaMin, p.schedule.sigmaMax];
    let [sigmaMin, sigmaMax] = p.useOldKarrasSchedulerSigmas ? [0.1, 10] : [mSigmaMin, mSigmaMax];
    let rho: number | undefined;
    extra['Schedule type'] = scheduler.label;
    if (p.sigmaMin && p.sigmaMin !== mSigmaMin) extra['Schedule min sigma'] = sigmaMin = p.sigmaMin;
    if (p.sigmaMax && p.sigmaMax !== mSigmaMax) extra['Schedule max sigma'] = sigmaMax = p.sigmaMax;
    if (scheduler.defaultRho !== -1 && p.rho && p.rho !== scheduler.defaultRho) extra['Schedule rho'] = rho = p.rho;
    if (scheduler.name === 'beta') {
      extra['Beta schedule alpha'] = p.betaAlpha ?? 0.6;
      extra['Beta schedule beta'] = p.betaBeta ?? 0.6;
    }
    sigmas = fn(steps, sigmaMin, sigmaMax, rho, p);
  }
  return { sigmas: discard ? discardNextToLastSigma(sigmas) : sigmas, extraGenerationParams: extra };
}

/** A1111 `get_timesteps` for the timesteps samplers (schedulers do not apply; always_discard adds a step). */
export function buildTimesteps(steps: number, alwaysDiscardNextToLastSigma = false): number[] {
  return getTimesteps(steps + (alwaysDiscardNextToLastSigma ? 1 : 0));
}
