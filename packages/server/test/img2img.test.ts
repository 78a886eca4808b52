/** POST /sdapi/v1/img2img over HTTP with the fake engine (spec §3.2): request mapping, errors, the echo rules. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeImage, encodePng } from '@sdapi/engine';
import sharp from 'sharp';
import { startTestServer } from './helpers/http.ts';
import { needVector, readVector } from './helpers/spec.ts';

const server = await startTestServer();
const rgb = (w: number, h: number, v = 90) => new Uint8Array(w * h * 3).fill(v);
const INIT = encodePng(rgb(16, 8), 16, 8).toString('base64');
const SMALL = { width: 16, height: 8, steps: 4, seed: 3 };

const img2img = (body: Record<string, unknown>) => server.post('/sdapi/v1/img2img', body);

test('maps the image fields to the engine: init images, mask (alpha kept), blur, fill, full-res, invert, resize mode', async () => {
  const rgba = await sharp(Buffer.alloc(16 * 8 * 4, 255), { raw: { width: 16, height: 8, channels: 4 } })
    .png()
    .toBuffer();
  const jpeg = await encodeImage(rgb(16, 8, 30), 16, 8, { format: 'jpeg' });
  const { status, body } = await img2img({
    ...SMALL,
    init_images: [`data:image/jpeg;base64,${jpeg.toString('base64')}`],
    mask: rgba.toString('base64'),
    mask_blur: 0,
    inpainting_fill: 1,
    inpaint_full_res: false,
    inpaint_full_res_padding: 12,
    inpainting_mask_invert: 1,
    resize_mode: 2,
    denoising_strength: 0.4,
    initial_noise_multiplier: 1.1,
  });
  assert.equal(status, 200, JSON.stringify(body));
  const call = server.generator.img2imgCalls.at(-1);
  assert.ok(call);
  assert.deepEqual([call.initImages.length, call.initImages[0].width, call.initImages[0].height, call.initImages[0].rgba.length], [1, 16, 8, 16 * 8 * 4]);
  assert.ok(call.initImages[0].rgba[0] < 60, 'the JPEG was decoded');
  assert.deepEqual([call.mask?.width, call.mask?.height], [16, 8]);
  assert.deepEqual(
    [
      call.maskBlurX,
      call.maskBlurY,
      call.inpaintingFill,
      call.inpaintFullRes,
      call.inpaintFullResPadding,
      call.inpaintingMaskInvert,
      call.resizeMode,
      call.denoisingStrength,
      call.initialNoiseMultiplier,
    ],
    [0, 0, 1, false, 12, true, 2, 0.4, 1.1],
  );
  assert.equal(call.maskRound, true);
  const info = JSON.parse(body.info);
  assert.equal(info.denoising_strength, 0.4);
  assert.match(body.info, /"denoising_strength": 0\.4,/);
});

test('defaults: denoising 0.75, blur 4×4, one init image per batch item lowers batch_size; 2×2 batch → 4 images with seeds s…s+3', async () => {
  const { body } = await img2img({ ...SMALL, init_images: [INIT, INIT], batch_size: 3, n_iter: 2 });
  const call = server.generator.img2imgCalls.at(-1);
  assert.deepEqual([call?.denoisingStrength, call?.maskBlurX, call?.maskBlurY, call?.batchSize, call?.mask], [0.75, 4, 4, 2, null]);
  const info = JSON.parse(body.info);
  assert.equal(body.images.length, 4);
  assert.deepEqual(info.all_seeds, [3, 4, 5, 6]);
  assert.equal(info.batch_size, 2);
});

test('parameters echo every field in model order; init_images and mask are null unless include_init_images', {
  skip: needVector('api_models.json'),
}, async () => {
  const order = Object.keys(readVector('api_models.json').img2img_vars_of_empty_request);
  const plain = await img2img({ ...SMALL, init_images: [INIT], mask: INIT });
  assert.deepEqual(Object.keys(plain.body.parameters), order);
  assert.deepEqual([plain.body.parameters.init_images, plain.body.parameters.mask, plain.body.parameters.denoising_strength], [null, null, 0.75]);
  const echoed = await img2img({ ...SMALL, init_images: [INIT], include_init_images: true });
  assert.deepEqual(echoed.body.parameters.init_images, [INIT]);
  assert.equal(echoed.body.parameters.include_init_images, true);
});

test('errors: no init_images 404; too many, empty, bad choices and bad images are 4xx that name the field', async () => {
  for (const [body, status, detail] of [
    [{ ...SMALL }, 404, /^Init image not found$/],
    [{ ...SMALL, init_images: null }, 404, /^Init image not found$/],
    [{ ...SMALL, init_images: [INIT, INIT] }, 422, /^bad number of images passed: 2; expecting 1 or less/],
    [{ ...SMALL, init_images: [] }, 422, /init_images is empty/],
    [{ ...SMALL, init_images: [INIT], resize_mode: 4 }, 422, /resize_mode must be one of 0 \(just resize\).*got 4/],
    [{ ...SMALL, init_images: [INIT], inpainting_fill: -1 }, 422, /inpainting_fill must be one of/],
    [{ ...SMALL, init_images: [INIT], denoising_strength: 1.5 }, 422, /denoising_strength must be a number from 0 to 1, got 1\.5/],
    [{ ...SMALL, init_images: ['bm90IGFuIGltYWdl'] }, 400, /^Invalid encoded image$/],
    [{ ...SMALL, init_images: [INIT], mask: 'data:image/png,xx' }, 400, /data URL must look like/],
    [{ ...SMALL, init_images: [42] }, 422, /init_images\[0\] must be a string/],
  ] as const) {
    const res = await img2img(body);
    assert.equal(res.status, status, JSON.stringify(body));
    assert.match(String(res.body.detail), detail);
  }
});

test('progress shows scripts_img2img while an img2img job runs', async () => {
  server.generator.stepDelayMs = 10;
  const job = img2img({ ...SMALL, init_images: [INIT], steps: 30 });
  let seen = '';
  for (let i = 0; i < 200 && !seen; i++) {
    const p = (await (await server.request('/sdapi/v1/progress')).json()) as { state: { job: string } };
    if (p.state.job) seen = p.state.job;
    else await new Promise((r) => setTimeout(r, 5));
  }
  await server.request('/sdapi/v1/interrupt', { method: 'POST' });
  assert.equal((await job).status, 200);
  server.generator.stepDelayMs = 0;
  assert.equal(seen, 'scripts_img2img');
});
