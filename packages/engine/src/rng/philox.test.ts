import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boxMullerSin, mulhi32, PhiloxGenerator, philox4x32 } from './philox.ts';

const hex = (words: Uint32Array): string[] => [...words].map((w) => w.toString(16).padStart(8, '0'));

test('philox4x32-10 matches the Random123 known-answer vectors', () => {
  assert.deepEqual(hex(philox4x32([0, 0, 0, 0], [0, 0])), ['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
  const ones = 0xffffffff;
  assert.deepEqual(hex(philox4x32([ones, ones, ones, ones], [ones, ones])), ['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
  const pi = philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]);
  assert.deepEqual(hex(pi), ['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
});

test('mulhi32 is the high word of the exact 64-bit product', () => {
  for (const [a, b] of [[0xffffffff, 0xffffffff], [0xd2511f53, 0x12345678], [1, 0xffffffff], [0x80000000, 2]]) {
    assert.equal(mulhi32(a, b), Number((BigInt(a) * BigInt(b)) >> 32n), `${a} * ${b}`);
  }
});

test('PhiloxGenerator: element i of draw k is Box-Muller of philox((k, 0, i, 0), seed words)', () => {
  const seed = 2 ** 32 + 1234; // exercises the high key word
  const g = new PhiloxGenerator(seed);
  g.randn([3]);
  const x = g.randn([2, 3]);
  assert.equal(g.offset, 2);
  const w = philox4x32([1, 0, 5, 0], [1234, 1]);
  assert.equal(x.data[5], boxMullerSin(w[0], w[1]));
  assert.notEqual(x.data[5], new PhiloxGenerator(1234).randn([2, 3]).data[5]);
});

test('boxMullerSin maps the extreme words to finite normals', () => {
  for (const [x, y] of [[0, 0], [0xffffffff, 0xffffffff], [0, 0x40000000]]) assert.ok(Number.isFinite(boxMullerSin(x, y)));
  assert.ok(boxMullerSin(0, 0x40000000) > 6, 'u at its smallest gives the largest radius, sin(π/2) ≈ 1');
});

test('PhiloxGenerator rejects negative seeds (A1111 uses the seed as a uint64)', () => {
  assert.throws(() => new PhiloxGenerator(-1), /seed >= 0/);
});
