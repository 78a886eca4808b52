/**
 * Model management over real HTTP (spec §3.17, §3.21, §3.25, §1.6): refresh-checkpoints finds a new file,
 * unload-checkpoint frees the model and the next generation loads it again, reload-checkpoint loads it, /progress
 * and /options keep answering; --api-server-stop's routes exist only with the flag; --api-log writes A1111's line.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { buildApp } from '../src/app.ts';
import { WorkerGenerator } from '../src/services/worker-generator.ts';
import { startTestServer } from './helpers/http.ts';
import { needFiles, startTinyEngineServer, TINY_SD15_CKPT } from './helpers/tiny-engine.ts';

const skip = needFiles();
if (skip) console.log(`# skipping the engine tests: ${skip}`);

const post = (base: string, path: string, body?: unknown) =>
  fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

test('refresh-checkpoints answers null and a file copied in afterwards is listed', { skip }, async () => {
  const server = await startTinyEngineServer('refresh-ckpt');
  try {
    const before = (await (await fetch(`${server.base}/sdapi/v1/sd-models`)).json()) as { title: string }[];
    assert.equal(before.length, 1);
    const dir = join(server.dataDir, 'models', 'Stable-diffusion', 'sub');
    mkdirSync(dir, { recursive: true });
    copyFileSync(TINY_SD15_CKPT, join(dir, 'copy.safetensors'));
    const res = await post(server.base, '/sdapi/v1/refresh-checkpoints');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'null');
    const after = (await (await fetch(`${server.base}/sdapi/v1/sd-models`)).json()) as { title: string; model_name: string }[];
    assert.deepEqual(
      after.map((m) => m.model_name),
      ['model', 'sub_copy'],
    );
  } finally {
    await server.close();
  }
});

test('unload-checkpoint frees the model; /progress and /options keep working; a generation loads it again; reload loads it', { skip }, async () => {
  const server = await startTinyEngineServer('unload');
  try {
    const gen = () => post(server.base, '/sdapi/v1/txt2img', { prompt: 'a cat', steps: 2, width: 64, height: 64, seed: 3, sampler_name: 'Euler' });
    const first = await gen();
    assert.equal(first.status, 200);
    const firstImage = ((await first.json()) as { images: string[] }).images[0];
    assert.ok(server.generator.currentCheckpoint(), 'loaded by the first generation');

    const unload = await post(server.base, '/sdapi/v1/unload-checkpoint');
    assert.equal(unload.status, 200);
    assert.deepEqual(await unload.json(), {});
    assert.equal(server.generator.currentCheckpoint(), null, 'nothing loaded after unload');
    assert.equal((await fetch(`${server.base}/sdapi/v1/progress`)).status, 200);
    const options = (await (await fetch(`${server.base}/sdapi/v1/options`)).json()) as { sd_model_checkpoint: string };
    assert.match(options.sd_model_checkpoint, /^model\.safetensors \[[0-9a-f]{10}\]$/, 'the configured checkpoint is still reported');

    const again = await gen();
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { images: string[] }).images[0], firstImage, 'the reloaded model draws the same image');
    assert.ok(server.generator.currentCheckpoint(), 'loaded again by the generation');

    await post(server.base, '/sdapi/v1/unload-checkpoint');
    const reload = await post(server.base, '/sdapi/v1/reload-checkpoint');
    assert.equal(reload.status, 200);
    assert.deepEqual(await reload.json(), {});
    assert.equal(server.generator.currentCheckpoint()?.name, 'model.safetensors', 'reload-checkpoint loads the configured one');
  } finally {
    await server.close();
  }
});

test('without --api-server-stop the server-* routes are unknown paths (404)', async () => {
  const server = await startTestServer();
  for (const route of ['server-kill', 'server-restart', 'server-stop']) {
    const res = await server.request(`/sdapi/v1/${route}`, { method: 'POST' });
    assert.equal(res.status, 404, route);
    assert.deepEqual(await res.json(), { detail: 'Not Found' });
  }
});

test('--api-server-stop: server-stop answers "Stopping." then stops; restart is an empty 501; kill drops the connection and kills', async () => {
  const calls: string[] = [];
  const server = await startTestServer({ serverControl: { kill: () => calls.push('kill'), stop: () => calls.push('stop') } });
  const stop = await server.request('/sdapi/v1/server-stop', { method: 'POST' });
  assert.equal(stop.status, 200);
  assert.equal(await stop.text(), 'Stopping.');
  assert.match(stop.headers.get('content-type') ?? '', /^text\/plain/);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(calls, ['stop']);

  const restart = await server.request('/sdapi/v1/server-restart', { method: 'POST' });
  assert.equal(restart.status, 501);
  assert.equal(await restart.text(), '');

  await assert.rejects(server.request('/sdapi/v1/server-kill', { method: 'POST' }), 'no answer: the connection is dropped');
  assert.deepEqual(calls, ['stop', 'kill']);
  assert.equal((await server.request('/sdapi/v1/progress')).status, 200, 'the test hook did not exit, the server still answers');
});

test('--api-server-stop routes are behind --api-auth', async () => {
  const calls: string[] = [];
  const server = await startTestServer({ apiAuth: 'me:secret', serverControl: { kill: () => calls.push('kill'), stop: () => calls.push('stop') } });
  const res = await server.request('/sdapi/v1/server-stop', { method: 'POST' });
  assert.equal(res.status, 401);
  assert.deepEqual(calls, []);
});

test('--api-log: one A1111-format line per /sdapi request, none for other paths', async () => {
  const lines: string[] = [];
  const server = await startTestServer({ apiLog: (line) => lines.push(line) });
  await server.request('/sdapi/v1/progress?skip_current_image=true');
  await server.request('/sdapi/v1/nope', { method: 'POST' });
  await server.request('/docs/json').catch(() => undefined);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[0], /^API \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} 200 http\/1\.1 GET \/sdapi\/v1\/progress 127\.0\.0\.1 \d+\.\d+$/);
  assert.match(lines[1], /^API .* 404 http\/1\.1 POST \/sdapi\/v1\/nope 127\.0\.0\.1 \d+\.\d+$/);
});

test('refresh-vae answers null; unload/reload with the fake generator', async () => {
  const server = await startTestServer();
  const vae = await server.request('/sdapi/v1/refresh-vae', { method: 'POST' });
  assert.equal(vae.status, 200);
  assert.equal(await vae.text(), 'null');
  await server.request('/sdapi/v1/reload-checkpoint', { method: 'POST' });
  assert.equal(server.generator.current?.name, 'v1-5-pruned-emaonly.safetensors');
  await server.request('/sdapi/v1/unload-checkpoint', { method: 'POST' });
  assert.equal(server.generator.unloads, 1);
  assert.equal(server.generator.current, null);
});

test('unload-checkpoint under sdapi serve (the engine in a worker thread): freed, and the next generation loads it again', { skip }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-worker-unload-'));
  const generator = new WorkerGenerator({ dataDir, ckpt: TINY_SD15_CKPT, placeholder: false });
  const app = await buildApp({ generator, dataDir });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const gen = async () => {
      const res = await post(base, '/sdapi/v1/txt2img', { prompt: 'a cat', steps: 2, width: 64, height: 64, seed: 3, sampler_name: 'Euler' });
      assert.equal(res.status, 200);
      return ((await res.json()) as { images: string[] }).images[0];
    };
    const first = await gen();
    assert.equal((await post(base, '/sdapi/v1/unload-checkpoint')).status, 200);
    assert.equal(generator.currentCheckpoint(), null);
    assert.equal(await gen(), first);
    assert.equal(generator.currentCheckpoint()?.name, 'model.safetensors');
  } finally {
    await app.close();
    await generator.close();
  }
});
