/**
 * Network files: module typing in A1111's order (supported types, and the ones this engine refuses by name),
 * the lora_A/lora_B rename that drops alpha, F32/F16/BF16 storage, and a network refused as a whole when a
 * matched module has an unsupported type (an unmatched one is ignored, as A1111 never types it).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { float32Bytes, type TensorToWrite, writeSafetensors } from '../checkpoint/safetensors.ts';
import { Tensor } from '../tensor.ts';
import type { LayerIndex } from './key-mapping.ts';
import { jsMatMul } from './lyco-math.ts';
import { mergeNetworks } from './merge.ts';
import { moduleTypeOf, readNetworkFile } from './network-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdapi-network-file-'));
const f32 = (shape: number[], values: number[]): TensorToWrite => ({ dtype: 'F32', shape, data: float32Bytes(Float32Array.from(values)) });
const bf16 = (shape: number[], values: number[]): TensorToWrite => {
  const bits = new Uint32Array(Float32Array.from(values).buffer);
  const out = new Uint16Array(bits.length).map((_, i) => bits[i] >>> 16);
  return { dtype: 'BF16', shape, data: new Uint8Array(out.buffer) };
};

test('module types in A1111 order; unsupported ones are named', () => {
  const type = (...keys: string[]) => moduleTypeOf(new Set(keys));
  assert.deepEqual(type('lora_up.weight', 'lora_down.weight', 'alpha'), { type: 'lora' });
  assert.deepEqual(type('lora_A.weight', 'lora_B.weight'), { type: 'lora' });
  assert.deepEqual(type('hada_w1_a', 'hada_w1_b', 'hada_w2_a', 'hada_w2_b', 'hada_t1', 'hada_t2'), { type: 'loha' });
  assert.deepEqual(type('lokr_w1', 'lokr_w2'), { type: 'lokr' });
  assert.deepEqual(type('lokr_w1_a', 'lokr_w1_b', 'lokr_w2'), { type: 'lokr' });
  assert.deepEqual(type('lokr_w1', 'lokr_w2_a', 'lokr_w2_b', 'lokr_t2'), { type: 'lokr' });
  const refused: [string[], RegExp][] = [
    [['weight', 'on_input'], /IA3/],
    [['diff'], /full\/diff/],
    [['w_norm', 'b_norm'], /norm/],
    [['a1.weight', 'a2.weight', 'b1.weight', 'b2.weight'], /GLoRA/],
    [['oft_blocks'], /OFT\/BOFT/],
    [['lora_up.weight', 'lora_down.weight', 'dora_scale'], /DoRA/],
    [['lora_up.weight', 'lora_down.weight', 'bias'], /bias deltas/],
    [['lokr_w1'], /fit no LoRA\/LyCORIS type/],
  ];
  for (const [keys, why] of refused) {
    const t = type(...keys);
    assert.ok('unsupported' in t && why.test(t.unsupported), `${keys.join(', ')} → ${JSON.stringify(t)}`);
  }
});

test('lora_A/lora_B become up/down and lose alpha (scale 1); BF16 and F32 files read the same values', () => {
  const up = [0.5, -0.25, 1, 2];
  const down = [0.125, 4, -1, 0.75];
  const path = join(dir, 'peft.safetensors');
  writeSafetensors(path, { 'm.lora_A.weight': f32([2, 2], down), 'm.lora_B.weight': f32([2, 2], up), 'm.alpha': f32([], [8]) });
  const m = readNetworkFile(path).modules.get('m');
  assert.deepEqual([m?.type, m?.alpha, m?.scale, [...(m?.w.keys() ?? [])]], ['lora', null, null, ['lora_up.weight', 'lora_down.weight']]);
  const pathBf16 = join(dir, 'bf16.safetensors');
  writeSafetensors(pathBf16, { 'm.lora_up.weight': bf16([2, 2], up), 'm.lora_down.weight': bf16([2, 2], down), 'm.alpha': bf16([], [2]) });
  const b = readNetworkFile(pathBf16).modules.get('m');
  assert.deepEqual([...(b?.w.get('lora_up.weight')?.data ?? [])], up);
  assert.deepEqual([...(b?.w.get('lora_down.weight')?.data ?? [])], down);
  assert.equal(b?.alpha, 2);
});

const index: LayerIndex = new Map([
  ['diffusion_model_out_2', { layer: 'diffusion_model_out_2', key: 'model.diffusion_model.out.2.weight', dims: [2, 2], kind: 'linear' as const }],
]);
const ctx = { index, isSd2: false, baseWeight: () => new Tensor([2, 2], Float32Array.from([1, 1, 1, 1])), matmul: jsMatMul };

test('a matched module of an unsupported type refuses the whole network; an unmatched one is ignored', async () => {
  const good = { 'lora_unet_conv_out.lora_up.weight': f32([2, 1], [1, 2]), 'lora_unet_conv_out.lora_down.weight': f32([1, 2], [1, 1]) };
  const ia3Path = join(dir, 'ia3.safetensors');
  writeSafetensors(ia3Path, { 'lora_unet_conv_out.weight': f32([2], [1, 1]), 'lora_unet_conv_out.on_input': f32([], [0]) });
  const refused = await mergeNetworks([{ name: 'ia3', file: readNetworkFile(ia3Path), te: 1, unet: 1, dyn: null }], ctx);
  assert.equal(refused.weights.size, 0);
  assert.deepEqual(refused.refused, ['ia3']);
  assert.match(refused.warnings.join('\n'), /Lora ia3: module 'lora_unet_conv_out' uses IA3/);
  const mixedPath = join(dir, 'mixed.safetensors');
  writeSafetensors(mixedPath, { ...good, 'lora_unet_nowhere.oft_blocks': f32([1], [0]) });
  const mixed = await mergeNetworks([{ name: 'mixed', file: readNetworkFile(mixedPath), te: 1, unet: 0.5, dyn: null }], ctx);
  assert.deepEqual(mixed.refused, []);
  assert.deepEqual([...(mixed.weights.get('model.diffusion_model.out.2.weight')?.data ?? [])], [1.5, 1.5, 2, 2]);
  assert.match(mixed.warnings.join('\n'), /1 module matched no layer of this model and was skipped: lora_unet_nowhere/);
});
