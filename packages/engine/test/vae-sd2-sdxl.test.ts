/**
 * The SD2 and SDXL VAEs (ldm AutoencoderKL / sgm AutoencoderKLInferenceWrapper, same key layout as SD1) against
 * tiny-sd2v and tiny-sdxl: decode applies 1/scale_factor first (0.18215 for SD2, 0.13025 for SDXL), encode gives
 * the posterior mean and the clamped logvar.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelConfig } from '../src/checkpoint/config.ts';
import { SafetensorsFile } from '../src/checkpoint/safetensors.ts';
import { buildVAEDecoderGraph, buildVAEEncoderGraph } from '../src/models/vae.ts';
import { compileGraph } from '../src/runtime/compile.ts';
import { Tensor } from '../src/tensor.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';
import { TINY_SD2V, TINY_SDXL } from './helpers/tiny-configs.ts';

const CASES: [string, ModelConfig][] = [['tiny-sd2v', TINY_SD2V], ['tiny-sdxl', TINY_SDXL]];

for (const [fixture, config] of CASES) {
  const skip = needFixture(fixture, 'reference.safetensors');
  const open = (name: string) => SafetensorsFile.open(fixturePath(fixture, name));
  const read = (ref: SafetensorsFile, key: string) => new Tensor(ref.info(key).shape, ref.readFloat32(key));

  test(`${fixture} VAE decode (latent × 1/${config.vae.scale_factor} inside)`, { skip }, async () => {
    const ref = open('reference.safetensors');
    const decoder = await compileGraph(buildVAEDecoderGraph(config.vae), open('model.safetensors'));
    const { image } = await decoder.run({ latent: read(ref, 'vae.decode.latent') });
    assert.deepEqual(image.shape, [1, 3, 64, 64]);
    assertCloseTensor(image.data, ref.readFloat32('vae.decode.image'), { atol: 1e-4, label: `${fixture} vae decode` });
  });

  test(`${fixture} VAE encode: posterior mean and logvar`, { skip }, async () => {
    const ref = open('reference.safetensors');
    const encoder = await compileGraph(buildVAEEncoderGraph(config.vae), open('model.safetensors'));
    const { moments } = await encoder.run({ image: read(ref, 'vae.encode.image') });
    assert.deepEqual(moments.shape, [1, 8, 8, 8]);
    const half = moments.size / 2;
    assertCloseTensor(moments.data.subarray(0, half), ref.readFloat32('vae.encode.mean'), { atol: 1e-4, label: `${fixture} vae encode mean` });
    const logvar = moments.data.subarray(half).map((v) => Math.min(Math.max(v, -30), 20)); // DiagonalGaussianDistribution clamp
    assertCloseTensor(logvar, ref.readFloat32('vae.encode.logvar'), { atol: 1e-4, label: `${fixture} vae encode logvar` });
  });
}
