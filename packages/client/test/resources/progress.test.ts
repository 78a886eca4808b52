import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SDClient } from '../../src/index.ts';
import { startServer } from '../helpers/server.ts';

const { url, generator } = await startServer();
const sd = new SDClient({ baseURL: url });

test('progress.retrieve: only required params (idle)', async () => {
  const p = await sd.progress.retrieve();
  assert.deepEqual([p.progress, p.eta_relative, p.state.job_count, p.current_image], [0, 0, 0, null]);
});

test('progress.retrieve with skip_current_image while a job runs; interrupt and skip', async () => {
  generator.stepDelayMs = 5;
  const job = sd.txt2img({ steps: 100, n_iter: 3, width: 8, height: 8 });
  let p = await sd.progress.retrieve({ skip_current_image: true });
  for (let i = 0; i < 200 && p.state.sampling_step < 2; i++) p = await sd.progress.retrieve({ skip_current_image: true });
  assert.equal(p.state.job_count, 3);
  assert.ok(p.progress > 0.01);
  assert.equal(await sd.skip(), null);
  for (let i = 0; i < 200 && p.state.job_no < 1; i++) p = await sd.progress.retrieve();
  assert.deepEqual(await sd.interrupt(), {});
  const result = await job;
  assert.equal(result.images?.length, 2, 'the skipped batch and the interrupted one; the third never ran');
  assert.equal((await sd.progress.retrieve()).state.interrupted, true);
});
