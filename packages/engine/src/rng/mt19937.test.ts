import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MT19937, seedToUint32 } from './mt19937.ts';

test('MT19937 reproduces the reference mt19937ar outputs for the default seed 5489', () => {
  const g = new MT19937(5489);
  assert.equal(g.random(), 3499211612); // std::mt19937 default_seed, first output
  for (let i = 2; i < 10000; i++) g.random();
  assert.equal(g.random(), 4123659995); // C++11 [rand.predef]: the 10000th output
});

test('random64 joins two words with the first in the high half (torch make64BitsFrom32Bits)', () => {
  const words = new MT19937(42);
  const hi = words.random();
  const lo = words.random();
  assert.equal(new MT19937(42).random64(), (BigInt(hi) << 32n) | BigInt(lo));
});

test('seeds keep their low 32 bits as torch does (negative seeds as two\'s complement)', () => {
  assert.equal(seedToUint32(-1), 0xffffffff);
  assert.equal(seedToUint32(2 ** 32 + 5), 5);
  assert.equal(new MT19937(2 ** 32 + 7).random(), new MT19937(7).random());
});
