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
import { quantizeLinears, quantizeRows } from './quantize.ts';

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

test('the tiny UNet with int8 Linear layers: every Linear rewritten, output close to float32 but not equal', async () => {
  const graph = buildUNetGraph(TINY_SD15_CONFIG.unet);
  const linears = graph.nodes.filter((n) => n.opType === 'Transpose' && graph.params.get(n.inputs[0])?.dims.length === 2).length;
  const rewritten = quantizeLinears(graph);
  assert.ok(linears > 0);
  assert.equal(rewritten, linears, 'every x·Wᵀ became DynamicQuantizeMatMul');
  assert.equal(graph.nodes.filter((n) => n.opType === 'DynamicQuantizeMatMul').length, linears);

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
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    maxRef = Math.max(maxRef, Math.abs(a[i]));
  }
  console.log(
    `# tiny UNet int8 vs float32: max abs diff ${maxDiff.toExponential(3)} (max |ref| ${maxRef.toFixed(3)}, ${((100 * maxDiff) / maxRef).toFixed(2)}%)`,
  );
  assert.ok(maxDiff > 0, 'the int8 session really is another computation');
  assert.ok(maxDiff < 0.05 * maxRef, 'within 5% of the largest output');
  await Promise.all([fp32.release(), int8.release()]);
  file.close();
});
