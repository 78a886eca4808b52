/**
 * The /sdapi/v2/jobs API over real HTTP with the fake generator (5 ms per step, so order, cancel and progress
 * are observable): submission, the same 422 as the sync route, ids, priorities, cancel, listing, images by URL,
 * and the A1111 routes' jobs in the same queue.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePng, encodePng } from '@sdapi/engine';
import { fakePixels } from './helpers/fake-generator.ts';
import { startTestServer } from './helpers/http.ts';

const server = await startTestServer();
server.generator.stepDelayMs = 5;
const SMALL = { width: 16, height: 8, steps: 4 };

async function submit(body: Record<string, unknown>) {
  const res = await server.request('/sdapi/v2/jobs', { method: 'POST', json: body });
  return { res, json: (await res.json()) as Record<string, any> };
}

async function getJob(id: string): Promise<Record<string, any>> {
  return (await server.request(`/sdapi/v2/jobs/${encodeURIComponent(id)}`)).json();
}

/** Polls until the job reaches one of `statuses` (bounded: 10 s). */
async function waitFor(id: string, statuses: string[]): Promise<Record<string, any>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const job = await getJob(id);
    if (statuses.includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} is still ${job.status}, wanted ${statuses.join('/')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('POST /sdapi/v2/jobs answers 202, Location and the queued job; it then succeeds with images by URL', async () => {
  const { res, json } = await submit({ type: 'txt2img', params: { prompt: 'a cat', seed: 11, batch_size: 2, ...SMALL } });
  assert.equal(res.status, 202);
  assert.equal(res.headers.get('location'), `/sdapi/v2/jobs/${json.id}`);
  assert.equal(res.headers.get('x-job-id'), json.id);
  assert.match(json.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(Object.keys(json).slice(0, 11), [
    'id',
    'type',
    'status',
    'queue_position',
    'priority',
    'created_at',
    'started_at',
    'finished_at',
    'progress',
    'result',
    'error',
  ]);
  assert.ok(['queued', 'running'].includes(json.status));
  const done = await waitFor(json.id, ['succeeded']);
  assert.deepEqual(done.progress, { step: 4, steps: 4, fraction: 1, eta_seconds: 0 });
  assert.equal(done.attempts, 1);
  assert.equal(done.result.images.length, 2);
  for (const [i, image] of done.result.images.entries()) {
    assert.deepEqual(
      { ...image, infotext: undefined },
      { index: i, url: `/sdapi/v2/jobs/${json.id}/images/${i}`, width: 16, height: 8, seed: 11 + i, subseed: 99 + i, infotext: undefined, mime: 'image/png' },
    );
    const img = await server.request(image.url);
    assert.equal(img.status, 200);
    assert.equal(img.headers.get('content-type'), 'image/png');
    const png = decodePng(Buffer.from(await img.arrayBuffer()));
    assert.deepEqual(png.rgb, fakePixels(11 + i, 16, 8), 'the exact pixels');
    assert.equal(png.text.parameters, image.infotext, 'the infotext chunk');
    assert.match(image.infotext, new RegExp(`^a cat\nSteps: 4, Sampler: Euler, .*Seed: ${11 + i}, Size: 16x8, `));
  }
  assert.equal(JSON.parse(JSON.stringify(done.result.info)).all_seeds.length, 2);
});

test('images: a strong ETag, 304 on If-None-Match, 404 past the last image', async () => {
  const { json } = await submit({ type: 'txt2img', params: { prompt: 'etag', seed: 3, ...SMALL } });
  const done = await waitFor(json.id, ['succeeded']);
  const url = done.result.images[0].url;
  const first = await server.request(url, { headers: { 'accept-encoding': 'gzip' } });
  const etag = first.headers.get('etag');
  assert.match(etag ?? '', /^"[0-9a-f]{32}"$/);
  assert.equal(first.headers.get('content-encoding'), null, 'PNG bytes are served as stored, never re-encoded');
  assert.equal(Number(first.headers.get('content-length')), (await first.arrayBuffer()).byteLength);
  const again = await server.request(url, { headers: { 'if-none-match': etag ?? '' } });
  assert.equal(again.status, 304);
  assert.equal((await server.request(`/sdapi/v2/jobs/${json.id}/images/1`)).status, 404);
});

test('result.parameters is the full effective request: replaying it gives the same pixels and infotext', async () => {
  const { json } = await submit({ type: 'txt2img', params: { prompt: 'replay', seed: -1, sampler_name: 'DPM++ 2M Karras', ...SMALL } });
  const done = await waitFor(json.id, ['succeeded']);
  const p = done.result.parameters;
  assert.equal(p.seed, 1234, 'the resolved seed, not -1');
  assert.deepEqual([p.sampler_name, p.scheduler], ['DPM++ 2M', 'Karras']);
  assert.match(p.override_settings.sd_model_checkpoint, /^v1-5-pruned-emaonly\.safetensors \[[0-9a-f]{10}\]$/, 'the model with its hash');
  assert.equal(p.override_settings.CLIP_stop_at_last_layers, 1);
  assert.equal(p.override_settings.randn_source, 'GPU');
  assert.equal(p.force_task_id, undefined);
  const replay = await submit({ type: 'txt2img', params: p });
  const again = await waitFor(replay.json.id, ['succeeded']);
  assert.equal(again.result.images[0].infotext, done.result.images[0].infotext);
  const bytes = async (job: Record<string, any>) => Buffer.from(await (await server.request(job.result.images[0].url)).arrayBuffer());
  assert.deepEqual(await bytes(again), await bytes(done));
});

test('invalid params: the same 422 body as the sync route, and nothing is queued', async () => {
  const before = server.generator.calls.length;
  const listed = (await (await server.request('/sdapi/v2/jobs?limit=500')).json()).jobs.length;
  for (const params of [{ steps: 'many' }, { sampler_name: 'Euler z' }, { enable_hr: true }]) {
    const sync = await server.request('/sdapi/v1/txt2img', { method: 'POST', json: params });
    const job = await submit({ type: 'txt2img', params });
    assert.equal(job.res.status, sync.status, JSON.stringify(params));
    assert.equal(job.res.status, 422);
    assert.deepEqual(job.json, await sync.json());
  }
  assert.equal(server.generator.calls.length, before);
  assert.equal((await (await server.request('/sdapi/v2/jobs?limit=500')).json()).jobs.length, listed, 'no job was stored');
});

test('bad job fields: type and webhook events name the choices; ids are checked; a used id is 409', async () => {
  const type = await submit({ type: 'txt2vid', params: {} });
  assert.equal(type.res.status, 422);
  assert.deepEqual(type.json.detail[0].loc, ['body', 'type']);
  assert.match(type.json.detail[0].msg, /permitted: 'txt2img', 'img2img', 'extra-single-image', 'extra-batch-images'/);
  const missing = await submit({ type: 'txt2img' });
  assert.equal(missing.res.status, 422);
  assert.deepEqual(missing.json.detail[0], { loc: ['body', 'params'], msg: 'field required', type: 'value_error.missing' });
  const badId = await submit({ type: 'txt2img', params: SMALL, id: 'a/b' });
  assert.equal(badId.res.status, 422);
  assert.match(badId.json.detail, /id "a\/b" is not a valid job id/);
  assert.equal((await submit({ type: 'txt2img', params: SMALL, id: '12345' })).res.status, 422, 'all digits (BullMQ would refuse it)');
  const first = await submit({ type: 'txt2img', params: SMALL, id: 'my-job.1' });
  assert.equal(first.res.status, 202);
  assert.equal(first.json.id, 'my-job.1');
  const again = await submit({ type: 'txt2img', params: SMALL, id: 'my-job.1' });
  assert.equal(again.res.status, 409);
  assert.match(again.json.detail, /job id "my-job.1" is already used/);
  const unknown = await server.request('/sdapi/v2/jobs/nope');
  assert.equal(unknown.status, 404);
  assert.match((await unknown.json()).detail, /no job with id "nope"/);
});

test('higher priority runs first, FIFO within a priority; queue_position and pending-tasks follow the queue', async () => {
  // 1000 steps × 5 ms: still running while the jobs below are submitted and read, even on a loaded machine; cancelled after.
  const blocker = await submit({ type: 'txt2img', params: { prompt: 'blocker', ...SMALL, steps: 1000 } });
  await waitFor(blocker.json.id, ['running']);
  const order = [
    ['low-1', 0],
    ['low-2', 0],
    ['high-1', 5],
    ['low-3', 0],
    ['high-2', 5],
    ['urgent', 9],
  ] as const;
  for (const [prompt, priority] of order) await submit({ type: 'txt2img', params: { prompt, ...SMALL }, priority, id: `prio-${prompt}` });
  const expected = ['urgent', 'high-1', 'high-2', 'low-1', 'low-2', 'low-3'];
  const pending = await (await server.request('/internal/pending-tasks')).json();
  assert.deepEqual(pending, { size: 6, tasks: expected.map((p) => `prio-${p}`) });
  assert.equal((await getJob('prio-low-2')).queue_position, 5);
  assert.equal((await getJob(blocker.json.id)).queue_position, null, 'running: not in the queue');
  const start = server.generator.calls.length;
  assert.equal((await server.request(`/sdapi/v2/jobs/${blocker.json.id}`, { method: 'DELETE' })).status, 202);
  await waitFor('prio-low-3', ['succeeded']);
  assert.deepEqual(
    server.generator.calls.slice(start).map((c) => c.prompt),
    expected,
  );
});

test('DELETE: a queued job is cancelled at once, a running one within a step, a finished one is 409', async () => {
  const running = await submit({ type: 'txt2img', params: { prompt: 'long', ...SMALL, steps: 1000 } });
  const queued = await submit({ type: 'txt2img', params: { prompt: 'never runs', ...SMALL } });
  await waitFor(running.json.id, ['running']);
  const calls = server.generator.calls.length;
  const q = await server.request(`/sdapi/v2/jobs/${queued.json.id}`, { method: 'DELETE' });
  assert.equal(q.status, 200);
  assert.equal((await q.json()).status, 'cancelled');
  const t0 = Date.now();
  const r = await server.request(`/sdapi/v2/jobs/${running.json.id}`, { method: 'DELETE' });
  assert.equal(r.status, 202, 'accepted: it stops at the next step');
  const cancelled = await waitFor(running.json.id, ['cancelled', 'succeeded', 'failed']);
  assert.equal(cancelled.status, 'cancelled');
  // The job takes at least 5 s (1000 steps × 5 ms); a DELETE that did not stop it would wait that long. The bounds
  // are loose because a loaded machine slows the test's own requests too.
  const ran = Date.parse(cancelled.finished_at) - Date.parse(cancelled.started_at);
  console.log(`# cancelled after ${Date.now() - t0} ms; the job ran ${ran} ms of the ≥ 5000 ms its steps take`);
  assert.ok(Date.now() - t0 < 4000, `stopped soon after the DELETE (${Date.now() - t0} ms)`);
  assert.ok(ran < 4000, `stopped early: ran ${ran} ms`);
  assert.equal(cancelled.result, null);
  assert.equal(server.generator.calls.length, calls, 'the cancelled queued job never ran');
  const late = await server.request(`/sdapi/v2/jobs/${running.json.id}`, { method: 'DELETE' });
  assert.equal(late.status, 409);
  assert.match((await late.json()).detail, /already finished \(status: cancelled\)/);
  assert.equal((await server.request('/sdapi/v2/jobs/nope', { method: 'DELETE' })).status, 404);
});

test('GET /sdapi/v2/jobs: newest first, filters by status and type, cursor pages without overlap', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await submit({ type: 'txt2img', params: { prompt: `page ${i}`, ...SMALL, steps: 1 } })).json.id);
  await waitFor(ids[4], ['succeeded']);
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `status=succeeded&type=txt2img&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
    const page = (await (await server.request(`/sdapi/v2/jobs?${query}`)).json()) as { jobs: { id: string; status: string }[]; next_cursor: string | null };
    assert.ok(page.jobs.length <= 2);
    for (const job of page.jobs) assert.equal(job.status, 'succeeded');
    seen.push(...page.jobs.map((j) => j.id));
    cursor = page.next_cursor;
  } while (cursor);
  assert.equal(new Set(seen).size, seen.length, 'no job twice');
  assert.deepEqual(seen.slice(0, 5), [...ids].reverse(), 'newest first');
  const bad = await server.request('/sdapi/v2/jobs?status=done');
  assert.equal(bad.status, 422);
  assert.match((await bad.json()).detail[0].msg, /permitted: queued, running, succeeded, failed, cancelled/);
  assert.equal((await server.request('/sdapi/v2/jobs?cursor=xyz')).status, 422);
});

test('the sync route is a job too: X-Job-Id, force_task_id, A1111 default task ids, the same stored images', async () => {
  const res = await server.request('/sdapi/v1/txt2img', { method: 'POST', json: { prompt: 'sync', seed: 5, ...SMALL, force_task_id: 'task(mine)' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-job-id'), 'task(mine)');
  const body = await res.json();
  const job = await getJob('task(mine)');
  assert.deepEqual([job.status, job.source, job.type], ['succeeded', 'sdapi', 'txt2img']);
  const stored = Buffer.from(await (await server.request(job.result.images[0].url)).arrayBuffer());
  assert.equal(stored.toString('base64'), body.images[0], 'the same PNG bytes as the sync response');
  const plain = await server.request('/sdapi/v1/txt2img', { method: 'POST', json: { prompt: 'sync', ...SMALL } });
  assert.match(plain.headers.get('x-job-id') ?? '', /^task\(txt2img-[A-Z0-9]{7}\)$/);
  const reused = await server.request('/sdapi/v1/txt2img', { method: 'POST', json: { prompt: 'sync', ...SMALL, force_task_id: 'task(mine)' } });
  assert.equal(reused.status, 409, 'deviation: A1111 accepts a reused task id; ours names a stored job');
});

test('a sync /sdapi/v1/txt2img and a v2 job share the one queue: one waits for the other, progress agrees', async () => {
  // 1000 steps × 5 ms: running through every check below even on a loaded machine; cancelled once they are done.
  const job = await submit({ type: 'txt2img', params: { prompt: 'v2 first', ...SMALL, steps: 1000 } });
  await waitFor(job.json.id, ['running']);
  const calls = server.generator.calls.length;
  const sync = server.request('/sdapi/v1/txt2img', { method: 'POST', json: { prompt: 'sync second', ...SMALL, force_task_id: 'task(second)' } });
  const deadline = Date.now() + 5000;
  let pending = await (await server.request('/internal/pending-tasks')).json();
  while (pending.size === 0 && Date.now() < deadline) pending = await (await server.request('/internal/pending-tasks')).json();
  assert.deepEqual(pending.tasks, ['task(second)'], 'the sync job waits behind the running v2 job');
  const running = await getJob(job.json.id);
  const progress = await (await server.request('/sdapi/v1/progress')).json();
  assert.equal(running.status, 'running');
  assert.deepEqual([progress.state.job, progress.state.sampling_steps, running.progress.steps], ['scripts_txt2img', 1000, 1000]);
  assert.ok(progress.state.sampling_step >= running.progress.step, `v1 step ${progress.state.sampling_step} read after job step ${running.progress.step}`);
  const internal = await (await server.request('/internal/progress', { method: 'POST', json: { id_task: 'task(second)' } })).json();
  assert.deepEqual([internal.active, internal.queued, internal.textinfo], [false, true, 'In queue: 1/1']);
  assert.equal((await server.request(`/sdapi/v2/jobs/${job.json.id}`, { method: 'DELETE' })).status, 202);
  assert.equal((await sync).status, 200);
  assert.deepEqual(
    server.generator.calls.slice(calls - 1).map((c) => c.prompt),
    ['v2 first', 'sync second'],
    'one after the other',
  );
  assert.equal((await getJob('task(second)')).status, 'succeeded');
});

test('GET /sdapi/v2/capabilities: models, samplers, schedulers, job types, features and limits', async () => {
  const caps = await (await server.request('/sdapi/v2/capabilities')).json();
  assert.equal(caps.version, '0.1.0');
  assert.equal(caps.a1111_version, 'v1.10.1');
  assert.equal(caps.models.available.length, 2);
  assert.ok(caps.samplers.includes('Euler a') && caps.schedulers.includes('Karras'));
  assert.deepEqual(caps.job_types, ['txt2img', 'img2img', 'extra-single-image', 'extra-batch-images']);
  assert.ok(caps.upscalers.includes('Latent') && caps.upscalers.includes('Lanczos'));
  assert.ok(Array.isArray(caps.networks));
  assert.equal(caps.features.jobs, true);
  assert.equal(caps.features.previews, true);
  assert.equal(caps.features.durable_jobs, false, 'no data dir: jobs live in memory');
  assert.equal(caps.limits.body_limit_bytes, 256 * 1024 * 1024);
  assert.equal(caps.limits.jobs_retention_count, 1000);
});

test('img2img is a job too: the sync route answers X-Job-Id, a v2 img2img job validates like the route; init images are not kept', async () => {
  const init = encodePng(fakePixels(1, 16, 8), 16, 8).toString('base64');
  const sync = await server.request('/sdapi/v1/img2img', { method: 'POST', json: { prompt: 'i2i', init_images: [init], seed: 4, ...SMALL } });
  assert.equal(sync.status, 200);
  const syncJob = await getJob(sync.headers.get('x-job-id') ?? '');
  assert.deepEqual([syncJob.type, syncJob.status], ['img2img', 'succeeded']);
  const { res, json } = await submit({ type: 'img2img', params: { prompt: 'i2i', init_images: [init], seed: 4, ...SMALL } });
  assert.equal(res.status, 202);
  const done = await waitFor(json.id, ['succeeded']);
  const stored = Buffer.from(await (await server.request(done.result.images[0].url)).arrayBuffer());
  assert.equal(stored.toString('base64'), (await sync.json()).images[0], 'the same image as the sync route');
  assert.equal(done.result.parameters.init_images, null, 'dropped once done, as A1111 echoes it');
  assert.equal(done.result.parameters.seed, 4);
  const badImage = await submit({ type: 'img2img', params: { init_images: ['not an image'], ...SMALL } });
  const badSync = await server.request('/sdapi/v1/img2img', { method: 'POST', json: { init_images: ['not an image'], ...SMALL } });
  assert.equal(badImage.res.status, badSync.status);
  assert.deepEqual(badImage.json, await badSync.json());
});

test('two submissions racing for one id: exactly one gets it, the other a 409', async () => {
  const [a, b] = await Promise.all([0, 1].map((i) => submit({ type: 'txt2img', params: { prompt: `race ${i}`, ...SMALL }, id: 'raced-id' })));
  assert.deepEqual([a.res.status, b.res.status].sort(), [202, 409]);
  const winner = a.res.status === 202 ? a.json : b.json;
  assert.equal((await waitFor('raced-id', ['succeeded'])).created_at, winner.created_at, 'the stored job is the one that got 202');
});
