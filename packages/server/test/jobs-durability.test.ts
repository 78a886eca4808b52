/**
 * Jobs survive the process: a graceful restart keeps queued and finished jobs (new buildApp on the same data
 * dir); after SIGKILL of a child server mid-job the job runs once more, and after a second SIGKILL it fails with
 * the reason while the job queued behind it runs. Also the store itself: journal replay, a torn last line,
 * compaction, and the retention sweep by count and age.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildApp } from '../src/index.ts';
import { EmbeddedJobStore } from '../src/services/jobs/embedded-store.ts';
import type { JobRecord } from '../src/services/jobs/types.ts';
import { FakeGenerator } from './helpers/fake-generator.ts';
import { startJobServerChild } from './helpers/job-server.ts';

const SMALL = { width: 16, height: 8 };

async function api(url: string, path: string, init: { method?: string; json?: unknown } = {}) {
  const res = await fetch(url + path, {
    method: init.method ?? 'GET',
    headers: { 'content-type': 'application/json' },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

async function waitFor(url: string, id: string, statuses: string[]): Promise<Record<string, any>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { json } = await api(url, `/sdapi/v2/jobs/${encodeURIComponent(id)}`);
    if (statuses.includes(json.status)) return json;
    if (Date.now() > deadline) throw new Error(`job ${id} is ${json.status}, wanted ${statuses.join('/')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startApp(dataDir: string, stepDelayMs: number) {
  const generator = new FakeGenerator();
  generator.stepDelayMs = stepDelayMs;
  const app = await buildApp({ generator, dataDir });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url, generator };
}

test('graceful restart: queued, running and finished jobs survive a new buildApp on the same data dir', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-jobs-'));
  const one = await startApp(dataDir, 10);
  const done = await api(one.url, '/sdapi/v2/jobs', { method: 'POST', json: { type: 'txt2img', params: { prompt: 'done', seed: 1, steps: 1, ...SMALL } } });
  await waitFor(one.url, done.json.id, ['succeeded']);
  const image = Buffer.from(await (await fetch(`${one.url}/sdapi/v2/jobs/${done.json.id}/images/0`)).arrayBuffer());
  const running = await api(one.url, '/sdapi/v2/jobs', {
    method: 'POST',
    json: { type: 'txt2img', params: { prompt: 'long', steps: 300, ...SMALL }, id: 'long-one' },
  });
  await api(one.url, '/sdapi/v2/jobs', {
    method: 'POST',
    json: { type: 'txt2img', params: { prompt: 'queued', steps: 2, ...SMALL }, priority: 3, id: 'queued-one' },
  });
  await waitFor(one.url, running.json.id, ['running']);
  const lastEvent = (await api(one.url, `/sdapi/v2/jobs/${done.json.id}`)).json;
  await one.app.close();

  const two = await startApp(dataDir, 0);
  after(() => two.app.close());
  const restored = await waitFor(two.url, 'queued-one', ['succeeded']);
  assert.equal(restored.priority, 3);
  const longOne = await waitFor(two.url, 'long-one', ['succeeded']);
  assert.equal(longOne.attempts, 1, 'a graceful stop does not count as an attempt');
  assert.deepEqual(
    two.generator.calls.map((c) => c.prompt),
    ['queued', 'long'],
    'priority order kept across the restart',
  );
  const kept = (await api(two.url, `/sdapi/v2/jobs/${done.json.id}`)).json;
  assert.deepEqual(kept, lastEvent, 'the finished job is unchanged');
  assert.deepEqual(Buffer.from(await (await fetch(`${two.url}/sdapi/v2/jobs/${done.json.id}/images/0`)).arrayBuffer()), image);
  const events = await (await fetch(`${two.url}/sdapi/v2/jobs/long-one/events`)).text();
  const ids = [...events.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  assert.deepEqual(
    ids,
    [...ids].sort((a, b) => a - b),
    'event ids keep increasing across the restart',
  );
  assert.match(events, /the server shut down while the job ran; it runs again after the restart/);
});

async function kill9(proc: ChildProcess): Promise<void> {
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await exited;
}

test('kill -9 mid-job: the job runs once more; killed again, it fails with the reason and the queued job runs', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-crash-'));
  const first = await startJobServerChild(dataDir, 20);
  await api(first.url, '/sdapi/v2/jobs', { method: 'POST', json: { type: 'txt2img', params: { prompt: 'crashy', steps: 500, ...SMALL }, id: 'crashy' } });
  await api(first.url, '/sdapi/v2/jobs', { method: 'POST', json: { type: 'txt2img', params: { prompt: 'behind', steps: 2, ...SMALL }, id: 'behind' } });
  await waitFor(first.url, 'crashy', ['running']);
  await kill9(first.proc);

  const second = await startJobServerChild(dataDir, 20);
  const retried = await waitFor(second.url, 'crashy', ['running']);
  assert.equal(retried.attempts, 2, 're-queued once after the crash');
  assert.equal((await api(second.url, '/sdapi/v2/jobs/behind')).json.status, 'queued');
  await kill9(second.proc);
  appendFileSync(join(dataDir, 'jobs', 'journal.jsonl'), '{"job":{"id":"torn'); // a write cut off by the crash

  const third = await startApp(dataDir, 0);
  after(() => third.app.close());
  const failed = (await api(third.url, '/sdapi/v2/jobs/crashy')).json;
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error.code, 'INTERRUPTED');
  assert.match(failed.error.message, /the server stopped while this job was running, 2 times; it is not retried again/);
  const history = await (await fetch(`${third.url}/sdapi/v2/jobs/crashy/events`)).text();
  const names = [...history.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]).filter((n) => n !== 'progress');
  assert.deepEqual(names, ['queued', 'started', 'queued', 'started', 'failed']);
  assert.match(history, /"reason":"the server stopped while the job was running; it runs once more"/);
  const behind = await waitFor(third.url, 'behind', ['succeeded']);
  assert.equal(behind.attempts, 1);
  assert.deepEqual(
    third.generator.calls.map((c) => c.prompt),
    ['behind'],
    'nothing runs twice: only the waiting job ran',
  );
});

const record = (id: string, seq: number, finishedAt: number | null, status: JobRecord['status'] = 'succeeded'): JobRecord => ({
  id,
  seq,
  type: 'txt2img',
  source: 'v2',
  status,
  priority: 0,
  createdAt: seq,
  startedAt: null,
  finishedAt,
  attempts: 1,
  preview: 0,
  webhook: null,
  request: { prompt: id },
  progress: { step: 0, steps: 0, fraction: 0, eta_seconds: null },
  result: null,
  error: null,
});

test('store: the journal replays, survives a torn line, is compacted on open, and the sweep keeps count and age', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdapi-store-'));
  const store = new EmbeddedJobStore(dir);
  await store.open();
  const day = 24 * 3600_000;
  const now = 100 * day;
  for (let i = 1; i <= 6; i++) {
    const r = record(`job-${i}`, i, now - (7 - i) * day);
    await store.put(r, true);
    await store.appendEvent({ id: i * 10, job: r.id, event: 'succeeded', time: '' }, true);
    await store.writeImage(r, 0, new Uint8Array([i]));
  }
  await store.put(record('waiting', 7, null, 'queued'), true);
  // Count 4 keeps the 4 newest finished; age 4.5 days also drops job-2 (finished 5 days ago).
  const removed = await store.sweep({ maxCount: 4, maxAgeMs: 4.5 * day }, now);
  assert.deepEqual(removed.sort(), ['job-1', 'job-2']);
  assert.deepEqual(readdirSync(join(dir, 'images')).sort(), ['3', '4', '5', '6'], 'their images are deleted');
  await store.close();
  appendFileSync(join(dir, 'journal.jsonl'), '{"event":{"id":999,');

  const reopened = new EmbeddedJobStore(dir);
  const { jobs, lastEventId, lastSeq } = await reopened.open();
  assert.deepEqual(
    jobs.map((j) => j.id),
    ['job-3', 'job-4', 'job-5', 'job-6', 'waiting'],
  );
  assert.deepEqual([lastEventId, lastSeq], [60, 7]);
  assert.deepEqual(
    reopened.events('job-5').map((e) => e.id),
    [50],
  );
  assert.deepEqual([...((await reopened.readImage(jobs[0], 0)) ?? [])], [3]);
  const lines = readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 1 + 5 + 4, 'compacted: counters, 5 jobs, 4 events; no torn line, no removals');
  assert.ok(!existsSync(join(dir, 'journal.jsonl.tmp')));
  await reopened.sweep({ maxCount: 0, maxAgeMs: day }, now);
  await reopened.close();
  const last = new EmbeddedJobStore(dir);
  const after2 = await last.open();
  assert.deepEqual(
    after2.jobs.map((j) => j.id),
    ['waiting'],
    'only the unfinished job is left',
  );
  assert.deepEqual([after2.lastEventId, after2.lastSeq], [60, 7], 'counters survive the removal of the newest jobs');
  await last.close();
});

test('store: a position update replaces the one before it (one per run of moves, live and after a reopen); a re-queue reason stays', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdapi-store-positions-'));
  const store = new EmbeddedJobStore(dir);
  await store.open();
  await store.put(record('deep', 1, null, 'queued'), true);
  let id = 0;
  const queued = (position: number, reason?: string) => ({
    id: ++id,
    job: 'deep',
    event: 'queued' as const,
    time: '',
    position,
    queue_position: position,
    ...(reason ? { reason } : {}),
  });
  // 500 jobs ahead start one by one: 500 position updates.
  for (let position = 500; position >= 1; position--) await store.appendEvent(queued(position), false);
  await store.appendEvent({ id: ++id, job: 'deep', event: 'started', time: '' }, false);
  await store.appendEvent(queued(1, 'the server shut down while the job ran; it runs again after the restart'), true);
  await store.appendEvent(queued(2), false);
  await store.appendEvent(queued(1), false);
  const summary = (events: ReturnType<typeof store.events>) =>
    events.map((e) => `${e.event}${e.queue_position ? ` ${e.queue_position}` : ''}${e.reason ? ' (reason)' : ''}`);
  const expected = ['queued 1', 'started', 'queued 1 (reason)', 'queued 1'];
  assert.deepEqual(summary(store.events('deep')), expected);
  assert.deepEqual(
    store.events('deep', 500).map((e) => e.id),
    [501, 502, 504],
    'a replay after an id gets the newest position',
  );
  await store.close();
  const reopened = new EmbeddedJobStore(dir);
  await reopened.open();
  assert.deepEqual(summary(reopened.events('deep')), expected, 'the journal replays to the same log');
  const lines = readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 1 + 1 + expected.length, 'compacted on open: counters, the job, its 4 events');
  await reopened.close();
});

test('--jobs-retention COUNT[,AGE] parses counts and ages with units; bad values name the flag', async () => {
  const { parseRetention } = await import('../src/index.ts');
  assert.deepEqual(parseRetention('1000,7d'), { maxCount: 1000, maxAgeMs: 7 * 86_400_000 });
  assert.deepEqual(parseRetention('5'), { maxCount: 5, maxAgeMs: 7 * 86_400_000 });
  assert.deepEqual(parseRetention('0, 90m'), { maxCount: 0, maxAgeMs: 90 * 60_000 });
  assert.deepEqual(parseRetention('20,1.5h'), { maxCount: 20, maxAgeMs: 1.5 * 3_600_000 });
  for (const bad of ['', 'lots', '10,7', '10,7w', '-1']) assert.throws(() => parseRetention(bad), /--jobs-retention must be COUNT or COUNT,AGE/);
});

test('a server that never queues a job writes no jobs folder', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-nojobs-'));
  const idle = await startApp(dataDir, 0);
  assert.equal((await api(idle.url, '/sdapi/v2/jobs')).status, 200);
  await idle.app.close();
  assert.equal(existsSync(join(dataDir, 'jobs')), false);
});
