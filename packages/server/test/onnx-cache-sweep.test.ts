import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EngineGenerator } from '../src/services/engine-generator.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-cache-sweep-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

test('at start the engine sweeps <data-dir>/cache/onnx: the entry of a deleted checkpoint goes, and the log says so', () => {
  const cacheDir = join(dataDir, 'cache', 'onnx');
  const kept = join(dataDir, 'kept.safetensors');
  writeFileSync(kept, 'weights');
  const addEntry = (name: string, checkpoint: string, bytes: number) => {
    mkdirSync(join(cacheDir, name), { recursive: true });
    writeFileSync(join(cacheDir, name, 'weights.bin'), Buffer.alloc(bytes));
    writeFileSync(join(cacheDir, name, 'entry.json'), JSON.stringify({ graph: 'unet', checkpoint: { path: checkpoint, size: 7, mtimeMs: 0 } }));
  };
  addEntry('unet-of-a-deleted-model', join(dataDir, 'deleted.safetensors'), 3 * 1024 ** 2);
  const lines: string[] = [];
  new EngineGenerator({ dataDir, placeholder: false, log: (line) => lines.push(line) });
  assert.deepEqual(readdirSync(cacheDir), []);
  assert.deepEqual(lines, ['ONNX cache: removed 1 entry (checkpoint gone), 3 MiB freed, 0 MiB kept']);
});
