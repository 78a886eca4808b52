/**
 * Live job events on their three channels, over real connections: SSE (monotone progress, Last-Event-ID resume,
 * keep-alives, replay of a finished job), the WebSocket (the same events, ops, auth by header or ticket) and
 * webhooks (a loopback receiver checks the HMAC signature, a failed delivery is retried; SSRF targets refused).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import WebSocket from 'ws';
import { isPublicAddress } from '../src/services/jobs/webhooks.ts';
import { startTestServer, type TestServer } from './helpers/http.ts';
import { collectEvents, readSse } from './helpers/sse.ts';

const SMALL = { width: 16, height: 8, steps: 10 };
const server = await startTestServer({ sseKeepAliveMs: 20 });
server.generator.stepDelayMs = 5;

async function submit(s: TestServer, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await s.request('/sdapi/v2/jobs', { method: 'POST', json: body, headers });
  const json = (await res.json()) as Record<string, any>;
  assert.equal(res.status, 202, JSON.stringify(json));
  return json;
}

const eventNames = (events: Record<string, any>[]) => events.map((e) => e.event);

test('SSE: queued → started → progress (monotone) → image → succeeded, then the stream closes', async () => {
  await submit(server, { type: 'txt2img', params: { prompt: 'blocker', ...SMALL, steps: 30 } });
  const job = await submit(server, { type: 'txt2img', params: { prompt: 'watched', ...SMALL, batch_size: 2 } });
  const res = await server.request(`/sdapi/v2/jobs/${job.id}/events`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const { events, frames } = await collectEvents(res);
  const names = eventNames(events);
  assert.equal(names[0], 'queued');
  assert.equal(events[0].position, 1, 'behind the blocker');
  assert.equal(names[1], 'started');
  assert.deepEqual(names.slice(-3), ['image', 'image', 'succeeded']);
  assert.ok(names.filter((n) => n === 'progress').length >= 10);
  const progress = events.filter((e) => e.event === 'progress');
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i].fraction >= progress[i - 1].fraction, `monotone at ${i}`);
  assert.equal(progress.at(-1)?.fraction, 1);
  for (let i = 1; i < events.length; i++) assert.ok(events[i].id > events[i - 1].id, 'event ids increase');
  for (const e of events) assert.equal(e.job, job.id);
  for (const f of frames.filter((x) => x.data)) assert.equal(f.id, String(JSON.parse(f.data).id), 'the SSE id: line is the event id');
  assert.ok(
    frames.some((f) => f.comments.includes('keep-alive')),
    'keep-alive comments while waiting behind the blocker',
  );
  assert.equal(events.at(-2)?.image.url, `/sdapi/v2/jobs/${job.id}/images/1`);
});

test('SSE resume: Last-Event-ID gets exactly the events after it; a finished job replays and closes', async () => {
  const job = await submit(server, { type: 'txt2img', params: { prompt: 'resume', ...SMALL } });
  const first = await server.request(`/sdapi/v2/jobs/${job.id}/events`);
  const seen: Record<string, any>[] = [];
  for await (const frame of readSse(first)) {
    if (!frame.data) continue;
    seen.push(JSON.parse(frame.data));
    if (seen.length === 4) break; // the client drops the connection mid-job
  }
  const resumed = await collectEvents(await server.request(`/sdapi/v2/jobs/${job.id}/events`, { headers: { 'last-event-id': String(seen[3].id) } }));
  const full = await collectEvents(await server.request(`/sdapi/v2/jobs/${job.id}/events`));
  assert.equal(eventNames(full.events).at(-1), 'succeeded');
  assert.deepEqual([...seen, ...resumed.events], full.events, 'nothing lost, nothing twice');
  const tail = await collectEvents(await server.request(`/sdapi/v2/jobs/${job.id}/events?last_event_id=${full.events.at(-2)?.id}`));
  assert.deepEqual(eventNames(tail.events), ['succeeded']);
  assert.equal((await server.request('/sdapi/v2/jobs/nope/events')).status, 404);
  assert.equal((await server.request(`/sdapi/v2/jobs/${job.id}/events`, { headers: { 'last-event-id': 'x' } })).status, 422);
});

/** A websocket client that records every message. */
async function connect(url: string, options: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), options);
  const messages: Record<string, any>[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res: IncomingMessage) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  const until = async (pred: (m: Record<string, any>) => boolean) => {
    const deadline = Date.now() + 10_000;
    while (!messages.some(pred)) {
      if (Date.now() > deadline) throw new Error(`no such message; got ${JSON.stringify(messages.slice(-3))}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
    return messages.find(pred) as Record<string, any>;
  };
  return { ws, messages, until, send: (m: unknown) => ws.send(JSON.stringify(m)) };
}

test('WebSocket: "*" gets the same events as SSE; subscribing to a finished job replays its history', async () => {
  const client = await connect(`${server.url}/sdapi/v2/ws`);
  after(() => client.ws.close());
  client.send({ op: 'subscribe', jobs: ['*'] });
  await client.until((m) => m.op === 'subscribe' && m.ok);
  const job = await submit(server, { type: 'txt2img', params: { prompt: 'ws', ...SMALL } });
  await client.until((m) => m.job === job.id && m.event === 'succeeded');
  const viaWs = client.messages.filter((m) => m.job === job.id);
  const viaSse = (await collectEvents(await server.request(`/sdapi/v2/jobs/${job.id}/events`))).events;
  assert.deepEqual(viaWs, viaSse);
  const late = await connect(`${server.url}/sdapi/v2/ws`);
  after(() => late.ws.close());
  late.send({ op: 'subscribe', jobs: [job.id, 'missing'] });
  const ack = await late.until((m) => m.op === 'subscribe');
  assert.deepEqual([ack.ok, ack.error.code], [false, 'NOT_FOUND']);
  await late.until((m) => m.event === 'succeeded');
  assert.deepEqual(
    late.messages.filter((m) => m.job === job.id),
    viaSse,
  );
});

test('WebSocket ops: cancel a job, interrupt the running one (partial result), errors for bad ops', async () => {
  const client = await connect(`${server.url}/sdapi/v2/ws`);
  after(() => client.ws.close());
  const long = await submit(server, { type: 'txt2img', params: { prompt: 'interrupt me', ...SMALL, steps: 200 } });
  const queued = await submit(server, { type: 'txt2img', params: { prompt: 'cancel me', ...SMALL } });
  client.send({ op: 'subscribe', jobs: [long.id, queued.id] });
  await client.until((m) => m.job === long.id && m.event === 'started');
  client.send({ op: 'cancel', job: queued.id });
  assert.deepEqual(await client.until((m) => m.op === 'cancel'), { op: 'cancel', ok: true, job: queued.id, status: 'cancelled' });
  await client.until((m) => m.job === queued.id && m.event === 'cancelled');
  client.send({ op: 'interrupt' });
  await client.until((m) => m.job === long.id && m.event === 'succeeded');
  const done = await (await server.request(`/sdapi/v2/jobs/${long.id}`)).json();
  assert.equal(done.result.interrupted, true, "A1111's interrupt: the partial images are the result");
  client.send({ op: 'cancel', job: long.id });
  const refused = await client.until((m) => m.op === 'cancel' && !m.ok);
  assert.equal(refused.error.code, 'CONFLICT');
  client.ws.send('not json');
  assert.equal((await client.until((m) => m.error?.code === 'BAD_MESSAGE')).ok, false);
  client.send({ op: 'dance' });
  assert.match((await client.until((m) => m.op === 'dance')).error.message, /valid ops: subscribe, unsubscribe, cancel, interrupt, skip/);
});

test('WebSocket auth: Basic header or a one-time ticket from POST /sdapi/v2/ws-ticket; otherwise 401', async () => {
  const secured = await startTestServer({ apiAuth: 'me:pw', apiKeys: 'sk-test' });
  const basic = `Basic ${Buffer.from('me:pw').toString('base64')}`;
  await assert.rejects(connect(`${secured.url}/sdapi/v2/ws`), /HTTP 401/);
  const withHeader = await connect(`${secured.url}/sdapi/v2/ws`, { headers: { authorization: basic } });
  withHeader.ws.close();
  const bearer = await connect(`${secured.url}/sdapi/v2/ws`, { headers: { authorization: 'Bearer sk-test' } });
  bearer.ws.close();
  assert.equal((await secured.request('/sdapi/v2/ws-ticket', { method: 'POST' })).status, 401);
  const { ticket, expires_at } = await (await secured.request('/sdapi/v2/ws-ticket', { method: 'POST', headers: { authorization: basic } })).json();
  assert.ok(Date.parse(expires_at) > Date.now());
  const withTicket = await connect(`${secured.url}/sdapi/v2/ws?ticket=${ticket}`);
  withTicket.ws.close();
  await assert.rejects(connect(`${secured.url}/sdapi/v2/ws?ticket=${ticket}`), /HTTP 401/, 'a ticket is good once');
  assert.equal((await secured.request('/sdapi/v2/ws')).status, 401, 'plain GET is behind auth too');
  assert.equal((await secured.request('/sdapi/v2/ws', { headers: { authorization: basic } })).status, 426);
});

/** A loopback webhook receiver; `failFirst` answers 500 to the first delivery of that event type. */
async function receiver(failFirst?: string) {
  const got: { headers: IncomingMessage['headers']; raw: string }[] = [];
  let failed = false;
  const http = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      if (!failed && failFirst && JSON.parse(raw).event === failFirst) {
        failed = true;
        res.writeHead(500).end();
        return;
      }
      got.push({ headers: req.headers, raw });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  after(() => http.close());
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/hook`, got };
}

test('webhooks: signed events to a loopback receiver (HMAC checked), retried after a failure, in order', async () => {
  const secret = 'whsec-test';
  const hooked = await startTestServer({ webhooks: { secret, allowLocal: true, baseDelayMs: 10 } });
  const rx = await receiver('succeeded');
  const job = await submit(hooked, { type: 'txt2img', params: { prompt: 'hook', ...SMALL, steps: 3 }, webhook: { url: rx.url } });
  const deadline = Date.now() + 10_000;
  while (!rx.got.some((g) => JSON.parse(g.raw).event === 'succeeded') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const events = rx.got.map((g) => JSON.parse(g.raw));
  assert.deepEqual(eventNames(events), ['queued', 'started', 'image', 'succeeded'], 'all but progress, in order');
  for (const { headers, raw } of rx.got) {
    const expected = `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
    assert.equal(headers['x-sdapi-signature'], expected);
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers['x-sdapi-event'], JSON.parse(raw).event);
    assert.equal(headers['x-sdapi-delivery'], String(JSON.parse(raw).id));
    assert.equal(JSON.parse(raw).job, job.id);
  }
  assert.equal(rx.got.at(-1)?.headers['x-sdapi-attempt'], '2', 'the succeeded event was retried once');
  const picky = await receiver();
  const second = await submit(hooked, {
    type: 'txt2img',
    params: { prompt: 'hook', ...SMALL, steps: 3 },
    webhook: { url: picky.url, events: ['progress', 'succeeded'] },
  });
  while (!picky.got.some((g) => JSON.parse(g.raw).event === 'succeeded') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const names = new Set(picky.got.map((g) => JSON.parse(g.raw).event));
  assert.deepEqual([...names], ['progress', 'succeeded']);
  assert.ok(picky.got.every((g) => JSON.parse(g.raw).job === second.id));
});

test('webhooks: loopback, private and non-http targets are refused (422) without --webhook-allow-local', async () => {
  for (const url of [
    'http://127.0.0.1:9/x',
    'http://localhost/x',
    'http://10.1.2.3/x',
    'http://[::1]/x',
    'http://169.254.169.254/latest',
    'ftp://example.com/x',
    'http://u:p@example.com/',
  ]) {
    const res = await server.request('/sdapi/v2/jobs', { method: 'POST', json: { type: 'txt2img', params: SMALL, webhook: { url } } });
    assert.equal(res.status, 422, url);
    assert.match((await res.json()).detail, /webhook\.url/);
  }
  const events = await server.request('/sdapi/v2/jobs', {
    method: 'POST',
    json: { type: 'txt2img', params: SMALL, webhook: { url: 'http://x.test/', events: ['done'] } },
  });
  assert.equal(events.status, 422);
  assert.deepEqual((await events.json()).detail[0].loc, ['body', 'webhook.events']);
  for (const [address, ok] of [
    ['8.8.8.8', true],
    ['2606:4700::1111', true],
    ['127.0.0.1', false],
    ['192.168.1.1', false],
    ['172.16.0.1', false],
    ['100.64.0.1', false],
    ['::ffff:127.0.0.1', false],
    ['fd00::1', false],
    ['0.0.0.0', false],
  ] as const) {
    assert.equal(isPublicAddress(address), ok, address);
  }
});
