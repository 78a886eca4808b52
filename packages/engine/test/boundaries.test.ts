/** Architecture rules of design.md §3 that must not depend on goodwill. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '../../..');

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

const importsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]);

test('onnxruntime-node is imported only by engine/src/runtime/ort.ts', () => {
  const importers = sources(join(root, 'packages'))
    .filter((f) => importsOf(f).some((s) => s.startsWith('onnxruntime')))
    .map((f) => relative(root, f));
  assert.deepEqual(importers, ['packages/engine/src/runtime/ort.ts']);
});

test('graph code (onnx/, nn/, models/) never touches onnxruntime, fs or the samplers', () => {
  for (const dir of ['onnx', 'nn', 'models']) {
    for (const file of sources(join(root, 'packages/engine/src', dir))) {
      if (file.endsWith('proto.ts') || file.endsWith('.test.ts')) continue; // the serialiser writes external-data files; tests run graphs
      const bad = importsOf(file).filter((s) => s.startsWith('node:fs') || s.includes('/runtime/') || s.includes('/sampling/'));
      assert.deepEqual(bad, [], `${relative(root, file)} imports ${bad.join(', ')}`);
    }
  }
});

test('the client SDK has no node: imports and no engine/server dependency', () => {
  for (const file of sources(join(root, 'packages/client/src'))) {
    const bad = importsOf(file).filter((s) => s.startsWith('node:') || s.startsWith('@sdapi/engine') || s.startsWith('@sdapi/server'));
    assert.deepEqual(bad, [], `${relative(root, file)} imports ${bad.join(', ')}`);
  }
});
