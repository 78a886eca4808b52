/**
 * The options A1111 applies around a sampler (spec §8.3, §10) and the infotext keys it adds for them: eta (the
 * request's, else the family's option), s_churn/s_tmin/s_tmax/s_noise, sgm_noise_multiplier, the UniPC options,
 * always_discard_next_to_last_sigma for the timesteps samplers, and the Brownian-tree noise of the SDE samplers.
 * Behaviour from the spec, the fixture READMEs and k-diffusion's sampler signatures: a key is written only when its
 * sampler function takes the parameter and the value differs from that sampler's default.
 */
import { InvalidParamsError } from '../errors.ts';
import { brownianTreeNoiseSampler } from '../sampling/brownian-tree.ts';
import { f32 } from '../sampling/numeric.ts';
import type { ExtraParam, KDiffusionSamplerEntry, SamplerEntry } from '../sampling/registry.ts';
import type { NoiseSampler } from '../sampling/types.ts';
import type { UniPcOptions, UniPcSkipType } from '../sampling/unipc.ts';
import type { Shape, Tensor } from '../tensor.ts';
import { pyFloat } from './infotext.ts';
import type { GenerationOptions, Txt2ImgParams } from './types.ts';

/** The eta a sampler runs with: the request's, else eta_ddim (timesteps samplers) or eta_ancestral (k-diffusion). */
export function effectiveEta(entry: SamplerEntry, params: Pick<Txt2ImgParams, 'eta' | 'options'>): number {
  return params.eta ?? (entry.kind === 'timesteps' ? params.options.eta_ddim : params.options.eta_ancestral);
}

/** A1111's `s_*` keys: the option, the sampler's own default and the infotext key. s_tmax 0 means ∞. */
const SIGMA_KEYS: readonly [ExtraParam, (o: GenerationOptions) => number, number, string][] = [
  ['s_churn', (o) => o.s_churn, 0, 'Sigma churn'],
  ['s_tmin', (o) => o.s_tmin, 0, 'Sigma tmin'],
  ['s_tmax', (o) => o.s_tmax || Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 'Sigma tmax'],
  ['s_noise', (o) => o.s_noise, 1, 'Sigma noise'],
];

/**
 * The infotext entries A1111 adds while it sets up the sampler, in its order: `Discard penultimate sigma`
 * (timesteps samplers; the k-diffusion one comes from buildSigmas), `SGM noise multiplier`, then `Eta` (k-diffusion,
 * default 1) or `Eta DDIM` (DDIM / DDIM CFG++, default 0), then the `Sigma *` keys of samplers that take them.
 */
export function samplerInfotextParams(entry: SamplerEntry, params: Pick<Txt2ImgParams, 'eta' | 'options'>): Record<string, unknown> {
  const o = params.options;
  const extra: Record<string, unknown> = {};
  const timesteps = entry.kind === 'timesteps';
  if (timesteps && o.always_discard_next_to_last_sigma) extra['Discard penultimate sigma'] = true;
  if (!timesteps && o.sgm_noise_multiplier) extra['SGM noise multiplier'] = true;
  if (entry.params.includes('eta')) {
    const eta = effectiveEta(entry, params);
    if (eta !== (timesteps ? 0 : 1)) extra[timesteps ? 'Eta DDIM' : 'Eta'] = pyFloat(eta);
  }
  for (const [param, value, fallback, key] of SIGMA_KEYS) {
    if (entry.params.includes(param) && value(o) !== fallback) extra[key] = pyFloat(value(o));
  }
  return extra;
}

/**
 * The k-diffusion starting latent from unit noise: noise·σ_max, or with sgm_noise_multiplier noise·sqrt(1 + σ_max²)
 * (the variance sgm's discretisation gives x_T), computed in float32 on the float32 σ as torch does.
 */
export function initialLatent(noise: Tensor, sigmaMax: number, options: Pick<GenerationOptions, 'sgm_noise_multiplier'>): Tensor {
  if (!options.sgm_noise_multiplier) return noise.mul(sigmaMax);
  const s = f32(sigmaMax);
  return noise.mul(f32(Math.sqrt(f32(1 + f32(s * s)))));
}

/**
 * The SDE samplers' `noise_sampler` as A1111 builds it: a Brownian tree per image seeded with the image's seed, over
 * [smallest positive σ, largest σ] of the schedule (see sampling/brownian-tree.ts for how it differs from torchsde).
 * Other samplers get undefined (they draw `randn_like` noise). The trees are built on the first query: a 1-step
 * schedule has no positive σ range and never queries.
 */
export function sdeNoiseSampler(entry: KDiffusionSamplerEntry, shape: Shape, sigmas: readonly number[], seeds: readonly number[]): NoiseSampler | undefined {
  if (entry.options.brownian_noise !== 'True') return undefined;
  let sampler: NoiseSampler | null = null;
  return (sigma, sigmaNext) => {
    sampler ??= brownianTreeNoiseSampler(shape, Math.min(...sigmas.filter((s) => s > 0)), Math.max(...sigmas), seeds);
    return sampler(sigma, sigmaNext);
  };
}

const UNI_PC_VARIANTS = ['bh1', 'bh2'] as const;
const UNI_PC_SKIP_TYPES: readonly UniPcSkipType[] = ['time_uniform', 'time_quadratic', 'logSNR'];

/**
 * UniPC's options from A1111's uni_pc_* options for a run of `steps` model steps. A1111 accepts an order up to the
 * step count and fails (an assertion) beyond it; here that is a parameter error naming both values. The
 * `vary_coeff` variant is not implemented (an error that lists the supported ones).
 */
export function uniPcOptions(options: GenerationOptions, steps: number): Pick<UniPcOptions, 'variant' | 'skipType' | 'order' | 'lowerOrderFinal'> {
  const {
    uni_pc_variant: variant = 'bh1',
    uni_pc_skip_type: skipType = 'time_uniform',
    uni_pc_order: order = 3,
    uni_pc_lower_order_final: lowerOrderFinal = true,
  } = options;
  if (!(UNI_PC_VARIANTS as readonly string[]).includes(variant)) {
    throw new InvalidParamsError(
      'uni_pc_variant',
      `option uni_pc_variant must be one of ${UNI_PC_VARIANTS.join(', ')} on this server (A1111's vary_coeff is not implemented), got ${JSON.stringify(variant)}`,
    );
  }
  if (!UNI_PC_SKIP_TYPES.includes(skipType)) {
    throw new InvalidParamsError('uni_pc_skip_type', `option uni_pc_skip_type must be one of ${UNI_PC_SKIP_TYPES.join(', ')}, got ${JSON.stringify(skipType)}`);
  }
  if (!Number.isInteger(order) || order < 1 || order > steps) {
    throw new InvalidParamsError(
      'uni_pc_order',
      `UniPC order must be an integer from 1 to the number of steps (${steps}), got uni_pc_order = ${order}; lower the option or raise steps`,
    );
  }
  return { variant: variant as (typeof UNI_PC_VARIANTS)[number], skipType, order, lowerOrderFinal };
}
