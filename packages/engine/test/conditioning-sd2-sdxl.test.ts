/**
 * Prompt → conditioning through the pipeline's TextConditioner for SD2 and SDXL against the oracle tensors:
 * SD2 contexts (penultimate + ln_final, OpenCLIP ids 0 after EOS), SDXL crossattn = [CLIP-L layer 2 | bigG
 * penultimate] and vector = [pooled | size embeddings] for conds A and B, the zeroed empty negative prompt, and
 * sgm's ConcatTimestepEmbedderND probe. Emphasis 'None' because the oracle tokenised brackets literally.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SafetensorsFile } from '../src/checkpoint/safetensors.ts';
import { type CondSchedule, TextConditioner, type TextOptions } from '../src/pipeline/conditioning.ts';
import { LoadedModel } from '../src/pipeline/model.ts';
import { concatTimestepEmbedderND, DEFAULT_SDXL_MICRO_CONDITIONING, type SdxlMicroConditioning } from '../src/pipeline/sdxl-conditioning.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';

const PROMPTS = [
  'a photograph of an astronaut riding a horse',
  'A cozy cabin in the woods, snowy night, highly detailed, 4k!',
  'portrait of a cat wearing a tiny hat; oil painting (by an old master)',
  '',
];
const TEXT: TextOptions = { clipSkip: 1, emphasis: 'None', commaPaddingBacktrack: 20 };
const skipSd2 = needFixture('tiny-sd2v', 'reference.safetensors');
const skipXl = needFixture('tiny-sdxl', 'reference.safetensors');
const models: Record<string, LoadedModel> = {};
const refs: Record<string, SafetensorsFile> = {};

before(() => {
  for (const f of ['tiny-sd2v', 'tiny-sdxl']) {
    if (needFixture(f, 'reference.safetensors')) continue;
    models[f] = LoadedModel.open(fixturePath(f, 'model.safetensors'));
    refs[f] = SafetensorsFile.open(fixturePath(f, 'reference.safetensors'));
  }
});
after(async () => {
  for (const m of Object.values(models)) await m.release();
});

/** Row `i` of reference tensor `key` ([N, …]). */
function refRow(fixture: string, key: string, i: number): Float32Array {
  const data = refs[fixture].readFloat32(key);
  const per = data.length / refs[fixture].info(key).shape[0];
  return data.slice(i * per, (i + 1) * per);
}

const only = (schedule: CondSchedule) => {
  assert.equal(schedule.length, 1);
  return schedule[0];
};

test('SD2: each prompt → penultimate_ln_final (ids padded with 0 after EOS); clip skip has no effect (A1111 OpenCLIP wrapper)', { skip: skipSd2 }, async () => {
  for (const clipSkip of [1, 2]) {
    const conditioner = new TextConditioner(models['tiny-sd2v'], { ...TEXT, clipSkip }, 10);
    for (const [i, prompt] of PROMPTS.entries()) {
      const { cond, vector } = only(await conditioner.schedule(prompt));
      assert.equal(vector, undefined);
      assertCloseTensor(cond.data, refRow('tiny-sd2v', 'text.penultimate_ln_final', i), { atol: 1e-4, label: `sd2 prompt ${i}, clip skip ${clipSkip}` });
    }
  }
});

test('SDXL cond A (1024², crop 0,0): crossattn [CLIP-L | bigG] and vector [pooled | sizes] for every prompt', { skip: skipXl }, async () => {
  const conditioner = new TextConditioner(models['tiny-sdxl'], TEXT, 10);
  for (const [i, prompt] of PROMPTS.entries()) {
    const { cond, vector } = only(await conditioner.schedule(prompt));
    assertCloseTensor(cond.data, refRow('tiny-sdxl', 'cond.A.crossattn', i), { atol: 1e-4, label: `cond A crossattn ${i}` });
    assertCloseTensor(vector?.data ?? [], refRow('tiny-sdxl', 'cond.A.vector', i), { atol: 1e-4, label: `cond A vector ${i}` });
  }
});

test('SDXL cond B: original 832×1216, crop (16, 48), target 896×1152 — height first', { skip: skipXl }, async () => {
  const micro: SdxlMicroConditioning = { ...DEFAULT_SDXL_MICRO_CONDITIONING, originalSize: [832, 1216], cropTopLeft: [16, 48], targetSize: [896, 1152] };
  assert.deepEqual([...refRow('tiny-sdxl', 'cond.B.original_size_as_tuple', 0)], [832, 1216]);
  const conditioner = new TextConditioner(models['tiny-sdxl'], { ...TEXT, micro }, 10);
  const { cond, vector } = only(await conditioner.schedule(PROMPTS[0]));
  assertCloseTensor(cond.data, refRow('tiny-sdxl', 'cond.B.crossattn', 0), { atol: 1e-4, label: 'cond B crossattn' });
  assertCloseTensor(vector?.data ?? [], refRow('tiny-sdxl', 'cond.B.vector', 0), { atol: 1e-4, label: 'cond B vector' });
});

test('SDXL empty negative prompt is zeroed (crossattn and pooled), the size embeddings stay; a non-empty one is not', { skip: skipXl }, async () => {
  const conditioner = new TextConditioner(models['tiny-sdxl'], TEXT, 10);
  const negative = only(await conditioner.schedule('', true));
  assertCloseTensor(negative.cond.data, refRow('tiny-sdxl', 'cond.neg_zero.crossattn', 0), { atol: 0, label: 'neg_zero crossattn' });
  assertCloseTensor(negative.vector?.data ?? [], refRow('tiny-sdxl', 'cond.neg_zero.vector', 0), { atol: 1e-6, label: 'neg_zero vector' });
  const positiveEmpty = only(await conditioner.schedule(''));
  assertCloseTensor(positiveEmpty.cond.data, refRow('tiny-sdxl', 'cond.A.crossattn', 3), { atol: 1e-4, label: 'empty positive prompt is encoded' });
  const nonEmpty = only(await conditioner.schedule(PROMPTS[1], true));
  assertCloseTensor(nonEmpty.cond.data, refRow('tiny-sdxl', 'cond.A.crossattn', 1), { atol: 1e-4, label: 'non-empty negative is encoded' });
});

test('sgm ConcatTimestepEmbedderND(16) of (1024, 768) for each micro-conditioning embedder', { skip: skipXl }, () => {
  for (const key of ['original_size_as_tuple', 'crop_coords_top_left', 'target_size_as_tuple']) {
    assertCloseTensor(concatTimestepEmbedderND([1024, 768], 16), refRow('tiny-sdxl', `cond.size_embedder_probe.${key}`, 0), { atol: 1e-6, label: `probe ${key}` });
  }
});
