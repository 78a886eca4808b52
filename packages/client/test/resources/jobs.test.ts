/**
 * `client.jobs` against the in-process sdapi server: create/retrieve/list/cancel, image content, and the events
 * iterator over SSE, including a resume with Last-Event-ID after the stream is cut mid-job.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConflictError, type JobEvent, NotFoundError, SDClient, UnprocessableEntityError } from '../../src/index.ts';
import { startServer } from '../helpers/server.ts';

const { url, generator } = await startServer();
generator.stepDelayMs = 3;
const sd = new SDClient({ baseURL: url, maxRetries: 0 });
const SMALL = { width: 16, height: 8, steps: 4 };

test('jobs.create with only required params, then events to the end and the image bytes', async () => {
  const job = await sd.jobs.create({ type: 'txt2img', params: { prompt: 'a cat', ...SMALL } });
  assert.equal(job.type, 'txt2img');
  const events: JobEvent[] = [];
  for await (const e of sd.jobs.events(job.id)) events.push(e);
  assert.equal(events[0].event, 'queued');
  assert.equal(events.at(-1)?.event, 'succeeded');
  const done = await sd.jobs.retrieve(job.id);
  assert.equal(done.status, 'succeeded');
  const bytes = await sd.jobs.content(job.id, 0);
  assert.deepEqual([...bytes.slice(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
  assert.equal(bytes.length, Number((await fetch(url + (done.result?.images[0].url ?? ''))).headers.get('content-length')));
});

test('jobs.create with every optional param; list filters and pages; cancel; typed errors', async () => {
  const blocker = await sd.jobs.create({ type: 'txt2img', params: { prompt: 'blocker', ...SMALL, steps: 100 } });
  const job = await sd.jobs.create({ type: 'txt2img', params: { prompt: 'opts', ...SMALL }, id: 'client-opts', priority: 2, preview: false, webhook: null });
  assert.deepEqual([job.id, job.priority, job.status], ['client-opts', 2, 'queued']);
  const page = await sd.jobs.list({ status: ['queued'], type: 'txt2img', limit: 1 });
  assert.deepEqual(
    page.jobs.map((j) => j.id),
    ['client-opts'],
  );
  const cancelled = await sd.jobs.cancel('client-opts');
  assert.equal(cancelled.status, 'cancelled');
  await assert.rejects(async () => sd.jobs.cancel('client-opts'), ConflictError);
  await assert.rejects(async () => sd.jobs.retrieve('missing'), NotFoundError);
  await assert.rejects(async () => sd.jobs.create({ type: 'txt2img', params: { steps: 'x' } }), UnprocessableEntityError);
  await sd.jobs.cancel(blocker.id);
  assert.equal((await sd.jobs.wait(blocker.id)).status, 'cancelled');
  const all = await sd.jobs.list({ limit: 2 });
  assert.equal(all.jobs.length, 2);
  assert.ok(all.next_cursor);
  const next = await sd.jobs.list({ limit: 2, cursor: all.next_cursor ?? undefined });
  assert.ok(next.jobs.every((j) => !all.jobs.some((k) => k.id === j.id)));
});

test('jobs.events resumes with Last-Event-ID when the stream is cut: nothing lost, nothing twice', async () => {
  const seenHeaders: (string | null)[] = [];
  let cut = false;
  const cuttingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (!String(input).endsWith('/events')) return response;
    seenHeaders.push(new Headers(init?.headers).get('last-event-id'));
    if (cut || !response.body) return response;
    cut = true;
    // Pass two frames through, then fail the body as a dropped connection does.
    const reader = response.body.getReader();
    let frames = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        frames += new TextDecoder().decode(value).split('\n\n').length - 1;
        controller.enqueue(value);
        if (frames >= 3) {
          await reader.cancel();
          controller.error(new TypeError('terminated'));
        }
      },
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  const client = new SDClient({ baseURL: url, maxRetries: 0, fetch: cuttingFetch });
  const job = await client.jobs.create({ type: 'txt2img', params: { prompt: 'resume', ...SMALL, steps: 20 } });
  const events: JobEvent[] = [];
  for await (const e of client.jobs.events(job.id)) events.push(e);
  assert.equal(seenHeaders.length, 2, 'one reconnection');
  assert.equal(seenHeaders[0], '0');
  assert.ok(Number(seenHeaders[1]) > 0, 'the reconnection sent the last id seen');
  const full: JobEvent[] = [];
  for await (const e of sd.jobs.events(job.id)) full.push(e);
  assert.deepEqual(events, full);
});
