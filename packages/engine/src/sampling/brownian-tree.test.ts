/**
 * The Brownian tree's statistics and consistency: increments W(b) − W(a) ~ N(0, |b − a|) over many seeds (also for
 * tiny, non-dyadic and cross-node intervals), independence of disjoint increments, the covariance of overlapping
 * ones, exact additivity, determinism per seed, order-independent queries and per-image trees.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BrownianTree, brownianTreeNoiseSampler } from './brownian-tree.ts';

const [T0, T1] = [0.0291675, 14.614642]; // SD's σ_min, σ_max
const NUMEL = 256;
const SEEDS = Array.from({ length: 120 }, (_, i) => 1000 + 7 * i); // 30 720 samples per statistic

/** Increments over `pairs` for every seed, each component a sample. */
function increments(pairs: [number, number][]): Float64Array[] {
  const out = pairs.map(() => new Float64Array(SEEDS.length * NUMEL));
  SEEDS.forEach((seed, s) => {
    const tree = new BrownianTree(T0, T1, seed, NUMEL);
    pairs.forEach(([a, b], p) => {
      const [wa, wb] = [tree.at(a), tree.at(b)];
      for (let k = 0; k < NUMEL; k++) out[p][s * NUMEL + k] = wb[k] - wa[k];
    });
  });
  return out;
}

const mean = (x: Float64Array) => x.reduce((s, v) => s + v, 0) / x.length;
const cov = (x: Float64Array, y: Float64Array) => {
  const [mx, my] = [mean(x), mean(y)];
  let s = 0;
  for (let k = 0; k < x.length; k++) s += (x[k] - mx) * (y[k] - my);
  return s / (x.length - 1);
};

test('increments are N(0, |b − a|): mean, variance and kurtosis over 120 seeds × 256 components', () => {
  const pairs: [number, number][] = [
    [T0, T1], // the whole tree
    [1.0, 2.5], // crosses several nodes
    [0.0291675, 0.0345], // the smallest steps of a Karras schedule
    [3.1686, 3.1687], // 1e-4 wide, non-dyadic
    [7.3073, 7.3073 + 3e-6], // a few tol wide
  ];
  const n = SEEDS.length * NUMEL;
  increments(pairs).forEach((x, p) => {
    const len = pairs[p][1] - pairs[p][0];
    const z = x.map((v) => v / Math.sqrt(len));
    const [m, v] = [mean(z), cov(z, z)];
    const kurt = z.reduce((s, q) => s + q ** 4, 0) / n / v ** 2;
    console.log(`# [${pairs[p]}]: mean ${m.toFixed(4)}, variance ${v.toFixed(4)}, kurtosis ${kurt.toFixed(3)} (normal: 0, 1, 3)`);
    // 5 standard errors: mean 1/√n = 0.0057, variance √(2/n) = 0.0081, kurtosis √(24/n) = 0.028.
    assert.ok(Math.abs(m) < 5 / Math.sqrt(n), `mean ${m}`);
    assert.ok(Math.abs(v - 1) < 5 * Math.sqrt(2 / n), `variance ${v}`);
    assert.ok(Math.abs(kurt - 3) < 5 * Math.sqrt(24 / n), `kurtosis ${kurt}`);
  });
});

test('disjoint increments are uncorrelated; overlapping ones share exactly the overlap', () => {
  const [x, y, z, w] = increments([
    [0.5, 1.5],
    [1.5, 4.0], // adjacent to x
    [4.0, 4.0001], // tiny, adjacent to y
    [1.0, 3.0], // overlaps x on [1, 1.5] and y on [1.5, 3]
  ]);
  const corr = (a: Float64Array, b: Float64Array) => cov(a, b) / Math.sqrt(cov(a, a) * cov(b, b));
  const bound = 5 / Math.sqrt(x.length);
  const cases: [string, number, number][] = [
    ['x, y (adjacent)', corr(x, y), 0],
    ['y, z (adjacent, tiny)', corr(y, z), 0],
    ['x, z', corr(x, z), 0],
    ['x, w (overlap 0.5)', corr(x, w), 0.5 / Math.sqrt(1 * 2)],
    ['y, w (overlap 1.5)', corr(y, w), 1.5 / Math.sqrt(2.5 * 2)],
  ];
  for (const [label, actual, expected] of cases) {
    console.log(`# corr ${label}: ${actual.toFixed(4)} (expected ${expected.toFixed(4)})`);
    assert.ok(Math.abs(actual - expected) < bound, `corr ${label} ${actual}, expected ${expected}`);
  }
});

test('additivity W(a, c) = W(a, b) + W(b, c), repeated and reordered queries agree, per seed', () => {
  const [a, b, c] = [0.21, 2.0000123, 9.87];
  const first = new BrownianTree(T0, T1, 42, NUMEL);
  const wa = first.at(a);
  const wb = first.at(b);
  const wc = first.at(c);
  // A fresh tree queried in another order (and after unrelated queries) gives the same path.
  const second = new BrownianTree(T0, T1, 42, NUMEL);
  for (const t of [13.3, c, 0.5, b, T0, a]) second.at(t);
  let worst = 0;
  for (let k = 0; k < NUMEL; k++) {
    worst = Math.max(worst, Math.abs(wc[k] - wa[k] - (wb[k] - wa[k] + (wc[k] - wb[k]))));
    assert.equal(second.at(a)[k], wa[k]);
    assert.equal(second.at(b)[k], wb[k]);
    assert.equal(second.at(c)[k], wc[k]);
  }
  console.log(`# additivity: max |W(a,c) − W(a,b) − W(b,c)| = ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-12);
  assert.deepEqual(Array.from(first.at(T0)), new Array(NUMEL).fill(0), 'W(t0) = 0');
  const other = new BrownianTree(T0, T1, 43, NUMEL).at(b);
  assert.ok(
    other.some((v, k) => v !== wb[k]),
    'another seed gives another path',
  );
});

test('noise sampler: (W(σ_next) − W(σ)) / sqrt|Δσ| per image, one tree per seed, batch-independent', () => {
  const shape = [2, 4, 8, 8];
  const batch = brownianTreeNoiseSampler(shape, T0, T1, [7, 8]);
  const single = brownianTreeNoiseSampler([1, 4, 8, 8], T0, T1, [8]);
  const [sigma, sigmaNext] = [3.1686, 1.2];
  const z = batch(sigma, sigmaNext);
  assert.deepEqual(z.shape, shape);
  assert.deepEqual(Array.from(z.data.subarray(256)), Array.from(single(sigma, sigmaNext).data), 'image 2 of a batch = a batch of one with its seed');
  const tree = new BrownianTree(T0, T1, 7, 256);
  const [w0, w1] = [tree.at(sigma), tree.at(sigmaNext)];
  for (let k = 0; k < 256; k++) assert.equal(z.data[k], Math.fround((w1[k] - w0[k]) / Math.sqrt(sigma - sigmaNext)));
  assert.deepEqual(Array.from(batch(sigma, sigmaNext).data), Array.from(z.data), 'deterministic');
});

test('queries outside the tree and bad trees are errors; a hair outside (σ ↔ log σ round trips) is clamped', () => {
  const tree = new BrownianTree(T0, T1, 1, 4);
  assert.throws(() => tree.at(20), /outside its interval \[0.0291675, 14.614642\]/);
  assert.throws(() => tree.at(0.01), /outside its interval/);
  assert.deepEqual(tree.at(Math.exp(Math.log(T1)) * (1 + 1e-15)), tree.at(T1));
  assert.throws(() => new BrownianTree(2, 1, 1, 4), /t0 < t1/);
  assert.throws(() => brownianTreeNoiseSampler([2, 4], T0, T1, [1]), /1 seeds for a batch of 2/);
});
