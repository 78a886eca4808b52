import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidParamsError } from '../errors.ts';
import { Tensor } from '../tensor.ts';
import { ImageRNG, pasteCentred } from './image-rng.ts';
import { PhiloxGenerator } from './philox.ts';
import { TorchGenerator } from './randn.ts';
import { slerp } from './slerp.ts';

const arange = (shape: number[]): Tensor => Tensor.zeros(shape).map((_, i) => i);

test('pasteCentred puts a smaller source in the middle', () => {
  const out = pasteCentred(Tensor.full([1, 4, 4], -1), arange([1, 2, 2]));
  assert.deepEqual([...out.data], [-1, -1, -1, -1, -1, 0, 1, -1, -1, 2, 3, -1, -1, -1, -1, -1]);
});

test('pasteCentred crops a larger source to its centre; an odd negative margin leaves one row of dst', () => {
  // dy = floor((2 - 5) / 2) = -2 so h = 5 - 4 = 1 row (src row 2); dx = -1 so w = 2 (src columns 1..2).
  const out = pasteCentred(Tensor.full([1, 2, 2], -1), arange([1, 5, 4]));
  assert.deepEqual([...out.data], [9, 10, -1, -1]);
});

test('first() stacks one generator per seed; next() continues each stream', () => {
  const rng = new ImageRNG({ shape: [4, 3, 5], seeds: [10, 11] });
  const x = rng.first();
  const n1 = rng.next();
  const g10 = new TorchGenerator(10);
  const g11 = new TorchGenerator(11);
  assert.deepEqual(x.shape, [2, 4, 3, 5]);
  assert.deepEqual(x.data, Tensor.stack([g10.randn([4, 3, 5]), g11.randn([4, 3, 5])]).data);
  assert.deepEqual(n1.data, Tensor.stack([g10.randn([4, 3, 5]), g11.randn([4, 3, 5])]).data);
});

test('with ENSD the sampler noise restarts at seed + delta after first()', () => {
  const rng = new ImageRNG({ shape: [4, 4, 4], seeds: [5], source: 'NV', etaNoiseSeedDelta: 31337 });
  assert.deepEqual(rng.next().data, new PhiloxGenerator(5).randn([4, 4, 4]).data);
  assert.deepEqual(rng.next().data, new PhiloxGenerator(5 + 31337).randn([4, 4, 4]).data);
});

test("source 'GPU' uses the NV philox generator", () => {
  const gpu = new ImageRNG({ shape: [4, 2, 2], seeds: [9], source: 'GPU' }).next();
  const nv = new ImageRNG({ shape: [4, 2, 2], seeds: [9], source: 'NV' }).next();
  assert.deepEqual(gpu.data, nv.data);
});

test('images past the end of subseeds use subseed 0', () => {
  const rng = new ImageRNG({ shape: [4, 4, 4], seeds: [1, 2], subseeds: [3], subseedStrength: 0.5 });
  const second = rng.first().get(1);
  const expected = slerp(0.5, new TorchGenerator(2).randn([4, 4, 4]), new TorchGenerator(0).randn([4, 4, 4]));
  assert.deepEqual(second.data, expected.data);
});

test('invalid options name the parameter', () => {
  const bad = (opts: object, param: string) =>
    assert.throws(
      () => new ImageRNG({ shape: [4, 8, 8], seeds: [1], ...opts }),
      (e: unknown) => e instanceof InvalidParamsError && e.param === param,
    );
  bad({ shape: [1, 4, 8, 8] }, 'shape');
  bad({ seeds: [] }, 'seeds');
  bad({ seeds: [0.5] }, 'seed');
  bad({ source: 'TPU' }, 'source');
  bad({ subseedStrength: Number.NaN }, 'subseedStrength');
});
