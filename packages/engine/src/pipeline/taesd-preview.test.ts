import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeSafetensors } from '../checkpoint/safetensors.ts';
import { buildTaesdDecoderGraph } from '../models/taesd.ts';
import { Tensor } from '../tensor.ts';
import { writeRandomTaesdDecoder, writeTaesdDecoder } from '../../test/helpers/taesd.ts';
import { TaesdPreview } from './taesd-preview.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdapi-taesd-'));
after(() => rmSync(dir, { recursive: true, force: true }));

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
  writeTaesdDecoder(path, (name, i) => (name === '19.bias' ? bias[i] : 0));
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
  writeRandomTaesdDecoder(path);
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

test("txt2img with show_progress_type 'TAESD' adds a full-size preview every n steps, and none without the weights", async () => {
  const { TINY_SD15_CONFIG, writeRandomCheckpoint } = await import('../checkpoint/random.ts');
  const { DEFAULT_GENERATION_OPTIONS, StableDiffusion, defaultTxt2ImgParams } = await import('../stable-diffusion.ts');
  const ckpt = join(dir, 'tiny-model.safetensors');
  writeRandomCheckpoint(ckpt, TINY_SD15_CONFIG, 11);
  const sd = StableDiffusion.open(ckpt);
  const decoder = join(dir, 'taesd-for-job.safetensors');
  writeTaesdDecoder(decoder, (name, i) => (name === '19.bias' ? 0.5 : Math.sin(i) * 0.05));
  const params = defaultTxt2ImgParams({
    prompt: 'a cat',
    seed: 1,
    steps: 4,
    width: 64,
    height: 64,
    options: { ...DEFAULT_GENERATION_OPTIONS, show_progress_type: 'TAESD', show_progress_every_n_steps: 2 },
  });
  const previewsAt = async () => {
    const steps: string[] = [];
    await sd.txt2img(params, { onProgress: (p) => p.preview && steps.push(`${p.samplingStep}:${p.preview.width}x${p.preview.height}`) });
    return steps;
  };
  assert.deepEqual(await previewsAt(), [], 'no TAESD weights attached: no previews');
  sd.model.taesd = await TaesdPreview.open(decoder);
  assert.deepEqual(await previewsAt(), ['2:64x64', '4:64x64']);
  await sd.model.taesd.release();
  await sd.release();
});
