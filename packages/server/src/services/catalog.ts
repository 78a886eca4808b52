/**
 * The sampler and scheduler tables behind GET /sdapi/v1/samplers and /schedulers (spec §3.11) and the sampler
 * resolution of §4.2. By default the tables are the engine's registry; buildApp accepts a replacement Catalog.
 */
import { samplersResponse, schedulersResponse } from '@sdapi/engine';
import type { SamplerItem, SchedulerItem } from '@sdapi/protocol';
import { ApiError } from './errors.ts';

export interface Catalog {
  samplers: readonly SamplerItem[];
  schedulers: readonly SchedulerItem[];
  /** The model upscalers (ESRGAN files) requests may name besides the built-in ones; absent: none. */
  modelUpscalers?: () => readonly string[];
}

/** The engine's registry (what it can run), in A1111 v1.10.1's order and wire shape. */
export function engineCatalog(): Catalog {
  return { samplers: samplersResponse(), schedulers: schedulersResponse() };
}

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
