/**
 * Fed weights of an F16 checkpoint stay float16 in memory and are widened inside the session
 * (onnx/float16-fed.ts, runtime/fed-weights.ts): the outputs must be bit for bit those of the same weights given
 * as float32, since F16 → float32 is exact. A LoRA merged onto an F16 model is kept and fed rounded to float16.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { float16Bytes } from '../src/checkpoint/float16.ts';
import { TINY_SD15_CONFIG, writeRandomCheckpoint } from '../src/checkpoint/random.ts';
import { float32Bytes, SafetensorsFile, writeSafetensors } from '../src/checkpoint/safetensors.ts';
import { LoraCatalog } from '../src/networks/lora-catalog.ts';
import { readNetworkFile } from '../src/networks/network-file.ts';
import { LoadedModel } from '../src/pipeline/model.ts';
import { activateNetworks } from '../src/pipeline/networks.ts';
import { DEFAULT_GENERATION_OPTIONS } from '../src/stable-diffusion.ts';
import { Tensor } from '../src/tensor.ts';
import { parseExtraNetworks } from '../src/text/extra-networks.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdapi-f16-fed-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of `from` with every floating tensor stored as `dtype` (F32: widened exactly; F16: rounded). */
function convert(from: string, to: string, dtype: 'F32' | 'F16'): void {
  const file = SafetensorsFile.open(from);
  const tensors = new Map<string, { dtype: string; shape: number[]; data: Uint8Array }>();
  for (const key of file.keys()) {
    const info = file.info(key);
    if (!['F32', 'F16', 'BF16'].includes(info.dtype)) {
      tensors.set(key, { dtype: info.dtype, shape: [...info.shape], data: file.readBytes(key) }); // integer tensors as they are
      continue;
    }
    const values = file.readFloat32(key);
    tensors.set(key, { dtype, shape: [...file.info(key).shape], data: dtype === 'F32' ? float32Bytes(values) : float16Bytes(values) });
  }
  writeSafetensors(to, tensors as Parameters<typeof writeSafetensors>[1], { ...file.metadata });
  file.close();
}

const filled = (shape: number[], k: number) =>
  new Tensor(
    shape,
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * k)),
  );

function maxDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]));
  return worst;
}

async function outputs(model: LoadedModel) {
  const ids = [49406, 320, 1125, ...Array(74).fill(49407)];
  const text = await model.encodeText(0, [ids, ids]);
  const unet = await model.unet(filled([2, 4, 8, 8], 0.37), [500, 20], filled([2, 77, model.config.unet.context_dim], 0.11));
  return { text: text.hiddenStatesLn, unet };
}

test('an F16 checkpoint: fed weights kept as float16, outputs identical to the same weights in float32', async () => {
  const f16 = join(dir, 'f16.safetensors');
  const f32 = join(dir, 'f32.safetensors');
  writeRandomCheckpoint(f16, TINY_SD15_CONFIG, 3, { dtype: 'F16' });
  convert(f16, f32, 'F32');
  const half = LoadedModel.open(f16);
  const full = LoadedModel.open(f32);
  try {
    const linear = 'model.diffusion_model.input_blocks.3.1.transformer_blocks.0.attn1.to_q.weight';
    assert.equal(half.networks.weights.isFloat16(linear), true);
    assert.equal(full.networks.weights.isFloat16(linear), false);
    const a = await outputs(half);
    const b = await outputs(full);
    const text = maxDiff(a.text, b.text);
    const unet = maxDiff(a.unet, b.unet);
    console.log(`# float16-fed vs float32-fed: text max diff ${text}, UNet max diff ${unet}`);
    assert.equal(text, 0);
    assert.equal(unet, 0);
  } finally {
    await Promise.all([half.release(), full.release()]);
  }
});

const loraSkip = needFixture('lora', 'lora_kohya.safetensors') || needFixture('tiny-sd15', 'model.safetensors');
if (loraSkip) console.log(`# skipped (LoRA on an F16 model): ${loraSkip}`);

test('a LoRA on an F16 model: the merged weights are fed rounded to float16, close to the float32 merge', { skip: loraSkip }, async () => {
  const f16 = join(dir, 'tiny-f16.safetensors');
  const f32 = join(dir, 'tiny-f16-as-f32.safetensors');
  convert(fixturePath('tiny-sd15', 'model.safetensors'), f16, 'F16');
  convert(f16, f32, 'F32');
  const loras = mkdtempSync(join(dir, 'lora-'));
  copyFileSync(fixturePath('lora', 'lora_kohya.safetensors'), join(loras, 'lora_kohya.safetensors'));
  const models = [LoadedModel.open(f16), LoadedModel.open(f32)];
  try {
    const results = [];
    for (const model of models) {
      model.loras = new LoraCatalog({ dirs: [loras] });
      const before = (await outputs(model)).unet;
      await activateNetworks(model, parseExtraNetworks('<lora:lora_kohya:1>').networks, DEFAULT_GENERATION_OPTIONS);
      const merged = (await outputs(model)).unet;
      assert.ok(maxDiff(before, merged) > 0, 'the LoRA changes the UNet output');
      results.push(merged);
      // The cached merge holds each weight once, as it is fed: float16 bits for the F16 model (no float32 copy).
      const kept = await model.networks.merge(
        [{ name: 'lora_kohya', file: readNetworkFile(join(loras, 'lora_kohya.safetensors')), te: 1, unet: 1, dyn: null }],
        'check',
      );
      const halves = [...kept.weights.values()].filter((w) => !(w instanceof Tensor)).length;
      assert.ok(kept.weights.size > 0);
      assert.equal(halves, model === models[0] ? kept.weights.size : 0, 'merged weights of the F16 model are float16, of the F32 one float32');
    }
    const diff = maxDiff(results[0], results[1]);
    const scale = Math.max(...results[1].data.map(Math.abs));
    console.log(`# LoRA merged onto F16, fed as float16 vs float32: UNet max diff ${diff.toExponential(2)} (max |out| ${scale.toFixed(3)})`);
    assert.ok(diff > 0, 'the float16 model was fed rounded merged weights');
    assert.ok(diff < 1e-2 * scale, 'float16 rounding of the merged weights only');
  } finally {
    await Promise.all(models.map((m) => m.release()));
  }
});
