/**
 * The LoRA catalog (spec §3.26, §6.3): discovery in subfolders, names and `ss_output_name` aliases (shared and
 * forbidden aliases resolve by file name only), A1111's metadata order and JSON parsing, unusable files listed
 * with their reason, a rescan when a name is unknown, and the short hash (`sshs_model_hash`, else addnet).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { addnetHash, HashCache } from '../checkpoint/hashes.ts';
import { float32Bytes, writeSafetensors } from '../checkpoint/safetensors.ts';
import { LoraCatalog, orderedMetadata } from './lora-catalog.ts';

const root = mkdtempSync(join(tmpdir(), 'sdapi-lora-catalog-'));
const lora = (path: string, metadata: Record<string, string> = {}) =>
  writeSafetensors(
    path,
    { 'lora_unet_conv_out.lora_up.weight': { dtype: 'F32', shape: [1, 1], data: float32Bytes(Float32Array.from([Math.random()])) } },
    metadata,
  );

mkdirSync(join(root, 'sub10'), { recursive: true });
mkdirSync(join(root, 'sub9'), { recursive: true });
lora(join(root, 'a2.safetensors'), { ss_output_name: 'shared' });
lora(join(root, 'a10.safetensors'), {
  ss_output_name: 'Aunique',
  zz: 'first',
  ss_tag_frequency: '{"x": {"cat": 3}}',
  ss_sd_model_name: 'v1-5',
  broken: '{not json',
});
lora(join(root, 'sub9', 'b.safetensors'), { ss_output_name: 'shared' });
lora(join(root, 'sub10', 'c.safetensors'), { ss_output_name: 'None' });
lora(join(root, 'sub10', 'hashed.safetensors'), { sshs_model_hash: '0123456789abcdef0123' });
writeFileSync(join(root, 'old.pt'), 'pickle');
writeFileSync(join(root, 'broken.safetensors'), 'definitely not safetensors');

test('files under every folder in natural order, named by stem, aliased by ss_output_name; unusable ones say why', () => {
  const catalog = new LoraCatalog({ dirs: [root, join(root, 'missing')] });
  const list = catalog.list();
  assert.deepEqual(
    list.map((e) => e.name),
    ['a2', 'a10', 'broken', 'old', 'b', 'c', 'hashed'],
  );
  assert.deepEqual(
    list.map((e) => e.alias),
    ['shared', 'Aunique', 'broken', 'old', 'shared', 'None', 'hashed'],
  );
  assert.match(list[2].error ?? '', /broken\.safetensors/);
  assert.match(list[3].error ?? '', /pickled file.*never loaded/);
  assert.deepEqual(
    list.filter((e) => e.error === null).map((e) => e.name),
    ['a2', 'a10', 'b', 'c', 'hashed'],
  );
});

test('lookup: file stem first, then a unique alias; shared aliases and none/Addams only by name', () => {
  const catalog = new LoraCatalog({ dirs: [root] });
  assert.equal(catalog.find('a10')?.name, 'a10');
  assert.equal(catalog.find('Aunique')?.name, 'a10');
  assert.equal(catalog.find('shared'), undefined);
  assert.equal(catalog.find('b')?.name, 'b');
  assert.equal(catalog.find('None'), undefined);
  assert.equal(catalog.find('c')?.name, 'c');
  lora(join(root, 'sub9', 'late.safetensors'));
  assert.equal(catalog.find('late')?.name, 'late', 'an unknown name rescans the folders first');
});

test("metadata: A1111's favourite keys first, the rest in file order, JSON-looking strings parsed", () => {
  const m = orderedMetadata({ zz: 'first', ss_tag_frequency: '{"x": {"cat": 3}}', ss_output_name: 'n', ss_sd_model_name: 'v1-5', broken: '{not json' });
  assert.deepEqual(Object.keys(m), ['ss_sd_model_name', 'ss_tag_frequency', 'zz', 'ss_output_name', 'broken']);
  assert.deepEqual(m.ss_tag_frequency, { x: { cat: 3 } });
  assert.equal(m.broken, '{not json');
});

function must<T>(value: T | undefined): T {
  assert.ok(value !== undefined);
  return value;
}

test('short hash: sshs_model_hash metadata, else the addnet hash (kept in cache.json under lora/NAME)', async () => {
  const cache = new HashCache(join(root, 'cache.json'));
  const catalog = new LoraCatalog({ dirs: [root], cache });
  assert.equal(await catalog.shortHash(must(catalog.find('hashed'))), '0123456789ab');
  const a2 = must(catalog.find('a2'));
  assert.equal(await catalog.shortHash(a2), (await addnetHash(a2.path)).slice(0, 12));
  assert.equal(cache.lookup('lora/a2', a2.path, 'hashes-addnet'), await addnetHash(a2.path));
  const noHashing = new LoraCatalog({ dirs: [root], noHashing: true });
  assert.equal(await noHashing.shortHash(must(noHashing.find('b'))), null);
});
