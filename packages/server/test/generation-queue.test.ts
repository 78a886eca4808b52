import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GenerationHooks } from '@sdapi/engine';
import { GenerationQueue, jobTimestamp } from '../src/services/generation-queue.ts';

/** A job that parks until released, exposing the hooks the queue gave it. */
function parkedJob(jobCount = 2) {
  let release: (v: string) => void = () => {};
  let hooks: GenerationHooks = {};
  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const job = {
    name: 'scripts_txt2img',
    jobCount,
    run: (h: GenerationHooks) => {
      hooks = h;
      markStarted();
      return new Promise<string>((r) => {
        release = r;
      });
    },
  };
  return { job, started, release: (v: string) => release(v), hooks: () => hooks };
}

test('progress: A1111 formula with the 0.01 floor, eta from elapsed time; idle after the job', async () => {
  let now = Date.UTC(2024, 6, 27, 10, 0, 0);
  const queue = new GenerationQueue({ now: () => now });
  const p = parkedJob(4);
  const done = queue.submit(p.job);
  await p.started;
  now += 3000;
  p.hooks().onProgress?.({ jobNo: 1, jobCount: 4, samplingStep: 10, samplingSteps: 20 });
  const busy = queue.progress();
  const expected = 0.01 + 1 / 4 + (1 / 4) * (10 / 20);
  assert.equal(busy.progress, expected);
  assert.ok(Math.abs(busy.eta_relative - (3 / expected - 3)) < 1e-12);
  assert.equal(busy.state.job, 'Batch 2 out of 4');
  assert.equal(busy.state.job_timestamp, jobTimestamp(new Date(Date.UTC(2024, 6, 27, 10, 0, 0))));
  p.release('ok');
  assert.equal(await done, 'ok');
  const idle = queue.progress();
  assert.deepEqual([idle.progress, idle.eta_relative, idle.state.job_count, idle.state.job], [0, 0, 0, '']);
  assert.deepEqual([idle.state.job_no, idle.state.sampling_step], [1, 10], 'last values are kept until the next job');
});

test('interrupt aborts the running job signal only; flags reset when the next job starts', async () => {
  const queue = new GenerationQueue();
  const first = parkedJob();
  const second = parkedJob();
  const a = queue.submit(first.job);
  const b = queue.submit(second.job);
  await first.started;
  queue.interrupt();
  assert.equal(first.hooks().signal?.aborted, true);
  assert.equal(queue.progress().state.interrupted, true);
  first.release('a');
  await second.started;
  assert.equal(second.hooks().signal?.aborted, false);
  assert.equal(queue.progress().state.interrupted, false);
  second.release('b');
  assert.deepEqual(await Promise.all([a, b]), ['a', 'b']);
});

test('skip aborts the current batch signal; the next batch gets a fresh one and the flag clears', async () => {
  const queue = new GenerationQueue();
  const p = parkedJob();
  const done = queue.submit(p.job);
  await p.started;
  const batch1 = p.hooks().skipSignal?.();
  queue.skip();
  assert.equal(batch1?.aborted, true);
  assert.equal(queue.progress().state.skipped, true);
  const batch2 = p.hooks().skipSignal?.();
  assert.equal(batch2?.aborted, false);
  assert.equal(queue.progress().state.skipped, false);
  p.release('x');
  await done;
});

test('maxPending bounds the waiting jobs with QUEUE_FULL and a Retry-After header', async () => {
  const queue = new GenerationQueue({ maxPending: 1, retryAfterSeconds: 7 });
  const running = parkedJob();
  const waiting = parkedJob();
  const a = queue.submit(running.job);
  const b = queue.submit(waiting.job);
  await running.started;
  await assert.rejects(
    queue.submit(parkedJob().job),
    (e: { code: string; headers: Record<string, string> }) => e.code === 'QUEUE_FULL' && e.headers['Retry-After'] === '7',
  );
  running.release('a');
  await waiting.started;
  waiting.release('b');
  await Promise.all([a, b]);
});

test('a failing job does not block the queue', async () => {
  const queue = new GenerationQueue();
  await assert.rejects(queue.submit({ name: 'x', jobCount: 1, run: async () => Promise.reject(new Error('boom')) }), /boom/);
  assert.equal(await queue.submit({ name: 'y', jobCount: 1, run: async () => 'fine' }), 'fine');
});

test('priorities: higher first, FIFO within a priority; the running job is never pre-empted', async () => {
  const queue = new GenerationQueue();
  const order: string[] = [];
  const first = parkedJob();
  const running = queue.submit({ ...first.job, id: 'running' });
  await first.started;
  const job = (id: string, priority?: number) => queue.submit({ name: id, jobCount: 1, id, priority, run: async () => void order.push(id) });
  const all = [job('a'), job('b', 5), job('c'), job('d', 5), job('e', -1), job('f', 10)];
  assert.deepEqual(queue.waitingIds(), ['f', 'b', 'd', 'a', 'c', 'e']);
  assert.equal(queue.runningId(), 'running');
  first.release('x');
  await Promise.all([running, ...all]);
  assert.deepEqual(order, ['f', 'b', 'd', 'a', 'c', 'e']);
  assert.equal(queue.runningId(), null);
});

test('cancel removes a waiting job (CANCELLED) and leaves the others; close rejects the rest', async () => {
  const queue = new GenerationQueue();
  const first = parkedJob();
  const running = queue.submit({ ...first.job, id: 'r' });
  await first.started;
  const a = queue.submit({ name: 'a', jobCount: 1, id: 'a', run: async () => 'a' });
  const b = queue.submit({ name: 'b', jobCount: 1, id: 'b', run: async () => 'b' });
  assert.equal(queue.cancel('a'), true);
  assert.equal(queue.cancel('a'), false, 'only once');
  assert.equal(queue.cancel('r'), false, 'a running job is not waiting');
  await assert.rejects(a, (e: { code: string }) => e.code === 'CANCELLED');
  queue.close();
  await assert.rejects(b, (e: { code: string }) => e.code === 'SHUTTING_DOWN');
  await assert.rejects(queue.submit(parkedJob().job), (e: { code: string }) => e.code === 'SHUTTING_DOWN');
  first.release('r');
  assert.equal(await running, 'r', 'the running job finishes');
});
