import assert from 'node:assert/strict';
import { test } from 'node:test';
import { similarityRatio } from '../../src/index.ts';

test('similarityRatio equals difflib.SequenceMatcher(None, a, b).ratio() (CPython 3.11 values)', () => {
  const cases: [string, string, number][] = [
    ['abcd', 'bcde', 0.75],
    ['hello', 'hallo', 0.8],
    ['v1-5', 'v1-5-pruned-emaonly.safetensors [6ce0161689]', 0.16666666666666666],
    ['other', 'sub/other.safetensors', 0.38461538461538464],
    ['', 'abc', 0],
    ['', '', 1],
    ['same', 'same', 1],
    ['private', 'sub/other.safetensors', 0.2857142857142857],
    ['abxcd', 'abcd', 0.8888888888888888],
    ['qabxcd', 'abycdf', 0.6666666666666666],
    ['sd_xl_base', 'v1-5-pruned-emaonly.safetensors', 0.14634146341463414],
  ];
  for (const [a, b, expected] of cases) assert.equal(similarityRatio(a, b), expected, `${a} / ${b}`);
});
