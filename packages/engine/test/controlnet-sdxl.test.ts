/**
 * An SDXL ControlNet (label_emb + vector conditioning, 10-style residual list of the tiny SDXL layout) made from
 * the tiny-sdxl UNet encoder plus seeded random hint/zero-conv weights: detected from shapes, sized like the base
 * UNet's skips, a no-op at weight 0 and a real change at weight 1 through txt2img. No oracle exists for SDXL
 * ControlNets, so this checks the wiring (the SD1.5 numbers are checked against cldm.py in controlnet.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { detectControlNet } from '../src/checkpoint/detect-controlnet.ts';
import { float32Bytes, SafetensorsFile, writeSafetensors } from '../src/checkpoint/safetensors.ts';
import { controlResidualCount } from '../src/models/unet-model.ts';
import { type ControlNetUnitParams, controlNetUnit } from '../src/pipeline/control-units.ts';
import { defaultTxt2ImgParams, StableDiffusion } from '../src/stable-diffusion.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';
import { pixelAgreement } from './helpers/pixels.ts';

const skip = needFixture('tiny-sdxl', 'model.safetensors');
let path: string;
let sd: StableDiffusion;

/** Deterministic uniform values in [-scale, scale] (a small LCG; the values only need to be fixed). */
function seeded(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
}

before(() => {
  if (skip) return;
  const base = SafetensorsFile.open(fixturePath('tiny-sdxl', 'model.safetensors'));
  const tensors = new Map<string, { dtype: 'F32'; shape: readonly number[]; data: Uint8Array }>();
  const encoder = /^model\.diffusion_model\.(time_embed|label_emb|input_blocks|middle_block)\./;
  for (const key of base.keys().filter((k) => encoder.test(k))) {
    tensors.set(key.replace('model.diffusion_model.', 'control_model.'), {
      dtype: 'F32',
      shape: base.info(key).shape,
      data: float32Bytes(base.readFloat32(key)),
    });
  }
  const add = (name: string, shape: number[], seed: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    tensors.set(`control_model.${name}`, { dtype: 'F32', shape, data: float32Bytes(seeded(n, seed, 1 / Math.sqrt(n / shape[0]))) });
  };
  const hint = [3, 16, 16, 32, 32, 96, 96, 256, 64];
  for (let i = 0; i < 8; i++) {
    add(`input_hint_block.${2 * i}.weight`, [hint[i + 1], hint[i], 3, 3], 10 + i);
    add(`input_hint_block.${2 * i}.bias`, [hint[i + 1]], 30 + i);
  }
  const chans = [64, 64, 64, 64, 64, 128]; // tiny-sdxl input blocks: conv_in, L0 res, down, L1 res, down, L2 res
  chans.forEach((c, i) => {
    add(`zero_convs.${i}.0.weight`, [c, c, 1, 1], 50 + i);
    add(`zero_convs.${i}.0.bias`, [c], 70 + i);
  });
  add('middle_block_out.0.weight', [128, 128, 1, 1], 90);
  add('middle_block_out.0.bias', [128], 91);
  path = join(mkdtempSync(join(tmpdir(), 'sdapi-cn-sdxl-')), 'tiny-sdxl-controlnet.safetensors');
  writeSafetensors(path, tensors);
  sd = StableDiffusion.open(fixturePath('tiny-sdxl', 'model.safetensors'));
});

test('the SDXL ControlNet is detected from shapes with the base UNet encoder config', { skip }, () => {
  const { config } = detectControlNet(SafetensorsFile.open(path));
  const unet = sd.model.config.unet;
  assert.equal(config.unet.adm_in_channels, unet.adm_in_channels);
  assert.deepEqual(
    [config.unet.model_channels, config.unet.channel_mult, config.unet.context_dim, config.unet.num_head_channels],
    [unet.model_channels, unet.channel_mult, unet.context_dim, unet.num_head_channels],
  );
  assert.equal(controlResidualCount(config.unet), controlResidualCount(unet));
});

test('SDXL txt2img with the ControlNet: weight 0 changes nothing, weight 1 changes the image', { skip }, async () => {
  const rgba = new Uint8Array(64 * 64 * 4).map((_, i) => (i % 4 === 3 ? 255 : ((i >> 2) % 64) * 4));
  const unit = (weight: number) => controlNetUnit({ modelPath: path, modelName: 'tiny-sdxl-controlnet', image: { width: 64, height: 64, rgba }, weight });
  const run = (controlNet: ControlNetUnitParams[]) =>
    sd.txt2img(defaultTxt2ImgParams({ prompt: 'a house', seed: 5, steps: 4, width: 64, height: 64, samplerName: 'Euler', controlNet }));
  const [plain, zero, full] = [await run([]), await run([unit(0)]), await run([unit(1)])];
  const same = pixelAgreement(zero.images[0].rgb, plain.images[0].rgb);
  const changed = pixelAgreement(full.images[0].rgb, plain.images[0].rgb);
  console.log(`# SDXL ControlNet: weight 0 vs none mean abs ${same.mae.toFixed(4)}; weight 1 vs none ${changed.mae.toFixed(2)}`);
  assert.ok(same.mae < 0.01, `weight 0 must be a no-op (mean abs ${same.mae})`);
  assert.ok(changed.mae > 1, `weight 1 must change the image (mean abs ${changed.mae})`);
});
