import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidParamsError } from '../errors.ts';
import { Tensor } from '../tensor.ts';
import { randn } from './randn.ts';
import { slerp } from './slerp.ts';

const maxAbs = (a: Tensor, b: Tensor): number => a.data.reduce((m, x, i) => Math.max(m, Math.abs(x - b.data[i])), 0);

test('slerp runs from low (val 0) to high (val 1)', () => {
  const low = randn(1, [4, 8, 8]);
  const high = randn(2, [4, 8, 8]);
  assert.ok(maxAbs(slerp(0, low, high), low) < 1e-5);
  assert.ok(maxAbs(slerp(1, low, high), high) < 1e-5);
});

test('slerp normalises along dim 1: scaling one (channel, column) slice of high leaves the result direction', () => {
  const low = randn(1, [2, 8, 3]);
  const high = randn(2, [2, 8, 3]);
  const scaled = high.map((x, i) => (i % 3 === 1 && i < 24 ? 5 * x : x)); // column 1 of channel 0 only
  const a = slerp(0.5, low, high);
  const b = slerp(0.5, low, scaled);
  // The angle of that slice is unchanged, so only its high term grows 5x; every other slice is identical.
  for (let i = 0; i < a.size; i++) {
    if (i % 3 === 1 && i < 24) assert.notEqual(a.data[i], b.data[i]);
    else assert.equal(a.data[i], b.data[i]);
  }
});

test('near-parallel inputs take the linear branch with A1111\'s swapped weights', () => {
  const low = randn(3, [4, 6, 5]);
  const high = low.map((x) => 2 * x); // dot = 1 everywhere
  const out = slerp(0.25, low, high);
  const expected = low.map((x, i) => Math.fround(Math.fround(x * 0.25) + Math.fround(high.data[i] * 0.75)));
  assert.deepEqual(out.data, expected.data);
});

test('slerp rejects mismatched or rank-1 inputs', () => {
  assert.throws(() => slerp(0.5, randn(1, [4, 4]), randn(1, [4, 5])), InvalidParamsError);
  assert.throws(() => slerp(0.5, new Tensor([4]), new Tensor([4])), /rank >= 2/);
});
