/**
 * POST /sdapi/v1/extra-single-image and /extra-batch-images over real HTTP (spec §3.3): sizes for both resize
 * modes, crop, the upscaler 2 blend, html_info and the PNG chunks, errors (unknown upscalers, face restorers,
 * ranges, bad images, empty results), X-Job-Id, and an extras job through POST /sdapi/v2/jobs with its events.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePng, encodePng, encodePngRgba, extrasUpscale } from '@sdapi/engine';
import { startTestServer } from './helpers/http.ts';
import { collectEvents } from './helpers/sse.ts';

const server = await startTestServer();
const W = 20;
const H = 12;
const RGB = new Uint8Array(W * H * 3).map((_, i) => (i * 53 + (i % 7) * 11) & 0xff);
const PNG_B64 = encodePng(RGB, W, H, { parameters: 'a cat\nSteps: 3, Seed: 9, Size: 20x12' }).toString('base64');

async function extras(path: string, body: Record<string, unknown>) {
  const res = await server.request(`/sdapi/v1/${path}`, { method: 'POST', json: body });
  return { res, json: (await res.json()) as Record<string, any> };
}

const single = (body: Record<string, unknown>) => extras('extra-single-image', { image: PNG_B64, ...body });

test('mode 0: Lanczos by 2 doubles the image; html_info, chunks and pixels as the engine computes them', async () => {
  const { res, json } = await single({ upscaler_1: 'Lanczos', upscaling_resize: 2 });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('x-job-id') ?? '', /^task\(extras-[A-Z0-9]{7}\)$/);
  assert.deepEqual(Object.keys(json), ['html_info', 'image']);
  assert.equal(json.html_info, '<p>Postprocess upscale by: 2.0, Postprocess upscaler: Lanczos</p>');
  const png = decodePng(Buffer.from(json.image, 'base64'));
  assert.deepEqual([png.width, png.height], [40, 24]);
  assert.equal(png.text.parameters, 'a cat\nSteps: 3, Seed: 9, Size: 20x12', 'the input infotext is kept');
  assert.equal(png.text.postprocessing, 'Postprocess upscale by: 2.0, Postprocess upscaler: Lanczos');
  const expected = await extrasUpscale(
    { width: W, height: H, channels: 3, data: RGB },
    { resizeMode: 0, upscalingResize: 2, width: 512, height: 512, crop: true, upscaler1: 'Lanczos', upscaler2: 'None', upscaler2Visibility: 0 },
  );
  assert.deepEqual(png.rgb, expected.image.data);
});

test('RGBA stays RGBA (resampled premultiplied, as Pillow); the mode 1 crop canvas makes it RGB', async () => {
  const rgba = new Uint8Array(W * H * 4).map((_, i) => (i % 4 === 3 ? (i * 7) & 0xff : (i * 53) & 0xff));
  const b64 = encodePngRgba(rgba, W, H).toString('base64');
  const { json } = await single({ image: b64, upscaler_1: 'Lanczos' });
  const png = decodePng(Buffer.from(json.image, 'base64'));
  assert.equal(png.hasAlpha, true);
  const expected = await extrasUpscale(
    { width: W, height: H, channels: 4, data: rgba },
    { resizeMode: 0, upscalingResize: 2, width: 512, height: 512, crop: true, upscaler1: 'Lanczos', upscaler2: 'None', upscaler2Visibility: 0 },
  );
  assert.deepEqual(png.rgba, expected.image.data);
  const cropped = await single({ image: b64, upscaler_1: 'Lanczos', resize_mode: 1, upscaling_resize_w: 32, upscaling_resize_h: 32 });
  assert.equal(decodePng(Buffer.from(cropped.json.image, 'base64')).hasAlpha, false);
});

test('mode 0 rounds the size down to a multiple of 8, as A1111; scale 0.5 shrinks', async () => {
  const up = await single({ upscaler_1: 'Nearest', upscaling_resize: 2.5 });
  assert.deepEqual(pngSize(up.json.image), [48, 24]); // 50 x 30 → 48 x 24
  assert.equal(up.json.html_info, '<p>Postprocess upscale by: 2.5, Postprocess upscaler: Nearest</p>');
  const down = await single({ upscaler_1: 'Lanczos', upscaling_resize: 0.8 });
  assert.deepEqual(pngSize(down.json.image), [16, 8]);
});

test('mode 1: to w×h with crop (exact size) and without (aspect kept); upscaler 2 blended', async () => {
  const crop = await single({ resize_mode: 1, upscaling_resize_w: 64, upscaling_resize_h: 64, upscaler_1: 'Lanczos' });
  assert.deepEqual(pngSize(crop.json.image), [64, 64]);
  assert.equal(crop.json.html_info, '<p>Postprocess upscale to: 64x64, Postprocess crop to: 64x64, Postprocess upscaler: Lanczos</p>');
  const free = await single({ resize_mode: 1, upscaling_resize_w: 64, upscaling_resize_h: 64, upscaling_crop: false, upscaler_1: 'Lanczos' });
  assert.deepEqual(pngSize(free.json.image), [104, 64]); // scale 64/12 = 5.33 → 106.7 x 64 → 104 x 64
  const both = await single({ upscaler_1: 'Nearest', upscaler_2: 'Lanczos', extras_upscaler_2_visibility: 0.5 });
  assert.equal(both.json.html_info, '<p>Postprocess upscale by: 2.0, Postprocess upscaler: Nearest, Postprocess upscaler 2: Lanczos</p>');
  const nearest = await single({ upscaler_1: 'Nearest' });
  const lanczos = await single({ upscaler_1: 'Lanczos' });
  const [a, b, m] = [nearest, lanczos, both].map((r) => decodePng(Buffer.from(r.json.image, 'base64')).rgb);
  for (let i = 0; i < m.length; i++) assert.equal(m[i], Math.trunc(a[i] + 0.5 * (b[i] - a[i])), `byte ${i}`);
});

test('upscaler_1 None returns the image unchanged with an empty html_info; upscale_first and show_extras_results are accepted', async () => {
  const { res, json } = await single({ upscale_first: true, show_extras_results: false });
  assert.equal(res.status, 200);
  assert.equal(json.html_info, '<p></p>');
  assert.deepEqual(decodePng(Buffer.from(json.image, 'base64')).rgb, RGB);
});

test('extra-batch-images returns the images in order, each with its own size', async () => {
  const small = encodePng(new Uint8Array(8 * 8 * 3).fill(90), 8, 8).toString('base64');
  const { res, json } = await extras('extra-batch-images', {
    upscaler_1: 'Lanczos',
    upscaling_resize: 2,
    imageList: [
      { data: PNG_B64, name: 'a.png' },
      { data: `data:image/png;base64,${small}`, name: 'b.png' },
      { data: PNG_B64, name: 'c.png' },
    ],
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('x-job-id') ?? '', /^task\(extras-/);
  assert.deepEqual(Object.keys(json), ['html_info', 'images']);
  assert.deepEqual(
    json.images.map((b: string) => pngSize(b)),
    [
      [40, 24],
      [16, 16],
      [40, 24],
    ],
  );
  const missing = await extras('extra-batch-images', { upscaler_1: 'Lanczos' });
  assert.equal(missing.res.status, 422);
  assert.deepEqual(missing.json.detail[0].loc, ['body', 'imageList']);
});

test('errors: unknown upscaler (422 with the valid names), face restorers, ranges, resize_mode, bad image, empty result, huge result', async () => {
  const bogus = await single({ upscaler_1: 'Bogus' });
  assert.equal(bogus.res.status, 422);
  assert.equal(bogus.json.error, 'HTTPException');
  assert.match(bogus.json.detail, /upscaler_1: could not find upscaler named "Bogus"; valid choices.*None, Lanczos, Nearest/);
  const bogus2 = await single({ upscaler_1: 'Lanczos', upscaler_2: 'R-ESRGAN 4x+' });
  assert.equal(bogus2.res.status, 422);
  assert.match(bogus2.json.detail, /upscaler_2/);
  for (const field of ['gfpgan_visibility', 'codeformer_visibility']) {
    const face = await single({ upscaler_1: 'Lanczos', [field]: 0.5 });
    assert.equal(face.res.status, 422, field);
    assert.match(face.json.detail, new RegExp(`${field}=0.5: face restoration .* not available`));
  }
  const range = await single({ extras_upscaler_2_visibility: 1.5 });
  assert.equal(range.res.status, 422);
  assert.deepEqual(range.json.detail[0].loc, ['body', 'extras_upscaler_2_visibility']);
  const mode = await single({ resize_mode: 2 });
  assert.equal(mode.res.status, 422);
  assert.deepEqual(mode.json.detail[0].loc, ['body', 'resize_mode']);
  const bad = await single({ image: 'not an image', upscaler_1: 'Lanczos' });
  assert.equal(bad.res.status, 400);
  assert.match(bad.json.detail, /Invalid encoded image \(image\)/);
  const empty = await single({ upscaler_1: 'Lanczos', upscaling_resize: 0.1 });
  assert.equal(empty.res.status, 422);
  assert.match(empty.json.detail, /empty image/);
  const huge = await single({ upscaler_1: 'Lanczos', upscaling_resize: 10000 });
  assert.equal(huge.res.status, 422);
  assert.match(huge.json.detail, /at most 16384 pixels a side/);
  const noImage = await extras('extra-single-image', { upscaler_1: 'Lanczos' });
  assert.equal(noImage.res.status, 400, 'an empty image is undecodable');
});

test('an extras job through POST /sdapi/v2/jobs: 202, events queued → succeeded, the image by URL with its chunks', async () => {
  const res = await server.request('/sdapi/v2/jobs', {
    method: 'POST',
    json: { type: 'extra-single-image', params: { image: PNG_B64, upscaler_1: 'Lanczos', upscaling_resize: 3 } },
  });
  assert.equal(res.status, 202);
  const job = await res.json();
  assert.equal(job.type, 'extra-single-image');
  const { events } = await collectEvents(await server.request(`/sdapi/v2/jobs/${encodeURIComponent(job.id)}/events`));
  const names = events.map((e) => e.event);
  assert.equal(names[0], 'queued');
  assert.ok(names.includes('started') && names.includes('image'), names.join(' '));
  assert.equal(names.at(-1), 'succeeded');
  const done = await (await server.request(`/sdapi/v2/jobs/${encodeURIComponent(job.id)}`)).json();
  assert.equal(done.status, 'succeeded');
  assert.deepEqual(done.result.info, { html_info: '<p>Postprocess upscale by: 3.0, Postprocess upscaler: Lanczos</p>' });
  assert.equal(done.result.parameters.image, null, 'the pixels are not echoed');
  assert.equal(done.result.parameters.upscaling_resize, 3);
  const image = done.result.images[0];
  assert.deepEqual([image.width, image.height, image.mime], [56, 32, 'image/png']);
  const bytes = await server.request(image.url);
  assert.equal(bytes.headers.get('content-type'), 'image/png');
  const png = decodePng(new Uint8Array(await bytes.arrayBuffer()));
  assert.equal(png.text.postprocessing, 'Postprocess upscale by: 3.0, Postprocess upscaler: Lanczos');
  const bad = await server.request('/sdapi/v2/jobs', { method: 'POST', json: { type: 'extra-single-image', params: { image: PNG_B64, upscaler_1: 'x' } } });
  assert.equal(bad.status, 422, 'the same 422 as the sync route, nothing queued');
});

test('no stale live preview: after a generation left one, an extras job clears it (A1111 resets current_image per job)', async () => {
  const gen = await server.request('/sdapi/v1/txt2img', { method: 'POST', json: { prompt: 'x', width: 16, height: 8, steps: 12 } });
  assert.equal(gen.status, 200);
  assert.notEqual(await server.app.sd.preview.current(), null, 'the generation left a preview');
  assert.equal((await single({ upscaler_1: 'Lanczos' })).res.status, 200);
  assert.equal(await server.app.sd.preview.current(), null);
});

function pngSize(b64: string): [number, number] {
  const bytes = Buffer.from(b64, 'base64');
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}
