/**
 * return_mask / return_mask_composite on v2 jobs (issue 6): the images the engine returns after each inpainted
 * image (its mask, its composite) are in `result.images` right after the image they belong to, in the same order
 * as the sync route's `images`, and their bytes are served. The fake engine returns known pixels for them; the
 * real masks are checked on the tiny engine in img2img-options-e2e.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePng, encodePng, type GenerationHooks, type Img2ImgParams, type Img2ImgResult } from '@sdapi/engine';
import { FakeGenerator } from './helpers/fake-generator.ts';
import { startTestServer } from './helpers/http.ts';

const W = 16;
const H = 8;
/** A solid image whose value says which generated image (i) and which extra (k: 1 mask, 2 composite) it is. */
const solid = (i: number, k: number) => ({ width: W, height: H, rgb: new Uint8Array(W * H * 3).fill(100 + 10 * i + k) });

class MaskReturningGenerator extends FakeGenerator {
  override async img2img(params: Img2ImgParams, hooks: GenerationHooks): Promise<Img2ImgResult> {
    const result = await super.img2img(params, hooks);
    const { return_mask, return_mask_composite } = params.options;
    if (!params.mask || (!return_mask && !return_mask_composite)) return result;
    const returnedMasks = result.images.map((_, i) => [...(return_mask ? [solid(i, 1)] : []), ...(return_mask_composite ? [solid(i, 2)] : [])]);
    return { ...result, returnedMasks };
  }
}

const server = await startTestServer({ generator: new MaskReturningGenerator() });
const init = encodePng(new Uint8Array(W * H * 3).fill(50), W, H).toString('base64');
const mask = encodePng(new Uint8Array(W * H * 3).fill(255), W, H).toString('base64');
const params = (returnMask: boolean, composite: boolean) => ({
  prompt: 'x',
  steps: 2,
  width: W,
  height: H,
  seed: 7,
  batch_size: 2,
  init_images: [init],
  mask,
  override_settings: { return_mask: returnMask, return_mask_composite: composite },
});

async function runJob(body: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await server.request('/sdapi/v2/jobs', { method: 'POST', json: { type: 'img2img', params: body } });
  const created = await res.json();
  assert.equal(res.status, 202, JSON.stringify(created));
  for (let i = 0; i < 500; i++) {
    const job = await (await server.request(`/sdapi/v2/jobs/${created.id}`)).json();
    if (job.status === 'succeeded' || job.status === 'failed') return job;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`job ${created.id} did not finish`);
}

const firstByte = async (url: string) => decodePng(Buffer.from(await (await server.request(url)).arrayBuffer())).rgb[0];

test('v2 img2img jobs: return_mask and return_mask_composite images follow each image, as on the sync route', async () => {
  const job = await runJob(params(true, true));
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const images: Record<string, any>[] = job.result.images;
  assert.equal(images.length, 6, 'two images, each followed by its mask and composite');
  assert.deepEqual(
    images.map((img) => img.index),
    [0, 1, 2, 3, 4, 5],
  );
  // Order: image 0, its mask, its composite, image 1, its mask, its composite.
  assert.deepEqual(
    images.map((img) => (img.infotext === '' ? 'extra' : 'image')),
    ['image', 'extra', 'extra', 'image', 'extra', 'extra'],
  );
  assert.equal(images[1].seed, images[0].seed);
  assert.equal(images[4].seed, images[3].seed);
  assert.notEqual(images[0].seed, images[3].seed);
  for (const [index, expected] of [
    [1, 101],
    [2, 102],
    [4, 111],
    [5, 112],
  ]) {
    assert.equal(await firstByte(images[index].url), expected, `image ${index}`);
  }
  assert.equal(job.result.info.infotexts.length, 2, 'infotexts stay one per generated image');

  // The sync route answers the same images in the same order.
  const sync = await server.post('/sdapi/v1/img2img', params(true, true));
  assert.equal(sync.status, 200);
  assert.equal(sync.body.images.length, 6);
  for (const index of [1, 2, 4, 5]) {
    const syncByte = decodePng(Buffer.from(sync.body.images[index], 'base64')).rgb[0];
    assert.equal(syncByte, await firstByte(images[index].url), `sync image ${index}`);
  }
});

test('v2 img2img jobs: only the asked-for extras; none without the options', async () => {
  const onlyMask = await runJob(params(true, false));
  assert.equal(onlyMask.result.images.length, 4);
  assert.equal(await firstByte(onlyMask.result.images[1].url), 101);
  assert.equal(await firstByte(onlyMask.result.images[3].url), 111);
  const none = await runJob(params(false, false));
  assert.equal(none.result.images.length, 2);
});
