import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPromptLine, promptMatrix, promptsFromFile } from '../../src/index.ts';

test('promptMatrix: the five positional arguments, bad choices refused before sending', () => {
  assert.deepEqual(promptMatrix(), { script_name: 'Prompt matrix', script_args: [false, false, 'positive', 'comma', 0] });
  assert.deepEqual(promptMatrix({ putAtStart: true, promptType: 'negative', variationsDelimiter: 'space', marginSize: 8 }).script_args, [
    true,
    false,
    'negative',
    'space',
    8,
  ]);
  assert.throws(() => promptMatrix({ promptType: 'both' as 'positive' }), /promptType must be "positive" or "negative", got "both"/);
});

test("promptsFromFile: lines as text or objects in the script's --key value syntax (shlex quoting)", () => {
  const sel = promptsFromFile({
    lines: ['a plain prompt', { prompt: "a cat's hat", steps: 20, restore_faces: true, sampler_name: 'DPM++ 2M' }],
    iterateSeed: true,
    promptPosition: 'end',
  });
  assert.equal(sel.script_name, 'Prompts from file or textbox');
  assert.deepEqual(sel.script_args, [
    true,
    false,
    'end',
    `a plain prompt\n--prompt 'a cat'"'"'s hat' --steps 20 --restore_faces true --sampler_name 'DPM++ 2M'`,
  ]);
  assert.equal(formatPromptLine({ negative_prompt: 'blurry', seed: -1 }), '--negative_prompt blurry --seed -1');
  assert.throws(() => promptsFromFile({ lines: '', promptPosition: 'middle' as 'start' }), /promptPosition must be "start" or "end"/);
});
