/**
 * `sdapi serve` as a user starts it (a child process on the tiny SD1.5 checkpoint): the checkpoint loads right after
 * start (A1111 API mode) unless --skip-load-model-at-start, --api-log prints A1111's line per /sdapi request,
 * --api-server-stop's server-stop answers `Stopping.` and the process exits cleanly, cmd-flags reports the flags.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serve, skip } from './helpers/serve.ts';

if (skip) console.log(`# skipping the serve tests: ${skip}`);

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

test('serve loads the checkpoint after start, logs /sdapi requests with --api-log, and server-stop ends it cleanly', { skip }, async () => {
  const s = await serve(['--api-log', '--api-server-stop']);
  try {
    await until(() => /loaded model\.safetensors \[[0-9a-f]{10}\]/.test(s.output()), 'the load at start');
    const options = (await (await fetch(`${s.url}/sdapi/v1/options`)).json()) as { sd_model_checkpoint: string };
    assert.match(options.sd_model_checkpoint, /^model\.safetensors \[[0-9a-f]{10}\]$/);
    const flags = (await (await fetch(`${s.url}/sdapi/v1/cmd-flags`)).json()) as Record<string, unknown>;
    assert.deepEqual([flags.api_log, flags.api_server_stop, flags.skip_load_model_at_start], [true, true, false]);
    await until(() => /^API \S+ \S+ 200 http\/1\.1 GET \/sdapi\/v1\/cmd-flags 127\.0\.0\.1 \d+\.\d+$/m.test(s.output()), 'the API log line');
    const stop = await fetch(`${s.url}/sdapi/v1/server-stop`, { method: 'POST' });
    assert.equal(await stop.text(), 'Stopping.');
    assert.equal(await s.exited, 0, s.output());
  } finally {
    s.child.kill();
  }
});

test('--skip-load-model-at-start: nothing is loaded until the first generation', { skip }, async () => {
  const s = await serve(['--skip-load-model-at-start', '--api-server-stop']);
  try {
    const options = (await (await fetch(`${s.url}/sdapi/v1/options`)).json()) as { sd_model_checkpoint: string | null };
    assert.equal(options.sd_model_checkpoint, null);
    const res = await fetch(`${s.url}/sdapi/v1/txt2img`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'x', steps: 1, width: 64, height: 64 }),
    });
    assert.equal(res.status, 200, await res.text());
    const before = s.output().indexOf('loaded model.safetensors');
    assert.ok(before > s.output().indexOf('sdapi listening on'), 'loaded after the server listened, for the generation');
    await fetch(`${s.url}/sdapi/v1/server-stop`, { method: 'POST' });
    assert.equal(await s.exited, 0);
  } finally {
    s.child.kill();
  }
});
