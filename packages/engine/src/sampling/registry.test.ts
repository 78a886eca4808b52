import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SPEC_DIR } from '../../test/helpers/fixtures.ts';
import { alphasCumprodLinear, DiscreteSchedule } from './discrete-schedule.ts';
import {
  buildSigmas,
  buildTimesteps,
  findSampler,
  type KDiffusionSamplerEntry,
  resolveSamplerAndScheduler,
  SAMPLERS_MAP_LOWERCASE,
  samplerOptionsFor,
  samplersResponse,
  schedulersResponse,
} from './registry.ts';
import { discardNextToLastSigma, getSigmasExponential, getSigmasKarras } from './schedules.ts';

const VECTOR = join(SPEC_DIR, 'vectors', 'sampler_scheduler_resolution.json');
const skipVector = existsSync(VECTOR) ? false : `${VECTOR} is absent (../shared is not beside this clone)`;

interface Case {
  sampler_name: string | null;
  scheduler: string | null;
  expected: { sampler: string; scheduler_label: string };
  expected_convert_automatic_false: { sampler: string; scheduler_label: string };
}

describe('sampler_scheduler_resolution.json', { skip: skipVector }, () => {
  const vector = skipVector ? null : JSON.parse(readFileSync(VECTOR, 'utf8'));
  test('every get_sampler_and_scheduler case, with and without convert_automatic', () => {
    for (const c of vector.cases as Case[]) {
      const got = resolveSamplerAndScheduler(c.sampler_name, c.scheduler);
      assert.deepEqual({ sampler: got.sampler, scheduler_label: got.schedulerLabel }, c.expected, `(${c.sampler_name}, ${c.scheduler})`);
      const raw = resolveSamplerAndScheduler(c.sampler_name, c.scheduler, false);
      assert.deepEqual(
        { sampler: raw.sampler, scheduler_label: raw.schedulerLabel },
        c.expected_convert_automatic_false,
        `(${c.sampler_name}, ${c.scheduler}) raw`,
      );
    }
  });
  test('GET /sdapi/v1/samplers and /schedulers bodies', () => {
    assert.deepEqual(samplersResponse(), vector['GET /sdapi/v1/samplers']);
    assert.deepEqual(JSON.stringify(samplersResponse()), JSON.stringify(vector['GET /sdapi/v1/samplers']), 'key order');
    assert.deepEqual(schedulersResponse(), vector['GET /sdapi/v1/schedulers']);
  });
  test('lower-case names and aliases map', () => {
    assert.deepEqual(Object.fromEntries(SAMPLERS_MAP_LOWERCASE), vector.samplers_map_lowercase_names_and_aliases);
  });
});

describe('buildSigmas (A1111 KDiffusionSampler.get_sigmas rules)', () => {
  const schedule = DiscreteSchedule.fromAlphasCumprod(alphasCumprodLinear());
  const entry = (name: string) => findSampler(name) as KDiffusionSamplerEntry;
  const [min, max] = [schedule.sigmaMin, schedule.sigmaMax];

  test('Automatic without a sampler default is the model discretisation, with no Schedule type', () => {
    const { sigmas, extraGenerationParams } = buildSigmas({ sampler: entry('Euler'), scheduler: 'Automatic', steps: 7, schedule });
    assert.deepEqual(sigmas, schedule.getSigmas(7));
    assert.deepEqual(extraGenerationParams, {});
  });
  test("Automatic takes the sampler's own scheduler and records it", () => {
    const { sigmas, extraGenerationParams } = buildSigmas({ sampler: entry('DPM++ 2M'), scheduler: 'Automatic', steps: 7, schedule });
    assert.deepEqual(sigmas, getSigmasKarras(7, min, max));
    assert.deepEqual(extraGenerationParams, { 'Schedule type': 'Karras' });
    assert.deepEqual(buildSigmas({ sampler: entry('DPM++ 2M SDE'), scheduler: '', steps: 5, schedule }).sigmas, getSigmasExponential(5, min, max));
  });
  test('discard_next_to_last_sigma: one more step, penultimate sigma removed; the option forces it', () => {
    assert.deepEqual(
      buildSigmas({ sampler: entry('DPM2'), scheduler: 'Automatic', steps: 6, schedule }).sigmas,
      discardNextToLastSigma(getSigmasKarras(7, min, max)),
    );
    const forced = buildSigmas({ sampler: entry('Euler'), scheduler: 'Karras', steps: 6, schedule, alwaysDiscardNextToLastSigma: true });
    assert.deepEqual(forced.sigmas, discardNextToLastSigma(getSigmasKarras(7, min, max)));
    assert.deepEqual(forced.extraGenerationParams, { 'Discard penultimate sigma': true, 'Schedule type': 'Karras' });
  });
  test('sigma_min / sigma_max / rho overrides apply when non-zero and different, rho only where it exists', () => {
    const { sigmas, extraGenerationParams } = buildSigmas({
      sampler: entry('Euler'),
      scheduler: 'karras',
      steps: 5,
      schedule,
      sigmaMin: 0.5,
      sigmaMax: 0,
      rho: 3,
    });
    assert.deepEqual(sigmas, getSigmasKarras(5, 0.5, max, 3));
    assert.deepEqual(extraGenerationParams, { 'Schedule type': 'Karras', 'Schedule min sigma': 0.5, 'Schedule rho': 3 });
    const expo = buildSigmas({ sampler: entry('Euler'), scheduler: 'Exponential', steps: 5, schedule, rho: 3 });
    assert.deepEqual(expo.extraGenerationParams, { 'Schedule type': 'Exponential' });
    const old = buildSigmas({ sampler: entry('Euler'), scheduler: 'Karras', steps: 5, schedule, useOldKarrasSchedulerSigmas: true });
    assert.deepEqual(old.sigmas, getSigmasKarras(5, 0.1, 10));
  });
  test('Beta records its parameters; an unknown label falls back to the model discretisation', () => {
    assert.deepEqual(buildSigmas({ sampler: entry('Euler'), scheduler: 'Beta', steps: 4, schedule }).extraGenerationParams, {
      'Schedule type': 'Beta',
      'Beta schedule alpha': 0.6,
      'Beta schedule beta': 0.6,
    });
    assert.deepEqual(buildSigmas({ sampler: entry('Euler'), scheduler: 'bogus', steps: 4, schedule }).sigmas, schedule.getSigmas(4));
  });
  test('timesteps samplers: A1111 timesteps, one more with always_discard', () => {
    assert.deepEqual(buildTimesteps(4), [1, 251, 501, 751]);
    assert.deepEqual(buildTimesteps(3, true), [1, 251, 501, 751]);
  });
});

describe('samplerOptionsFor (parameters by k-diffusion signature)', () => {
  const params = { eta: 0.7, sChurn: 0.1, sTmin: 0.2, sTmax: 50, sNoise: 1.01 };
  test('churn samplers get s_*, ancestral ones eta, fixed kwargs come along', () => {
    assert.deepEqual(samplerOptionsFor(findSampler('Euler')!, params), { sChurn: 0.1, sTmin: 0.2, sTmax: 50, sNoise: 1.01 });
    assert.deepEqual(samplerOptionsFor(findSampler('Euler a')!, params), { eta: 0.7 });
    assert.deepEqual(samplerOptionsFor(findSampler('DPM++ 2M SDE Heun')!, params), { solverType: 'heun', eta: 0.7, sNoise: 1.01 });
    assert.deepEqual(samplerOptionsFor(findSampler('DPM++ 2M')!, params), {});
    assert.deepEqual(samplerOptionsFor(findSampler('DDIM')!, params), { eta: 0.7 });
  });
});
