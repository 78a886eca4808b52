/**
 * The SD2 and SDXL text encoders against the genuine open_clip v2.20.0 / transformers 4.19 outputs: tiny-sd2v's
 * OpenCLIP tower (every intermediate, penultimate + ln_final, pooled projection) and tiny-sdxl's CLIP-L
 * (every hidden state, layer_idx 2 raw) and bigG (penultimate without ln_final, pooled).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CLIPTextConfig } from '../src/checkpoint/config.ts';
import { detectModel } from '../src/checkpoint/detect.ts';
import { SafetensorsFile } from '../src/checkpoint/safetensors.ts';
import { buildTextEncoderGraph } from '../src/models/clip-text.ts';
import { compileGraph } from '../src/runtime/compile.ts';
import type { Tensor } from '../src/tensor.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';
import { TINY_SD2V, TINY_SDXL } from './helpers/tiny-configs.ts';

const skipSd2 = needFixture('tiny-sd2v', 'reference.safetensors');
const skipXl = needFixture('tiny-sdxl', 'reference.safetensors');

async function encode(fixture: string, modelFile: string, config: CLIPTextConfig, ids: number[]): Promise<Record<string, Tensor>> {
  const file = SafetensorsFile.open(fixturePath(fixture, modelFile));
  const session = await compileGraph(buildTextEncoderGraph(config), file);
  return session.run({ input_ids: { int64: BigInt64Array.from(ids.map(BigInt)), shape: [ids.length / 77, 77] } });
}

/** Layer `i` of a stacked [L+1, N, 77, C] output. */
const layer = (states: Tensor, i: number) => states.get(i).data;

/** fp32 tolerance: 1e-4 of the reference's magnitude. */
function check(actual: ArrayLike<number>, ref: SafetensorsFile, key: string, label = key) {
  const expected = ref.readFloat32(key);
  const scale = Math.max(1, ...expected.map(Math.abs));
  assertCloseTensor(actual, expected, { atol: 1e-4 * scale, label });
}

test('the hand-written tiny configs are what detectModel reads from the fixtures', { skip: skipSd2 || skipXl }, () => {
  assert.deepEqual(detectModel(SafetensorsFile.open(fixturePath('tiny-sd2v', 'model.safetensors'))), TINY_SD2V);
  assert.deepEqual(detectModel(SafetensorsFile.open(fixturePath('tiny-sdxl', 'model.safetensors'))), TINY_SDXL);
});

test('SD2 OpenCLIP: embeddings, every resblock, penultimate + ln_final (the SD2 conditioning), last + ln_final, pooled', { skip: skipSd2 }, async () => {
  const ref = SafetensorsFile.open(fixturePath('tiny-sd2v', 'reference.safetensors'));
  const out = await encode('tiny-sd2v', 'model.safetensors', TINY_SD2V.text_encoders[0], ref.readIntegers('text.input_ids'));
  const layers = out.hidden_states.shape[0] - 1;
  assert.equal(layers, 3);
  check(layer(out.hidden_states, 0), ref, 'text.embeddings');
  for (let i = 0; i < layers; i++) check(layer(out.hidden_states, i + 1), ref, `text.resblock_out.${i}`);
  check(layer(out.hidden_states_ln, layers - 1), ref, 'text.penultimate_ln_final');
  check(layer(out.hidden_states_ln, layers), ref, 'text.last_ln_final');
  check(out.pooled.data, ref, 'text.pooled_projected');
});

test('SD2 OpenCLIP from fp16 weights stays within fp16 rounding of the fp32 reference', { skip: skipSd2 }, async () => {
  const ref = SafetensorsFile.open(fixturePath('tiny-sd2v', 'reference.safetensors'));
  const out = await encode('tiny-sd2v', 'model.fp16.safetensors', TINY_SD2V.text_encoders[0], ref.readIntegers('text.input_ids'));
  // No fp16w.* reference for SD2: the weights' fp16 rounding (2^-11 relative) bounds the difference.
  assertCloseTensor(layer(out.hidden_states_ln, 2), ref.readFloat32('text.penultimate_ln_final'), { atol: 1e-2, label: 'fp16 weights, penultimate_ln_final' });
});

test('SDXL CLIP-L: every hidden state; layer_idx 2 (penultimate, no final LN) is the conditioning', { skip: skipXl }, async () => {
  const ref = SafetensorsFile.open(fixturePath('tiny-sdxl', 'reference.safetensors'));
  const out = await encode('tiny-sdxl', 'model.safetensors', TINY_SDXL.text_encoders[0], ref.readIntegers('text.clip_l.input_ids'));
  for (let i = 0; i <= 3; i++) check(layer(out.hidden_states, i), ref, `text.clip_l.hidden_states.${i}`);
  check(layer(out.hidden_states, 2), ref, 'text.clip_l.hidden');
});

test('SDXL bigG: penultimate without ln_final, pooled = ln_final(last)[EOS] @ text_projection', { skip: skipXl }, async () => {
  const ref = SafetensorsFile.open(fixturePath('tiny-sdxl', 'reference.safetensors'));
  const out = await encode('tiny-sdxl', 'model.safetensors', TINY_SDXL.text_encoders[1], ref.readIntegers('text.bigg.input_ids'));
  check(layer(out.hidden_states, 2), ref, 'text.bigg.penultimate');
  check(out.pooled.data, ref, 'text.bigg.pooled');
});
