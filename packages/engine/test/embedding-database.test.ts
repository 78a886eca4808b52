/**
 * Textual-inversion files without any model weights: which files of an embeddings folder are read (the
 * safetensors layouts), which are listed as skipped and why (pickles, embeddings in images, several terms,
 * a width the model's text encoders do not have), rescanning on change, the token index and `TI hashes`.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodePng } from '../src/image/png.ts';
import { EmbeddingDatabase, PICKLE_REASON } from '../src/pipeline/embedding-database.ts';
import { activeEmbeddings, describeEmbeddings, tiHashes } from '../src/pipeline/textual-inversion.ts';
import { CLIPTokenizer } from '../src/text/clip-tokenizer.ts';
import { ramp, writeEmbedding } from './helpers/embeddings.ts';
import { TINY_SD15, TINY_SDXL } from './helpers/tiny-configs.ts';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sdapi-embeddings-'));
  writeEmbedding(join(dir, 'good.safetensors'), { emb_params: { shape: [2, 32], data: ramp(2, 32, 1) } });
  writeEmbedding(join(dir, 'legacy.safetensors'), { 'string_to_param.*': { shape: [3, 32], data: ramp(3, 32, 2) } }, { step: '500', sd_checkpoint: 'abc123' });
  writeEmbedding(join(dir, 'wide.safetensors'), { emb_params: { shape: [1, 768], data: ramp(1, 768, 3) } });
  writeEmbedding(join(dir, 'xl.safetensors'), { clip_l: { shape: [2, 32], data: ramp(2, 32, 4) }, clip_g: { shape: [2, 48], data: ramp(2, 48, 5) } });
  writeEmbedding(join(dir, 'xl-bad.safetensors'), { clip_l: { shape: [1, 32], data: ramp(1, 32, 4) }, clip_g: { shape: [2, 48], data: ramp(2, 48, 5) } });
  writeEmbedding(join(dir, 'multi.safetensors'), { a: { shape: [1, 32], data: ramp(1, 32, 6) }, b: { shape: [1, 32], data: ramp(1, 32, 7) } });
  writeEmbedding(join(dir, 'long.safetensors'), { emb_params: { shape: [76, 32], data: ramp(76, 32, 8) } });
  writeEmbedding(join(dir, 'flat80.safetensors'), { emb_params: { shape: [80], data: ramp(1, 80, 9) } });
  mkdirSync(join(dir, 'sub'));
  writeEmbedding(join(dir, 'sub', 'nested.safetensors'), { '<cat-toy>': { shape: [32], data: ramp(1, 32, 10) } });
  writeFileSync(join(dir, 'old.pt'), 'PK\x03\x04 pickle');
  writeFileSync(join(dir, 'empty.safetensors'), '');
  writeFileSync(join(dir, 'notes.txt'), 'not an embedding');
  const pixel = new Uint8Array([1, 2, 3]);
  writeFileSync(join(dir, 'card.png'), encodePng(pixel, 1, 1, { 'sd-ti-embedding': '{"name": "card"}' }));
  writeFileSync(join(dir, 'good.preview.png'), encodePng(pixel, 1, 1, { 'sd-ti-embedding': '{}' }));
  writeFileSync(join(dir, 'plain.png'), encodePng(pixel, 1, 1));
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('reads the safetensors layouts and lists the rest with a reason', () => {
  const db = new EmbeddingDatabase([dir]);
  assert.equal(db.refresh(), true);
  const byName = new Map(db.entries.map((e) => [e.name, e]));
  assert.deepEqual([...byName.keys()].sort(), ['flat80', 'good', 'legacy', 'long', 'nested', 'wide', 'xl']);
  const good = byName.get('good')?.data;
  assert.ok(good);
  assert.equal(good.vectors, 2);
  assert.equal(good.shape, 32);
  assert.deepEqual(good.tensors.get('')?.data, ramp(2, 32, 1));
  assert.equal(
    good.sha256,
    createHash('sha256')
      .update(readFileSync(join(dir, 'good.safetensors')))
      .digest('hex'),
  );
  assert.deepEqual([good.step, good.sdCheckpoint, good.sdCheckpointName], [null, null, null]);
  const legacy = byName.get('legacy')?.data;
  assert.deepEqual([legacy?.vectors, legacy?.step, legacy?.sdCheckpoint], [3, 500, 'abc123'], 'string_to_param.* and metadata');
  assert.deepEqual([byName.get('nested')?.data.vectors, byName.get('nested')?.data.shape], [1, 32], 'a 1-D tensor is one vector');
  const xl = byName.get('xl')?.data;
  assert.deepEqual([xl?.vectors, xl?.shape, [...(xl?.tensors.keys() ?? [])]], [2, 80, ['clip_l', 'clip_g']]);
  const reasons = Object.fromEntries(db.unreadable.map((u) => [u.name, u.reason]));
  assert.deepEqual(Object.keys(reasons).sort(), ['card', 'multi', 'old', 'xl-bad']);
  assert.equal(reasons.old, PICKLE_REASON);
  assert.equal(PICKLE_REASON, 'pickled embeddings are not loaded; convert to .safetensors');
  assert.match(reasons.multi, /multiple terms/);
  assert.match(reasons['xl-bad'], /clip_l has 1 vectors but clip_g has 2/);
  assert.match(reasons.card, /images/);
});

test('a model sees the embeddings of its width; others are skipped with the reason', () => {
  const db = new EmbeddingDatabase([dir]);
  db.refresh();
  const sd15 = activeEmbeddings(db, TINY_SD15);
  assert.deepEqual([...sd15.loaded.keys()].sort(), ['good', 'legacy', 'nested']);
  assert.match(sd15.skipped.get('wide')?.reason ?? '', /width 768 does not match this sd1 model's text encoder width 32/);
  assert.match(sd15.skipped.get('xl')?.reason ?? '', /width 80 /);
  assert.match(sd15.skipped.get('long')?.reason ?? '', /76 vectors; at most 75/);
  assert.equal(sd15.skipped.get('old')?.shape, null);
  const xl = activeEmbeddings(db, TINY_SDXL);
  assert.deepEqual([...xl.loaded.keys()], ['xl']);
  const rows = xl.loaded.get('xl')?.rows ?? [];
  assert.deepEqual(rows, [ramp(2, 32, 4), ramp(2, 48, 5)], 'clip_l → CLIP-L, clip_g → bigG');
  assert.match(xl.skipped.get('flat80')?.reason ?? '', /cannot be split between this model's 2 text encoders/);
  assert.match(xl.skipped.get('good')?.reason ?? '', /width 32 does not match this sdxl model's text encoder width 80/);
  const tokens = CLIPTokenizer.load().encode('a good cat');
  assert.equal(sd15.index.findAt(tokens, 1)?.embedding.name, 'good');
  assert.equal(xl.index.findAt(tokens, 1), null);
});

test('GET /embeddings view: loaded sorted case-insensitively, with A1111 fields', () => {
  const sub = mkdtempSync(join(tmpdir(), 'sdapi-embeddings-sort-'));
  for (const [i, name] of ['Gamma', 'alpha', 'Beta'].entries())
    writeEmbedding(join(sub, `${name}.safetensors`), { emb_params: { shape: [i + 1, 32], data: ramp(i + 1, 32, i) } });
  const db = new EmbeddingDatabase([sub]);
  db.refresh();
  const { loaded, skipped } = describeEmbeddings(db, TINY_SD15);
  assert.deepEqual([...loaded.keys()], ['alpha', 'Beta', 'Gamma']);
  assert.deepEqual(loaded.get('Gamma'), { step: null, sdCheckpoint: null, sdCheckpointName: null, shape: 32, vectors: 1 });
  assert.equal(skipped.size, 0);
  rmSync(sub, { recursive: true, force: true });
});

test('refresh reloads only when a file appears, changes or goes, unless forced', () => {
  const sub = mkdtempSync(join(tmpdir(), 'sdapi-embeddings-refresh-'));
  const db = new EmbeddingDatabase([sub, join(sub, 'missing-folder')]);
  assert.equal(db.refresh(), true);
  assert.equal(db.entries.length, 0);
  assert.equal(db.refresh(), false);
  writeEmbedding(join(sub, 'late.safetensors'), { emb_params: { shape: [1, 32], data: ramp(1, 32, 11) } });
  assert.equal(db.refresh(), true);
  assert.deepEqual(
    db.entries.map((e) => e.name),
    ['late'],
  );
  const generation = db.generation;
  assert.equal(db.refresh(true), true);
  assert.equal(db.generation, generation + 1);
  rmSync(join(sub, 'late.safetensors'));
  assert.equal(db.refresh(), true);
  assert.equal(db.entries.length, 0);
  rmSync(sub, { recursive: true, force: true });
});

test('TI hashes: "name: 12 hex", names without : and , so the value parses back, each name once', () => {
  const emb = (name: string, shortHash: string) => ({ name, vectors: 1, filename: '', shortHash, rows: [] });
  assert.equal(tiHashes([]), null);
  const a = emb('my:emb,x', '0123456789ab');
  assert.equal(tiHashes([a, emb('easynegative', 'c74b4e810b03'), a]), 'myembx: 0123456789ab, easynegative: c74b4e810b03');
});
