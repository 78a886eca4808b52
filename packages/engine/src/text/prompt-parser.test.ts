import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidParamsError } from '../errors.ts';
import { stripComments } from './comments.ts';
import { getMulticondPromptList, parsePromptAttention, splitSubpromptWeight } from './prompt-parser.ts';
import { getPromptSchedules, scheduleIndexAt } from './prompt-schedules.ts';

test('emphasis weight that Python float() rejects → InvalidParamsError quoting it', () => {
  for (const [prompt, bad] of [
    ['(a:1.2.3)', '1.2.3'],
    ['x (y:.) z', '.'],
    ['((a:..5))', '..5'],
  ]) {
    assert.throws(
      () => parsePromptAttention(prompt),
      (e: unknown) => {
        assert.ok(e instanceof InvalidParamsError, String(e));
        assert.equal(e.param, 'prompt');
        assert.match(e.message, new RegExp(`'${bad.replace(/\./g, '\\.')}'`));
        return true;
      },
    );
  }
  // without an open '(' the same text is literal, as in A1111
  assert.deepEqual(parsePromptAttention('a:1.2.3)'), [['a:1.2.3)', 1]]);
});

test('Unicode whitespace and word boundaries follow Python', () => {
  assert.deepEqual(parsePromptAttention('(a:\u00a01.5\u3000)'), [['a', 1.5]]);
  assert.deepEqual(parsePromptAttention('éBREAK b'), [['éBREAK b', 1]]); // é is a word character in Python
  assert.deepEqual(getMulticondPromptList(['éAND b']).flatPrompts, ['éAND b']);
  assert.deepEqual(splitSubpromptWeight(' b\u00a0:\u00a02 '), [' b', 2]);
});

test('schedule parser: malformed input never throws and stays literal', () => {
  const alphabet = ['[', ']', '(', ')', ':', '|', '\\', 'a', ' ', '1', '.', '0.5', 'AND', 'BREAK', '\n'];
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let i = 0; i < 2000; i++) {
    const prompt = Array.from({ length: rand(20) }, () => alphabet[rand(alphabet.length)]).join('');
    const [schedule] = getPromptSchedules([prompt], 10);
    assert.ok(schedule.length >= 1 && schedule[schedule.length - 1][0] === 10, JSON.stringify(prompt));
  }
});

test('schedule parser: deep nesting is bounded and still parses moderate depth', () => {
  const deep = `${'['.repeat(20000)}a${']'.repeat(20000)}`;
  assert.deepEqual(getPromptSchedules([deep], 5), [[[5, deep]]]);
  const nested = `${'('.repeat(50)}[a:b:2]${')'.repeat(50)}`;
  assert.deepEqual(
    getPromptSchedules([nested], 4)[0].map(([step]) => step),
    [2, 4],
  );
});

test('scheduleIndexAt: first entry whose end step is ≥ the counter, entry 0 past the end', () => {
  const [schedule] = getPromptSchedules(['[a:b:3]'], 10);
  assert.deepEqual(schedule, [
    [3, 'a'],
    [10, 'b'],
  ]);
  assert.deepEqual(
    [0, 3, 4, 10, 11].map((s) => scheduleIndexAt(schedule, s)),
    [0, 0, 1, 1, 0],
  );
});

test('stripComments removes comment lines with their newline and cuts trailing comments', () => {
  assert.equal(stripComments('# style notes\na cat # fluffy\nin a hat'), 'a cat \nin a hat');
  assert.equal(stripComments('a\n#x\nb'), 'a\nb');
  assert.equal(stripComments('a\n#x\n#y'), 'a\n');
  assert.equal(stripComments('#only'), '');
  assert.equal(stripComments('no comments'), 'no comments');
  assert.equal(stripComments(' #indented\nb'), ' \nb'); // only lines starting with '#' go whole
});
