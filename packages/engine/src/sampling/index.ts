/**
 * Public API of the sampling module: k-diffusion samplers and schedules, A1111's timesteps samplers, the model
 * wrappers (CompVis denoisers, CFG) and A1111's sampler/scheduler registry.
 */

export {
  cfgDenoiser,
  cfgEpsModel,
  combineCfg,
  compVisDenoiser,
  compVisTimestepsModel,
  getScalings,
  guidedEpsOnly,
  lcmDenoiser,
  type Prediction,
  type TimestepsBuffers,
  type UNetFn,
  unguidedEpsModel,
} from './denoiser.ts';
export { BrownianTree, brownianTreeNoiseSampler } from './brownian-tree.ts';
export { alphasCumprodLinear, betasLinear, DiscreteSchedule, downcastAlphasCumprod, LcmSchedule } from './discrete-schedule.ts';
export { getAncestralStep, toD } from './helpers.ts';
export {
  buildSigmas,
  buildTimesteps,
  type ExtraParam,
  findSampler,
  findScheduler,
  type KDiffusionSamplerEntry,
  resolveSamplerAndScheduler,
  SAMPLERS,
  SAMPLERS_MAP_LOWERCASE,
  type SamplerEntry,
  type SamplerParams,
  SCHEDULERS,
  type SchedulerEntry,
  type SigmaScheduleParams,
  samplerOptionsFor,
  samplersResponse,
  schedulersResponse,
  type TimestepsSamplerEntry,
} from './registry.ts';
export { type AdaptiveOptions, sampleDpmAdaptive, sampleDpmFast } from './samplers-dpm-solver.ts';
export { sampleDpmpp2m, sampleDpmpp2mSde, sampleDpmpp2sAncestral, sampleDpmpp3mSde, sampleDpmppSde } from './samplers-dpmpp.ts';
export { type RestartInterval, restartPlan, restartStepList, sampleLcm, sampleRestart } from './samplers-extra.ts';
export { linearMultistepCoeff, sampleDpm2, sampleDpm2Ancestral, sampleEuler, sampleEulerAncestral, sampleHeun, sampleLms } from './samplers-karras.ts';
export { getTimesteps, sampleDdim, sampleDdimCfgpp, samplePlms } from './samplers-timesteps.ts';
export {
  AYS_SIGMAS,
  appendZero,
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
  getSigmasVp,
  loglinearInterp,
} from './schedules.ts';
export type {
  Denoiser,
  EpsModel,
  GuidedEps,
  GuidedEpsModel,
  NoiseFn,
  NoiseSampler,
  Sampler,
  SamplerOptions,
  StepCallback,
  StepInfo,
  TimestepsOptions,
  TimestepsSampler,
} from './types.ts';
export { noiseScheduleVp, sampleUniPc, type UniPcOptions, type UniPcSkipType } from './unipc.ts';
