/**
 * Replaying img2img jobs exactly: the init images and mask are kept with the finished job (lossless PNGs of what
 * the engine saw, at `result.inputs[].url`), `result.parameters` leaves them out, and `parameters` + inputs
 * posted again give the same engine call and the same image, by hand or with POST /sdapi/v2/jobs/{id}/replay,
 * also after a restart. Real HTTP, the fake generator.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodePng, encodePng } from '@sdapi/engine';
import { startTestServer, type TestServer } from './helpers/http.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-replay-'));
const server = await startTestServer({ dataDir });
let firstJob: Record<string, any>;
let firstImage: Uint8Array;
let firstCall: unknown;
const W = 16;
const H = 8;
const INIT = encodePng(
  new Uint8Array(W * H * 3).map((_, i) => (i * 29) & 0xff),
  W,
  H,
).toString('base64');
const MASK = encodePng(
  new Uint8Array(W * H * 3).map((_, i) => (Math.floor(i / 3) % W < W / 2 ? 255 : 0)),
  W,
  H,
).toString('base64');
const PARAMS = { prompt: 'a red hat', init_images: [`data:image/png;base64,${INIT}`], mask: MASK, width: W, height: H, steps: 2, denoising_strength: 0.6 };

async function run(s: TestServer, path: string, json?: unknown) {
  const res = await s.request(path, { method: 'POST', ...(json === undefined ? {} : { json }) });
  const body = await res.json();
  assert.equal(res.status, 202, JSON.stringify(body));
  for (let i = 0; i < 1000; i++) {
    const job = await (await s.request(`/sdapi/v2/jobs/${encodeURIComponent(body.id)}`)).json();
    if (!['queued', 'running'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`job ${body.id} did not finish`);
}
const bytesOf = async (s: TestServer, url: string) => new Uint8Array(await (await s.request(url)).arrayBuffer());

test('an img2img job keeps its inputs; parameters + inputs posted again replay it exactly', async () => {
  const first = await run(server, '/sdapi/v2/jobs', { type: 'img2img', params: { ...PARAMS, seed: -1 } });
  assert.equal(first.status, 'succeeded', JSON.stringify(first.error));
  assert.equal(first.result.parameters.init_images, null, 'the pixels are not echoed');
  assert.equal(first.result.parameters.mask, null);
  assert.notEqual(first.result.parameters.seed, -1, 'the seed is resolved');
  assert.deepEqual(
    first.result.inputs.map((i: Record<string, unknown>) => [i.field, i.index, i.width, i.height, i.mime]),
    [
      ['init_images', 0, W, H, 'image/png'],
      ['mask', 0, W, H, 'image/png'],
    ],
  );
  const [seen] = server.generator.img2imgCalls;
  const init = await server.request(first.result.inputs[0].url);
  assert.equal(init.headers.get('content-type'), 'image/png');
  assert.ok(init.headers.get('etag'));
  const initPng = decodePng(new Uint8Array(await init.arrayBuffer()));
  assert.deepEqual(initPng.rgba, seen.initImages[0].rgba, 'the kept init image is what the engine saw');
  const maskPng = decodePng(await bytesOf(server, first.result.inputs[1].url));
  assert.deepEqual(maskPng.rgba, seen.mask?.rgba);

  // By hand: the inputs go back into the parameters as data URLs / base64.
  const params = {
    ...first.result.parameters,
    init_images: [`data:image/png;base64,${Buffer.from(await bytesOf(server, first.result.inputs[0].url)).toString('base64')}`],
  };
  params.mask = Buffer.from(await bytesOf(server, first.result.inputs[1].url)).toString('base64');
  const again = await run(server, '/sdapi/v2/jobs', { type: 'img2img', params });
  assert.equal(again.status, 'succeeded', JSON.stringify(again.error));
  // The same engine call, with the seeds the first run resolved (-1 → 1234 and 99 in the fake engine).
  const resolved = { ...seen, seed: first.result.parameters.seed, subseed: first.result.parameters.subseed };
  assert.deepEqual([resolved.seed, resolved.subseed], [1234, 99]);
  assert.deepEqual(server.generator.img2imgCalls[1], resolved, 'the same engine call');
  const image = await bytesOf(server, first.result.images[0].url);
  assert.deepEqual(await bytesOf(server, again.result.images[0].url), image, 'the same image, byte for byte');

  firstJob = first;
  firstImage = image;
  firstCall = resolved;
});

test('the A1111 route keeps them too; replay is 409 for a job that did not succeed, 404 for unknown ids and inputs', async () => {
  const res = await server.request('/sdapi/v1/img2img', { method: 'POST', json: { ...PARAMS, seed: 5 } });
  assert.equal(res.status, 200);
  const id = res.headers.get('x-job-id') ?? '';
  const job = await (await server.request(`/sdapi/v2/jobs/${encodeURIComponent(id)}`)).json();
  assert.equal(job.result.inputs.length, 2);
  const txt = await run(server, '/sdapi/v2/jobs', { type: 'txt2img', params: { prompt: 'x', width: W, height: H, steps: 2 } });
  assert.equal(txt.result.inputs, undefined, 'txt2img jobs have no inputs');
  const replayTxt = await run(server, `/sdapi/v2/jobs/${txt.id}/replay`);
  assert.equal(replayTxt.result.parameters.seed, txt.result.parameters.seed);
  // A job that did not succeed cannot be replayed: one cancelled while it waited behind a slow one.
  server.generator.stepDelayMs = 5;
  const blocked = await server.request('/sdapi/v2/jobs', {
    method: 'POST',
    json: { type: 'txt2img', params: { prompt: 'x', width: W, height: H, steps: 1000 } },
  });
  const blocker = await blocked.json();
  const waiting = await (
    await server.request('/sdapi/v2/jobs', { method: 'POST', json: { type: 'txt2img', params: { prompt: 'y', width: W, height: H } } })
  ).json();
  await server.request(`/sdapi/v2/jobs/${waiting.id}`, { method: 'DELETE' });
  await server.request(`/sdapi/v2/jobs/${blocker.id}`, { method: 'DELETE' });
  server.generator.stepDelayMs = 0;
  const refused = await server.request(`/sdapi/v2/jobs/${waiting.id}/replay`, { method: 'POST' });
  assert.equal(refused.status, 409);
  assert.match((await refused.json()).detail, /is cancelled; only a succeeded job can be replayed/);
  assert.equal((await server.request('/sdapi/v2/jobs/nope/replay', { method: 'POST' })).status, 404);
  assert.equal((await server.request(`/sdapi/v2/jobs/${encodeURIComponent(id)}/inputs/mask/3`)).status, 404);
  assert.equal((await server.request(`/sdapi/v2/jobs/${encodeURIComponent(id)}/inputs/other/0`)).status, 404);
});

test('extras jobs keep their images (with their infotext) and replay to the same PNGs, single and batch', async () => {
  const withInfo = encodePng(
    new Uint8Array(W * H * 3).map((_, i) => (i * 13) & 0xff),
    W,
    H,
    { parameters: 'a cat\nSteps: 3' },
  ).toString('base64');
  const single = await run(server, '/sdapi/v2/jobs', { type: 'extra-single-image', params: { image: withInfo, upscaler_1: 'Lanczos', upscaling_resize: 2.5 } });
  assert.equal(single.status, 'succeeded', JSON.stringify(single.error));
  assert.deepEqual(
    single.result.inputs.map((i: Record<string, unknown>) => [i.field, i.index]),
    [['image', 0]],
  );
  assert.equal(decodePng(await bytesOf(server, single.result.inputs[0].url)).text.parameters, 'a cat\nSteps: 3');
  const again = await run(server, `/sdapi/v2/jobs/${single.id}/replay`);
  assert.equal(again.type, 'extra-single-image');
  assert.deepEqual(await bytesOf(server, again.result.images[0].url), await bytesOf(server, single.result.images[0].url));
  const imageList = [
    { data: INIT, name: 'a.png' },
    { data: withInfo, name: 'b.png' },
  ];
  const batch = await run(server, '/sdapi/v2/jobs', { type: 'extra-batch-images', params: { imageList, upscaler_1: 'Nearest' } });
  assert.deepEqual(batch.result.parameters.imageList, [
    { name: 'a.png', data: null },
    { name: 'b.png', data: null },
  ]);
  const batchAgain = await run(server, `/sdapi/v2/jobs/${batch.id}/replay`);
  for (const i of [0, 1]) assert.deepEqual(await bytesOf(server, batchAgain.result.images[i].url), await bytesOf(server, batch.result.images[i].url));
});

test('after a restart, POST /sdapi/v2/jobs/{id}/replay runs the same img2img job again from the kept inputs', async () => {
  await server.app.close();
  const restarted = await startTestServer({ dataDir });
  const replayed = await run(restarted, `/sdapi/v2/jobs/${firstJob.id}/replay`);
  assert.equal(replayed.status, 'succeeded', JSON.stringify(replayed.error));
  assert.equal(replayed.type, 'img2img');
  assert.deepEqual(restarted.generator.img2imgCalls[0], firstCall, 'the same engine call');
  assert.deepEqual(await bytesOf(restarted, replayed.result.images[0].url), firstImage, 'the same image');
  assert.equal((await restarted.request(firstJob.result.inputs[0].url)).status, 200, 'inputs survive the restart');
});
