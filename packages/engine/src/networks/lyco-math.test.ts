/**
 * The LyCORIS reconstructions the fixtures do not exercise (README "Not covered"), checked through identities:
 * a CP core that is the identity in its rank axes gives the conventional rebuild times its spatial part, `dyn`
 * truncation equals the rebuild of the sliced factors, kron against a hand-worked product, a Tucker core of ones.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../tensor.ts';
import { jsMatMul, kron, makeWeightCp, matmulSync, rebuildConventional, rebuildCpDecomposition } from './lyco-math.ts';

const seeded = (shape: number[], seed: number) =>
  new Tensor(
    shape,
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.fround(Math.sin(seed + i * 0.37))),
  );

test('rebuildCpDecomposition (lora_mid): mid[n, m] = δ(n, m)·g gives (up @ down) ⊗ g', () => {
  const r = 3;
  const up = seeded([5, r, 1, 1], 1);
  const down = seeded([r, 4, 1, 1], 2);
  const g = [0.5, -1, 2, 0.25];
  const mid = new Tensor([r, r, 2, 2], new Float32Array(r * r * 4));
  for (let n = 0; n < r; n++) for (let s = 0; s < 4; s++) mid.data[(n * r + n) * 4 + s] = g[s];
  const got = rebuildCpDecomposition(up, down, mid);
  assert.deepEqual(got.shape, [5, 4, 2, 2]);
  const plain = matmulSync(up.reshape([5, r]), down.reshape([r, 4]));
  for (let i = 0; i < 5 * 4; i++) for (let s = 0; s < 4; s++) assert.ok(Math.abs(got.data[i * 4 + s] - plain.data[i] * g[s]) < 1e-6);
});

test('rebuildConventional with dyn uses only the first dyn ranks, like slicing the factors', async () => {
  const up = seeded([6, 4], 3);
  const down = seeded([4, 5], 4);
  const full = await rebuildConventional(up, down, [6, 5], null, jsMatMul);
  assert.deepEqual((await rebuildConventional(up, down, [6, 5], 4, jsMatMul)).data, full.data, 'dyn = rank changes nothing');
  const two = await rebuildConventional(up, down, [6, 5], 2, jsMatMul);
  const upSliced = new Tensor(
    [6, 2],
    Float32Array.from({ length: 12 }, (_, i) => up.data[Math.floor(i / 2) * 4 + (i % 2)]),
  );
  assert.deepEqual(two.data, matmulSync(upSliced, new Tensor([2, 5], down.data.slice(0, 10))).data);
  assert.notDeepEqual(two.data, full.data);
});

test('kron: [[1, 2]] ⊗ [[0, 1], [1, 0]] and the 4-D form used for LoKr convs', () => {
  const a = new Tensor([1, 2], Float32Array.from([1, 2]));
  const b = new Tensor([2, 2], Float32Array.from([0, 1, 1, 0]));
  assert.deepEqual([...kron(a, b).data], [0, 1, 0, 2, 1, 0, 2, 0]);
  const w1 = seeded([2, 3, 1, 1], 5);
  const w2 = seeded([4, 5, 3, 3], 6);
  const k = kron(w1, w2);
  assert.deepEqual(k.shape, [8, 15, 3, 3]);
  // element [i0·4 + j0, i1·5 + j1, kh, kw] = w1[i0, i1] · w2[j0, j1, kh, kw]
  const at = (t: Tensor, idx: number[]) => t.data[idx.reduce((flat, d, i) => flat * t.shape[i] + d, 0)];
  assert.equal(at(k, [1 * 4 + 2, 2 * 5 + 3, 1, 2]), Math.fround(at(w1, [1, 2, 0, 0]) * at(w2, [2, 3, 1, 2])));
});

test('makeWeightCp with a core of ones sums the rank factors: out[p, r] = Σ_i wa[i, p] · Σ_j wb[j, r]', () => {
  const t = new Tensor([2, 3, 1, 1], new Float32Array(6).fill(1));
  const wa = seeded([2, 4], 7);
  const wb = seeded([3, 5], 8);
  const got = makeWeightCp(t, wa, wb);
  assert.deepEqual(got.shape, [4, 5, 1, 1]);
  for (let p = 0; p < 4; p++)
    for (let r = 0; r < 5; r++) {
      const expected = (wa.data[p] + wa.data[4 + p]) * (wb.data[r] + wb.data[5 + r] + wb.data[10 + r]);
      assert.ok(Math.abs(got.data[p * 5 + r] - expected) < 1e-5, `[${p}, ${r}]`);
    }
});

test('matmul refuses mismatched shapes with both shapes in the message', () => {
  assert.throws(() => matmulSync(seeded([2, 3], 1), seeded([4, 2], 2)), /cannot multiply \[2, 3\] by \[4, 2\]/);
});
