/**
 * Scale-out on Redis + BullMQ (issue 15), as separate processes on one machine: a redis-server with persistence on
 * (appendonly yes, appendfsync always), two workers and two API-only nodes. Jobs spread over both workers; a job
 * submitted on node A is followed over SSE on node B; a sync /sdapi/v1/txt2img works on an API-only node; kill -9
 * of a worker mid-job → the job succeeds on the other worker with one result; a Redis restart loses no
 * acknowledged job, and API nodes answer 503 with Retry-After while it is away; `--max-queued-per-client` counts a
 * client's jobs across API nodes.
 * Skips with the reason when /usr/bin/redis-server (Debian's redis-server package) is absent.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { JobEvent } from '@sdapi/protocol';
import { RedisClientQuota } from '../src/services/jobs/redis/client-quota.ts';
import { RedisLink } from '../src/services/jobs/redis/link.ts';
import { RedisJobStore } from '../src/services/jobs/redis/redis-store.ts';
import { freePort, noRedis, startRedisServer } from './helpers/redis-server.ts';
import { collectEvents } from './helpers/sse.ts';

const here = dirname(fileURLToPath(import.meta.url));
const skip = noRedis;
if (skip) console.log(`# skipped: ${skip}`);

const STEP_MS = 40;
const children: ChildProcess[] = [];
let redis: ChildProcess | undefined;
let redisPort = 0;
const redisDir = mkdtempSync(join(tmpdir(), 'sdapi-redis-'));

/** (Re)starts the cluster's redis-server on its port, with persistence on. */
async function startRedis(): Promise<void> {
  redis = await startRedisServer(redisPort, redisDir, ['--appendonly', 'yes', '--appendfsync', 'always']);
}

/** One cluster process (helpers/cluster-node-child.ts); `db` picks a Redis database, so a second cluster can share the server. */
async function node(
  role: 'api' | 'worker',
  extra: string[] = [],
  { db = 0, env = {} }: { db?: number; env?: Record<string, string> } = {},
): Promise<{ proc: ChildProcess; info: { url?: string; worker?: string } }> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'helpers', 'cluster-node-child.ts'), `redis://127.0.0.1:${redisPort}/${db}`, role, String(STEP_MS), ...extra],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    },
  );
  children.push(proc);
  const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
  for await (const line of lines) return { proc, info: JSON.parse(line) };
  throw new Error(`the ${role} node exited before it was ready`);
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const job = (url: string, id: string) =>
  waitFor(`job ${id} on ${url}`, async () => {
    const res = await fetch(`${url}/sdapi/v2/jobs/${encodeURIComponent(id)}`);
    return res.status === 200 ? ((await res.json()) as Record<string, any>) : undefined;
  });

const finished = (url: string, id: string, ms = 60_000) =>
  waitFor(
    `job ${id} to finish`,
    async () => {
      const body = await job(url, id);
      return ['succeeded', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
    },
    ms,
  );

async function submit(url: string, params: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${url}/sdapi/v2/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'txt2img', params: { prompt: 'a cat', width: 64, height: 64, ...params }, ...extra }),
  });
}

let A = '';
let B = '';
let workers: { proc: ChildProcess; info: { worker?: string } }[] = [];

before(async () => {
  if (skip) return;
  redisPort = await freePort();
  await startRedis();
  workers = await Promise.all([node('worker'), node('worker')]);
  const [a, b] = await Promise.all([node('api'), node('api')]);
  A = a.info.url as string;
  B = b.info.url as string;
});

after(() => {
  for (const child of children) child.kill('SIGKILL');
  redis?.kill('SIGKILL');
});

test('jobs submitted on two API-only nodes spread over both workers; GET /sdapi/v2/workers lists them', { skip }, async () => {
  const listed = await waitFor('two workers', async () => {
    const body = (await (await fetch(`${B}/sdapi/v2/workers`)).json()) as { workers: Record<string, any>[] };
    return body.workers.length === 2 ? body.workers : undefined;
  });
  assert.deepEqual(listed.map((w) => w.id).sort(), workers.map((w) => w.info.worker).sort());
  for (const w of listed)
    for (const key of ['host', 'pid', 'state', 'loaded_model', 'current_job', 'seconds_per_step', 'last_heartbeat']) assert.ok(key in w, key);
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await submit(i % 2 ? A : B, { steps: 8, seed: i });
    assert.equal(res.status, 202);
    ids.push(((await res.json()) as { id: string }).id);
  }
  const done = await Promise.all(ids.map((id) => finished(A, id)));
  for (const d of done) assert.equal(d.status, 'succeeded', JSON.stringify(d.error));
  const ran = new Set(done.map((d) => d.worker));
  console.log(`# workers used: ${[...ran].join(', ')}`);
  assert.equal(ran.size, 2, 'both workers ran jobs');
});

test('routing: a job goes to the idle worker that already has its checkpoint loaded', { skip }, async () => {
  // After the test above both workers have the default checkpoint (X) loaded; a job on Y makes one of them the Y worker.
  const X = 'v1-5-pruned-emaonly.safetensors';
  const Y = 'sub/other.safetensors';
  const first = await submit(A, { steps: 2, override_settings: { sd_model_checkpoint: Y } });
  const yWorker = (await finished(A, ((await first.json()) as { id: string }).id)).worker as string;
  const xWorker = workers.map((w) => w.info.worker).find((w) => w !== yWorker) as string;
  await waitFor('heartbeats with the loaded models', async () => {
    const body = (await (await fetch(`${A}/sdapi/v2/workers`)).json()) as { workers: Record<string, any>[] };
    const y = body.workers.find((w) => w.id === yWorker);
    return y?.loaded_model === Y && y.state === 'idle' ? true : undefined;
  });
  // Same-model runs too: idle workers otherwise take turns (BZPOPMIN serves the longest-blocked first), which alone
  // would match an alternating order.
  for (const model of [X, X, Y, Y, X, Y]) {
    const res = await submit(B, { steps: 2, override_settings: { sd_model_checkpoint: model } });
    const done = await finished(A, ((await res.json()) as { id: string }).id);
    assert.equal(done.status, 'succeeded');
    assert.equal(done.worker, model === X ? xWorker : yWorker, `job on ${model} ran on ${done.worker}`);
    await new Promise((r) => setTimeout(r, 600)); // the next heartbeat says idle again
  }
});

test("settings are the cluster's: POST /options on node A is read on node B and used by the worker of the next job", { skip }, async () => {
  const setOptions = (url: string, body: Record<string, unknown>) =>
    fetch(`${url}/sdapi/v1/options`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const before = (await (await fetch(`${B}/sdapi/v1/options`)).json()) as Record<string, any>;
  assert.equal(before.CLIP_stop_at_last_layers, 1);
  // On an API-only node the checkpoint is recorded, not loaded; workers load it for their next job.
  const set = await setOptions(A, { CLIP_stop_at_last_layers: 2, sd_model_checkpoint: 'sub/other.safetensors' });
  assert.equal(set.status, 200, await set.text());
  const onB = (await (await fetch(`${B}/sdapi/v1/options`)).json()) as Record<string, any>;
  assert.deepEqual([onB.CLIP_stop_at_last_layers, onB.sd_model_checkpoint], [2, 'sub/other.safetensors']);
  for (const seed of [1, 2]) {
    const res = await submit(B, { steps: 2, seed });
    const done = await finished(A, ((await res.json()) as { id: string }).id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    const info = done.result.info as { infotexts: string[] };
    console.log(`# job on ${done.worker} after POST /options on A: ${info.infotexts[0].split('\n').at(-1)}`);
    assert.match(info.infotexts[0], /Clip skip: 2/);
    assert.match(info.infotexts[0], /Model: other/);
  }
  // Two nodes changing different keys at once lose neither.
  await Promise.all([setOptions(A, { CLIP_stop_at_last_layers: 1 }), setOptions(B, { eta_noise_seed_delta: 31337 })]);
  const both = (await (await fetch(`${A}/sdapi/v1/options`)).json()) as Record<string, any>;
  assert.deepEqual([both.CLIP_stop_at_last_layers, both.eta_noise_seed_delta], [1, 31337]);
  // Redis losing the settings (a restart without persistence) does not reset the cluster: the next node to look
  // seeds them again from what it held.
  const link = new RedisLink(`redis://127.0.0.1:${redisPort}/0`);
  await link.start();
  await link.send('DEL', ['sdapi:options', 'sdapi:options:version']);
  link.close();
  const kept = (await (await fetch(`${B}/sdapi/v1/options`)).json()) as Record<string, any>;
  assert.equal(kept.eta_noise_seed_delta, 31337);
  const onA = (await (await fetch(`${A}/sdapi/v1/options`)).json()) as Record<string, any>;
  assert.equal(onA.eta_noise_seed_delta, 31337, 'A reads the settings B seeded again');
  // A job's `override_settings_restore_afterwards: false` keeps its settings on every node, as on one A1111.
  const keeping = await submit(B, { steps: 2, override_settings: { CLIP_stop_at_last_layers: 3 }, override_settings_restore_afterwards: false });
  assert.equal((await finished(A, ((await keeping.json()) as { id: string }).id)).status, 'succeeded');
  const kept2 = await waitFor('the kept setting on A', async () => {
    const options = (await (await fetch(`${A}/sdapi/v1/options`)).json()) as Record<string, any>;
    return options.CLIP_stop_at_last_layers === 3 ? options : undefined;
  });
  assert.equal(kept2.CLIP_stop_at_last_layers, 3);
  await setOptions(B, { eta_noise_seed_delta: 0, CLIP_stop_at_last_layers: 1, sd_model_checkpoint: 'v1-5-pruned-emaonly.safetensors' });
});

test('a job submitted on node A is followed over SSE on node B, queued to succeeded, and its image is served by both', { skip }, async () => {
  const res = await submit(A, { steps: 10, seed: 7 });
  const { id } = (await res.json()) as { id: string };
  await job(B, id); // B's mirror has it (pub/sub delay)
  const stream = await fetch(`${B}/sdapi/v2/jobs/${id}/events`);
  const { events } = await collectEvents(stream);
  const names = events.map((e) => e.event);
  assert.equal(names[0], 'queued');
  assert.ok(names.includes('started') && names.includes('progress'), names.join(','));
  assert.equal(names.at(-1), 'succeeded');
  const ids = events.map((e) => e.id as number);
  assert.deepEqual(
    ids,
    [...ids].sort((x, y) => x - y),
    'event ids increase',
  );
  const [fromA, fromB] = await Promise.all([A, B].map(async (u) => Buffer.from(await (await fetch(`${u}/sdapi/v2/jobs/${id}/images/0`)).arrayBuffer())));
  assert.ok(fromA.length > 100 && fromA.equals(fromB));
});

test('sync /sdapi/v1/txt2img on an API-only node answers the A1111 body with the PNG and X-Job-Id', { skip }, async () => {
  const res = await fetch(`${B}/sdapi/v1/txt2img`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'sync', steps: 4, width: 64, height: 64, seed: 3 }),
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { images: string[]; info: string; parameters: Record<string, unknown> };
  assert.equal(body.images.length, 1);
  assert.equal(Buffer.from(body.images[0], 'base64').subarray(1, 4).toString(), 'PNG');
  assert.equal(JSON.parse(body.info).seed, 3);
  const id = res.headers.get('x-job-id') as string;
  assert.equal((await job(A, id)).status, 'succeeded');
});

test('a queued job cancelled on the other node never runs', { skip }, async () => {
  // 500 × 40 ms: both workers stay busy through the checks below on any machine; cancelled at the end.
  const blockers = await Promise.all([submit(A, { steps: 500 }), submit(A, { steps: 500 })]);
  const res = await submit(A, { steps: 4 }, { priority: -5 });
  const { id } = (await res.json()) as { id: string };
  // Waiting behind two 500-step jobs: an ETA from the workers' measured seconds per step, on the other node too.
  const queued = await waitFor('an ETA', async () => {
    const body = await job(B, id);
    return body.status === 'queued' && body.progress.eta_seconds > 0 ? body : undefined;
  });
  assert.ok(queued.queue_position >= 1, JSON.stringify(queued));
  const del = await fetch(`${B}/sdapi/v2/jobs/${id}`, { method: 'DELETE' });
  assert.equal(del.status, 200);
  assert.equal((await finished(A, id)).status, 'cancelled');
  for (const b of blockers) {
    const blocker = ((await b.json()) as { id: string }).id;
    await fetch(`${A}/sdapi/v2/jobs/${blocker}`, { method: 'DELETE' });
    await finished(A, blocker);
  }
});

test('/sdapi/v1/progress and /interrupt on an API-only node act on the running job submitted through it', { skip }, async () => {
  const res = await fetch(`${B}/sdapi/v2/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'txt2img', params: { prompt: 'long', steps: 80, width: 64, height: 64 } }),
  });
  const { id } = (await res.json()) as { id: string };
  const progress = await waitFor('progress on B', async () => {
    const body = (await (await fetch(`${B}/sdapi/v1/progress`)).json()) as Record<string, any>;
    return body.state.sampling_steps === 80 && body.state.sampling_step > 2 ? body : undefined;
  });
  assert.ok(progress.progress > 0 && progress.progress < 1, JSON.stringify(progress));
  assert.equal((await fetch(`${B}/sdapi/v1/interrupt`, { method: 'POST' })).status, 200);
  const done = await finished(A, id);
  assert.equal(done.status, 'succeeded');
  assert.equal(done.result.interrupted, true);
});

test('--max-queued-per-client 2 holds across API nodes: the third job is 429 on either node until one ends', { skip }, async () => {
  // Two more API nodes with the quota (A and B have none: the other tests submit many jobs from this address).
  const [C, D] = (await Promise.all([node('api', ['2']), node('api', ['2'])])).map((n) => n.info.url as string);
  const long = { steps: 200 }; // 200 × 40 ms: both still queued or running while the refusals below are asked
  const first = await submit(C, long);
  const second = await submit(D, long);
  assert.deepEqual([first.status, second.status], [202, 202]);
  const [id1, id2] = await Promise.all([first, second].map(async (r) => ((await r.json()) as { id: string }).id));
  for (const url of [C, D]) {
    const third = await submit(url, { steps: 2 });
    assert.equal(third.status, 429, `${url}: ${await third.text()}`);
    assert.match(third.headers.get('retry-after') ?? '', /^\d+$/);
    const sync = await fetch(`${url}/sdapi/v1/txt2img`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'sync', steps: 2, width: 64, height: 64 }),
    });
    assert.equal(sync.status, 429, 'a sync request takes a slot too');
  }
  // One ends (cancelled through node A, which has no quota; the worker running it writes the record): a slot is free.
  assert.equal((await fetch(`${A}/sdapi/v2/jobs/${id1}`, { method: 'DELETE' })).status, 202, 'a running job: cancel requested');
  assert.equal((await finished(A, id1)).status, 'cancelled');
  const short = await submit(D, { steps: 50 }); // 2 s: still queued or running while C counts it below
  assert.equal(short.status, 202, await short.clone().text());
  assert.equal((await submit(C, { steps: 2 })).status, 429, 'full again');
  // A worker finishing a job frees its slot too, whichever node it was submitted on.
  assert.equal((await finished(C, ((await short.json()) as { id: string }).id)).status, 'succeeded');
  const again = await submit(C, { steps: 2 });
  assert.equal(again.status, 202);
  await fetch(`${D}/sdapi/v2/jobs/${id2}`, { method: 'DELETE' });
  assert.equal((await finished(C, id2)).status, 'cancelled');
  assert.equal((await finished(C, ((await again.json()) as { id: string }).id)).status, 'succeeded');
  // The count lives in Redis with a TTL (a client that never comes back leaves nothing behind).
  const { Redis } = await import('ioredis');
  const redisClient = new Redis(redisPort, '127.0.0.1');
  const ttl = await redisClient.pttl('sdapi:quota:127.0.0.1');
  redisClient.disconnect();
  assert.ok(ttl > 0, `the quota key expires (PTTL ${ttl})`);
});

test('--results-dir: images are files in the shared folder, served by the API node; Redis holds none; a node with another folder is refused', {
  skip,
}, async () => {
  // A second cluster on database 1 of the same Redis, so the other tests' workers cannot take its job.
  const dir = mkdtempSync(join(tmpdir(), 'sdapi-results-dir-'));
  const shared = { db: 1, env: { SDAPI_RESULTS_DIR: dir } };
  const [api, worker] = await Promise.all([node('api', [], shared), node('worker', [], shared)]);
  try {
    const url = api.info.url as string;
    assert.equal((await submit(url, { steps: 2, seed: 5 }, { id: 'results.dir-1' })).status, 202);
    assert.equal((await finished(url, 'results.dir-1')).status, 'succeeded');
    const served = Buffer.from(await (await fetch(`${url}/sdapi/v2/jobs/results.dir-1/images/0`)).arrayBuffer());
    assert.deepEqual(served, readFileSync(join(dir, 'results%2Edir-1', '0.png')), 'the API node serves the file the worker wrote');
    const { Redis } = await import('ioredis');
    const db1 = new Redis(redisPort, '127.0.0.1', { db: 1 });
    try {
      assert.deepEqual(await db1.keys('sdapi:img:*'), [], 'no image bytes in Redis');
      assert.ok(await db1.exists('sdapi:job:results.dir-1'), 'the record is in Redis as always');
    } finally {
      db1.disconnect();
    }
    const elsewhere = mkdtempSync(join(tmpdir(), 'sdapi-results-other-'));
    await assert.rejects(node('worker', [], { db: 1, env: { SDAPI_RESULTS_DIR: elsewhere } }), /exited before it was ready/);
    assert.deepEqual(readdirSync(elsewhere), [], 'the refused node wrote nothing there');
  } finally {
    for (const n of [api, worker]) n.proc.kill('SIGKILL');
  }
});

test("Redis store: a run of position updates is one event, the newest, in the job's list and in every mirror", { skip }, async () => {
  const link = new RedisLink(`redis://127.0.0.1:${redisPort}/0`);
  await link.start();
  try {
    const [here, there] = [new RedisJobStore(link, 'node-here', 60_000), new RedisJobStore(link, 'node-there', 60_000)];
    const id = `positions-${process.pid}`;
    const record = { id, seq: 1, type: 'txt2img', source: 'v2', status: 'queued', priority: 0, createdAt: 0, startedAt: null, finishedAt: null } as const;
    await here.put(
      {
        ...record,
        attempts: 0,
        preview: 0,
        webhook: null,
        request: {},
        progress: { step: 0, steps: 0, fraction: 0, eta_seconds: null },
        result: null,
        error: null,
      },
      true,
    );
    await there.fetch(id);
    let eventId = 0;
    const emit = async (event: Partial<JobEvent> & Pick<JobEvent, 'event'>) => {
      const full = { id: ++eventId, job: id, time: '', ...event } as JobEvent;
      await here.appendEvent(full, false);
      there.apply({ node: 'node-here', event: full });
    };
    for (let position = 50; position >= 1; position--) await emit({ event: 'queued', position, queue_position: position });
    await emit({ event: 'started' });
    await emit({ event: 'queued', position: 1, queue_position: 1, reason: 'restarted' });
    const listed = ((await link.send('LRANGE', [`sdapi:ev:${id}`, 0, -1])) as string[]).map((e) => JSON.parse(e) as JobEvent);
    assert.deepEqual(
      listed.map((e) => [e.event, e.queue_position]),
      [
        ['queued', 1],
        ['started', undefined],
        ['queued', 1],
      ],
      'Redis keeps the newest of the run',
    );
    const later = new RedisJobStore(link, 'node-later', 60_000); // a node that loads the job from Redis afterwards
    await later.load();
    for (const store of [here, there, later]) {
      assert.deepEqual(
        store.events(id).map((e) => [e.event, e.queue_position]),
        [
          ['queued', 1],
          ['started', undefined],
          ['queued', 1],
        ],
        `${store.node}: the newest position`,
      );
    }
  } finally {
    link.close();
  }
});

test('quota slots of a node that died (no release, no renewal) expire with their lease; ended jobs are not counted', { skip }, async () => {
  const url = `redis://127.0.0.1:${redisPort}/0`;
  const [dead, alive] = [new RedisLink(url), new RedisLink(url)];
  await Promise.all([dead.start(), alive.start()]);
  const unavailable = () => new Error('unavailable') as never;
  const client = `lease-test-${process.pid}`;
  try {
    const lost = new RedisClientQuota(dead, 'dead-node', 2, unavailable, 300);
    await lost.admit(client);
    await lost.admit(client);
    dead.close(); // the node is gone: its two requests are never released nor renewed
    const other = new RedisClientQuota(alive, 'live-node', 2, unavailable, 300);
    await assert.rejects(other.admit(client), /2 waiting or running, at most 2/);
    await new Promise((r) => setTimeout(r, 400));
    await other.admit(client); // both leases expired
    // A job member counts while its record is queued or running: an unknown id (never stored, or swept) does not.
    await other.release(client, 'no-such-job');
    await other.admit(client);
    await other.admit(client);
    await assert.rejects(other.admit(client), /at most 2/);
    for (const quota of [other, other, lost, lost]) await quota.release(client); // stops their renewal timers
  } finally {
    alive.close();
  }
});

test('kill -9 of a worker mid-job: the job runs again on the other worker and succeeds with one result', { skip }, async () => {
  const res = await submit(A, { steps: 120, seed: 11 }); // 120 × 40 ms: seconds left when the kill comes
  const { id } = (await res.json()) as { id: string };
  const running = await waitFor('the job to run', async () => {
    const body = await job(A, id);
    return body.status === 'running' && body.progress.step > 2 ? body : undefined;
  });
  const victim = workers.find((w) => w.info.worker === running.worker);
  assert.ok(victim, `worker ${running.worker} is one of ours`);
  victim.proc.kill('SIGKILL');
  const done = await finished(A, id, 60_000);
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
  assert.notEqual(done.worker, running.worker);
  assert.equal(done.attempts, 2);
  assert.equal(done.result.images.length, 1);
  const { events } = await collectEvents(await fetch(`${B}/sdapi/v2/jobs/${id}/events`));
  assert.equal(events.filter((e) => e.event === 'succeeded').length, 1);
  workers = workers.filter((w) => w !== victim);
  workers.push(await node('worker'));
});

test('Redis killed and restarted (appendfsync always): no acknowledged job lost; 503 + Retry-After while it is away', { skip }, async () => {
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push(((await (await submit(B, { steps: 6, seed: 100 + i })).json()) as { id: string }).id);
  redis?.kill('SIGKILL');
  await new Promise((r) => redis?.once('exit', r));
  const down = await waitFor('a 503', async () => {
    const r = await submit(A, { steps: 2 });
    return r.status === 503 ? r : undefined;
  });
  assert.ok(Number(down.headers.get('retry-after')) > 0);
  // Settings cannot reach the other nodes meanwhile: the same 503, and GET /options still answers with this node's.
  const setting = await fetch(`${A}/sdapi/v1/options`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"eta_noise_seed_delta": 0}',
  });
  assert.equal(setting.status, 503, await setting.clone().text());
  assert.ok(Number(setting.headers.get('retry-after')) > 0);
  assert.equal((await fetch(`${A}/sdapi/v1/options`)).status, 200);
  await startRedis();
  const done = await Promise.all(ids.map((id) => finished(A, id, 90_000)));
  for (const d of done) assert.equal(d.status, 'succeeded', JSON.stringify(d.error));
  const again = await waitFor('submissions accepted again', async () => {
    const r = await submit(A, { steps: 2 });
    return r.status === 202 ? r : undefined;
  });
  assert.equal((await finished(B, ((await again.json()) as { id: string }).id)).status, 'succeeded');
});
