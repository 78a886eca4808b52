/**
 * Oracle tests for the A1111 prompt language, one test per case of the spec vectors (made by running
 * A1111's own `prompt_parser` functions): prompt_attention.json, prompt_schedules.json, prompt_multicond.json.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidParamsError } from '../src/errors.ts';
import { getMulticondPromptList, parsePromptAttention } from '../src/text/prompt-parser.ts';
import { getPromptSchedules } from '../src/text/prompt-schedules.ts';
import { label, needVectors, readVectors } from './text-vectors.ts';

interface AttentionCase {
  prompt: string;
  expected?: Array<[string, number]>;
  error?: string;
}

const attention = readVectors<AttentionCase[]>('prompt_attention.json', []);
const skipAttention = needVectors('prompt_attention.json');
test('prompt_attention.json has cases', { skip: skipAttention }, () => assert.ok(attention.length > 0));
for (const [i, c] of attention.entries()) {
  test(`prompt_attention #${i} ${label(c.prompt)}`, () => {
    if (c.error !== undefined) {
      // A1111 raises ValueError (its job fails); we throw InvalidParamsError('prompt') quoting the bad number
      const bad = /'([^']*)'$/.exec(c.error)?.[1] ?? '';
      assert.throws(
        () => parsePromptAttention(c.prompt),
        (e: unknown) => e instanceof InvalidParamsError && e.param === 'prompt' && e.message.includes(`'${bad}'`),
      );
    } else {
      assert.deepEqual(parsePromptAttention(c.prompt), c.expected);
    }
  });
}

interface ScheduleCase {
  prompt: string;
  steps: number;
  hires_steps: number | null;
  use_old_scheduling: boolean;
  expected: Array<[number, string]>;
}

const schedules = readVectors<ScheduleCase[]>('prompt_schedules.json', []);
test('prompt_schedules.json has cases', { skip: needVectors('prompt_schedules.json') }, () => assert.ok(schedules.length > 0));
for (const [i, c] of schedules.entries()) {
  const options = { hiresSteps: c.hires_steps, useOldScheduling: c.use_old_scheduling };
  test(`prompt_schedules #${i} ${label(c.prompt)} steps=${c.steps} hires=${c.hires_steps} old=${c.use_old_scheduling}`, () => {
    assert.deepEqual(getPromptSchedules([c.prompt], c.steps, options), [c.expected]);
  });
}

interface MulticondCase {
  prompts: string[];
  expected: { indexes: Array<Array<[number, number]>>; flat_prompts: string[]; prompt_indexes: Record<string, number> };
}

const multicond = readVectors<MulticondCase[]>('prompt_multicond.json', []);
test('prompt_multicond.json has cases', { skip: needVectors('prompt_multicond.json') }, () => assert.ok(multicond.length > 0));
for (const [i, c] of multicond.entries()) {
  test(`prompt_multicond #${i} ${label(c.prompts.join(' | '))}`, () => {
    const got = getMulticondPromptList(c.prompts);
    assert.deepEqual(got.indexes, c.expected.indexes);
    assert.deepEqual(got.flatPrompts, c.expected.flat_prompts);
    assert.deepEqual(Object.fromEntries(got.promptIndexes), c.expected.prompt_indexes);
  });
}
