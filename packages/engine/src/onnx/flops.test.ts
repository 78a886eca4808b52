import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SD15_CONFIG } from '../checkpoint/random.ts';
import { buildUNetGraph } from '../models/unet-model.ts';
import { countFlops, resolveShape } from './flops.ts';
import { Graph } from './graph.ts';
import * as F from './ops.ts';

test('symbolic dimensions evaluate with precedence and parentheses', () => {
  assert.deepEqual(resolveShape(['N', 'H/8', '(H/2)*(W/2)', 'H*8+1', 3], { N: 2, H: 64, W: 32 }), [2, 8, 512, 513, 3]);
  assert.throws(() => resolveShape(['Q'], {}), /no binding for Q/);
  assert.throws(() => resolveShape(['H/3'], { H: 64 }), /not an integer/);
});

test('MatMul, Conv and fused attention count 2 FLOPs per multiply-add', () => {
  const g = new Graph('t');
  const x = g.input('x', ['N', 8, 'H', 'W']);
  const conv = F.conv2d(x, g.param('w', [16, 8, 3, 3]), null, { padding: 1 }); // N·16·H·W outputs × 8·9 MACs
  const tokens = F.transpose(F.reshape(conv, [0, 0, -1]), [0, 2, 1]); // [N, H·W, 16]
  const proj = F.matmul(tokens, g.param('p', [16, 32])); // N·H·W·32 outputs × 16 MACs
  g.output(F.scaledDotProductAttention(proj, proj, proj, 4), 'y'); // QKᵀ and AV: 2 · N·L·L·32 MACs
  const { total, byOp } = countFlops(g, { N: 2, H: 4, W: 5 });
  const L = 20;
  assert.equal(byOp.Conv, 2 * (2 * 16 * L) * (8 * 9));
  assert.equal(byOp.MatMul, 2 * (2 * L * 32) * 16);
  assert.equal(byOp.MultiHeadAttention, 2 * 2 * L * L * (32 + 32));
  assert.equal(total, byOp.Conv + byOp.MatMul + byOp.MultiHeadAttention);
});

test('the SD1.5 UNet at 512², CFG batch 2, is 1606.5 GFLOP (the figure of issue 9, counted independently)', () => {
  const { total, byOp } = countFlops(buildUNetGraph(SD15_CONFIG.unet), { N: 2, H: 64, W: 64, L: 77 });
  console.log(`# SD1.5 UNet 512² CFG: ${(total / 1e9).toFixed(1)} GFLOP`, Object.fromEntries(Object.entries(byOp).map(([k, v]) => [k, +(v / 1e9).toFixed(1)])));
  assert.equal((total / 1e9).toFixed(1), '1606.5');
});
