import { test } from 'node:test';
import { OrtSession } from '../runtime/ort.ts';
import { Tensor } from '../tensor.ts';
import { assertCloseTensor } from '../../test/helpers/assert-tensor.ts';
import { Graph } from './graph.ts';
import * as F from './ops.ts';
import { serializeModel } from './proto.ts';

/** Builds a one-op graph over `inputs`, runs it on ORT and returns output 'y'. */
async function run(build: (g: Graph, xs: ReturnType<Graph['input']>[]) => ReturnType<Graph['input']>, inputs: Tensor[], weights: Record<string, Float32Array> = {}): Promise<Tensor> {
  const g = new Graph('test');
  const xs = inputs.map((t, i) => g.input(`x${i}`, t.shape));
  g.output(build(g, xs), 'y');
  const bytes = serializeModel(g, { weights: (name) => weights[name] });
  const session = await OrtSession.create(bytes);
  const feeds = Object.fromEntries(inputs.map((t, i) => [`x${i}`, t]));
  return (await session.run(feeds)).y;
}

const ramp = (shape: number[], scale = 0.1) => new Tensor(shape).map((_, i) => Math.sin(i * 1.3) * scale * 10);

test('groupNorm matches torch.nn.functional.group_norm semantics', async () => {
  const x = ramp([2, 4, 3, 3]);
  const w = new Float32Array([1, 2, 3, 4]);
  const b = new Float32Array([0.5, 0, -0.5, 1]);
  const y = await run((g, [x0]) => F.groupNorm(x0, 2, g.param('w', [4]), g.param('b', [4]), 1e-5), [x], { w, b });
  // reference: per (n, group) mean/var over 2 channels × 9 pixels, biased variance
  const expected = new Float32Array(x.size);
  for (let n = 0; n < 2; n++) for (let grp = 0; grp < 2; grp++) {
    const start = n * 36 + grp * 18;
    const vals = x.data.subarray(start, start + 18);
    const mean = vals.reduce((a, v) => a + v, 0) / 18;
    const variance = vals.reduce((a, v) => a + (v - mean) ** 2, 0) / 18;
    for (let j = 0; j < 18; j++) {
      const c = grp * 2 + Math.floor(j / 9);
      expected[start + j] = ((vals[j] - mean) / Math.sqrt(variance + 1e-5)) * w[c] + b[c];
    }
  }
  assertCloseTensor(y.data, expected, { atol: 1e-5, label: 'groupNorm' });
});

test('linear is x·Wᵀ + b', async () => {
  const x = ramp([1, 2, 3]);
  const w = new Float32Array([1, 0, 0, 0, 1, 0, 1, 1, 1, 0.5, -1, 2]); // [4, 3]
  const b = new Float32Array([0, 1, 2, 3]);
  const y = await run((g, [x0]) => F.linear(x0, g.param('w', [4, 3]), g.param('b', [4])), [x], { w, b });
  const expected = new Float32Array(8);
  for (let r = 0; r < 2; r++) for (let o = 0; o < 4; o++) {
    let s = b[o];
    for (let i = 0; i < 3; i++) s += x.data[r * 3 + i] * w[o * 3 + i];
    expected[r * 4 + o] = s;
  }
  assertCloseTensor(y.data, expected, { atol: 1e-5, label: 'linear' });
});

test('interpolateNearest2x repeats each pixel into a 2×2 block', async () => {
  const x = ramp([1, 1, 2, 2]);
  const y = await run((_, [x0]) => F.interpolateNearest2x(x0), [x]);
  const expected = new Float32Array(16);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expected[r * 4 + c] = x.data[(r >> 1) * 2 + (c >> 1)];
  assertCloseTensor(y.data, expected, { atol: 0, label: 'nearest2x' });
});

test('scaledDotProductAttention (MultiHeadAttention) equals softmax(q·kᵀ/√d)·v per head, causal too', async () => {
  const [n, lq, lk, c, heads] = [1, 3, 3, 4, 2];
  const q = ramp([n, lq, c]);
  const k = ramp([n, lk, c], 0.07);
  const v = ramp([n, lk, c], 0.05);
  for (const causal of [false, true]) {
    const y = await run((_, [a, b, d]) => F.scaledDotProductAttention(a, b, d, heads, { causal }), [q, k, v]);
    const d = c / heads;
    const expected = new Float32Array(n * lq * c);
    for (let h = 0; h < heads; h++) for (let i = 0; i < lq; i++) {
      const scores = Array.from({ length: lk }, (_, j) => {
        if (causal && j > i) return Number.NEGATIVE_INFINITY;
        let s = 0;
        for (let e = 0; e < d; e++) s += q.data[i * c + h * d + e] * k.data[j * c + h * d + e];
        return s / Math.sqrt(d);
      });
      const m = Math.max(...scores);
      const exps = scores.map((s) => Math.exp(s - m));
      const z = exps.reduce((a, b) => a + b, 0);
      for (let e = 0; e < d; e++) expected[i * c + h * d + e] = exps.reduce((acc, p, j) => acc + (p / z) * v.data[j * c + h * d + e], 0);
    }
    assertCloseTensor(y.data, expected, { atol: 1e-5, label: `attention causal=${causal}` });
  }
});

test('conv2d with asymmetric pads and stride 2 (VAE Downsample)', async () => {
  const x = ramp([1, 1, 4, 4]);
  const w = new Float32Array(9).fill(1);
  const y = await run((g, [x0]) => F.conv2d(x0, g.param('w', [1, 1, 3, 3]), g.param('b', [1]), { stride: 2, pads: [0, 0, 1, 1] }), [x], { w, b: new Float32Array([0]) });
  // pad bottom/right by one zero row/column, 3×3 box sums at (0,0), (0,2), (2,0), (2,2)
  const at = (r: number, c: number) => (r < 4 && c < 4 ? x.data[r * 4 + c] : 0);
  const expected = [0, 2].flatMap((r0) => [0, 2].map((c0) => {
    let s = 0;
    for (let r = r0; r < r0 + 3; r++) for (let c = c0; c < c0 + 3; c++) s += at(r, c);
    return s;
  }));
  assertCloseTensor(y.data, expected, { atol: 1e-5, label: 'conv2d stride 2' });
});

test('argmax (first maximal index) and selectPerBatch pick x[n, argmax(ids[n])]', async () => {
  const ids = new Tensor([2, 4], new Float32Array([3, 9, 9, 1, 0, 2, 7, 7])); // first max: 1, 2
  const x = ramp([2, 4, 3]);
  const y = await run((_, [i0, x0]) => F.selectPerBatch(x0, F.argmax(i0, 1, true)), [ids, x]);
  const expected = [...x.data.subarray(1 * 3, 2 * 3), ...x.data.subarray(12 + 2 * 3, 12 + 3 * 3)];
  assertCloseTensor(y.data, expected, { atol: 0, label: 'x[n, argmax]' });
});

test('where(cast(mask, bool), y, x) takes y exactly where the float mask is 1 (broadcast over the last axis)', async () => {
  const mask = new Tensor([2, 3, 1], new Float32Array([0, 1, 0, 1, 0, 0]));
  const x = ramp([2, 3, 4]);
  const y = ramp([2, 3, 4], 7);
  const out = await run((_, [m, x0, y0]) => F.where(F.cast(m, 'bool'), y0, x0), [mask, x, y]);
  const expected = x.data.map((v, i) => (mask.data[Math.floor(i / 4)] === 1 ? y.data[i] : v));
  assertCloseTensor(out.data, expected, { atol: 0, label: 'where' });
});
