/**
 * Issue 13 point 5: `--max-image-pixels` applies to every decoded request image, not only to the base64 headers
 * the preHandler can see. An image URL, or a base64 JPEG whose SOF comes after more than 96 KiB of base64 (a big
 * APP/EXIF block), over the app's limit is a 413 naming the field, its size, the limit and the flag, on every
 * route that decodes images (A1111 img2img/mask, png-info, interrogate, extras, ControlNet, v2 jobs); an image
 * under the limit still works. The URLs are served by a local listener (local requests allowed in config.json).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeImage, encodePng } from '@sdapi/engine';
import { startTestServer } from './helpers/http.ts';

const LIMIT = 128 * 128; // the app's --max-image-pixels here (the default is 8192²)
const SMALL = { steps: 1, width: 64, height: 64 };

const grey = (w: number, h: number) => new Uint8Array(w * h * 3).map((_, i) => (i * 7) & 0xff);
/** A real JPEG of w×h with `appBytes` of APP2 segments between SOI and the rest (the SOF comes after them). */
async function jpegWithApp(w: number, h: number, appBytes: number): Promise<Buffer> {
  const jpeg = await encodeImage(grey(w, h), w, h, { format: 'jpeg' });
  const segments: Buffer[] = [];
  for (let left = appBytes; left > 0; left -= 60_000) {
    const n = Math.min(left, 60_000);
    const seg = Buffer.alloc(4 + n, 0x41);
    seg.writeUInt16BE(0xffe2, 0);
    seg.writeUInt16BE(n + 2, 2);
    segments.push(seg);
  }
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
}
const SOF0 = Buffer.from([0xff, 0xc0]);
/** `jpeg` with its SOF0 rewritten to claim w×h (the pixel data stays the small image's). */
function claiming(jpeg: Buffer, w: number, h: number): Buffer {
  const out = Buffer.from(jpeg);
  const sof = out.indexOf(SOF0, 2);
  assert.ok(sof > 0, 'a baseline JPEG');
  out.writeUInt16BE(h, sof + 5);
  out.writeUInt16BE(w, sof + 7);
  return out;
}

const OK_PNG = encodePng(grey(64, 64), 64, 64); // 4096 pixels: under the limit
const OVER_PNG = encodePng(grey(160, 120), 160, 120); // 19200 pixels: over it
const CHUNK = Buffer.alloc(1024 * 1024, 7);
const ENDLESS_LIMIT = 48; // MiB the /endless URL would send (under the 64 MiB download cap)

describe('--max-image-pixels on every decoded image', async () => {
  let host: Server;
  let base = '';
  let endlessSent = 0;
  let endlessClosed: Promise<void> = Promise.resolve();
  const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-pixels-'));
  writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ api_forbid_local_requests: false }));
  mkdirSync(join(dataDir, 'models', 'ControlNet'), { recursive: true });
  writeFileSync(join(dataDir, 'models', 'ControlNet', 'control_v11p_sd15_canny.safetensors'), 'x');
  const server = await startTestServer({ dataDir, limits: { maxImagePixels: LIMIT } });
  const post = (path: string, body: unknown) => server.post(path, body);

  before(async () => {
    const huge = claiming(await jpegWithApp(16, 16, 120_000), 30000, 30000);
    host = createServer((req, res) => {
      if (req.url === '/ok.png') res.end(OK_PNG);
      else if (req.url === '/over.png') res.end(OVER_PNG);
      else if (req.url === '/huge.jpg') res.end(huge);
      else if (req.url === '/endless.png') {
        // A header claiming 30000×30000, then megabytes of "data": the server must stop reading at the header.
        endlessSent = 0;
        endlessClosed = new Promise((resolve) => res.on('close', () => resolve()));
        const header = Buffer.from(encodePng(grey(4, 4), 4, 4).subarray(0, 33));
        header.writeUInt32BE(30000, 16);
        header.writeUInt32BE(30000, 20);
        res.write(header);
        const pump = () => {
          while (endlessSent < ENDLESS_LIMIT && !res.destroyed) {
            endlessSent++;
            if (!res.write(CHUNK)) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end();
        };
        pump();
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
  });
  after(() => host.closeAllConnections?.() ?? host.close());

  /** Every route and field that decodes a request image, with `image` in it. */
  const places = (image: string): [string, unknown, RegExp][] => [
    ['/sdapi/v1/img2img', { ...SMALL, init_images: [image] }, /^init_images\[0\]: /],
    ['/sdapi/v1/img2img', { ...SMALL, init_images: [OK_PNG.toString('base64')], mask: image }, /^mask: /],
    ['/sdapi/v1/png-info', { image }, /^image: /],
    ['/sdapi/v1/interrogate', { image, model: 'clip' }, /^image: /],
    ['/sdapi/v1/extra-single-image', { image, upscaling_resize: 1 }, /^image: /],
    ['/sdapi/v1/extra-batch-images', { imageList: [{ name: 'a', data: image }], upscaling_resize: 1 }, /^imageList\[0\]\.data: /],
    [
      '/sdapi/v1/txt2img',
      { ...SMALL, alwayson_scripts: { controlnet: { args: [{ enabled: true, module: 'canny', model: 'control_v11p_sd15_canny', image }] } } },
      /controlnet.*image: /,
    ],
    ['/controlnet/detect', { controlnet_module: 'canny', controlnet_input_images: [image] }, /^controlnet_input_images\[0\]: /],
    ['/sdapi/v2/jobs', { type: 'img2img', params: { ...SMALL, init_images: [image] } }, /^init_images\[0\]: /],
    ['/sdapi/v2/jobs', { type: 'extra-single-image', params: { image, upscaling_resize: 1 } }, /^image: /],
  ];

  const refusedEverywhere = async (image: string, size: RegExp) => {
    for (const [path, body, field] of places(image)) {
      const { status, body: json } = await post(path, body);
      const where = `${path} ${JSON.stringify(body).slice(0, 160)}: ${JSON.stringify(json).slice(0, 300)}`;
      assert.equal(status, 413, where);
      // A1111's HTTPException body, as every limit error; the detail names the field, the size, the limit, the flag.
      assert.deepEqual(Object.keys(json).sort(), ['body', 'detail', 'error', 'errors'], where);
      assert.match(json.detail, field, where);
      assert.match(json.detail, size, where);
      assert.match(json.detail, new RegExp(`at most ${LIMIT} pixels \\(--max-image-pixels\\)`), where);
    }
    assert.equal(server.generator.calls.length + server.generator.img2imgCalls.length, 0, 'nothing reached the generator');
  };

  test('an image URL over the limit is a 413 on every route, from its header', async () => {
    await refusedEverywhere(`${base}/over.png`, /the PNG image is 160x120 \(19200 pixels\)/);
    await refusedEverywhere(`${base}/huge.jpg`, /the JPEG image is 30000x30000 \(900000000 pixels\)/);
  });

  test('a URL whose header claims too much is cut off after its header, not downloaded', async () => {
    const { status, body } = await post('/sdapi/v1/png-info', { image: `${base}/endless.png` });
    assert.equal(status, 413, JSON.stringify(body));
    assert.match(body.detail, /30000x30000/);
    await endlessClosed;
    assert.ok(endlessSent < ENDLESS_LIMIT, `the download was cut (${endlessSent} of ${ENDLESS_LIMIT} MiB written)`);
  });

  test('a base64 JPEG whose SOF follows > 96 KiB of base64 of APP data is a 413, not a 400 or 500', async () => {
    const real = await jpegWithApp(160, 120, 120_000); // real pixels, over the limit
    assert.ok((real.indexOf(SOF0) * 4) / 3 > 96 * 1024, 'the SOF lies beyond the first 96 KiB of base64');
    await refusedEverywhere(real.toString('base64'), /the JPEG image is 160x120 \(19200 pixels\)/);
    const claim = claiming(await jpegWithApp(16, 16, 120_000), 30000, 30000); // a claim with nothing behind it
    await refusedEverywhere(`data:image/jpeg;base64,${claim.toString('base64')}`, /the JPEG image is 30000x30000/);
  });

  test('images under the limit still work: URL and big-APP JPEG', async () => {
    const info = await post('/sdapi/v1/png-info', { image: `${base}/ok.png` });
    assert.equal(info.status, 200, JSON.stringify(info.body));
    const bigApp = (await jpegWithApp(64, 64, 120_000)).toString('base64');
    for (const image of [`${base}/ok.png`, bigApp]) {
      const res = await post('/sdapi/v1/img2img', { ...SMALL, init_images: [image] });
      assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
      const extras = await post('/sdapi/v1/extra-single-image', { image, upscaling_resize: 1 });
      assert.equal(extras.status, 200, JSON.stringify(extras.body).slice(0, 300));
    }
    const call = server.generator.img2imgCalls.at(-1);
    assert.deepEqual([call?.initImages[0].width, call?.initImages[0].height], [64, 64]);
    // Exactly at the limit is fine (128×128 = LIMIT).
    const edge = await post('/sdapi/v1/png-info', { image: encodePng(grey(128, 128), 128, 128).toString('base64') });
    assert.equal(edge.status, 200, JSON.stringify(edge.body));
  });
});
