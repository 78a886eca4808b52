/**
 * The sampling step of a pipeline: resolves the A1111 sampler and scheduler, builds the sigma schedule as
 * A1111's KDiffusionSampler.get_sigmas does, and runs the sampler with A1111's noise and interruption rules.
 */
import { InvalidParamsError } from '../errors.ts';
import type { ImageRNG } from '../rng/image-rng.ts';
import { alphasCumprodLinear, DiscreteSchedule } from '../sampling/discrete-schedule.ts';
import { findSampler, findScheduler, type KDiffusionSamplerEntry, resolveSamplerAndScheduler, SAMPLERS, samplerOptionsFor, SCHEDULERS, type SchedulerEntry } from '../sampling/registry.ts';
import * as S from '../sampling/schedules.ts';
import type { Tensor } from '../tensor.ts';
import type { CondSchedule, MultiCond } from './conditioning.ts';
import { TextConditioner } from './conditioning.ts';
import { guidedDenoiser } from './guidance.ts';
import type { LoadedModel } from './model.ts';
import type { GenerationHooks, GenerationOptions, Txt2ImgParams } from './types.ts';

export interface PreparedSampling {
  entry: KDiffusionSamplerEntry;
  samplerName: string;
  /** The concrete schedule used (`Karras` for DPM++ 2M + Automatic), or `Automatic` for the model's own. */
  schedulerLabel: string;
  sigmas: number[];
  discrete: DiscreteSchedule;
  extraGenerationParams: Record<string, unknown>;
}

/**
 * Resolves names exactly as A1111 1.10 (spec §4.2), except that a sampler name A1111 would silently replace
 * by DPM++ 2M is an error here (the issue asks for a 4xx naming the valid choices).
 */
export function prepareSampling(model: LoadedModel, params: Txt2ImgParams): PreparedSampling {
  const { sampler, schedulerLabel } = resolveSamplerAndScheduler(params.samplerName, params.scheduler, false);
  const requested = params.samplerName.trim();
  if (requested && !isKnownSamplerName(requested)) {
    throw new InvalidParamsError('sampler_name', `sampler '${params.samplerName}' not found; valid choices: ${SAMPLERS.map((s) => s.name).join(', ')} (optionally followed by a scheduler label, as in 'DPM++ 2M Karras')`, 'SAMPLER_NOT_FOUND');
  }
  const entry = findSampler(sampler);
  if (!entry || entry.kind !== 'k-diffusion') {
    throw new InvalidParamsError('sampler_name', `sampler '${sampler}' is not available yet in this build; k-diffusion samplers are: ${SAMPLERS.filter((s) => s.kind === 'k-diffusion').map((s) => s.name).join(', ')}`, 'SAMPLER_NOT_FOUND');
  }
  const { linear_start, linear_end, num_train_timesteps } = model.config.schedule;
  const discrete = DiscreteSchedule.fromAlphasCumprod(alphasCumprodLinear(linear_start, linear_end, num_train_timesteps));
  const extra: Record<string, unknown> = {};
  const scheduler = findScheduler(schedulerLabel) ?? SCHEDULERS[0];
  const { sigmas, label } = getSigmas(entry, scheduler, params.steps, discrete, params.options, extra);
  return { entry, samplerName: sampler, schedulerLabel: label, sigmas, discrete, extraGenerationParams: extra };
}

/** A name A1111 knows: a sampler name, or one followed by a scheduler label/name/alias. */
function isKnownSamplerName(name: string): boolean {
  if (findSampler(name)) return true;
  return SCHEDULERS.some((s) => [s.label, s.name, ...(s.aliases ?? [])].some((o) => name.endsWith(` ${o}`) && findSampler(name.slice(0, -(o.length + 1)))));
}

/** A1111 KDiffusionSampler.get_sigmas: scheduler function, option overrides, discard_next_to_last_sigma. */
function getSigmas(entry: KDiffusionSamplerEntry, requested: SchedulerEntry, steps: number, discrete: DiscreteSchedule, options: GenerationOptions, extra: Record<string, unknown>): { sigmas: number[]; label: string } {
  let discard = entry.options.discard_next_to_last_sigma === 'True';
  if (options.always_discard_next_to_last_sigma && !discard) {
    discard = true;
    extra['Discard penultimate sigma'] = true;
  }
  const n = steps + (discard ? 1 : 0);
  const scheduler = requested.label === 'Automatic' && entry.options.scheduler ? findScheduler(entry.options.scheduler) ?? requested : requested;
  let sigmas: number[];
  if (scheduler.label === 'Automatic') {
    sigmas = S.getSigmasUniform(n, discrete); // the model's own discretisation (CompVisDenoiser.get_sigmas)
  } else {
    sigmas = scheduleSigmas(scheduler, n, discrete, options, extra);
    extra['Schedule type'] = scheduler.label;
  }
  return { sigmas: discard ? S.discardNextToLastSigma(sigmas) : sigmas, label: scheduler.label };
}

function scheduleSigmas(scheduler: SchedulerEntry, n: number, discrete: DiscreteSchedule, options: GenerationOptions, extra: Record<string, unknown>): number[] {
  let sigmaMin = discrete.sigmaMin;
  let sigmaMax = discrete.sigmaMax;
  if (options.sigma_min !== 0 && options.sigma_min !== sigmaMin) extra['Schedule min sigma'] = sigmaMin = options.sigma_min;
  if (options.sigma_max !== 0 && options.sigma_max !== sigmaMax) extra['Schedule max sigma'] = sigmaMax = options.sigma_max;
  let rho = scheduler.defaultRho;
  if (rho !== -1 && options.rho !== 0 && options.rho !== rho) extra['Schedule rho'] = rho = options.rho;
  switch (scheduler.name) {
    case 'uniform': return S.getSigmasUniform(n, discrete);
    case 'karras': return S.getSigmasKarras(n, sigmaMin, sigmaMax, rho);
    case 'exponential': return S.getSigmasExponential(n, sigmaMin, sigmaMax);
    case 'polyexponential': return S.getSigmasPolyexponential(n, sigmaMin, sigmaMax, rho);
    case 'sgm_uniform': return S.getSigmasSgmUniform(n, sigmaMin, sigmaMax, discrete);
    case 'kl_optimal': return S.getSigmasKlOptimal(n, sigmaMin, sigmaMax);
    case 'align_your_steps': return S.getSigmasAlignYourSteps(n, 'sd15');
    case 'simple': return S.getSigmasSimple(n, discrete);
    case 'normal': return S.getSigmasNormal(n, sigmaMin, sigmaMax, discrete);
    case 'ddim': return S.getSigmasDdim(n, discrete);
    case 'beta': return S.getSigmasBeta(n, sigmaMin, sigmaMax);
    default: throw new InvalidParamsError('scheduler', `scheduler '${scheduler.label}' has no schedule function`, 'SCHEDULER_NOT_FOUND');
  }
}

export interface SamplingRun {
  cond: readonly MultiCond[];
  uncond: readonly CondSchedule[];
  rng: ImageRNG;
  params: Txt2ImgParams;
  hooks: GenerationHooks;
  iteration: number;
}

/** Runs the sampler from pure noise; an interrupt or skip returns the last denoised latent (A1111's last_latent). */
export async function runSampling(model: LoadedModel, prepared: PreparedSampling, run: SamplingRun): Promise<{ latent: Tensor; interrupted: boolean }> {
  const { params, hooks } = run;
  const denoiser = guidedDenoiser(model, prepared.discrete, model.config.prediction_type === 'v' ? 'v' : 'eps', { conds: run.cond, unconds: run.uncond, cfgScale: params.cfgScale });
  const x = run.rng.first().mul(prepared.sigmas[0]);
  let lastLatent = x;
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  hooks.signal?.addEventListener('abort', onAbort);
  const skip = hooks.skipSignal?.();
  skip?.addEventListener('abort', onAbort);
  const options = samplerOptionsFor(prepared.entry, samplerParams(params));
  try {
    const latent = await prepared.entry.sample(denoiser, x, prepared.sigmas, {
      ...options,
      noise: () => run.rng.next(),
      signal: abort.signal,
      callback: ({ i, denoised }) => {
        lastLatent = denoised;
        hooks.onProgress?.({ jobNo: run.iteration, jobCount: params.nIter, samplingStep: i + 1, samplingSteps: params.steps });
      },
    });
    return { latent, interrupted: false };
  } catch (error) {
    if (!abort.signal.aborted) throw error;
    return { latent: lastLatent, interrupted: hooks.signal?.aborted ?? false };
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort);
    skip?.removeEventListener('abort', onAbort);
  }
}

/** A1111's per-call sampler parameters: request eta or the option, s_* from options (s_tmax 0 → ∞). */
function samplerParams(params: Txt2ImgParams) {
  const o = params.options;
  return { eta: params.eta ?? o.eta_ancestral, sChurn: o.s_churn, sTmin: o.s_tmin, sTmax: o.s_tmax === 0 ? Number.POSITIVE_INFINITY : o.s_tmax, sNoise: o.s_noise };
}

/** Conditioning for one batch: positive AND parts and negative schedules (model-call clock). */
export async function conditionBatch(model: LoadedModel, prepared: PreparedSampling, prompts: readonly string[], negatives: readonly string[], options: GenerationOptions, steps: number) {
  const multiplier = prepared.entry.options.second_order === 'True' ? 2 : 1; // A1111 counts model calls
  const conditioner = new TextConditioner(model, { clipSkip: options.CLIP_stop_at_last_layers, emphasis: options.emphasis, commaPaddingBacktrack: options.comma_padding_backtrack }, steps * multiplier);
  const [cond, uncond] = await Promise.all([conditioner.multicond(prompts), Promise.all(negatives.map((n) => conditioner.schedule(n)))]);
  return { cond, uncond };
}
