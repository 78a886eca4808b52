/** A script run is one queue job: /progress counts its generations, and an interrupt returns the cells made so far. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePng } from '@sdapi/engine';
import { startTestServer, type TestServer } from './helpers/http.ts';

async function waitFor(server: TestServer, until: (p: any) => boolean) {
  for (let i = 0; i < 1000; i++) {
    const p = (await (await server.request('/sdapi/v1/progress')).json()) as any;
    if (until(p)) return p;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('progress condition never reached');
}

test('X/Y/Z plot: /progress shows k out of N cells; interrupt ends the plot with a partial grid and the cells made', async () => {
  const server = await startTestServer();
  server.generator.stepDelayMs = 5;
  const job = server.request('/sdapi/v1/txt2img', {
    method: 'POST',
    json: { steps: 40, width: 8, height: 8, scripts: { xyz_plot: { x: { axis: 'Seed', values: [1, 2, 3] }, draw_legend: false, include_lone_images: true } } },
  });
  const p = await waitFor(server, (x) => x.state.job_no === 1 && x.state.sampling_step >= 2);
  assert.equal(p.state.job_count, 3);
  assert.equal(p.state.job, 'Batch 2 out of 3');
  assert.equal(server.generator.calls.length, 2, 'one generation per cell, all in the same job');
  await server.request('/sdapi/v1/interrupt', { method: 'POST' });
  const res = await job;
  assert.equal(res.status, 200);
  const body = (await res.json()) as any;
  const info = JSON.parse(body.info);
  assert.equal(body.images.length, 3, 'the grid, the finished cell and the interrupted one');
  assert.deepEqual(info.all_seeds, [1, 2]);
  assert.equal(server.generator.calls.length, 2, 'no cell started after the interrupt');
  const grid = decodePng(Buffer.from(body.images[0], 'base64'));
  assert.deepEqual([grid.width, grid.height], [24, 8], 'the grid keeps the third cell as background');
  assert.ok(
    grid.rgb.subarray(16 * 3, 24 * 3).every((v) => v === 255),
    'missing cell is white',
  );
});

test('prompts from textbox: job_count is the number of lines × n_iter', async () => {
  const server = await startTestServer();
  server.generator.stepDelayMs = 5;
  const job = server.request('/sdapi/v1/txt2img', {
    method: 'POST',
    json: { steps: 20, width: 8, height: 8, script_name: 'Prompts from file or textbox', script_args: [false, false, 'start', 'a\nb\nc'] },
  });
  const p = await waitFor(server, (x) => x.state.sampling_step >= 2);
  assert.equal(p.state.job_count, 3);
  const body = (await (await job).json()) as any;
  assert.equal(body.images.length, 3);
});

test('v2 jobs: the typed scripts form runs as one job (grid first, index_of_first_image 1); a bad axis is the same 422', async () => {
  const server = await startTestServer();
  const params = {
    steps: 2,
    width: 8,
    height: 8,
    scripts: { xyz_plot: { x: { axis: 'Steps', values: [1, 2] }, include_lone_images: true, draw_legend: false } },
  };
  const res = await server.request('/sdapi/v2/jobs', { method: 'POST', json: { type: 'txt2img', params } });
  assert.equal(res.status, 202);
  const { id } = (await res.json()) as { id: string };
  let job: any;
  for (let i = 0; i < 500; i++) {
    job = await (await server.request(`/sdapi/v2/jobs/${id}`)).json();
    if (job.status === 'succeeded' || job.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
  assert.equal(job.result.images.length, 3);
  assert.equal(job.result.info.index_of_first_image, 1);
  assert.match(job.result.info.infotexts[0], /X Type: Steps, X Values: "1,2"/);
  assert.equal(server.generator.calls.length, 2);
  const bad = await server.request('/sdapi/v2/jobs', {
    method: 'POST',
    json: { type: 'txt2img', params: { ...params, scripts: { xyz_plot: { x: { axis: 'Steps', values: 'x' } } } } },
  });
  assert.equal(bad.status, 422);
  assert.match(((await bad.json()) as { detail: string }).detail, /x_values\).*invalid literal for int/);
});

test('X/Y/Z plot: the checkpoint axis is iterated outermost (one load per checkpoint), names matched loosely (§9.4)', async () => {
  const server = await startTestServer();
  const res = await server.request('/sdapi/v1/txt2img', {
    method: 'POST',
    json: {
      steps: 2,
      width: 8,
      height: 8,
      script_name: 'X/Y/Z plot',
      script_args: [4, '1,2', [], 11, '', ['v1-5-pruned', 'other [deadbeef]'], 0, '', [], false, true],
    },
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.deepEqual(server.generator.loads, ['v1-5-pruned-emaonly.safetensors', 'sub/other.safetensors']);
  assert.deepEqual(
    server.generator.calls.map((c) => c.steps),
    [1, 2, 1, 2],
  );
  const body = (await res.json()) as any;
  assert.equal(body.images.length, 5);
  assert.match(JSON.parse(body.info).infotexts[0], /Y Type: Checkpoint name, Y Values: "v1-5-pruned,other \[deadbeef\]"/);
});

test('alwayson_scripts (§5.2): unknown scripts and selectable ones are 422s; built-in always-on titles are accepted', async () => {
  const server = await startTestServer();
  const post = async (alwayson_scripts: Record<string, unknown>, path = '/sdapi/v1/txt2img') => {
    const res = await server.request(path, { method: 'POST', json: { steps: 1, width: 8, height: 8, alwayson_scripts } });
    return { status: res.status, body: (await res.json()) as any };
  };
  const unknown = await post({ ADetailer: { args: [true] } });
  assert.deepEqual([unknown.status, unknown.body.detail], [422, "Script 'ADetailer' not found"]);
  const selectable = await post({ 'X/Y/Z plot': { args: [] } });
  assert.deepEqual([selectable.status, selectable.body.detail], [422, 'Cannot have a selectable script in the always on scripts params']);
  const builtins = await post({ Seed: { args: [-1, false, -1, 0, 0, 0] }, Sampler: { args: [20, 'Euler a', 'Automatic'] }, 'Extra options': {} });
  assert.equal(builtins.status, 200, JSON.stringify(builtins.body));
});
