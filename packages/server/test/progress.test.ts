import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestServer, type TestServer } from './helpers/http.ts';

const IDLE_FRESH =
  '{"progress":0.0,"eta_relative":0.0,"state":{"skipped":false,"interrupted":false,"stopping_generation":false,"job":"","job_count":0,"job_timestamp":"0","job_no":0,"sampling_step":0,"sampling_steps":0},"current_image":null,"textinfo":null}';

async function progress(server: TestServer) {
  const res = await server.request('/sdapi/v1/progress');
  return { text: await res.text(), status: res.status };
}

/** Polls /progress until `until` holds (the fake engine steps every few ms). */
async function waitFor(server: TestServer, until: (p: any) => boolean) {
  for (let i = 0; i < 400; i++) {
    const p = JSON.parse((await progress(server)).text);
    if (until(p)) return p;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('progress condition never reached');
}

test('idle progress is exactly A1111 fresh-start body (floats as 0.0)', async () => {
  const server = await startTestServer();
  assert.deepEqual(await progress(server), { status: 200, text: IDLE_FRESH });
});

test('busy progress follows the formula while a job runs; interrupt returns the partial result with 200', async () => {
  const server = await startTestServer();
  server.generator.stepDelayMs = 10;
  const job = server.request('/sdapi/v1/txt2img', { method: 'POST', json: { steps: 50, n_iter: 4, width: 8, height: 8 } });
  const p = await waitFor(server, (x) => x.state.sampling_step >= 3);
  const { state } = p;
  assert.equal(state.job_count, 4);
  assert.equal(state.job, 'Batch 1 out of 4');
  assert.match(state.job_timestamp, /^\d{14}$/);
  const expected = 0.01 + state.job_no / 4 + (1 / 4) * (state.sampling_step / state.sampling_steps);
  assert.ok(Math.abs(p.progress - expected) < 1e-12, `${p.progress} vs ${expected}`);
  assert.ok(p.eta_relative > 0);

  const interrupt = await server.request('/sdapi/v1/interrupt', { method: 'POST' });
  assert.deepEqual([interrupt.status, await interrupt.text()], [200, '{}']);
  const res = await job;
  assert.equal(res.status, 200);
  const body = (await res.json()) as any;
  assert.equal(body.images.length, 1, 'the interrupted batch is still returned; no further batch ran');
  const after = JSON.parse((await progress(server)).text);
  assert.equal(after.state.job_count, 0);
  assert.equal(after.state.interrupted, true, 'the flag stays visible until the next job starts');
  assert.equal(after.progress, 0);
});

test('skip ends the running batch only; the next batch runs and the flag is cleared', async () => {
  const server = await startTestServer();
  server.generator.stepDelayMs = 5;
  const job = server.request('/sdapi/v1/txt2img', { method: 'POST', json: { steps: 40, n_iter: 2, width: 8, height: 8 } });
  await waitFor(server, (x) => x.state.sampling_step >= 2 && x.state.job_no === 0);
  const skip = await server.request('/sdapi/v1/skip', { method: 'POST' });
  assert.deepEqual([skip.status, await skip.text()], [200, 'null']);
  const p = await waitFor(server, (x) => x.state.job_no === 1 && x.state.sampling_step >= 1);
  assert.equal(p.state.skipped, false);
  await server.app.sd.queue.interrupt();
  const body = (await (await job).json()) as any;
  assert.equal(body.images.length, 2);
});

test('jobs run one at a time in arrival order', async () => {
  const server = await startTestServer();
  server.generator.stepDelayMs = 2;
  const order = ['first', 'second', 'third'];
  const jobs = order.map((prompt) => server.request('/sdapi/v1/txt2img', { method: 'POST', json: { prompt, steps: 5, width: 8, height: 8 } }));
  const results = await Promise.all(jobs);
  assert.deepEqual(
    results.map((r) => r.status),
    [200, 200, 200],
  );
  assert.deepEqual(
    server.generator.calls.map((c) => c.prompt),
    order,
  );
});

test('progress rejects a non-boolean skip_current_image with a query 422', async () => {
  const server = await startTestServer();
  const res = await server.request('/sdapi/v1/progress?skip_current_image=perhaps');
  assert.equal(res.status, 422);
  assert.deepEqual(await res.json(), {
    detail: [{ loc: ['query', 'skip_current_image'], msg: 'value could not be parsed to a boolean', type: 'type_error.bool' }],
  });
});
