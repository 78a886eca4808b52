import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sweepOnnxCache, touchEntry, writeEntryMeta } from './onnx-cache.ts';

const root = mkdtempSync(join(tmpdir(), 'sdapi-onnx-cache-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh cache folder and a checkpoint file beside it. */
function setup() {
  const dir = join(root, `case-${n++}`);
  const cacheDir = join(dir, 'cache');
  mkdirSync(cacheDir, { recursive: true });
  const ckpt = join(dir, 'model.safetensors');
  writeFileSync(ckpt, 'weights');
  return { dir, cacheDir, ckpt };
}

/** An entry of `bytes` weight bytes compiled from `ckpt`, last used `ageSeconds` ago. */
function entry(cacheDir: string, name: string, ckpt: string | null, bytes: number, ageSeconds: number): void {
  const dir = join(cacheDir, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'model.onnx'), '');
  writeFileSync(join(dir, 'weights.bin'), Buffer.alloc(bytes));
  if (ckpt) writeEntryMeta(dir, 'unet', ckpt);
  const then = new Date(Date.now() - ageSeconds * 1000);
  utimesSync(ckpt ? join(dir, 'entry.json') : dir, then, then);
}

test('over the cap the least recently used entries go first, never a kept one; touchEntry counts as a use', () => {
  const { cacheDir, ckpt } = setup();
  entry(cacheDir, 'unet-a', ckpt, 1000, 300);
  entry(cacheDir, 'unet-b', ckpt, 1000, 200);
  entry(cacheDir, 'unet-c', ckpt, 1000, 100);
  entry(cacheDir, 'unet-d', ckpt, 1000, 400);
  touchEntry(join(cacheDir, 'unet-a')); // now the newest

  // Each entry is 1000 bytes + its entry.json (about 100): 4 are over 2500, 2 are under it.
  const { removed, bytes } = sweepOnnxCache(cacheDir, { maxBytes: 2500, keep: new Set(['unet-d']) });
  assert.deepEqual(
    removed.map((r) => [r.name, r.reason]),
    [
      ['unet-b', 'over the cap'],
      ['unet-c', 'over the cap'],
    ],
    'd is the oldest but kept; then b, then c; a was just touched',
  );
  assert.ok(bytes > 2000 && bytes <= 2500, `${bytes} bytes left`);
  assert.deepEqual(readdirSync(cacheDir).sort(), ['unet-a', 'unet-d']);
});

test('entries of a checkpoint that was deleted or changed go whatever the cap; entries without entry.json stay', () => {
  const { dir, cacheDir, ckpt } = setup();
  const touched = join(dir, 'touched.safetensors');
  const deleted = join(dir, 'deleted.safetensors');
  writeFileSync(touched, 'same size');
  writeFileSync(deleted, 'weights');
  entry(cacheDir, 'unet-rewritten', ckpt, 10, 10);
  entry(cacheDir, 'unet-touched', touched, 10, 10);
  entry(cacheDir, 'unet-deleted', deleted, 10, 10);
  entry(cacheDir, 'unet-legacy', null, 10, 10);
  writeFileSync(ckpt, 'retrained weights'); // another size
  const later = new Date(Date.now() + 5000);
  utimesSync(touched, later, later); // the same size, another mtime
  rmSync(deleted);

  const { removed } = sweepOnnxCache(cacheDir, { maxBytes: Number.POSITIVE_INFINITY });
  assert.deepEqual(removed.map((r) => [r.name, r.reason]).sort(), [
    ['unet-deleted', 'checkpoint gone'],
    ['unet-rewritten', 'checkpoint changed'],
    ['unet-touched', 'checkpoint changed'],
  ]);
  assert.deepEqual(readdirSync(cacheDir), ['unet-legacy'], 'an entry without metadata cannot be judged stale');
});

test("a crashed compile's temporary folder goes, a running one's is neither removed nor counted", () => {
  const { cacheDir, ckpt } = setup();
  // A pid that surely ended: a child that has exited.
  const dead = spawnSync(process.execPath, ['-e', 'process.pid'], { encoding: 'utf8' }).pid;
  mkdirSync(join(cacheDir, `unet-x.tmp-${dead}-1`, 'source'), { recursive: true });
  writeFileSync(join(cacheDir, `unet-x.tmp-${dead}-1`, 'source', 'weights.bin'), Buffer.alloc(50));
  mkdirSync(join(cacheDir, `unet-y.tmp-${process.pid}-2`));
  writeFileSync(join(cacheDir, `unet-y.tmp-${process.pid}-2`, 'model.onnx'), Buffer.alloc(5000));
  entry(cacheDir, 'unet-z', ckpt, 100, 10);

  const { removed, bytes } = sweepOnnxCache(cacheDir, { maxBytes: 1000 });
  assert.deepEqual(
    removed.map((r) => [r.name, r.reason]),
    [[`unet-x.tmp-${dead}-1`, 'crashed compile']],
  );
  assert.ok(bytes < 1000, `the running compile's 5000 bytes are not counted (${bytes})`);
  assert.deepEqual(readdirSync(cacheDir).sort(), [`unet-y.tmp-${process.pid}-2`, 'unet-z']);
});

test('a missing cache folder is nothing to sweep', () => {
  assert.deepEqual(sweepOnnxCache(join(root, 'absent'), { maxBytes: 0 }), { removed: [], bytes: 0 });
});
