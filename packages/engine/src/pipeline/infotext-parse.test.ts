import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SPEC_DIR } from '../../test/helpers/fixtures.ts';
import { StyleDatabase } from '../text/styles.ts';
import { compareVersions, parseGenerationParameters, parseVersion } from './infotext-parse.ts';

const VECTOR = join(SPEC_DIR, 'vectors', 'infotext_parse.json');
const skip = existsSync(VECTOR) ? false : `${VECTOR} is absent (../shared is not beside this clone)`;

interface ParseCase {
  infotext: string;
  options?: Record<string, unknown>;
  skip_fields?: string[];
  expected: Record<string, unknown>;
}

describe('parseGenerationParameters: every case of vectors/infotext_parse.json', { skip }, () => {
  if (skip) return;
  const vector = JSON.parse(readFileSync(VECTOR, 'utf8')) as { environment: { 'styles.csv': string; options: Record<string, unknown> }; cases: ParseCase[] };
  const styles = StyleDatabase.fromCsv(vector.environment['styles.csv']);
  vector.cases.forEach((c, i) => {
    test(`case ${i}: ${JSON.stringify(c.infotext.slice(0, 50))}`, () => {
      const options = { ...vector.environment.options, ...c.options, ...(c.skip_fields ? { infotext_skip_pasting: c.skip_fields } : {}) };
      const actual = parseGenerationParameters(c.infotext, options, styles);
      // Values, their JS types (string vs number vs boolean) and the key order all matter (png-info echoes them).
      assert.deepEqual(Object.entries(actual), Object.entries(c.expected));
    });
  });
});

test('without a style database prompts are left whole', () => {
  const res = parseGenerationParameters('a cat, masterpiece\nSteps: 20, Sampler: Euler, Seed: 1');
  assert.equal(res.Prompt, 'a cat, masterpiece');
  assert.equal('Styles array' in res, false);
});

test('Version comparison follows PEP 440 on the first two dash parts', () => {
  const v = (t: string) => parseVersion(t) ?? assert.fail(`unparsed ${t}`);
  assert.ok(compareVersions(v('v1.10.0-RC-12-gabcdef'), v('1.7.0-225')) > 0);
  assert.ok(compareVersions(v('1.7.0'), v('1.7.0-225')) < 0, 'a post release is newer');
  assert.ok(compareVersions(v('1.8.0-RC'), v('1.8.0')) < 0, 'a release candidate is older');
  assert.ok(compareVersions(v('v1.5.2'), v('1.6.0')) < 0);
  assert.equal(parseVersion('nonsense'), null);
  assert.equal(parseVersion(undefined), null);
});
