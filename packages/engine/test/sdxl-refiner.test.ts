/**
 * The SDXL refiner path on a seeded random tiny refiner checkpoint (no oracle fixture exists for the refiner, so
 * the numerics rest on the shared modules' parity tests): detection, sgm sd_xl_refiner.yaml conditioning
 * (crossattn = bigG penultimate; vector = [pooled | original size | crop | aesthetic score], A1111's 6.0 for the
 * prompt and 2.5 for the negative, the empty negative zeroed) and txt2img end to end.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { detectModel } from '../src/checkpoint/detect.ts';
import { writeRandomCheckpoint } from '../src/checkpoint/random.ts';
import { SafetensorsFile } from '../src/checkpoint/safetensors.ts';
import { TextConditioner } from '../src/pipeline/conditioning.ts';
import { LoadedModel } from '../src/pipeline/model.ts';
import { concatTimestepEmbedderND, DEFAULT_SDXL_MICRO_CONDITIONING } from '../src/pipeline/sdxl-conditioning.ts';
import { defaultTxt2ImgParams, StableDiffusion } from '../src/stable-diffusion.ts';
import { CLIPTokenizer } from '../src/text/clip-tokenizer.ts';
import { padAfterFirstEos } from '../src/text/conditioning.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { TINY_SDXL_REFINER } from './helpers/tiny-configs.ts';

let dir: string;
let path: string;
let model: LoadedModel;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sdapi-refiner-'));
  path = join(dir, 'tiny-refiner.safetensors');
  writeRandomCheckpoint(path, TINY_SDXL_REFINER, 7);
  model = LoadedModel.open(path);
});
after(async () => {
  await model.release();
  rmSync(dir, { recursive: true, force: true });
});

test('a refiner checkpoint (bigG at conditioner.embedders.0, adm = pooled + 5 embeddings) is detected as sdxl-refiner', () => {
  assert.deepEqual(detectModel(SafetensorsFile.open(path)), TINY_SDXL_REFINER);
});

test('refiner conditioning: bigG penultimate context; vector [pooled | (1024,1024) | (0,0) | aesthetic 6.0 or 2.5]', async () => {
  const conditioner = new TextConditioner(model, { clipSkip: 1, emphasis: 'None', commaPaddingBacktrack: 20, micro: DEFAULT_SDXL_MICRO_CONDITIONING }, 10);
  const [positive] = await conditioner.schedule('a cat');
  const tokenizer = CLIPTokenizer.load();
  const ids = padAfterFirstEos([tokenizer.bosId, ...tokenizer.encode('a cat'), ...Array(75 - tokenizer.encode('a cat').length).fill(tokenizer.eosId), tokenizer.eosId], tokenizer.eosId, 0);
  const direct = await model.encodeText(0, [ids]);
  assertCloseTensor(positive.cond.data, direct.hiddenStates.get(2).data, { atol: 0, label: 'context = raw penultimate' });
  const expected = (pooled: Float32Array, score: number) => [...pooled, ...concatTimestepEmbedderND([1024, 1024], 16), ...concatTimestepEmbedderND([0, 0], 16), ...concatTimestepEmbedderND([score], 16)];
  assertCloseTensor(positive.vector?.data ?? [], expected((direct.pooled as { data: Float32Array }).data, 6), { atol: 0, label: 'positive vector' });
  const [negative] = await conditioner.schedule('', true);
  assert.ok(negative.cond.data.every((v) => v === 0), 'empty negative crossattn is zero');
  assertCloseTensor(negative.vector?.data ?? [], expected(new Float32Array(40), 2.5), { atol: 0, label: 'negative vector (aesthetic 2.5)' });
});

test('refiner txt2img runs end to end, and the aesthetic score reaches the UNet', async () => {
  const sd = StableDiffusion.open(path);
  const base = { prompt: 'a cat', seed: 5, steps: 4, width: 64, height: 64, samplerName: 'Euler' };
  const { images } = await sd.txt2img(defaultTxt2ImgParams(base));
  const other = await sd.txt2img(defaultTxt2ImgParams({ ...base, options: { ...defaultTxt2ImgParams().options, sdxl_refiner_high_aesthetic_score: 9 } }));
  assert.equal(images[0].rgb.length, 64 * 64 * 3);
  assert.notDeepEqual(other.images[0].rgb, images[0].rgb);
  await sd.release();
});
