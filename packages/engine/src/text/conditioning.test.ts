import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLIPTokenizer } from './clip-tokenizer.ts';
import { applyEmphasis, batchChunks, EmbeddingTokenIndex, emptyChunk, padAfterFirstEos, tokenizeLine } from './conditioning.ts';

const ids = (n: number, from = 1000) => Array.from({ length: n }, (_, i) => String(from + i)).join(' ');
const standIn = {
  bosId: 49406,
  eosId: 49407,
  commaId: 267,
  encode: (text: string) =>
    text
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => (/^\d+$/.test(w) ? Number(w) : 9999)),
};

test('real CLIP tokenizer: short prompt is one 77-token chunk with per-token weights', () => {
  const tokenizer = CLIPTokenizer.load();
  const { chunks, tokenCount } = tokenizeLine('a (cat:1.5), hat', tokenizer);
  assert.equal(chunks.length, 1);
  assert.equal(tokenCount, 4);
  assert.deepEqual(chunks[0].tokens.slice(0, 6), [49406, ...tokenizer.encode('a cat, hat'), 49407]);
  assert.deepEqual(chunks[0].multipliers.slice(0, 6), [1, 1, 1.5, 1, 1, 1]);
  assert.equal(chunks[0].tokens.length, 77);
});

test('real CLIP tokenizer: comma back-tracking moves the tail after the last comma', () => {
  const words = Array.from({ length: 70 }, () => 'cat').join(' ');
  const { chunks } = tokenizeLine(`${words}, ${Array.from({ length: 10 }, () => 'dog').join(' ')}`, CLIPTokenizer.load());
  const comma = CLIPTokenizer.load().commaId;
  assert.equal(chunks.length, 2);
  assert.equal(chunks[0].tokens[71], comma);
  assert.equal(chunks[0].tokens[72], 49407); // padded right after the comma
  assert.equal(chunks[1].tokens.filter((t) => t === CLIPTokenizer.load().tokenId('dog</w>')).length, 10);
});

test('back-tracking carries embedding fixes with their tokens (A1111 leaves them behind)', () => {
  const embeddings = new EmbeddingTokenIndex();
  embeddings.register([500], { name: 'emb', vectors: 2 });
  // 60 ids, ',', 5 ids, embedding (2 vectors) at offset 66, 7 ids = 75; the next id back-tracks to the comma
  const { chunks } = tokenizeLine(`${ids(60)} 267 ${ids(5, 2000)} 500 ${ids(7, 3000)} 321`, standIn, { embeddings });
  assert.equal(chunks.length, 2);
  assert.deepEqual(chunks[0].fixes, []);
  assert.deepEqual(chunks[0].tokens.slice(60, 64), [1059, 267, 49407, 49407]);
  assert.deepEqual(
    chunks[1].fixes.map((f) => [f.offset, f.embedding.name]),
    [[5, 'emb']],
  );
  assert.deepEqual(chunks[1].tokens.slice(5, 9), [2004, 0, 0, 3000]);
});

test('embedding index: longest match first, re-registering a name replaces it', () => {
  const index = new EmbeddingTokenIndex();
  index.register([5, 6], { name: 'long', vectors: 1 });
  index.register([5], { name: 'short', vectors: 1 });
  assert.equal(index.findAt([5, 6], 0)?.embedding.name, 'long');
  assert.equal(index.findAt([5, 7], 0)?.embedding.name, 'short');
  index.register([9], { name: 'long', vectors: 1 });
  assert.equal(index.findAt([5, 6], 0)?.embedding.name, 'short');
  assert.equal(index.findAt([1], 0), null);
});

test('batchChunks pads shorter prompts with empty chunks and reports the max token count', () => {
  const { chunks, tokenCount } = batchChunks([ids(80), 'x', ids(80)], standIn);
  assert.equal(chunks.length, 2);
  assert.deepEqual(chunks[1][1], emptyChunk(standIn));
  assert.equal(chunks[1][0], chunks[1][2]); // identical lines are tokenised once
  assert.equal(tokenCount, 80);
});

test('padAfterFirstEos (SD2/OpenCLIP) keeps the first EOS and zeroes the rest', () => {
  assert.deepEqual(padAfterFirstEos([49406, 5, 49407, 49407, 49407], 49407, 0), [49406, 5, 49407, 0, 0]);
  assert.deepEqual(padAfterFirstEos([1, 2], 49407, 0), [1, 2]);
});

test('applyEmphasis: Original multiplies rows and restores the mean; No norm only multiplies', () => {
  const z = Float32Array.from([1, 2, 3, 4, 5, 6]); // 3 rows of width 2
  const m = [1, 2, 0.5];
  const noNorm = applyEmphasis('No norm', z, m);
  assert.deepEqual([...noNorm], [1, 2, 6, 8, 2.5, 3]);
  const original = applyEmphasis('Original', z, m);
  const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(mean(original) - mean(z)) < 1e-6, `mean ${mean(original)} vs ${mean(z)}`);
  const ratio = mean(z) / mean(noNorm);
  original.forEach((v, i) => {
    assert.ok(Math.abs(v - noNorm[i] * ratio) < 1e-6);
  });
  assert.deepEqual([...applyEmphasis('Ignore', z, m)], [...z]);
  assert.deepEqual([...applyEmphasis('None', z, m)], [...z]);
  assert.throws(() => applyEmphasis('Original', z, [1, 1, 1, 1]), /whole number of rows/);
});
