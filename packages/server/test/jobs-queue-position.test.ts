/**
 * `queued` events carry the new `queue_position` whenever a waiting job's place changes: a job ahead is
 * cancelled, a higher-priority job jumps in, a job ahead starts. Checked on SSE, the websocket and a webhook
 * receiver, over real HTTP with the fake generator (a long blocker job keeps the queue waiting).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import type { JobEvent } from '@sdapi/protocol';
import WebSocket from 'ws';
import type { JobRecord } from '../src/services/jobs/types.ts';
import { WebhookSender } from '../src/services/jobs/webhooks.ts';
import { startTestServer } from './helpers/http.ts';
import { collectEvents } from './helpers/sse.ts';

const server = await startTestServer({ webhooks: { allowLocal: true, baseDelayMs: 10 } });
server.generator.stepDelayMs = 20; // the 1000-step blocker runs 20 s unless cancelled
const SMALL = { width: 16, height: 8, steps: 2 };

async function submit(prompt: string, extra: Record<string, unknown> = {}) {
  const res = await server.request('/sdapi/v2/jobs', { method: 'POST', json: { type: 'txt2img', params: { prompt, ...SMALL }, ...extra } });
  const json = (await res.json()) as Record<string, any>;
  assert.equal(res.status, 202, JSON.stringify(json));
  return json;
}
const cancel = (id: string) => server.request(`/sdapi/v2/jobs/${id}`, { method: 'DELETE' });
const job = async (id: string) => (await server.request(`/sdapi/v2/jobs/${id}`)).json();

async function until(what: string, check: () => Promise<boolean> | boolean) {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A webhook receiver on a free port that keeps what it got and answers 204 after `delayMs`. */
async function webhookReceiver(delayMs = 0): Promise<{ hook: Record<string, any>[]; hookUrl: string }> {
  const hook: Record<string, any>[] = [];
  const rx = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      hook.push(JSON.parse(raw));
      setTimeout(() => res.writeHead(204).end(), delayMs);
    });
  });
  await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
  after(() => rx.close());
  return { hook, hookUrl: `http://127.0.0.1:${(rx.address() as AddressInfo).port}/hook` };
}

test('queued events follow the position: cancel ahead, priority jump, the job ahead starts', async () => {
  const { hook, hookUrl } = await webhookReceiver();

  const blocker = await submit('blocker', { params: { prompt: 'blocker', ...SMALL, steps: 1000 } });
  await until('the blocker to run', async () => (await job(blocker.id)).status === 'running');
  const b = await submit('b');
  const c = await submit('c');
  const d = await submit('d', { webhook: { url: hookUrl, events: ['queued', 'cancelled'] } });
  assert.equal(d.queue_position, 3);
  const stream = collectEvents(await server.request(`/sdapi/v2/jobs/${d.id}/events`));
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/sdapi/v2/ws`);
  const wsEvents: Record<string, any>[] = [];
  ws.on('message', (data) => wsEvents.push(JSON.parse(String(data))));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ op: 'subscribe', jobs: [d.id] }));
  await until('the subscription', () => wsEvents.some((m) => m.op === 'subscribe'));

  // Each move waits for the webhook to have the previous one: a position still waiting to be sent would be
  // replaced by the newer one (webhooks.ts), which the last test checks on its own.
  const hookHas = (n: number) => until(`${n} webhook deliveries`, () => hook.length >= n);
  await hookHas(1);
  await cancel(b.id); // d: 3 → 2
  await until('d at 2', async () => (await job(d.id)).queue_position === 2);
  await hookHas(2);
  const e = await submit('e', { priority: 5, params: { prompt: 'e', ...SMALL, steps: 1000 } }); // jumps ahead of c and d: d 2 → 3
  assert.equal(e.queue_position, 1);
  await until('d at 3', async () => (await job(d.id)).queue_position === 3);
  await hookHas(3);
  await cancel(blocker.id); // e starts: c 2 → 1, d 3 → 2
  await until('e to start', async () => (await job(e.id)).status !== 'queued');
  await until('d at 2 again', async () => (await job(d.id)).queue_position === 2);
  await hookHas(4);
  await cancel(d.id);
  await cancel(e.id);

  const { events } = await stream;
  const queued = events.filter((ev) => ev.event === 'queued');
  assert.deepEqual(
    queued.map((ev) => ev.queue_position),
    [3, 2, 3, 2],
    JSON.stringify(queued),
  );
  for (const ev of queued) assert.equal(ev.position, ev.queue_position);
  assert.equal(events.at(-1)?.event, 'cancelled');
  const ids = events.map((ev) => ev.id);
  assert.deepEqual(
    ids,
    [...ids].sort((x, y) => x - y),
    'event ids increase',
  );

  await until('the websocket to get the cancel', () => wsEvents.some((ev) => ev.job === d.id && ev.event === 'cancelled'));
  ws.close();
  const wsQueued = wsEvents.filter((ev) => ev.job === d.id && ev.event === 'queued').map((ev) => ev.queue_position);
  assert.deepEqual(wsQueued.slice(-3), [2, 3, 2], `websocket: ${JSON.stringify(wsQueued)}`);
  await until('the webhook to get the cancel', () => hook.some((ev) => ev.event === 'cancelled'));
  assert.deepEqual(
    hook.map((ev) => [ev.event, ev.queue_position ?? null]),
    [
      ['queued', 3],
      ['queued', 2],
      ['queued', 3],
      ['queued', 2],
      ['cancelled', null],
    ],
  );
  await until('c to finish', async () => ['succeeded', 'failed'].includes((await job(c.id)).status));
});

test('a slow webhook receiver gets the newest position, not every one: a position still waiting is replaced', async () => {
  const { hook, hookUrl } = await webhookReceiver(250); // a slow receiver

  const blocker = await submit('blocker 2', { params: { prompt: 'blocker 2', ...SMALL, steps: 1000 } });
  await until('the blocker to run', async () => (await job(blocker.id)).status === 'running');
  for (let i = 0; i < 15; i++) await submit(`ahead ${i}`);
  const last = await submit('last', { webhook: { url: hookUrl, events: ['queued', 'succeeded'] } });
  assert.equal(last.queue_position, 16);
  await cancel(blocker.id); // the 15 ahead run in about a second: 15 position changes
  await until('the webhook to get the success', () => hook.some((ev) => ev.event === 'succeeded'));
  const positions = hook.filter((ev) => ev.event === 'queued').map((ev) => ev.queue_position as number);
  console.log(`# 16 positions told, ${positions.length} delivered to the slow receiver: ${positions.join(' ')}`);
  assert.equal(positions[0], 16);
  assert.ok(positions.length < 16, 'positions that waited were replaced by newer ones');
  for (let i = 1; i < positions.length; i++) assert.ok(positions[i] < positions[i - 1], `never an older position after a newer one: ${positions}`);
  const ids = hook.map((ev) => ev.id as number);
  assert.deepEqual(
    ids,
    [...ids].sort((x, y) => x - y),
    'in event order',
  );
  assert.equal(hook.at(-1)?.event, 'succeeded');
});

test('webhooks: a position never overtakes another event of its job (only a position still last in line is replaced)', async () => {
  const { hook, hookUrl } = await webhookReceiver(150);
  const sender = new WebhookSender({ allowLocal: true });
  after(() => sender.close());
  const record = { webhook: { url: hookUrl, events: ['queued', 'started'] } } as unknown as JobRecord;
  let id = 0;
  const emit = (event: Partial<JobEvent>) => sender.notify({ id: ++id, job: 'order', time: '', ...event } as JobEvent, record);
  emit({ event: 'queued', queue_position: 3 });
  await until('the first delivery to be under way', () => hook.length === 1); // the receiver answers 150 ms later
  emit({ event: 'queued', queue_position: 2 }); // waits behind it
  emit({ event: 'started' });
  emit({ event: 'queued', queue_position: 1, reason: undefined }); // must not take the place of 2, ahead of started
  await until('four deliveries', () => hook.length >= 4);
  assert.deepEqual(
    hook.map((ev) => ev.queue_position ?? ev.event),
    [3, 2, 'started', 1],
  );
});
