import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TINY_SD15_CONFIG, writeRandomCheckpoint } from '../checkpoint/random.ts';
import { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { buildUNetGraph } from '../models/unet-model.ts';
import { Tensor } from '../tensor.ts';
import { compileGraph } from './compile.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdapi-compile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a cached, ORT-optimised UNet loads without optimising again and computes exactly what the first session did', async () => {
  const ckpt = join(dir, 'tiny.safetensors');
  writeRandomCheckpoint(ckpt, TINY_SD15_CONFIG, 3);
  const file = SafetensorsFile.open(ckpt);
  const cacheDir = join(dir, 'cache');
  const { unet } = TINY_SD15_CONFIG;
  const x = new Tensor(
    [2, unet.in_channels, 8, 8],
    Float32Array.from({ length: 2 * unet.in_channels * 64 }, (_, i) => Math.sin(i)),
  );
  const feeds = {
    x,
    timesteps: new Tensor([2], Float32Array.of(10, 900)),
    context: new Tensor([2, 77, unet.context_dim], new Float32Array(2 * 77 * unet.context_dim).fill(0.1)),
  };

  const first = await compileGraph(buildUNetGraph(unet), file, { cacheDir });
  const entries = readdirSync(cacheDir);
  assert.equal(entries.length, 1, `one cache entry, no temporary leftovers: ${entries}`);
  assert.deepEqual(
    readdirSync(join(cacheDir, entries[0])).sort(),
    ['entry.json', 'model.onnx', 'weights.bin'],
    'the optimised model, its weights and what it was built from, not the source',
  );
  const a = (await first.run(feeds)).out;

  const second = await compileGraph(buildUNetGraph(unet), file, { cacheDir });
  const b = (await second.run(feeds)).out;
  let maxDiff = 0;
  for (let i = 0; i < a.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.data[i] - b.data[i]));
  console.log(`# fresh vs cached optimised session: max abs diff ${maxDiff.toExponential(3)} over ${a.data.length} values`);
  assert.equal(maxDiff, 0);
  assert.deepEqual(readdirSync(cacheDir), entries, 'the second session reused the entry');
  await Promise.all([first.release(), second.release()]);
  file.close();
});

test('a new entry sweeps the cache: past its cap the least recently used entry goes, the new one stays', async () => {
  const cacheDir = join(dir, 'capped');
  const { unet } = TINY_SD15_CONFIG;
  const files = [1, 2].map((seed) => {
    const path = join(dir, `tiny-${seed}.safetensors`);
    writeRandomCheckpoint(path, TINY_SD15_CONFIG, seed);
    return SafetensorsFile.open(path);
  });
  const first = await compileGraph(buildUNetGraph(unet), files[0], { cacheDir, cacheMaxBytes: 1 });
  const [firstEntry] = readdirSync(cacheDir);
  const second = await compileGraph(buildUNetGraph(unet), files[1], { cacheDir, cacheMaxBytes: 1 });
  const entries = readdirSync(cacheDir);
  assert.equal(entries.length, 1, `one entry under a 1-byte cap: ${entries}`);
  assert.notEqual(entries[0], firstEntry, 'the older entry went, the one just written stayed');
  await Promise.all([first.release(), second.release()]);
  for (const file of files) file.close();
});
