import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeSafetensors } from '../checkpoint/safetensors.ts';
import { buildTaesdDecoderGraph } from '../models/taesd.ts';
import { Tensor } from '../tensor.ts';
import { TaesdPreview } from './taesd-preview.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdapi-taesd-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A TAESD decoder file with taesd.py's keys: every weight `value(name, i)`. */
function writeDecoder(path: string, value: (name: string, i: number) => number): void {
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Uint8Array }> = {};
  for (const p of buildTaesdDecoderGraph().params.values()) {
    const data = Float32Array.from({ length: p.dims.reduce((a, b) => a * b, 1) }, (_, i) => value(p.name, i));
    tensors[p.name] = { dtype: 'F32', shape: [...p.dims], data: new Uint8Array(data.buffer) };
  }
  writeSafetensors(path, tensors);
}

test("the decoder declares taesd.py's layout: 1.2M weights under its Sequential indices", () => {
  const params = [...buildTaesdDecoderGraph().params.values()];
  const total = params.reduce((a, p) => a + p.dims.reduce((x, y) => x * y, 1), 0);
  assert.equal(total, 1_222_531);
  const byName = new Map(params.map((p) => [p.name, p.dims.join('×')]));
  assert.equal(byName.get('1.weight'), '64×4×3×3');
  assert.equal(byName.get('3.conv.4.weight'), '64×64×3×3');
  assert.equal(byName.get('7.weight'), '64×64×3×3');
  assert.equal(byName.has('7.bias'), false, 'convs after upsampling have no bias');
  assert.equal(byName.get('19.weight'), '3×64×3×3');
  assert.deepEqual(
    params.filter((p) => /^\d+\.(weight|bias)$/.test(p.name)).map((p) => p.name),
    ['1.weight', '1.bias', '7.weight', '12.weight', '17.weight', '19.weight', '19.bias'],
  );
});

test('a preview is 8× the latent, and with only output biases it is their colour (clamped, truncated)', async () => {
  const path = join(dir, 'taesd_decoder.safetensors');
  const bias = [0.5, 1.7, -0.2]; // → 127, 255 (clamped), 0
  writeDecoder(path, (name, i) => (name === '19.bias' ? bias[i] : 0));
  const taesd = await TaesdPreview.open(path);
  const latent = new Tensor(
    [2, 4, 3, 5],
    Float32Array.from({ length: 120 }, (_, i) => Math.sin(i)),
  );
  const image = await taesd.preview(latent, 1);
  assert.deepEqual([image.width, image.height], [40, 24]);
  for (let p = 0; p < 40 * 24; p++) assert.deepEqual([...image.rgb.subarray(p * 3, p * 3 + 3)], [127, 255, 0]);
  await taesd.release();
});

test('random TAESD weights give a varied picture, and a file of another layout is refused by name', async () => {
  const path = join(dir, 'random.safetensors');
  let seed = 1;
  const uniform = () => (seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5; // Park–Miller: reproducible weights
  writeDecoder(path, (name) => (name === '19.bias' ? 0.5 : uniform() * 0.15));
  const taesd = await TaesdPreview.open(path);
  const image = await taesd.preview(
    new Tensor(
      [1, 4, 4, 4],
      Float32Array.from({ length: 64 }, (_, i) => Math.cos(i)),
    ),
  );
  assert.ok(new Set(image.rgb).size > 10, 'not a flat image');
  await taesd.release();
  const other = join(dir, 'other.safetensors');
  writeSafetensors(other, { 'decoder.conv_in.weight': { dtype: 'F32', shape: [1], data: new Uint8Array(4) } });
  await assert.rejects(TaesdPreview.open(other), /other\.safetensors.*not a TAESD decoder/);
});
