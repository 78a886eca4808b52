/**
 * The sampling step of a pipeline: resolves the A1111 sampler and scheduler, builds the sigma schedule (or
 * the DDPM timesteps for DDIM/PLMS/UniPC), and runs the sampler with A1111's noise, progress and interruption
 * rules (an interrupt or skip returns the last denoised latent, as A1111's `last_latent`).
 */
import { taesdPreviewStep } from './taesd-preview.ts';
import { InvalidParamsError } from '../errors.ts';
import type { ImageRNG } from '../rng/image-rng.ts';
import { compVisDenoiser, compVisTimestepsModel, lcmDenoiser, type Prediction } from '../sampling/denoiser.ts';
import { alphasCumprodLinear, DiscreteSchedule, LcmSchedule } from '../sampling/discrete-schedule.ts';
import { buildSigmas, buildTimesteps, findSampler, resolveSamplerAndScheduler, SAMPLERS, type SamplerEntry, samplerOptionsFor, SCHEDULERS } from '../sampling/registry.ts';
import type { Denoiser, GuidedEpsModel } from '../sampling/types.ts';
import type { Tensor } from '../tensor.ts';
import { parseExtraNetworkPrompts } from '../text/extra-networks.ts';
import { type CondSchedule, type MultiCond, TextConditioner } from './conditioning.ts';
import type { ControlHook } from './control.ts';
import { type GuidanceInputs, guide } from './guidance.ts';
import { blendLatent, img2imgContext, type InitLatent, kDiffusionStart, type LatentMask, timestepsStart, withImageCond } from './img2img-sampling.ts';
import type { LoadedModel } from './model.ts';
import { activateNetworks } from './networks.ts';
import { completedRatioFromSigma, completedRatioFromTimestep, type RefinerSwitch, refinerDue } from './refiner.ts';
import { samplerInfotextParams, sdeNoiseSampler, uniPcOptions } from './sampler-options.ts';
import type { SdxlMicroConditioning } from './sdxl-conditioning.ts';
import { activeEmbeddings } from './textual-inversion.ts';
import type { GenerationHooks, GenerationOptions, Txt2ImgParams } from './types.ts';

export interface PreparedSampling {
  entry: SamplerEntry;
  samplerName: string;
  /** The scheduler label the job reports (`Automatic` unless one was chosen or implied). */
  schedulerLabel: string;
  /** k-diffusion: sigmas (trailing 0); timesteps samplers: DDPM timesteps. */
  sigmas: number[];
  timesteps: number[];
  alphasCumprod: Float32Array;
  extraGenerationParams: Record<string, unknown>;
}

/** A name A1111 knows: a sampler name, or one followed by a scheduler label/name/alias ("DPM++ 2M Karras"). */
function isKnownSamplerName(name: string): boolean {
  if (findSampler(name)) return true;
  return SCHEDULERS.some((s) => [s.label, s.name, ...(s.aliases ?? [])].some((o) => name.endsWith(` ${o}`) && findSampler(name.slice(0, -(o.length + 1)))));
}

/**
 * Resolves names as A1111 1.10 does (spec §4.2), except that a sampler name A1111 would silently replace by
 * DPM++ 2M is an error here that lists the valid choices.
 */
export function prepareSampling(model: LoadedModel, params: Txt2ImgParams): PreparedSampling {
  const requested = params.samplerName.trim();
  if (requested && !isKnownSamplerName(requested)) {
    throw new InvalidParamsError('sampler_name', `sampler '${params.samplerName}' not found; valid choices: ${SAMPLERS.map((s) => s.name).join(', ')} (optionally followed by a scheduler, as in 'DPM++ 2M Karras')`, 'SAMPLER_NOT_FOUND');
  }
  const { sampler, schedulerLabel } = resolveSamplerAndScheduler(params.samplerName, params.scheduler, false);
  const entry = findSampler(sampler) as SamplerEntry;
  const { linear_start, linear_end, num_train_timesteps } = model.config.schedule;
  const alphasCumprod = alphasCumprodLinear(linear_start, linear_end, num_train_timesteps);
  const o = params.options;
  if (entry.kind === 'timesteps') {
    const timesteps = buildTimesteps(params.steps, o.always_discard_next_to_last_sigma);
    if (entry.name === 'UniPC') uniPcOptions(o, timesteps.length); // bad UniPC options fail before any work
    return { entry, samplerName: sampler, schedulerLabel, sigmas: [], timesteps, alphasCumprod, extraGenerationParams: samplerInfotextParams(entry, params) };
  }
  const schedule = entry.denoiser === 'lcm' ? new LcmSchedule(alphasCumprod) : DiscreteSchedule.fromAlphasCumprod(alphasCumprod);
  const { sigmas, extraGenerationParams } = buildSigmas({
    sampler: entry, scheduler: schedulerLabel, steps: params.steps, schedule, sigmaMin: o.sigma_min, sigmaMax: o.sigma_max, rho: o.rho,
    alwaysDiscardNextToLastSigma: o.always_discard_next_to_last_sigma, modelFamily: model.config.family.startsWith('sdxl') ? 'sdxl' : 'sd15', // A1111 is_sdxl covers the refiner
  });
  const label = (extraGenerationParams['Schedule type'] as string | undefined) ?? schedulerLabel;
  return { entry, samplerName: sampler, schedulerLabel: label, sigmas, timesteps: [], alphasCumprod, extraGenerationParams: { ...extraGenerationParams, ...samplerInfotextParams(entry, params) } };
}

export interface SamplingRun {
  cond: readonly MultiCond[];
  uncond: readonly CondSchedule[];
  rng: ImageRNG;
  params: Txt2ImgParams;
  hooks: GenerationHooks;
  iteration: number;
  /** img2img / hires pass: start from this latent, noised to the truncated schedule's first level. */
  init?: InitLatent;
  /** Inpainting models' c_concat [B, 5, h, w], appended to the channels of each UNet input row of its image. */
  imageCond?: Tensor | null;
  /** Inpainting: after every model call the guided output becomes init·mask + out·nmask (A1111 CFGDenoiser). */
  latentMask?: LatentMask | null;
  /** Progress numbering when an iteration has several sampling passes (hires fix); default (iteration, nIter). */
  job?: { no: number; count: number };
  /** ControlNet units (control-units.ts); absent for jobs without any. */
  control?: ControlHook;
  /** A refiner that may take over mid-pass (refiner.ts); absent or null: the base samples throughout. */
  refiner?: RefinerSwitch | null;
}

/** What sampled: the base, or the refiner from the switch on (it decodes the result, as A1111's loaded model). */
interface ModelState {
  model: LoadedModel;
  refined: boolean;
  /** Model calls so far (A1111 cfg_denoiser.step) and in the whole pass, for refiner_switch_by_sample_steps. */
  calls: number;
  totalCalls: number;
}

const predictionOf = (model: LoadedModel): Prediction => (model.config.prediction_type === 'v' ? 'v' : 'eps');

/** A1111's per-call sampler parameters: request eta or the option for the sampler family, s_* from options (s_tmax 0 → ∞). */
function samplerParams(entry: SamplerEntry, params: Txt2ImgParams) {
  const o = params.options;
  const eta = params.eta ?? (entry.kind === 'timesteps' ? o.eta_ddim : o.eta_ancestral);
  return { eta, sChurn: o.s_churn, sTmin: o.s_tmin, sTmax: o.s_tmax === 0 ? Number.POSITIVE_INFINITY : o.s_tmax, sNoise: o.s_noise };
}

/**
 * Runs the sampler from pure noise; returns the final latent, or the last denoised one when interrupted/skipped, and
 * the model that sampled last (the refiner once it took over).
 */
export async function runSampling(model: LoadedModel, prepared: PreparedSampling, run: SamplingRun): Promise<{ latent: Tensor; interrupted: boolean; model: LoadedModel }> {
  const { params, hooks } = run;
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  const signals = [hooks.signal, hooks.skipSignal?.()].filter((s): s is AbortSignal => s !== undefined);
  for (const s of signals) s.addEventListener('abort', onAbort);
  const inputs: GuidanceInputs = { conds: run.cond, unconds: run.uncond, cfgScale: params.cfgScale };
  let noise = run.rng.first();
  if (run.init && run.init.noiseMultiplier !== 1) noise = noise.mul(run.init.noiseMultiplier); // A1111 x *= initial_noise_multiplier
  let lastLatent = run.init?.latent ?? noise;
  const samplingSteps = run.init ? run.init.tEnc + 1 : params.steps; // A1111 launch_sampling(t_enc + 1)
  const job = run.job ?? { no: run.iteration, count: params.nIter };
  const state: ModelState = { model, refined: false, calls: 0, totalCalls: samplingSteps * (prepared.entry.options.second_order === 'True' ? 2 : 1) };
  const progress = (i: number, denoised: Tensor) => {
    run.control?.onStep(i); // A1111's sampler callback sets state.sampling_step, which ControlNet's schedule reads
    lastLatent = denoised;
    const latentFormat = state.model.config.family.startsWith('sdxl') ? 'sdxl' : 'sd';
    const event = { jobNo: job.no, jobCount: job.count, samplingStep: i + 1, samplingSteps, latent: denoised, latentFormat } as const;
    hooks.onProgress?.(event);
    taesdPreviewStep(state.model.taesd, params.options, i + 1, denoised, (preview) => hooks.onProgress?.({ ...event, preview }));
  };
  try {
    const latent = prepared.entry.kind === 'timesteps'
      ? await runTimesteps(state, prepared, inputs, noise, { rng: run.rng, signal: abort.signal, params, progress, ...img2imgContext(run), control: run.control, refiner: run.refiner })
      : await runKDiffusion(state, prepared, inputs, noise, { rng: run.rng, signal: abort.signal, params, progress, ...img2imgContext(run), control: run.control, refiner: run.refiner });
    return { latent, interrupted: false, model: state.model };
  } catch (error) {
    if (!abort.signal.aborted) throw error;
    return { latent: lastLatent, interrupted: hooks.signal?.aborted ?? false, model: state.model };
  } finally {
    for (const s of signals) s.removeEventListener('abort', onAbort);
  }
}

interface RunContext {
  rng: ImageRNG;
  signal: AbortSignal;
  params: Txt2ImgParams;
  progress: (i: number, denoised: Tensor) => void;
  init?: InitLatent;
  latentMask?: LatentMask | null;
  /** c_concat rows in guide()'s row order (inpainting models), or null. */
  concat?: Tensor | null;
  control?: ControlHook;
  refiner?: RefinerSwitch | null;
}

/**
 * The UNet over one batch of rows; ControlNet units add their residuals (rows < condRows are cond rows) while the
 * base samples (the extension hooks the job's starting model only).
 */
function unetFor(state: ModelState, ctx: RunContext, context: Tensor, y: Tensor | null, condRows: number) {
  const model = state.model;
  const unet = (xIn: Tensor, t: readonly number[], control: readonly Tensor[] | null = null) => model.unet(withImageCond(xIn, ctx.concat), t, context, y, control);
  return (xIn: Tensor, t: readonly number[]) => (ctx.control && !state.refined ? ctx.control.run(unet, xIn, t, context, y, condRows) : unet(xIn, t));
}

/**
 * A1111 apply_refiner, run before every model call: once the completed ratio reaches the switch point the refiner
 * samples from this call on, with its own conditioning (the guidance reads `inputs` at each call).
 */
async function switchIfDue(state: ModelState, ctx: RunContext, inputs: GuidanceInputs, ratio: () => number): Promise<void> {
  const refiner = ctx.refiner;
  if (refiner && !state.refined && refinerDue(refiner.bySteps ? state.calls / state.totalCalls : ratio(), refiner.switchAt)) {
    const conds = await refiner.conditions();
    inputs.conds = conds.cond;
    inputs.unconds = conds.uncond;
    state.model = refiner.model;
    state.refined = true;
    refiner.onSwitch(conds);
  }
  state.calls += 1;
}

function runKDiffusion(state: ModelState, prepared: PreparedSampling, inputs: GuidanceInputs, noise: Tensor, ctx: RunContext): Promise<Tensor> {
  const entry = prepared.entry;
  if (entry.kind !== 'k-diffusion') throw new Error('not a k-diffusion sampler');
  const schedule = entry.denoiser === 'lcm' ? new LcmSchedule(prepared.alphasCumprod) : DiscreteSchedule.fromAlphasCumprod(prepared.alphasCumprod);
  const rows = (context: Tensor, y: Tensor | null, condRows: number): Denoiser => {
    const unet = unetFor(state, ctx, context, y, condRows);
    const prediction = predictionOf(state.model);
    return schedule instanceof LcmSchedule ? lcmDenoiser(unet, schedule, prediction) : compVisDenoiser(unet, schedule, prediction);
  };
  const guided = guide(inputs, (xIn, context, sigma, y, condRows) => rows(context, y, condRows)(xIn, sigma));
  const { latentMask } = ctx;
  const trainSigmas = ctx.refiner ? DiscreteSchedule.fromAlphasCumprod(prepared.alphasCumprod).sigmas : null;
  const denoiser: Denoiser = async (x, sigma) => {
    await switchIfDue(state, ctx, inputs, () => completedRatioFromSigma(trainSigmas as Float32Array, sigma));
    const denoised = (await guided(x, sigma)).guided;
    return latentMask ? blendLatent(denoised, latentMask) : denoised;
  };
  const start = kDiffusionStart(prepared, noise, ctx.init, ctx.params.options); // img2img: the tail of the schedule, from init + noise·σ
  return entry.sample(denoiser, start.x, start.sigmas, {
    ...samplerOptionsFor(entry, samplerParams(entry, ctx.params)),
    noise: () => ctx.rng.next(),
    noiseSampler: sdeNoiseSampler(entry, noise.shape, start.sigmas, ctx.rng.seeds), // DPM++ SDE family: Brownian tree
    signal: ctx.signal,
    callback: ({ i, denoised }) => ctx.progress(i, denoised),
  });
}

function runTimesteps(state: ModelState, prepared: PreparedSampling, inputs: GuidanceInputs, noise: Tensor, ctx: RunContext): Promise<Tensor> {
  const entry = prepared.entry;
  if (entry.kind !== 'timesteps') throw new Error('not a timesteps sampler');
  const scaled = { ...inputs, cfgScale: inputs.cfgScale * entry.cfgScaleMultiplier }; // DDIM CFG++ maps CFG to [0, 1]
  const guided = guide(scaled, (xIn, context, t, y, condRows) => compVisTimestepsModel(unetFor(state, ctx, context, y, condRows), prepared.alphasCumprod, predictionOf(state.model))(xIn, t));
  const epsModel: GuidedEpsModel = async (x, t) => {
    await switchIfDue(state, ctx, scaled, () => completedRatioFromTimestep(t, prepared.alphasCumprod.length));
    const { guided: eps, uncond } = await guided(x, t);
    // A1111's CFG denoiser blends whatever it returns with the init latent; for these samplers that is eps.
    return { eps: ctx.latentMask ? blendLatent(eps, ctx.latentMask) : eps, epsUncond: uncond };
  };
  const { eta } = samplerParams(entry, ctx.params);
  const start = timestepsStart(prepared, noise, ctx.init);
  if (start.timesteps.length === 0) return Promise.resolve(start.x); // denoising 0: A1111's loop is empty too
  return entry.sample(epsModel, start.x, start.timesteps, {
    alphasCumprod: prepared.alphasCumprod,
    tStart: start.tStart,
    eta: entry.params.includes('eta') ? eta : undefined,
    ...(entry.name === 'UniPC' ? uniPcOptions(ctx.params.options, start.timesteps.length) : {}),
    noise: () => ctx.rng.next(),
    signal: ctx.signal,
    callback: ({ i, denoised }) => ctx.progress(i, denoised),
  });
}

/**
 * Conditioning for one batch: positive AND parts and negative schedules, on the model-call clock; `micro` for SDXL.
 * `textParams`: the infotext keys the text side adds (`TI hashes`, `Emphasis`).
 */
export async function conditionBatch(model: LoadedModel, prepared: PreparedSampling, prompts: readonly string[], negatives: readonly string[], options: GenerationOptions, steps: number, micro?: SdxlMicroConditioning) {
  // A1111 activates the extra networks of the batch's first prompt before its conds (LoRA changes the text
  // encoder too), and the prompts are encoded without their <…:…> tags.
  const extra = parseExtraNetworkPrompts(prompts);
  const networks = await activateNetworks(model, extra.networks, options);
  const multiplier = prepared.entry.options.second_order === 'True' ? 2 : 1; // A1111 counts model calls
  const embeddings = model.embeddings ? activeEmbeddings(model.embeddings, model.config).index : undefined;
  const textOptions = { clipSkip: options.CLIP_stop_at_last_layers, emphasis: options.emphasis, commaPaddingBacktrack: options.comma_padding_backtrack, sdxlClipLSkip: options.sdxl_clip_l_skip, micro, embeddings };
  const conditioner = new TextConditioner(model, textOptions, steps * multiplier);
  const [cond, uncond] = await Promise.all([conditioner.multicond(extra.prompts), Promise.all(negatives.map((n) => conditioner.schedule(n, true)))]);
  // `Lora hashes` (written at activation) precede the keys conditioning adds (TI hashes, Emphasis), as in A1111.
  const textParams = { ...networks.extraGenerationParams, ...conditioner.infotextParams(options.textual_inversion_add_hashes_to_infotext ?? true) };
  return { cond, uncond, textParams, warnings: networks.warnings };
}
