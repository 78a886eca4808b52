/** GET /progress `current_image` (spec §3.5): the Approx-cheap live preview of the running job. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeImage } from '@sdapi/engine';
import { previewOf } from '../src/services/live-preview.ts';
import { startTestServer, type TestServer } from './helpers/http.ts';

async function progress(server: TestServer, query = '') {
  return (await (await server.request(`/sdapi/v1/progress${query}`)).json()) as Record<string, any>;
}

async function waitFor(server: TestServer, until: (p: Record<string, any>) => boolean, query = '') {
  for (let i = 0; i < 400; i++) {
    const p = await progress(server, query);
    if (until(p)) return p;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('progress condition never reached');
}

test('a running job shows a latent-sized preview every show_progress_every_n_steps; skip_current_image hides it', async () => {
  const server = await startTestServer();
  server.generator.stepDelayMs = 15;
  await server.request('/sdapi/v1/options', { method: 'POST', json: { show_progress_every_n_steps: 3 } });
  const job = server.request('/sdapi/v1/txt2img', { method: 'POST', json: { steps: 40, width: 64, height: 48, batch_size: 1 } });
  const early = await waitFor(server, (p) => p.state.sampling_step >= 1);
  assert.equal(early.state.sampling_step < 3 ? early.current_image : null, null, 'no preview before the first refresh step');
  const p = await waitFor(server, (x) => x.current_image !== null && x.state.sampling_step >= 4);
  assert.ok(p.progress > 0 && p.progress < 1, `progress ${p.progress}`);
  const image = await decodeImage(Buffer.from(p.current_image, 'base64'));
  assert.deepEqual([image.format, image.width, image.height], ['png', 8, 6], 'latent resolution (W/8 × H/8)');
  assert.equal((await progress(server, '?skip_current_image=true')).current_image, null);
  await server.request('/sdapi/v1/interrupt', { method: 'POST' });
  assert.equal((await job).status, 200);
  const idle = await waitFor(server, (x) => x.state.job_count === 0);
  assert.equal(idle.current_image, null, 'no preview while idle');
});

test('live_previews_enable off: no preview; samples_format applies to it', async () => {
  const server = await startTestServer();
  server.generator.stepDelayMs = 10;
  await server.request('/sdapi/v1/options', { method: 'POST', json: { live_previews_enable: false, show_progress_every_n_steps: 1 } });
  let job = server.request('/sdapi/v1/txt2img', { method: 'POST', json: { steps: 20, width: 16, height: 16 } });
  const off = await waitFor(server, (p) => p.state.sampling_step >= 5);
  assert.equal(off.current_image, null);
  await server.request('/sdapi/v1/interrupt', { method: 'POST' });
  await job;
  await server.request('/sdapi/v1/options', { method: 'POST', json: { live_previews_enable: true, samples_format: 'webp' } });
  job = server.request('/sdapi/v1/txt2img', { method: 'POST', json: { steps: 20, width: 16, height: 16 } });
  const on = await waitFor(server, (p) => p.current_image !== null);
  assert.equal((await decodeImage(Buffer.from(on.current_image, 'base64'))).format, 'webp');
  await server.request('/sdapi/v1/interrupt', { method: 'POST' });
  await job;
});

test('previewOf: a batch of 3 becomes a 2×2 grid (rows = round(√3) = 2), cells in row-major order', () => {
  const latent = { shape: [3, 4, 2, 2], data: new Float32Array(3 * 4 * 4) } as unknown as Parameters<typeof previewOf>[0];
  latent.data.fill(1, 2 * 16, 2 * 16 + 4); // image 2, channel 0 → brighter red
  const grid = previewOf(latent, 'sd', true);
  assert.deepEqual([grid.width, grid.height], [4, 4]);
  const px = (x: number, y: number) => [...grid.rgb.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3)];
  assert.deepEqual(px(0, 0), [128, 128, 128]);
  assert.deepEqual(px(0, 2), [172, 157, 169], 'image 2 sits at row 1, column 0');
  assert.deepEqual(px(2, 2), [0, 0, 0], 'the empty fourth cell stays black');
  assert.deepEqual([previewOf(latent, 'sd', false).width], [2]);
});
