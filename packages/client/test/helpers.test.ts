/** webuiapi's conveniences (setModel, currentModel, names, waitForReady) and generate() against the real server. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type GenerateEvent, parseResult, SDClient, SDError, type Txt2ImgResponse } from '../src/index.ts';
import { startServer } from './helpers/server.ts';

const { url, generator } = await startServer();
const sd = new SDClient({ baseURL: url });

test('modelNames / samplerNames / schedulerNames are sorted names', async () => {
  assert.deepEqual(await sd.modelNames(), ['sub/other.safetensors', 'v1-5-pruned-emaonly.safetensors']);
  const samplers = await sd.samplerNames();
  assert.deepEqual(samplers, [...samplers].sort());
  assert.ok(samplers.includes('Euler a') && samplers.includes('DPM++ 2M'));
  assert.ok((await sd.schedulerNames()).includes('karras'));
});

test('setModel: a file name, then the closest title; currentModel follows; unknown names fail without findClosest', async () => {
  assert.equal(await sd.currentModel(), null, 'nothing loaded yet');
  assert.equal(await sd.setModel('other'), 'sub/other.safetensors');
  assert.deepEqual(generator.loads.at(-1), 'sub/other.safetensors');
  assert.match((await sd.currentModel()) ?? '', /^sub\/other\.safetensors \[[0-9a-f]{10}\]$/);
  assert.equal(await sd.setModel('V1-5 Pruned'), 'v1-5-pruned-emaonly.safetensors', 'difflib-closest title');
  assert.equal(generator.loads.at(-1), 'v1-5-pruned-emaonly.safetensors');
  await assert.rejects(
    sd.setModel('sdxl', { findClosest: false }),
    (e: unknown) => e instanceof SDError && /no checkpoint named "sdxl"; valid titles: .*sub\/other\.safetensors/.test(e.message),
  );
});

test('waitForReady resolves once the running job is done, and gives up after `timeout`', async () => {
  generator.stepDelayMs = 3;
  const job = sd.txt2img({ steps: 400, width: 8, height: 8 }); // 1.2 s: still busy through the first checks on a loaded machine
  for (let i = 0; (await sd.progress.retrieve()).state.job_count === 0; i++) {
    assert.ok(i < 1000, 'the job never showed in /progress');
    await new Promise((r) => setTimeout(r, 5));
  }
  await assert.rejects(sd.waitForReady({ interval: 10, timeout: 30 }), /still busy after 30 ms/);
  const busy: number[] = [];
  await sd.waitForReady({ interval: 10, onBusy: (p) => busy.push(p) });
  assert.ok(busy.length > 0, 'it did see the job');
  const done = await Promise.race([job.then(() => 'done'), new Promise((r) => setTimeout(() => r('pending'), 500))]);
  assert.equal(done, 'done');
  generator.stepDelayMs = 0;
});

test('generate() yields progress while the job runs, then the result', async () => {
  generator.stepDelayMs = 3;
  const events: GenerateEvent<Txt2ImgResponse>[] = [];
  for await (const e of sd.generate('txt2img', { prompt: 'a cat', steps: 100, n_iter: 2, width: 8, height: 8, seed: 3 }, { interval: 10 })) events.push(e);
  generator.stepDelayMs = 0;
  const progress = events.filter((e) => e.type === 'progress');
  assert.ok(progress.length >= 2, `${progress.length} progress events`);
  const fractions = progress.map((e) => e.progress);
  assert.deepEqual(
    fractions,
    [...fractions].sort((a, b) => a - b),
    'monotone',
  );
  assert.ok(progress.every((e) => e.state.job_count === 2 && e.current_image === null));
  const last = events.at(-1);
  assert.equal(last?.type, 'result');
  const result = parseResult(last?.type === 'result' ? last.result : {});
  assert.equal(result.images.length, 2);
  assert.deepEqual(typeof result.info === 'object' && result.info.all_seeds, [3, 4]);
});

test('leaving generate() early aborts the HTTP wait; interrupt() then stops the job', async () => {
  generator.stepDelayMs = 5;
  let seen = 0;
  for await (const e of sd.generate('txt2img', { steps: 200, width: 8, height: 8 }, { interval: 10 })) {
    if (e.type === 'progress' && ++seen === 1) break;
  }
  assert.equal(seen, 1);
  await sd.interrupt();
  await sd.waitForReady({ interval: 10, timeout: 5000 });
  generator.stepDelayMs = 0;
});
