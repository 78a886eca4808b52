/**
 * Webhook deliveries survive a restart: a receiver that fails keeps a delivery pending (its retry is a minute
 * away) while the queue goes on; the server stops; the next server on the same data dir re-sends it (same event
 * id, same signed body) without re-running the job, and marks it done in the outbox. Real HTTP throughout.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startTestServer } from './helpers/http.ts';

const SMALL = { width: 16, height: 8, steps: 2 };

async function until(what: string, check: () => Promise<boolean> | boolean) {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a pending webhook delivery is re-sent by the next server on the same data dir', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-webhook-restart-'));
  let failing = true;
  const attempts: { ok: boolean; headers: IncomingHttpHeaders; raw: string }[] = [];
  const rx = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      attempts.push({ ok: !failing, headers: req.headers, raw });
      res.writeHead(failing ? 503 : 204).end();
    });
  });
  await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
  after(() => rx.close());
  const url = `http://127.0.0.1:${(rx.address() as AddressInfo).port}/hook`;
  const webhooks = { allowLocal: true, secret: 's3cret' };

  const first = await startTestServer({ dataDir, webhooks: { ...webhooks, baseDelayMs: 60_000 } });
  const res = await first.request('/sdapi/v2/jobs', {
    method: 'POST',
    json: { type: 'txt2img', params: { prompt: 'hooked', ...SMALL }, webhook: { url, events: ['succeeded'] } },
  });
  const job = await res.json();
  await until('the first (failed) delivery', () => attempts.length >= 1);
  assert.equal(attempts[0].ok, false);
  // The failing receiver does not hold up the queue: another job runs to the end meanwhile.
  const other = await (await first.request('/sdapi/v2/jobs', { method: 'POST', json: { type: 'txt2img', params: { prompt: 'next', ...SMALL } } })).json();
  await until('the next job', async () => (await (await first.request(`/sdapi/v2/jobs/${other.id}`)).json()).status === 'succeeded');
  await first.app.close();

  failing = false;
  const second = await startTestServer({ dataDir, webhooks: { ...webhooks, baseDelayMs: 10 } });
  await until('the re-sent delivery', () => attempts.some((a) => a.ok));
  const delivered = attempts.filter((a) => a.ok);
  assert.equal(delivered.length, 1);
  assert.equal(delivered[0].raw, attempts[0].raw, 'the same event body');
  assert.equal(delivered[0].headers['x-sdapi-delivery'], attempts[0].headers['x-sdapi-delivery']);
  assert.equal(delivered[0].headers['x-sdapi-signature'], attempts[0].headers['x-sdapi-signature']);
  assert.equal(JSON.parse(delivered[0].raw).event, 'succeeded');
  assert.equal(JSON.parse(delivered[0].raw).job, job.id);
  assert.equal(second.generator.calls.length, 0, 'the succeeded job did not run again');
  assert.equal((await (await second.request(`/sdapi/v2/jobs/${job.id}`)).json()).status, 'succeeded');

  // The outbox now says done for it: nothing is pending for a third start.
  await until('the done mark', () => readFileSync(join(dataDir, 'jobs', 'webhooks.jsonl'), 'utf8').includes('"done"'));
  const pending = new Set<number>();
  for (const line of readFileSync(join(dataDir, 'jobs', 'webhooks.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)) {
    const entry = JSON.parse(line);
    if (entry.send) pending.add(entry.send.key);
    else pending.delete(entry.done);
  }
  assert.deepEqual([...pending], []);
});
