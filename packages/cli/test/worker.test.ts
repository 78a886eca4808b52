/**
 * `sdapi worker` as a user starts it, beside an API-only `sdapi serve --no-worker`, both on a password-protected
 * redis-server: the worker takes the engine flags `serve` takes, never prints the Redis password, and runs the
 * txt2img the API node queued. Skips with the reason without redis-server or the tiny fixture.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, noRedis, startRedisServer } from '../../server/test/helpers/redis-server.ts';
import { BIN, skip as noFixture, serve, TINY } from './helpers/serve.ts';

const skip = noFixture || noRedis;
if (skip) console.log(`# skipping the worker test: ${skip}`);

const PASSWORD = 'worker-test-redis-password';
const children: ChildProcess[] = [];
const dirs: string[] = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test('sdapi worker: the engine flags of serve, the Redis password never printed, runs the API node’s txt2img', { skip }, async () => {
  const port = await freePort();
  const redisDir = mkdtempSync(join(tmpdir(), 'sdapi-worker-redis-'));
  dirs.push(redisDir);
  children.push(await startRedisServer(port, redisDir, ['--requirepass', PASSWORD]));
  const url = `redis://:${PASSWORD}@127.0.0.1:${port}/0`;

  const api = await serve(['--redis', url, '--no-worker']);
  children.push(api.child);
  const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-worker-data-'));
  dirs.push(dataDir);
  const worker = spawn(
    process.execPath,
    [
      BIN,
      'worker',
      '--redis',
      url,
      '--ckpt',
      TINY,
      '--data-dir',
      dataDir,
      '--lora-dir',
      join(dataDir, 'loras'),
      '--threads',
      '1',
      '--low-memory',
      '--no-hashing',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(worker);
  // Everything the worker prints, to the end of the test (the password check below reads all of it).
  let printed = '';
  worker.stdout?.on('data', (c) => (printed += c));
  worker.stderr?.on('data', (c) => (printed += c));
  for (let i = 0; i < 1200 && !/is taking jobs from/.test(printed); i++) await new Promise((r) => setTimeout(r, 50));
  const ready = printed.split('\n').find((line) => line.includes('is taking jobs from')) ?? `(not ready after 60 s)\n${printed}`;
  assert.match(ready, /is taking jobs from redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0$/);

  const res = await fetch(`${api.url}/sdapi/v1/txt2img`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'a red cube', steps: 2, width: 64, height: 64, seed: 3 }),
  });
  const body = (await res.json()) as { images: string[]; info: string };
  assert.equal(res.status, 200, JSON.stringify(body).slice(0, 300));
  assert.equal(body.images.length, 1);
  const { workers } = (await (await fetch(`${api.url}/sdapi/v2/workers`)).json()) as { workers: { id: string; pid: number }[] };
  assert.deepEqual(
    workers.map((w) => w.pid),
    [worker.pid],
    'the one worker is the sdapi worker process',
  );
  const flags = JSON.stringify(await (await fetch(`${api.url}/sdapi/v1/cmd-flags`)).json());
  const output = `${printed}\n${api.output()}\n${flags}`;
  assert.ok(!output.includes(PASSWORD), 'neither process nor cmd-flags shows the Redis password');
});

test('sdapi worker --results-dir: a folder that does not exist is a usage error (exit 2) before Redis is tried', () => {
  const run = spawnSync(process.execPath, [BIN, 'worker', '--redis', 'redis://127.0.0.1:1/0', '--results-dir', '/nonexistent/shared'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /--results-dir \/nonexistent\/shared: no such folder/);
});
