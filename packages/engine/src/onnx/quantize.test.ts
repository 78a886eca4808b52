import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TINY_SD15_CONFIG, writeRandomCheckpoint } from '../checkpoint/random.ts';
import { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { buildUNetGraph } from '../models/unet-model.ts';
import { compileGraph } from '../runtime/compile.ts';
import { Tensor } from '../tensor.ts';
import { Graph } from './graph.ts';
import * as F from './ops.ts';
import { serializeModel } from './proto.ts';
import { im2colRows, type Int8Plan, quantizeConvs, quantizedWeights, quantizeLinears, quantizeRows } from './quantize.ts';
import { OrtSession } from '../runtime/ort.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdapi-int8-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('per-row symmetric int8: every weight within half a step of its row scale, stored transposed', () => {
  const w = Float32Array.from({ length: 6 * 5 }, (_, i) => Math.sin(i * 0.7) * (1 + (i % 6)));
  const { q, scale } = quantizeRows(w, 6, 5);
  let worst = 0;
  for (let r = 0; r < 6; r++) {
    for (let c = 0; c < 5; c++) worst = Math.max(worst, Math.abs(q[c * 6 + r] * scale[r] - w[r * 5 + c]) / scale[r]);
    assert.ok(Math.max(...Array.from({ length: 5 }, (_, c) => Math.abs(q[c * 6 + r]))) === 127, 'the largest weight of a row maps to ±127');
  }
  console.log(`# int8 rounding: worst |q·s − w| = ${worst.toFixed(3)} steps`);
  assert.ok(worst <= 0.5 + 1e-6);
});

test('the tiny UNet in int8: every Linear and every inner convolution rewritten, output close to float32 but not equal', async () => {
  const graph = buildUNetGraph(TINY_SD15_CONFIG.unet);
  const linears = graph.nodes.filter((n) => n.opType === 'Transpose' && graph.params.get(n.inputs[0])?.dims.length === 2).length;
  const convs = graph.nodes.filter((n) => n.opType === 'Conv').length;
  assert.ok(linears > 0);
  assert.equal(quantizeLinears(graph), linears, 'every x·Wᵀ became DynamicQuantizeMatMul');
  assert.equal(graph.nodes.filter((n) => n.opType === 'DynamicQuantizeMatMul').length, linears);
  assert.equal(quantizeConvs(graph), convs - 2, 'every convolution but the first and the last (4 latent channels)');
  assert.equal(graph.nodes.filter((n) => n.opType === 'MatMulIntegerToFloat').length, convs - 2);

  const ckpt = join(dir, 'tiny.safetensors');
  writeRandomCheckpoint(ckpt, TINY_SD15_CONFIG, 5);
  const file = SafetensorsFile.open(ckpt);
  const { unet } = TINY_SD15_CONFIG;
  const x = new Tensor(
    [2, unet.in_channels, 8, 8],
    Float32Array.from({ length: 2 * unet.in_channels * 64 }, (_, i) => Math.sin(i)),
  );
  const context = new Tensor(
    [2, 77, unet.context_dim],
    Float32Array.from({ length: 2 * 77 * unet.context_dim }, (_, i) => Math.cos(i * 0.3)),
  );
  const feeds = { x, timesteps: new Tensor([2], Float32Array.of(10, 900)), context };
  const fp32 = await compileGraph(buildUNetGraph(unet), file);
  const int8 = await compileGraph(buildUNetGraph(unet), file, { quantize: 'int8' });
  const a = (await fp32.run(feeds)).out.data;
  const b = (await int8.run(feeds)).out.data;
  let maxDiff = 0;
  let sumDiff = 0;
  let maxRef = 0;
  let sumRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    sumDiff += Math.abs(a[i] - b[i]);
    maxRef = Math.max(maxRef, Math.abs(a[i]));
    sumRef += Math.abs(a[i]);
  }
  const meanRatio = sumDiff / sumRef;
  console.log(
    `# tiny UNet int8 vs float32: max abs diff ${maxDiff.toExponential(3)} (max |ref| ${maxRef.toFixed(3)}, ${((100 * maxDiff) / maxRef).toFixed(2)}%), mean |diff| / mean |ref| ${(100 * meanRatio).toFixed(2)}%`,
  );
  assert.ok(maxDiff > 0, 'the int8 session really is another computation');
  // Measured: 5.6% of the largest output at most, 4.6% on average (Linear layers alone: 3.6%, 2.3%). The tiny model's
  // 32 channels average rounding over few terms; the exact arithmetic is checked per convolution below, where a
  // layout bug is off by whole units, and the full-size error is printed by `npm run bench`.
  assert.ok(maxDiff < 0.15 * maxRef, 'within 15% of the largest output');
  assert.ok(meanRatio < 0.08, 'on average within 8%');
  await Promise.all([fp32.release(), int8.release()]);
  file.close();
});

/**
 * What the int8 convolution should compute, in plain JS: x quantized as ONNX DynamicQuantizeLinear does (uint8, one
 * scale, zero point from the range including 0), padded with that zero point, times the per-row int8 weight.
 */
function int8ConvReference(x: Float32Array, shape: number[], w: Float32Array, bias: Float32Array, k: number, stride: number, pad: number[]) {
  const [n, cin, h, wd] = shape;
  const out = bias.length;
  let lo = 0;
  let hi = 0;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const xs = (hi - lo) / 255;
  const zp = Math.min(255, Math.max(0, Math.round(-lo / xs)));
  const roundEven = (v: number) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));
  const xq = x.map((v) => Math.min(255, Math.max(0, roundEven(v / xs) + zp)));
  const { q, scale } = quantizeRows(im2colRows(w, out, cin, k), out, k * k * cin);
  const [top, left, bottom, right] = pad;
  const ho = Math.floor((h + top + bottom - k) / stride) + 1;
  const wo = Math.floor((wd + left + right - k) / stride) + 1;
  const y = new Float32Array(n * out * ho * wo);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < out; o++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          let acc = 0;
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++)
              for (let c = 0; c < cin; c++) {
                const yy = i * stride + ky - top;
                const xx = j * stride + kx - left;
                const v = yy < 0 || xx < 0 || yy >= h || xx >= wd ? zp : xq[((b * cin + c) * h + yy) * wd + xx];
                acc += (v - zp) * q[((ky * k + kx) * cin + c) * out + o];
              }
          y[((b * out + o) * ho + i) * wo + j] = acc * xs * scale[o] + bias[o];
        }
  return { y, shape: [n, out, ho, wo] };
}

for (const { k, stride, pads } of [
  { k: 3, stride: 1, pads: [1, 1, 1, 1] },
  { k: 3, stride: 2, pads: [1, 1, 1, 1] },
  { k: 1, stride: 1, pads: [0, 0, 0, 0] },
  { k: 3, stride: 1, pads: [0, 0, 0, 0] },
]) {
  test(`an int8 im2col convolution (k ${k}, stride ${stride}, pads ${pads.join(',')}) computes exactly the quantized product, close to float32`, async () => {
    const [n, cin, out, h, wd] = [2, 40, 36, 9, 7];
    const x = Float32Array.from({ length: n * cin * h * wd }, (_, i) => Math.sin(i * 0.37) * 2 + 0.3);
    const w = Float32Array.from({ length: out * cin * k * k }, (_, i) => Math.cos(i * 0.91) * 0.1);
    const bias = Float32Array.from({ length: out }, (_, i) => i * 0.01 - 0.2);
    const build = () => {
      const g = new Graph('conv');
      const input = g.input('x', [n, cin, 'H', 'W']);
      g.output(F.conv2d(input, g.param('w', [out, cin, k, k]), g.param('b', [out]), { stride, pads }), 'y');
      return g;
    };
    const base = (name: string) => (name === 'w' ? w : bias);
    const int8Graph = build();
    const plan: Int8Plan = new Map();
    assert.equal(quantizeConvs(int8Graph, undefined, plan), 1);
    assert.equal(int8Graph.nodes.filter((node) => node.opType === 'Conv').length, 0);
    const [fp32, int8] = await Promise.all([
      OrtSession.create(serializeModel(build(), { weights: base })),
      OrtSession.create(serializeModel(int8Graph, { weights: quantizedWeights(plan, base) })),
    ]);
    const feeds = { x: new Tensor([n, cin, h, wd], x) };
    const a = (await fp32.run(feeds)).y;
    const b = (await int8.run(feeds)).y;
    const reference = int8ConvReference(x, [n, cin, h, wd], w, bias, k, stride, pads);
    assert.deepEqual(b.shape, reference.shape);
    assert.deepEqual(a.shape, reference.shape);
    let exact = 0;
    let vsFloat = 0;
    let maxRef = 0;
    for (let i = 0; i < reference.y.length; i++) {
      exact = Math.max(exact, Math.abs(b.data[i] - reference.y[i]));
      vsFloat = Math.max(vsFloat, Math.abs(b.data[i] - a.data[i]));
      maxRef = Math.max(maxRef, Math.abs(a.data[i]));
    }
    console.log(
      `# int8 conv k${k} s${stride}: max diff vs the JS quantized reference ${exact.toExponential(2)}, vs float32 ${vsFloat.toExponential(2)} (max |y| ${maxRef.toFixed(2)})`,
    );
    assert.ok(exact < 1e-4 * maxRef, 'the same quantized arithmetic (a layout or padding bug is off by whole units)');
    assert.ok(vsFloat > 0 && vsFloat < 0.05 * maxRef, 'int8 rounding only');
    await Promise.all([fp32.release(), int8.release()]);
  });
}
