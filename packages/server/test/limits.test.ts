/**
 * Issue 13 point 5 (limits before work) and 11 (inputs are real images): `--max-*` maxima shown in
 * capabilities, refused with 422/413 before the generator is called; an image whose header claims 30000×30000
 * refused from its header; a per-client quota answering 429 with Retry-After.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { imageHeaderSize, imageKind } from '../src/services/limits.ts';
import { startTestServer } from './helpers/http.ts';

/** A PNG that is only a signature and an IHDR claiming `w`×`h` (no pixel data: decoding it would fail). */
function pngHeader(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(13);
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), len, Buffer.from('IHDR'), ihdr, Buffer.alloc(4), Buffer.alloc(64)]);
}

/** A baseline JPEG header: SOI, an APP0, then SOF0 claiming `w`×`h`. */
function jpegHeader(w: number, h: number): Buffer {
  const app0 = Buffer.from('ffe000104a46494600010100000100010000', 'hex');
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, h >> 8, h & 0xff, w >> 8, w & 0xff, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof, Buffer.alloc(64)]);
}

const b64 = (b: Buffer) => b.toString('base64');
const SMALL = { steps: 2, width: 64, height: 64 };

describe('header sizes without decoding', () => {
  test('PNG, JPEG, GIF, BMP and WebP headers give their size; other bytes are not images', () => {
    assert.deepEqual(imageHeaderSize(pngHeader(30000, 30000)), { width: 30000, height: 30000 });
    assert.deepEqual(imageHeaderSize(jpegHeader(20000, 10000)), { width: 20000, height: 10000 });
    const gif = Buffer.concat([Buffer.from('GIF89a'), Buffer.from([0x10, 0x27, 0x20, 0x4e]), Buffer.alloc(8)]);
    assert.deepEqual(imageHeaderSize(gif), { width: 10000, height: 20000 });
    const bmp = Buffer.alloc(30);
    bmp.write('BM');
    bmp.writeInt32LE(40000, 18);
    bmp.writeInt32LE(-3, 22);
    assert.deepEqual(imageHeaderSize(bmp), { width: 40000, height: 3 });
    const vp8x = Buffer.alloc(30);
    vp8x.write('RIFF');
    vp8x.write('WEBP', 8);
    vp8x.write('VP8X', 12);
    vp8x.writeUIntLE(29999, 24, 3);
    vp8x.writeUIntLE(15999, 27, 3);
    assert.deepEqual(imageHeaderSize(vp8x), { width: 30000, height: 16000 });
    for (const text of ['<svg xmlns="http://www.w3.org/2000/svg"/>', '%PDF-1.4', 'II*\0', 'hello world'])
      assert.equal(imageKind(Buffer.from(text)), null, text);
  });
});

describe('limits before work', async () => {
  const server = await startTestServer({
    limits: { maxWidth: 1024, maxHeight: 1024, maxPixels: 512 * 768, maxSteps: 50, maxBatch: 8, maxPromptLength: 1000, maxImagePixels: 2048 * 2048 },
    bodyLimit: 4 * 1024 * 1024,
  });
  const post = (path: string, json: unknown) => server.request(path, { method: 'POST', json });

  test('capabilities show the limits (no longer null)', async () => {
    const { limits } = await (await server.request('/sdapi/v2/capabilities')).json();
    assert.equal(limits.max_width, 1024);
    assert.equal(limits.max_height, 1024);
    assert.equal(limits.max_pixels, 512 * 768);
    assert.equal(limits.max_steps, 50);
    assert.equal(limits.max_batch_size, 8);
    assert.equal(limits.max_prompt_length, 1000);
    assert.equal(limits.max_image_pixels, 2048 * 2048);
    assert.equal(limits.body_limit_bytes, 4 * 1024 * 1024);
    assert.equal(limits.max_queued_per_client, null);
  });

  test('each limit is a 422 naming its field and flag, and the generator is never called', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ width: 100000 }, 'width', /--max-width/],
      [{ height: 4096 }, 'height', /--max-height/],
      [{ width: 1024, height: 1024 }, 'width', /--max-pixels/],
      [{ steps: 100000 }, 'steps', /--max-steps/],
      [{ batch_size: 4, n_iter: 3 }, 'n_iter', /--max-batch/],
      [{ batch_size: 100 }, 'batch_size', /--max-batch/],
      [{ prompt: 'x'.repeat(1001) }, 'prompt', /--max-prompt-length/],
      [{ negative_prompt: 'é'.repeat(5000) }, 'negative_prompt', /--max-prompt-length/],
      [{ enable_hr: true, hr_scale: 4, width: 512, height: 512 }, 'hr_scale', /--max-/],
      [{ enable_hr: true, hr_resize_x: 2000 }, 'hr_resize_x', /--max-width/],
    ];
    for (const [fields, field, flag] of cases) {
      // img2img has no hires pass: its enable_hr is ignored as in A1111.
      for (const path of 'enable_hr' in fields ? ['/sdapi/v1/txt2img'] : ['/sdapi/v1/txt2img', '/sdapi/v1/img2img']) {
        const body = path.endsWith('img2img') ? { ...SMALL, init_images: [b64(pngHeader(8, 8))], ...fields } : { ...SMALL, ...fields };
        const res = await post(path, body);
        const json = await res.json();
        assert.equal(res.status, 422, `${path} ${JSON.stringify(fields)}: ${JSON.stringify(json)}`);
        assert.ok(
          json.detail.some((d: { loc: string[]; msg: string }) => d.loc.at(-1) === field && flag.test(d.msg)),
          JSON.stringify(json.detail),
        );
      }
    }
    const job = await post('/sdapi/v2/jobs', { type: 'txt2img', params: { ...SMALL, width: 99999 } });
    assert.equal(job.status, 422);
    assert.deepEqual((await job.json()).detail[0].loc, ['body', 'params', 'width']);
    const openai = await post('/v1/images/generations', { prompt: 'x', size: '4096x4096' });
    assert.ok(openai.status >= 400 && openai.status < 500, String(openai.status));
    assert.match(JSON.stringify(await openai.json()), /--max-width/);
    assert.equal(server.generator.calls.length + server.generator.img2imgCalls.length, 0, 'nothing reached the generator');
    assert.equal((await post('/sdapi/v1/txt2img', { ...SMALL, width: 1024, height: 384 })).status, 200, 'at the limits is fine');
  });

  test('an image whose header claims 30000×30000 is refused from its header (413), wherever it is', async () => {
    for (const bytes of [pngHeader(30000, 30000), jpegHeader(30000, 30000)]) {
      const bodies: [string, unknown][] = [
        ['/sdapi/v1/img2img', { ...SMALL, init_images: [b64(bytes)] }],
        ['/sdapi/v1/img2img', { ...SMALL, init_images: [b64(pngHeader(8, 8))], mask: `data:image/png;base64,${b64(bytes)}` }],
        ['/sdapi/v1/png-info', { image: b64(bytes) }],
        ['/sdapi/v1/extra-single-image', { image: b64(bytes), upscaling_resize: 1 }],
        ['/sdapi/v1/txt2img', { ...SMALL, alwayson_scripts: { controlnet: { args: [{ image: b64(bytes) }] } } }],
        ['/controlnet/detect', { controlnet_module: 'canny', controlnet_input_images: [b64(bytes)] }],
      ];
      for (const [path, body] of bodies) {
        const started = process.hrtime.bigint();
        const res = await post(path, body);
        const json = await res.json();
        assert.equal(res.status, 413, `${path}: ${JSON.stringify(json)}`);
        assert.match(JSON.stringify(json), /30000x30000/);
        assert.ok(process.hrtime.bigint() - started < 5_000_000_000n);
      }
    }
  });

  test('inputs must be real images by their magic bytes (SVG, PDF, text refused with 400)', async () => {
    for (const text of ['<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', '%PDF-1.4 junk', 'just some text, long enough']) {
      const res = await post('/sdapi/v1/png-info', { image: b64(Buffer.from(text)) });
      const json = await res.json();
      assert.equal(res.status, 400, text);
      assert.equal(json.detail, 'Invalid encoded image');
    }
  });

  test('a body over --max-body-size is 413', async () => {
    const res = await post('/sdapi/v1/txt2img', { ...SMALL, prompt: 'x'.repeat(5 * 1024 * 1024) });
    assert.equal(res.status, 413);
  });
});

describe('per-client queue quota', async () => {
  const server = await startTestServer({ limits: { maxQueuedPerClient: 2 } });
  server.generator.stepDelayMs = 20;

  /** Polls `read` until `done` holds (10 s at most): the test waits for states, never for a fixed time. */
  async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const value = await read();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const getJson = async (path: string) => (await server.request(path)).json();
  const ended = (id: string) =>
    until(
      () => getJson(`/sdapi/v2/jobs/${id}`),
      (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status),
      `job ${id} to end`,
    );
  const sync = (params: object, signal?: AbortSignal) => server.request('/sdapi/v1/txt2img', { method: 'POST', json: params, signal });
  const submit = (params: object) => server.request('/sdapi/v2/jobs', { method: 'POST', json: { type: 'txt2img', params } });
  /** 100 steps × 20 ms: queued or running through every check that follows however loaded the machine; stopped by the test. */
  const LONG = { ...SMALL, steps: 100 };

  test('a third waiting job from one client is 429 with Retry-After; after they finish it is accepted', async () => {
    const a = await submit(LONG);
    assert.equal(a.status, 202);
    const aId = (await a.json()).id;
    const waiting = sync({ ...SMALL, steps: 10 });
    await until(
      () => getJson('/internal/pending-tasks'),
      (p) => p.size === 1,
      'the sync request to wait behind the job',
    );
    const third = await sync(SMALL);
    assert.equal(third.status, 429, await third.text());
    assert.match(third.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal((await submit(SMALL)).status, 429);
    assert.equal((await server.request(`/sdapi/v2/jobs/${aId}`, { method: 'DELETE' })).status, 202);
    assert.equal((await waiting).status, 200);
    await ended(aId);
    assert.equal((await sync(SMALL)).status, 200);
    // A client that hangs up on a sync request still has its job running: it keeps the slot until the job ends.
    const hangUp = new AbortController();
    const abandoned = sync(LONG, hangUp.signal).catch(() => 'aborted');
    await until(
      () => getJson('/sdapi/v1/progress'),
      (p) => p.state.sampling_steps === LONG.steps && p.state.sampling_step > 0,
      'the job to run',
    );
    hangUp.abort();
    assert.equal(await abandoned, 'aborted');
    const second = await submit({ ...SMALL, steps: 10 });
    assert.equal(second.status, 202, 'one slot left');
    assert.equal((await sync(SMALL)).status, 429, 'the abandoned job still counts');
    assert.equal((await server.request('/sdapi/v1/interrupt', { method: 'POST' })).status, 200); // ends the abandoned job
    const secondId = (await second.json()).id;
    assert.equal((await ended(secondId)).status, 'succeeded');
    assert.equal((await sync(SMALL)).status, 200);
    // A replay queues a job too: two replays fill the quota, the third is refused. (Slower steps keep the first
    // replay running meanwhile; the two are cancelled after.)
    server.generator.stepDelayMs = 500;
    const replays = [];
    for (let i = 0; i < 3; i++) replays.push(await server.request(`/sdapi/v2/jobs/${secondId}/replay`, { method: 'POST' }));
    assert.deepEqual(
      replays.map((r) => r.status),
      [202, 202, 429],
    );
    for (const replay of replays.slice(0, 2)) {
      const id = (await replay.json()).id;
      assert.ok([200, 202].includes((await server.request(`/sdapi/v2/jobs/${id}`, { method: 'DELETE' })).status));
      await ended(id);
    }
    server.generator.stepDelayMs = 20;
    const caps = await (await server.request('/sdapi/v2/capabilities')).json();
    assert.equal(caps.limits.max_queued_per_client, 2);
  });
});
