import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { CheckpointCatalog, compareNatural, toSdModelItem } from './catalog.ts';
import { HashCache } from './hashes.ts';

/** A fresh tree; each file's content is its own relative path, so every file hashes differently. */
function tree(files: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'sdapi-catalog-'));
  for (const rel of files) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), rel);
  }
  return root;
}

const SD = 'models/Stable-diffusion';
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

test('discovery order: --ckpt, then --ckpt-dir, then models (natural order, folders by path); filters', () => {
  const root = tree([
    'elsewhere/explicit.safetensors',
    'ckpts/extra.safetensors',
    `${SD}/b.safetensors`,
    `${SD}/A10.safetensors`,
    `${SD}/a2.safetensors`,
    `${SD}/old.CKPT`,
    `${SD}/notes.txt`,
    `${SD}/model.pt`,
    `${SD}/x.vae.safetensors`,
    `${SD}/x.vae.ckpt`,
    `${SD}/y.VAE.safetensors`,
    `${SD}/sub/dir/foo.safetensors`,
    `${SD}/sub2/z.safetensors`,
    `${SD}/sub10/z.safetensors`,
  ]);
  const catalog = CheckpointCatalog.scan({ modelsDir: join(root, 'models'), ckptDir: join(root, 'ckpts'), ckpt: join(root, 'elsewhere/explicit.safetensors') });
  assert.deepEqual(
    catalog.list().map((e) => e.name),
    [
      'explicit.safetensors',
      'extra.safetensors',
      'a2.safetensors',
      'A10.safetensors',
      'b.safetensors',
      'old.CKPT',
      // A1111 excludes only lower-case '.vae.' suffixes (str.endswith).
      'y.VAE.safetensors',
      // Folders sort by their whole path: '…/sub' is a prefix of '…/sub/dir', so sub2 and sub10 come first.
      join('sub2', 'z.safetensors'),
      join('sub10', 'z.safetensors'),
      join('sub', 'dir', 'foo.safetensors'),
    ],
  );
  assert.deepEqual(
    catalog.list().map((e) => e.format),
    ['safetensors', 'safetensors', 'safetensors', 'safetensors', 'safetensors', 'ckpt', 'safetensors', 'safetensors', 'safetensors', 'safetensors'],
  );
});

test('§9.1 naming: name, model_name, name_for_extra, title, legacy hash, config yaml', () => {
  const root = tree([`${SD}/sub/dir/foo.safetensors`, `${SD}/sub/dir/foo.yaml`, 'ckpts/c.safetensors', 'outside/o.safetensors']);
  const catalog = CheckpointCatalog.scan({ modelsDir: join(root, 'models'), ckptDir: join(root, 'ckpts'), ckpt: join(root, 'outside/o.safetensors') });
  const foo = catalog.list()[2];
  assert.deepEqual(
    { ...foo },
    {
      filename: join(root, SD, 'sub/dir/foo.safetensors'),
      name: join('sub', 'dir', 'foo.safetensors'),
      model_name: 'sub_dir_foo',
      name_for_extra: 'foo',
      hash: 'e3b0c442', // under 1 MiB: SHA-256 of the empty string
      sha256: null,
      shorthash: null,
      title: join('sub', 'dir', 'foo.safetensors'),
      short_title: 'foo',
      config: join(root, SD, 'sub/dir/foo.yaml'),
      format: 'safetensors',
    },
  );
  assert.deepEqual(
    catalog.list().map((e) => [e.name, e.config]),
    [
      ['o.safetensors', null],
      ['c.safetensors', null],
      [foo.name, foo.config],
    ],
  );
  assert.deepEqual(toSdModelItem(foo), { title: foo.name, model_name: 'sub_dir_foo', hash: null, sha256: null, filename: foo.filename, config: foo.config });
});

test('a file listed twice under the same title keeps the first position and the last file', () => {
  const root = tree([`${SD}/b.safetensors`, `${SD}/a.safetensors`, 'ckpts/a.safetensors']);
  const catalog = CheckpointCatalog.scan({ modelsDir: join(root, 'models'), ckptDir: join(root, 'ckpts'), ckpt: join(root, SD, 'b.safetensors') });
  assert.deepEqual(
    catalog.list().map((e) => e.filename),
    [join(root, SD, 'b.safetensors'), join(root, SD, 'a.safetensors')],
  );
});

test('hashing sets the short hash in the title in place and adds the hash aliases', async () => {
  const root = tree([`${SD}/a.safetensors`, `${SD}/b.safetensors`, `${SD}/c.safetensors`]);
  const cachePath = join(root, 'cache.json');
  const catalog = CheckpointCatalog.scan({ modelsDir: join(root, 'models'), cache: new HashCache(cachePath) });
  const b = catalog.get('b') ?? assert.fail('b by name_for_extra');
  assert.equal(catalog.get(b.hash)?.name, 'c.safetensors', 'same legacy hash for all: the last registered wins');
  assert.equal(await catalog.hash(b), sha(`${SD}/b.safetensors`));
  const short = sha(`${SD}/b.safetensors`).slice(0, 10);
  assert.deepEqual(
    catalog.list().map((e) => e.title),
    ['a.safetensors', `b.safetensors [${short}]`, 'c.safetensors'],
  );
  assert.equal(b.short_title, `b [${short}]`);
  for (const alias of [short, b.sha256 as string, `b.safetensors [${short}]`, `b [${short}]`, 'b.safetensors', 'b', `b.safetensors [${b.hash}]`])
    assert.equal(catalog.get(alias), b, alias);
  assert.equal(catalog.get(b.hash), b, 'hashing re-registers: b now owns the shared legacy hash');
  assert.equal(catalog.get('B'), undefined, 'aliases are case-sensitive');
  // A new scan reads the cache: the title carries the hash before any hashing.
  const again = CheckpointCatalog.scan({ modelsDir: join(root, 'models'), cache: new HashCache(cachePath) });
  assert.equal(again.list()[1].title, `b.safetensors [${short}]`);
});

test('--no-hashing leaves unhashed entries untouched', async () => {
  const root = tree([`${SD}/a.safetensors`]);
  const catalog = CheckpointCatalog.scan({ modelsDir: join(root, 'models') });
  const [a] = catalog.list();
  assert.equal(await catalog.hash(a, { noHashing: true }), null);
  assert.deepEqual([a.title, a.sha256, a.shorthash], ['a.safetensors', null, null]);
});

test('§9.4 fuzzy lookup: exact alias, shortest title containing, then without a trailing [hash]', async () => {
  const root = tree([
    `${SD}/sub2/z.safetensors`,
    `${SD}/sub10/z.safetensors`,
    `${SD}/zeta.safetensors`,
    `${SD}/sub/dir/foo.safetensors`,
    `${SD}/foo.safetensors`,
  ]);
  const catalog = CheckpointCatalog.scan({ modelsDir: join(root, 'models') });
  assert.equal(catalog.match('z.safe')?.name, join('sub2', 'z.safetensors'), 'shortest of the titles containing it');
  assert.equal(catalog.match('zeta')?.name, 'zeta.safetensors', 'exact alias (name_for_extra)');
  assert.equal(catalog.match('foo')?.name, join('sub', 'dir', 'foo.safetensors'), 'exact alias: the later registration wins');
  assert.equal(catalog.match('zeta.safetensors [0123456789]')?.name, 'zeta.safetensors', 'trailing [hash] removed on the second try');
  assert.equal(catalog.match('zeta.safetensors[0123456789]'), undefined, 'the [hash] must follow whitespace');
  assert.equal(catalog.match(''), undefined);
  assert.equal(catalog.match('nothing'), undefined);
  const zeta = catalog.get('zeta') ?? assert.fail();
  await catalog.hash(zeta);
  assert.equal(catalog.match(`zeta.safetensors [${zeta.shorthash}]`), zeta);
});

test('symlinks are followed only inside the folder (issue 13 §6); loops once; broken links skipped', () => {
  const root = tree([`${SD}/a.safetensors`, `${SD}/sub/b.safetensors`, 'shared/s.safetensors', 'outside.safetensors']);
  symlinkSync(join(root, 'shared'), join(root, SD, 'linked')); // a folder outside: not walked
  symlinkSync(join(root, 'outside.safetensors'), join(root, SD, 'escape.safetensors')); // a file outside: not listed
  symlinkSync('../../../outside.safetensors', join(root, SD, 'sub', 'relative.safetensors'));
  symlinkSync(join(root, SD, 'sub'), join(root, SD, 'alias')); // inside: followed
  symlinkSync(join(root, SD), join(root, SD, 'loop'));
  symlinkSync(join(root, 'missing.safetensors'), join(root, SD, 'dangling.safetensors'));
  const names = CheckpointCatalog.scan({ modelsDir: join(root, 'models') })
    .list()
    .map((e) => e.name);
  assert.deepEqual(names, ['a.safetensors', join('alias', 'b.safetensors')]);
  // The outside folder named as --ckpt-dir is a model folder of its own.
  const withDir = CheckpointCatalog.scan({ modelsDir: join(root, 'models'), ckptDir: join(root, 'shared') }).list();
  assert.ok(withDir.some((e) => e.name === 's.safetensors'));
});

test('natural sort compares digit runs as numbers, text case-insensitively', () => {
  const sorted = ['v10.safetensors', 'V2.safetensors', 'v1.safetensors', 'a.safetensors', 'v2b.safetensors'].sort(compareNatural);
  assert.deepEqual(sorted, ['a.safetensors', 'v1.safetensors', 'V2.safetensors', 'v2b.safetensors', 'v10.safetensors']);
});
