import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidParamsError } from '../errors.ts';
import { MT19937 } from './mt19937.ts';
import { randn, TorchGenerator } from './randn.ts';

test('small tensors share the cached second Box-Muller value across calls, as torch.Generator does', () => {
  const g = new TorchGenerator(7);
  const parts = [...g.randn([3]).data, ...g.randn([3]).data];
  assert.deepEqual(parts, [...randn(7, [6]).data]);
});

test('manualSeed restarts the stream and drops the cached normal', () => {
  const g = new TorchGenerator(7);
  g.randn([1]); // leaves the sine half of the pair cached
  g.manualSeed(7);
  assert.deepEqual([...g.randn([2]).data], [...randn(7, [2]).data]);
});

test('numel >= 16 consumes one word per element plus 16 for a ragged tail', () => {
  for (const [n, words] of [[16, 16], [32, 32], [17, 33]]) {
    const g = new TorchGenerator(3);
    g.randn([n]);
    const mt = new MT19937(3);
    for (let i = 0; i < words; i++) mt.random();
    assert.equal(g.random(), mt.random(), `numel ${n}`);
  }
});

test('the ragged tail redraws only the last 16 slots', () => {
  const a = randn(11, [17]).data;
  const b = randn(11, [16]).data;
  assert.equal(a[0], b[0], 'slot 0 keeps its first-block value');
  assert.notEqual(a[1], b[1]);
});

test('both kernels give standard normals that differ only in the last bits', () => {
  const x = randn(5, [4, 16, 16], { kernel: 'avx2' }).data;
  const y = randn(5, [4, 16, 16], { kernel: 'default' }).data;
  let maxDiff = 0;
  let mean = 0;
  for (let i = 0; i < x.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
    mean += x[i] / x.length;
  }
  console.log(`# avx2 vs default kernel: max abs diff ${maxDiff.toExponential(3)}`);
  assert.ok(maxDiff > 0 && maxDiff < 1e-5, `max diff ${maxDiff}`);
  assert.ok(Math.abs(mean) < 0.1, `mean ${mean}`);
});

test('empty shapes draw nothing; bad seeds, shapes and kernels are rejected with the parameter named', () => {
  const g = new TorchGenerator(1);
  assert.equal(g.randn([0, 4]).size, 0);
  assert.equal(g.random(), new MT19937(1).random());
  assert.throws(() => new TorchGenerator(1.5), (e: unknown) => e instanceof InvalidParamsError && e.param === 'seed');
  assert.throws(() => g.randn([2, -1]), (e: unknown) => e instanceof InvalidParamsError && e.param === 'shape');
  assert.throws(() => new TorchGenerator(1, { kernel: 'neon' as 'avx2' }), /kernel must be one of avx2, default, got neon/);
});
