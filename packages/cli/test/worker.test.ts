/**
 * `sdapi worker` as a user starts it, beside an API-only `sdapi serve --no-worker`, both on a password-protected
 * redis-server: the worker takes the engine flags `serve` takes, never prints the Redis password, and runs the
 * txt2img the API node queued. Skips with the reason without redis-server or the tiny fixture.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { BIN, serve, skip as noFixture, TINY } from './helpers/serve.ts';

const REDIS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
const skip = noFixture || (REDIS ? false : 'redis-server is not installed (apt-get install redis-server)');
if (skip) console.log(`# skipping the worker test: ${skip}`);

const PASSWORD = 'worker-test-redis-password';
const children: ChildProcess[] = [];
const dirs: string[] = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves with the child's output so far once a line matches `pattern`. */
async function lineMatching(child: ChildProcess, pattern: RegExp, seen: string[]): Promise<string> {
  for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
    seen.push(line);
    if (pattern.test(line)) return line;
  }
  throw new Error(`exited before printing ${pattern}:\n${seen.join('\n')}`);
}

test('sdapi worker: the engine flags of serve, the Redis password never printed, runs the API node’s txt2img', { skip }, async () => {
  const port = await freePort();
  const redisDir = mkdtempSync(join(tmpdir(), 'sdapi-worker-redis-'));
  dirs.push(redisDir);
  const redis = spawn(REDIS as string, ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir, '--requirepass', PASSWORD, '--save', ''], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(redis);
  await lineMatching(redis, /Ready to accept connections/, []);
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
