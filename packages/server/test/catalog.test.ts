import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { engineCatalog, resolveSampler } from '../src/index.ts';
import { needVector, readVector } from './helpers/spec.ts';

const catalog = engineCatalog();
const skip = needVector('sampler_scheduler_resolution.json');

/** Where we deliberately differ from A1111 1.10's silent DPM++ 2M fallback. */
const DEVIATIONS: Record<string, { sampler: string; scheduler: string } | 'error'> = {
  k_euler_a: { sampler: 'Euler a', scheduler: 'Automatic' },
  'euler a': { sampler: 'Euler a', scheduler: 'Automatic' },
  'Unknown sampler': 'error',
};

describe('resolveSampler against vectors/sampler_scheduler_resolution.json (labels as the job uses them)', { skip }, () => {
  if (skip) return;
  const cases = readVector('sampler_scheduler_resolution.json').cases as {
    sampler_name: string | null;
    scheduler: string | null;
    expected_convert_automatic_false: { sampler: string; scheduler_label: string };
  }[];
  for (const c of cases) {
    test(`${JSON.stringify(c.sampler_name)} + ${JSON.stringify(c.scheduler)}`, () => {
      const deviation = DEVIATIONS[c.sampler_name ?? ''];
      if (deviation === 'error') {
        assert.throws(() => resolveSampler(catalog, c.sampler_name, c.scheduler), { code: 'SAMPLER_NOT_FOUND' });
        return;
      }
      const expected = deviation ?? { sampler: c.expected_convert_automatic_false.sampler, scheduler: c.expected_convert_automatic_false.scheduler_label };
      assert.deepEqual(resolveSampler(catalog, c.sampler_name, c.scheduler), expected);
    });
  }
});

test('the SAMPLER_NOT_FOUND message names the value, the valid names and the scheduler suffixes', () => {
  assert.throws(
    () => resolveSampler(catalog, 'Eulr', null),
    (e: Error) => /"Eulr"/.test(e.message) && e.message.includes(catalog.samplers.map((s) => s.name).join(', ')) && /Karras, Exponential/.test(e.message),
  );
});
