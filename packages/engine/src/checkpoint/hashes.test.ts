import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CheckpointError } from '../errors.ts';
import { addnetHash, cachedSha256, fileMtime, HashCache, sha256File } from './hashes.ts';
import { writeSafetensors } from './safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdapi-hashcache-'));
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function makeFile(name: string, bytes: Uint8Array, mtimeSeconds = 1_700_000_000): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  utimesSync(path, mtimeSeconds, mtimeSeconds);
  return path;
}

test('sha256File hashes across 1 MiB block boundaries and from an offset', async () => {
  const bytes = Uint8Array.from({ length: 3 * 1024 * 1024 + 5 }, (_, i) => (i * 31) % 251);
  const path = makeFile('big.bin', bytes);
  assert.equal(await sha256File(path), sha(bytes));
  assert.equal(await sha256File(path, 1234567), sha(bytes.subarray(1234567)));
  await assert.rejects(sha256File(join(dir, 'absent.bin')), (e: unknown) => e instanceof CheckpointError && /absent\.bin: cannot hash/.test(e.message));
});

test('fileMtime is the float seconds Python would report', () => {
  const path = makeFile('m.bin', new Uint8Array([1]), 1_700_000_000.25);
  assert.equal(fileMtime(path), 1_700_000_000.25);
});

test('cache.json: A1111 layout, trusted until the file is modified, other sections kept', async () => {
  const cachePath = join(dir, 'cache.json');
  writeFileSync(cachePath, JSON.stringify({ 'safetensors-metadata': { 'checkpoint/x': { mtime: 1, value: {} } } }));
  const file = makeFile('model.safetensors', new Uint8Array([1, 2, 3]));
  const cache = new HashCache(cachePath);
  assert.equal(cache.lookup('checkpoint/model.safetensors', file), null);
  const first = await cachedSha256(file, 'checkpoint/model.safetensors', { cache });
  assert.equal(first, sha(new Uint8Array([1, 2, 3])));
  const onDisk = JSON.parse(readFileSync(cachePath, 'utf8'));
  assert.deepEqual(onDisk.hashes, { 'checkpoint/model.safetensors': { mtime: 1_700_000_000, sha256: first } });
  assert.deepEqual(onDisk['safetensors-metadata'], { 'checkpoint/x': { mtime: 1, value: {} } });
  // A cached value is returned without reading the file: prove it with a planted (wrong) hash.
  const planted = new HashCache(cachePath);
  planted.store('checkpoint/model.safetensors', file, 'f'.repeat(64));
  assert.equal(await cachedSha256(file, 'checkpoint/model.safetensors', { cache: new HashCache(cachePath) }), 'f'.repeat(64));
  utimesSync(file, 1_700_000_001, 1_700_000_001); // newer than the entry → recomputed
  assert.equal(await cachedSha256(file, 'checkpoint/model.safetensors', { cache: new HashCache(cachePath) }), first);
});

test('--no-hashing answers from the cache only', async () => {
  const file = makeFile('nohash.safetensors', new Uint8Array([9]));
  const cache = new HashCache(join(dir, 'nohash-cache.json'));
  assert.equal(await cachedSha256(file, 'checkpoint/nohash.safetensors', { cache, noHashing: true }), null);
  await cachedSha256(file, 'checkpoint/nohash.safetensors', { cache });
  assert.equal(await cachedSha256(file, 'checkpoint/nohash.safetensors', { cache, noHashing: true }), sha(new Uint8Array([9])));
});

test('LoRA addnet hashes skip the header and live in the hashes-addnet section', async () => {
  const path = join(dir, 'net.safetensors');
  const data = new Uint8Array([5, 6, 7, 8]);
  writeSafetensors(path, { w: { dtype: 'F32', shape: [1], data } }, { ss_output_name: 'net' });
  assert.equal(await addnetHash(path), sha(data));
  const cachePath = join(dir, 'addnet-cache.json');
  const value = await cachedSha256(path, 'lora/net.safetensors', { cache: new HashCache(cachePath), addnet: true });
  assert.equal(value, sha(data));
  const onDisk = JSON.parse(readFileSync(cachePath, 'utf8'));
  assert.deepEqual(Object.keys(onDisk), ['hashes-addnet']);
  assert.equal(onDisk['hashes-addnet']['lora/net.safetensors'].sha256, sha(data));
});

test('an unreadable cache file is replaced, not fatal', async () => {
  const cachePath = join(dir, 'broken-cache.json');
  writeFileSync(cachePath, '{not json');
  const file = makeFile('b.bin', new Uint8Array([4]));
  const value = await cachedSha256(file, 'checkpoint/b.bin', { cache: new HashCache(cachePath) });
  assert.equal(value, sha(new Uint8Array([4])));
  assert.equal(JSON.parse(readFileSync(cachePath, 'utf8')).hashes['checkpoint/b.bin'].sha256, value);
});
