/**
 * `sdapi serve` with issue 13's flags (a child process on the tiny SD1.5 checkpoint): --api-keys guards every route
 * but /health, --cors-allow-origins lets one foreign origin in and keeps others out, the --max-* flags reach
 * /sdapi/v2/capabilities and are enforced, cmd-flags reports the CORS flags and never the key; bad values are
 * refused at start naming the flag.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, serve, skip } from './helpers/serve.ts';

if (skip) console.log(`# skipping the serve security tests: ${skip}`);

const KEY = 'sk-serve-flag-secret';
const WEBHOOK_SECRET = 'whsec-serve-flag-secret';
const FLAGS = [
  '--api-keys',
  KEY,
  '--webhook-secret',
  WEBHOOK_SECRET,
  '--cors-allow-origins',
  'https://app.example',
  '--max-width',
  '64',
  '--max-height',
  '128',
  '--max-steps',
  '3',
];
const MORE = [
  '--max-batch',
  '2',
  '--max-pixels',
  '4096',
  '--max-prompt-length',
  '50',
  '--max-image-pixels',
  '10000',
  '--max-body-size',
  '1M',
  '--max-queued-per-client',
  '3',
];

test('sdapi serve: auth, origins and limits from the command line', { skip }, async () => {
  const s = await serve(['--skip-load-model-at-start', ...FLAGS, ...MORE]);
  const url = s.url;
  try {
    const auth = { authorization: `Bearer ${KEY}` };
    assert.equal((await fetch(`${url}/health`)).status, 200);
    assert.equal((await fetch(`${url}/sdapi/v2/capabilities`)).status, 401);
    const { limits } = (await (await fetch(`${url}/sdapi/v2/capabilities`, { headers: auth })).json()) as { limits: Record<string, number | null> };
    assert.deepEqual(
      [limits.max_width, limits.max_height, limits.max_steps, limits.max_batch_size, limits.max_pixels, limits.max_prompt_length, limits.max_image_pixels],
      [64, 128, 3, 2, 4096, 50, 10000],
    );
    assert.equal(limits.body_limit_bytes, 1024 * 1024);
    assert.equal(limits.max_queued_per_client, 3);
    const tooWide = await fetch(`${url}/sdapi/v1/txt2img`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ width: 128, steps: 1 }),
    });
    assert.equal(tooWide.status, 422);
    const allowed = await fetch(`${url}/sdapi/v1/samplers`, { headers: { ...auth, origin: 'https://app.example' } });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal((await fetch(`${url}/sdapi/v1/samplers`, { headers: { ...auth, origin: 'https://evil.example' } })).status, 403);
    const flags = await (await fetch(`${url}/sdapi/v1/cmd-flags`, { headers: auth })).text();
    assert.ok(!flags.includes(KEY) && !flags.includes(WEBHOOK_SECRET), 'no secret is ever reported');
    const parsed = JSON.parse(flags) as Record<string, unknown> & { sdapi: Record<string, unknown> };
    assert.deepEqual([parsed.cors_allow_origins, parsed.api_auth], ['https://app.example', '***']);
    // Our own flags, under `sdapi`: given ones as given, secrets as set-or-not, the others null / false.
    const { api_keys, webhook_secret, max_width, max_body_size, redis, low_memory } = parsed.sdapi;
    assert.deepEqual(
      { api_keys, webhook_secret, max_width, max_body_size, redis, low_memory },
      {
        api_keys: '***',
        webhook_secret: '***',
        max_width: '64',
        max_body_size: '1M',
        redis: null,
        low_memory: false,
      },
    );
  } finally {
    s.child.kill();
  }
});

test('sdapi serve: a bad flag value is refused at start as a usage error (exit 2), naming the flag', () => {
  for (const [flag, value] of [
    ['--max-width', 'wide'],
    ['--max-steps', '0'],
    ['--max-body-size', '12X'],
    ['--max-queued-per-client', '-1'],
    ['--threads', 'many'],
    ['--jobs-retention', '10,7y'],
    ['--onnx-cache-max-gb', '0'],
    ['--port', '70000'],
    ['--port', ''],
    ['--cors-allow-origins-regex', '('],
    ['--tls-keyfile', '/nonexistent/key.pem'],
    ['--results-dir', tmpdir()], // without --redis
  ]) {
    // In an empty data dir: a refused start must not have written the placeholder model there.
    const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-serve-bad-'));
    const run = spawnSync(process.execPath, [BIN, 'serve', '--nowebui', '--data-dir', dataDir, flag, value], { encoding: 'utf8', timeout: 60_000 });
    assert.deepEqual(readdirSync(dataDir), [], 'nothing written before the flags were checked');
    assert.equal(run.status, 2, `${flag} ${value}: ${run.stderr}`);
    assert.ok(run.stderr.includes(flag), `${flag}: ${run.stderr}`);
    assert.ok(!run.stderr.includes('bug'), `a usage error, not reported as a bug: ${run.stderr}`);
  }
});
