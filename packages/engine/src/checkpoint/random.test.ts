import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { needFixture, openFixture } from '../../test/helpers/fixtures.ts';
import { detectModel } from './detect.ts';
import { floatToHalf } from './float16.ts';
import { RANDOM_WEIGHTS_DESCRIPTION, SD15_CONFIG, TINY_SD15_CONFIG, writeRandomCheckpoint } from './random.ts';
import { halfToFloat, SafetensorsFile } from './safetensors.ts';
import { linearAlphasCumprod } from './schedule-buffers.ts';
import { type ShapeTable, shapeIndex } from './tensor-index.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdapi-random-'));
const tinyPath = join(dir, 'tiny.safetensors');
const written = writeRandomCheckpoint(tinyPath, TINY_SD15_CONFIG, 1234);

function stats(values: Float32Array): { mean: number; std: number } {
  let sum = 0;
  let sq = 0;
  for (const v of values) {
    sum += v;
    sq += v * v;
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(sq / values.length - mean * mean) };
}

test('the tiny preset round-trips: written file detects back to TINY_SD15_CONFIG, with and without metadata', () => {
  const file = SafetensorsFile.open(tinyPath);
  assert.deepEqual(detectModel(file), TINY_SD15_CONFIG);
  assert.equal(file.metadata['sdapi.description'], RANDOM_WEIGHTS_DESCRIPTION);
  assert.equal(file.metadata['sdapi.seed'], '1234');
  assert.equal(file.metadata['sdapi.num_heads'], '2');
  assert.equal(written.tensors, file.keys().length);
  assert.equal(written.bytes, file.fileSize);
  // The toy head rule alone (no metadata) must give the same config, so a stripped copy still loads right.
  const table: ShapeTable = Object.fromEntries(file.keys().map((k) => [k, file.info(k)]));
  assert.deepEqual(detectModel(shapeIndex(table)), TINY_SD15_CONFIG);
  file.close();
});

test('the tiny preset is an SD1.5 architecture with the real CLIP vocabulary and 77 positions', () => {
  const t = TINY_SD15_CONFIG.text_encoders[0];
  assert.deepEqual(
    [TINY_SD15_CONFIG.family, t.vocab_size, t.max_position_embeddings, t.key_prefix],
    ['sd1', 49408, 77, 'cond_stage_model.transformer.text_model.'],
  );
  assert.ok(written.parameters < 10_000_000, `${written.parameters} parameters`);
});

test('weights are seeded normals with std 1/sqrt(fan_in); biases 0, norms 1/0, position_ids 0..76', () => {
  const file = SafetensorsFile.open(tinyPath);
  const conv = stats(file.readFloat32('model.diffusion_model.input_blocks.3.0.in_layers.2.weight')); // [128, 64, 3, 3]
  assert.ok(Math.abs(conv.std * Math.sqrt(64 * 9) - 1) < 0.02 && Math.abs(conv.mean) < 0.002, JSON.stringify(conv));
  const linear = stats(file.readFloat32('cond_stage_model.transformer.text_model.encoder.layers.0.mlp.fc2.weight')); // [64, 256]
  assert.ok(Math.abs(linear.std * Math.sqrt(256) - 1) < 0.03, JSON.stringify(linear));
  const embedding = stats(file.readFloat32('cond_stage_model.transformer.text_model.embeddings.token_embedding.weight'));
  assert.ok(Math.abs(embedding.std - 1) < 0.01, JSON.stringify(embedding));
  assert.ok(file.readFloat32('model.diffusion_model.out.2.bias').every((v) => v === 0));
  assert.ok(file.readFloat32('model.diffusion_model.out.0.weight').every((v) => v === 1));
  assert.ok(file.readFloat32('first_stage_model.decoder.norm_out.bias').every((v) => v === 0));
  assert.deepEqual(
    file.readIntegers('cond_stage_model.transformer.text_model.embeddings.position_ids'),
    Array.from({ length: 77 }, (_, i) => i),
  );
  const q = file.readFloat32('first_stage_model.encoder.mid.attn_1.q.weight');
  const k = file.readFloat32('first_stage_model.encoder.mid.attn_1.k.weight');
  assert.notDeepEqual([...q.slice(0, 8)], [...k.slice(0, 8)], 'each tensor has its own stream');
  const { alphasCumprod } = linearAlphasCumprod(TINY_SD15_CONFIG.schedule);
  assert.deepEqual([...file.readFloat32('alphas_cumprod')], [...Float32Array.from(alphasCumprod)]);
  file.close();
});

test('same seed → identical bytes; another seed → other weights', () => {
  const again = join(dir, 'again.safetensors');
  writeRandomCheckpoint(again, TINY_SD15_CONFIG, 1234);
  assert.ok(readFileSync(again).equals(readFileSync(tinyPath)));
  const other = join(dir, 'other.safetensors');
  writeRandomCheckpoint(other, TINY_SD15_CONFIG, 1235);
  const name = 'model.diffusion_model.input_blocks.0.0.weight';
  assert.notDeepEqual([...SafetensorsFile.open(other).readFloat32(name)], [...SafetensorsFile.open(tinyPath).readFloat32(name)]);
});

test('the F16 option stores the F32 values rounded to half; buffers stay F32, position_ids I64', () => {
  const path = join(dir, 'tiny.fp16.safetensors');
  writeRandomCheckpoint(path, TINY_SD15_CONFIG, 1234, { dtype: 'F16', metadata: { note: 'fp16 copy' } });
  const f16 = SafetensorsFile.open(path);
  const f32 = SafetensorsFile.open(tinyPath);
  assert.deepEqual(detectModel(f16), TINY_SD15_CONFIG);
  assert.equal(f16.metadata.note, 'fp16 copy');
  for (const name of [
    'model.diffusion_model.input_blocks.1.0.in_layers.2.weight',
    'cond_stage_model.transformer.text_model.embeddings.token_embedding.weight',
  ]) {
    assert.equal(f16.info(name).dtype, 'F16');
    const expected = f32.readFloat32(name).map((v) => halfToFloat(floatToHalf(v)));
    assert.deepEqual([...f16.readFloat32(name)], [...expected], name);
  }
  assert.equal(f16.info('alphas_cumprod').dtype, 'F32');
  assert.equal(f16.info('cond_stage_model.transformer.text_model.embeddings.position_ids').dtype, 'I64');
});

test('a failed write leaves no partial file behind', () => {
  const missing = join(dir, 'no-such-dir', 'x.safetensors');
  assert.throws(() => writeRandomCheckpoint(missing, TINY_SD15_CONFIG, 1), /ENOENT/);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('partial')),
    [],
  );
});

test('presets are frozen so a caller cannot change them for everyone', () => {
  assert.throws(() => (SD15_CONFIG.unet.channel_mult as number[]).push(8), TypeError);
  assert.throws(() => {
    (TINY_SD15_CONFIG.unet as { model_channels: number }).model_channels = 1;
  }, TypeError);
});

test('SD2-v and SDXL layouts write and detect back (configs of the fixtures)', { skip: needFixture('tiny-sdxl', 'model.safetensors') }, () => {
  for (const name of ['tiny-sd2v', 'tiny-sdxl']) {
    const config = detectModel(openFixture(name, 'model.safetensors'));
    const path = join(dir, `${name}.safetensors`);
    writeRandomCheckpoint(path, config, 7);
    const file = SafetensorsFile.open(path);
    assert.deepEqual(detectModel(file), config, name);
    const openClip = config.text_encoders[config.text_encoders.length - 1].key_prefix;
    assert.ok(Math.abs(file.readFloat32(`${openClip}logit_scale`)[0] - Math.log(1 / 0.07)) < 1e-6);
  }
});
