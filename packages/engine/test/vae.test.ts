/** The SD1.x VAE against the genuine ldm AutoencoderKL (tiny-sd15): decode with and without scaling, encode, fp16 weights. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SafetensorsFile } from '../src/checkpoint/safetensors.ts';
import { buildVAEDecoderGraph, buildVAEEncoderGraph } from '../src/models/vae.ts';
import { compileGraph } from '../src/runtime/compile.ts';
import { Tensor } from '../src/tensor.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';
import { TINY_SD15 } from './helpers/tiny-configs.ts';

const skip = needFixture('tiny-sd15', 'reference.safetensors');
const open = (name: string) => SafetensorsFile.open(fixturePath('tiny-sd15', name));

function read(ref: SafetensorsFile, key: string): Tensor {
  return new Tensor(ref.info(key).shape, ref.readFloat32(key));
}

test('VAE decode: latent in diffusion space → image (×1/0.18215 inside), and without scaling', { skip }, async () => {
  const ref = open('reference.safetensors');
  const decoder = await compileGraph(buildVAEDecoderGraph(TINY_SD15.vae), open('model.safetensors'));
  const latent = read(ref, 'vae.decode.latent');
  const { image } = await decoder.run({ latent });
  assert.deepEqual(image.shape, [1, 3, 64, 64]);
  assertCloseTensor(image.data, ref.readFloat32('vae.decode.image'), { atol: 1e-4, label: 'vae decode' });
  const unscaled = await decoder.run({ latent: latent.mul(TINY_SD15.vae.scale_factor) });
  assertCloseTensor(unscaled.image.data, ref.readFloat32('vae.decode.image_no_scaling'), { atol: 1e-4, label: 'vae decode without 1/scale' });
});

test('VAE decode from fp16 weights', { skip }, async () => {
  const ref = open('reference.safetensors');
  const decoder = await compileGraph(buildVAEDecoderGraph(TINY_SD15.vae), open('model.fp16.safetensors'));
  const { image } = await decoder.run({ latent: read(ref, 'vae.decode.latent') });
  assertCloseTensor(image.data, ref.readFloat32('fp16w.vae.decode.image'), { atol: 1e-4, label: 'vae decode fp16 weights' });
});

test('VAE encode: image → moments (mean ‖ logvar)', { skip }, async () => {
  const ref = open('reference.safetensors');
  const encoder = await compileGraph(buildVAEEncoderGraph(TINY_SD15.vae), open('model.safetensors'));
  const { moments } = await encoder.run({ image: read(ref, 'vae.encode.image') });
  assert.deepEqual(moments.shape, [1, 8, 8, 8]);
  assertCloseTensor(moments.data, ref.readFloat32('vae.encode.moments'), { atol: 1e-4, label: 'vae encode moments' });
  const mean = moments.data.subarray(0, 4 * 64);
  assertCloseTensor(mean.map((v) => v * 0.18215), ref.readFloat32('vae.encode.latent_mode_scaled'), { atol: 1e-4, label: 'latent (mode) × 0.18215' });
});
