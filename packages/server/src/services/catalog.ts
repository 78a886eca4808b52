/**
 * The sampler and scheduler tables behind GET /sdapi/v1/samplers and /schedulers (spec §3.11) and the sampler
 * resolution of §4.2. The default tables are A1111 v1.10.1's; buildApp takes a replacement Catalog so the
 * engine's own registry (what it can actually run) can be plugged in.
 */
import type { SamplerItem, SchedulerItem } from '@sdapi/protocol';
import { ApiError } from './errors.ts';

export interface Catalog {
  samplers: readonly SamplerItem[];
  schedulers: readonly SchedulerItem[];
}

const sampler = (name: string, aliases: string[], options: Record<string, string> = {}): SamplerItem => ({ name, aliases, options });
const KARRAS = { scheduler: 'karras' };
const EXPONENTIAL = { scheduler: 'exponential' };
const T = 'True';

export const A1111_SAMPLERS: readonly SamplerItem[] = [
  sampler('DPM++ 2M', ['k_dpmpp_2m'], KARRAS),
  sampler('DPM++ SDE', ['k_dpmpp_sde'], { ...KARRAS, second_order: T, brownian_noise: T }),
  sampler('DPM++ 2M SDE', ['k_dpmpp_2m_sde'], { ...EXPONENTIAL, brownian_noise: T }),
  sampler('DPM++ 2M SDE Heun', ['k_dpmpp_2m_sde_heun'], { ...EXPONENTIAL, brownian_noise: T, solver_type: 'heun' }),
  sampler('DPM++ 2S a', ['k_dpmpp_2s_a'], { ...KARRAS, uses_ensd: T, second_order: T }),
  sampler('DPM++ 3M SDE', ['k_dpmpp_3m_sde'], { ...EXPONENTIAL, discard_next_to_last_sigma: T, brownian_noise: T }),
  sampler('Euler a', ['k_euler_a', 'k_euler_ancestral'], { uses_ensd: T }),
  sampler('Euler', ['k_euler']),
  sampler('LMS', ['k_lms']),
  sampler('Heun', ['k_heun'], { second_order: T }),
  sampler('DPM2', ['k_dpm_2'], { ...KARRAS, discard_next_to_last_sigma: T, second_order: T }),
  sampler('DPM2 a', ['k_dpm_2_a'], { ...KARRAS, discard_next_to_last_sigma: T, uses_ensd: T, second_order: T }),
  sampler('DPM fast', ['k_dpm_fast'], { uses_ensd: T }),
  sampler('DPM adaptive', ['k_dpm_ad'], { uses_ensd: T }),
  sampler('Restart', ['restart'], { ...KARRAS, second_order: T }),
  sampler('DDIM', ['ddim']),
  sampler('DDIM CFG++', ['ddim_cfgpp']),
  sampler('PLMS', ['plms']),
  sampler('UniPC', ['unipc']),
  sampler('LCM', ['k_lcm']),
];

const scheduler = (name: string, label: string, rho: number, inner: boolean, aliases: string[] | null = null): SchedulerItem => ({
  name,
  label,
  aliases,
  default_rho: rho,
  need_inner_model: inner,
});

export const A1111_SCHEDULERS: readonly SchedulerItem[] = [
  scheduler('automatic', 'Automatic', -1, false),
  scheduler('uniform', 'Uniform', -1, true),
  scheduler('karras', 'Karras', 7.0, false),
  scheduler('exponential', 'Exponential', -1, false),
  scheduler('polyexponential', 'Polyexponential', 1.0, false),
  scheduler('sgm_uniform', 'SGM Uniform', -1, true, ['SGMUniform']),
  scheduler('kl_optimal', 'KL Optimal', -1, false),
  scheduler('align_your_steps', 'Align Your Steps', -1, false),
  scheduler('simple', 'Simple', -1, true),
  scheduler('normal', 'Normal', -1, true),
  scheduler('ddim', 'DDIM', -1, true),
  scheduler('beta', 'Beta', -1, true),
];

export const A1111_CATALOG: Catalog = { samplers: A1111_SAMPLERS, schedulers: A1111_SCHEDULERS };

export interface ResolvedSampler {
  sampler: string;
  /** The concrete scheduler label the job runs with (`Automatic`, `Karras`, …). */
  scheduler: string;
}

/**
 * A1111's `get_sampler_and_scheduler` (spec §4.2): a scheduler label/name/alias suffix in the sampler name wins
 * over the `scheduler` field, an unknown `scheduler` becomes Automatic, an empty name is the first sampler.
 *
 * Deviation from A1111 1.10 (documented): an unknown sampler name is an error (422 SAMPLER_NOT_FOUND naming the
 * valid choices) instead of a silent switch to DPM++ 2M, and aliases (`k_euler_a`) and case-insensitive names
 * (`euler a`) resolve to their sampler instead of to DPM++ 2M.
 */
export function resolveSampler(catalog: Catalog, samplerName: string | null | undefined, schedulerField: string | null | undefined): ResolvedSampler {
  const automatic = catalog.schedulers[0];
  let found = catalog.schedulers.find((s) => s.name === schedulerField || s.label === schedulerField) ?? automatic;
  let name = samplerName || catalog.samplers[0]?.name || '';
  outer: for (const s of catalog.schedulers) {
    for (const suffix of [s.label, s.name, ...(s.aliases ?? [])]) {
      if (name.endsWith(` ${suffix}`)) {
        name = name.slice(0, -suffix.length - 1);
        found = s;
        break outer;
      }
    }
  }
  const match = findSampler(catalog, name);
  if (!match) throw samplerNotFound(catalog, samplerName ?? '');
  return { sampler: match.name, scheduler: found?.label ?? 'Automatic' };
}

function findSampler(catalog: Catalog, name: string): SamplerItem | undefined {
  const exact = catalog.samplers.find((s) => s.name === name);
  if (exact) return exact;
  const lower = name.toLowerCase();
  return catalog.samplers.find((s) => s.name.toLowerCase() === lower || s.aliases.some((a) => a.toLowerCase() === lower));
}

function samplerNotFound(catalog: Catalog, requested: string): ApiError {
  const names = catalog.samplers.map((s) => s.name).join(', ');
  const labels = catalog.schedulers
    .filter((s) => s.name !== 'automatic')
    .map((s) => s.label)
    .join(', ');
  return new ApiError(
    'SAMPLER_NOT_FOUND',
    `Sampler not found: sampler_name ${JSON.stringify(requested)} is not a known sampler. ` +
      `Valid choices: ${names} (or an alias such as k_euler_a; a scheduler may follow the name, e.g. "DPM++ 2M Karras", one of: ${labels}).`,
  );
}
