/**
 * Textual-inversion vectors reach the text encoders. The oracle is the model itself with the vectors written
 * into its token-embedding table: `a tinyemb cat` with a 2-vector embedding must encode exactly like
 * `a zebra giraffe cat` on a copy of the checkpoint whose `zebra` and `giraffe` rows are those vectors (both are
 * single CLIP tokens, so positions and EOS line up). SD1 (CLIP-L), SD2 (OpenCLIP) and SDXL (clip_l → CLIP-L,
 * clip_g → bigG, plus the pooled vector) on the tiny fixtures.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { CLIPTextConfig } from '../src/checkpoint/config.ts';
import { float32Bytes, SafetensorsFile, type TensorToWrite, writeSafetensors } from '../src/checkpoint/safetensors.ts';
import { type CondSchedule, TextConditioner, type TextOptions } from '../src/pipeline/conditioning.ts';
import { EmbeddingDatabase } from '../src/pipeline/embedding-database.ts';
import { LoadedModel } from '../src/pipeline/model.ts';
import { activeEmbeddings } from '../src/pipeline/textual-inversion.ts';
import { CLIPTokenizer } from '../src/text/clip-tokenizer.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';
import { ramp, writeEmbedding } from './helpers/embeddings.ts';

const TEXT: TextOptions = { clipSkip: 1, emphasis: 'Original', commaPaddingBacktrack: 20 };
const tmp = mkdtempSync(join(tmpdir(), 'sdapi-ti-'));
const opened: LoadedModel[] = [];
after(async () => {
  for (const m of opened) await m.release();
  rmSync(tmp, { recursive: true, force: true });
});

const tokenKey = (c: CLIPTextConfig) => `${c.key_prefix}${c.layout === 'hf' ? 'embeddings.' : ''}token_embedding.weight`;

/** A copy of `source` whose token-embedding rows `ids` hold `vectors[encoder]` ([ids.length × width]). */
function checkpointWithRows(
  source: string,
  target: string,
  encoders: readonly CLIPTextConfig[],
  ids: readonly number[],
  vectors: readonly Float32Array[],
): void {
  const file = SafetensorsFile.open(source);
  const tensors: Record<string, TensorToWrite> = {};
  for (const key of file.keys()) {
    const { dtype, shape } = file.info(key);
    tensors[key] = { dtype, shape, data: file.readBytes(key) };
  }
  encoders.forEach((config, e) => {
    const key = tokenKey(config);
    const table = file.readFloat32(key);
    const width = config.hidden_size;
    for (const [r, id] of ids.entries()) table.set(vectors[e].subarray(r * width, (r + 1) * width), id * width);
    tensors[key] = { dtype: 'F32', shape: file.info(key).shape, data: float32Bytes(table) };
  });
  file.close();
  writeSafetensors(target, tensors);
}

const open = (path: string) => {
  const model = LoadedModel.open(path);
  opened.push(model);
  return model;
};
const only = (schedule: CondSchedule) => schedule[0];

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

for (const fixture of ['tiny-sd15', 'tiny-sd2v', 'tiny-sdxl']) {
  test(`${fixture}: an embedding's vectors replace its word's tokens in every text encoder`, { skip: needFixture(fixture, 'model.safetensors') }, async () => {
    const source = fixturePath(fixture, 'model.safetensors');
    const model = open(source);
    const encoders = model.config.text_encoders;
    const vectors = encoders.map((c, e) => ramp(2, c.hidden_size, 20 + e));
    const dir = join(tmp, fixture);
    const tensors: Record<string, { shape: number[]; data: Float32Array }> =
      encoders.length === 1
        ? { emb_params: { shape: [2, encoders[0].hidden_size], data: vectors[0] } }
        : { clip_l: { shape: [2, encoders[0].hidden_size], data: vectors[0] }, clip_g: { shape: [2, encoders[1].hidden_size], data: vectors[1] } };
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeEmbedding(join(dir, 'tinyemb.safetensors'), tensors);
    const db = new EmbeddingDatabase([dir]);
    db.refresh();
    const index = activeEmbeddings(db, model.config).index;
    assert.ok(activeEmbeddings(db, model.config).loaded.has('tinyemb'), 'the embedding fits this model');

    const tokenizer = CLIPTokenizer.load();
    const ids = ['zebra', 'giraffe'].map((w) => tokenizer.encode(w));
    assert.ok(
      ids.every((t) => t.length === 1),
      'zebra and giraffe are single tokens',
    );
    const patched = join(tmp, `${fixture}-patched.safetensors`);
    checkpointWithRows(source, patched, encoders, ids.flat(), vectors);
    const reference = open(patched);

    for (const [prompt, substituted] of [
      ['a tinyemb cat', 'a zebra giraffe cat'],
      ['a (tinyemb:1.3), [cat]', 'a (zebra giraffe:1.3), [cat]'],
    ]) {
      const conditioner = new TextConditioner(model, { ...TEXT, embeddings: index }, 10);
      const got = only(await conditioner.schedule(prompt));
      const expected = only(await new TextConditioner(reference, TEXT, 10).schedule(substituted));
      assertCloseTensor(got.cond.data, expected.cond.data, { atol: 1e-6, label: `${fixture} '${prompt}' context` });
      if (expected.vector)
        assertCloseTensor(got.vector?.data ?? new Float32Array(), expected.vector.data, { atol: 1e-6, label: `${fixture} '${prompt}' vector` });
      const plain = only(await new TextConditioner(model, TEXT, 10).schedule(prompt));
      const changed = maxAbsDiff(got.cond.data, plain.cond.data);
      console.log(`# ${fixture} '${prompt}': embedding vs the plain word, max abs diff ${changed.toExponential(3)}`);
      assert.ok(changed > 1e-2, 'the embedding changes the conditioning');
      assert.match(conditioner.infotextParams()['TI hashes'] ?? '', /^tinyemb: [0-9a-f]{12}$/);
    }
  });
}

test('infotext keys of the text side: Emphasis only with brackets and a non-default mode; TI hashes only when asked', {
  skip: needFixture('tiny-sd15', 'model.safetensors'),
}, async () => {
  const model = open(fixturePath('tiny-sd15', 'model.safetensors'));
  const noNorm = new TextConditioner(model, { ...TEXT, emphasis: 'No norm' }, 10);
  await noNorm.schedule('a cat');
  assert.deepEqual(noNorm.infotextParams(), {}, 'no brackets, no Emphasis');
  await noNorm.schedule('(a cat:1.2)', true);
  assert.deepEqual(noNorm.infotextParams(), { Emphasis: 'No norm' });
  const original = new TextConditioner(model, TEXT, 10);
  await original.schedule('(a cat:1.2)');
  assert.deepEqual(original.infotextParams(), {}, 'Original is the default');
  const dir = join(tmp, 'hash-option');
  mkdirSync(dir);
  writeEmbedding(join(dir, 'tinyemb.safetensors'), { emb_params: { shape: [1, 32], data: ramp(1, 32, 3) } });
  const db = new EmbeddingDatabase([dir]);
  db.refresh();
  const withTi = new TextConditioner(model, { ...TEXT, embeddings: activeEmbeddings(db, model.config).index }, 10);
  await withTi.schedule('tinyemb', true);
  assert.equal(withTi.infotextParams(false)['TI hashes'], undefined);
  assert.match(withTi.infotextParams(true)['TI hashes'] ?? '', /^tinyemb: /);
});
