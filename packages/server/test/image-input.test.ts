/**
 * Images in requests (spec §1.9): every case of vectors/base64_decode.json, through the decoder and over HTTP
 * (png-info), and the URL rules: requests disabled, local addresses refused (every resolved address checked),
 * content that is no image, size and time limits.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodePng } from '@sdapi/engine';
import type { ApiError } from '../src/index.ts';
import { decodeRequestImage, isGlobalAddress } from '../src/services/image-input.ts';
import { startTestServer } from './helpers/http.ts';
import { needVector, readVector } from './helpers/spec.ts';

interface DecodeCase {
  description: string;
  input: string;
  expected: { ok: boolean; size?: [number, number]; http_status?: number; detail?: string; unhandled_exception?: string };
}

const ALLOW = { api_enable_requests: true, api_forbid_local_requests: true, api_useragent: '' };
const skip = needVector('base64_decode.json');
const server = await startTestServer();

const pngInfo = async (image: unknown) => {
  const res = await server.request('/sdapi/v1/png-info', { method: 'POST', json: { image } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('vectors/base64_decode.json, every case', { skip }, () => {
  if (skip) return;
  for (const c of readVector<{ cases: DecodeCase[] }>('base64_decode.json').cases) {
    test(c.description, async () => {
      if (c.expected.ok) {
        const image = await decodeRequestImage(c.input.trim(), ALLOW);
        assert.deepEqual([image.width, image.height], c.expected.size);
        assert.equal(image.format, 'png');
        assert.equal((await pngInfo(c.input)).status, 200);
        return;
      }
      await assert.rejects(decodeRequestImage(c.input, ALLOW), (e: ApiError) => e.code === 'INVALID_IMAGE');
      const { status, body } = await pngInfo(c.input);
      // A1111 answers 500 (and an IndexError for the malformed data URLs); bad input is a 400 here.
      assert.equal(status, 400);
      assert.equal(body.error, 'HTTPException');
      if (c.expected.detail) assert.equal(body.detail, c.expected.detail);
      else assert.match(String(body.detail), /^Invalid encoded image: a data URL must look like data:image\/<type>;base64,<data>/);
    });
  }
});

test('base64 with URL-safe characters or line breaks inside still decodes (non-alphabet characters are dropped)', async () => {
  const b64 = encodePng(new Uint8Array(3 * 2 * 3).fill(9), 3, 2).toString('base64');
  const noisy = `${b64.slice(0, 10)}\r\n\t-_${b64.slice(10)}`;
  const image = await decodeRequestImage(noisy, ALLOW);
  assert.deepEqual([image.width, image.height], [3, 2]);
});

test('isGlobalAddress: only global unicast addresses pass', () => {
  for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) assert.equal(isGlobalAddress(a), true, a);
  for (const a of [
    '127.0.0.1',
    '10.0.0.1',
    '172.16.3.4',
    '192.168.1.1',
    '169.254.169.254',
    '0.0.0.0',
    '100.64.0.1',
    '::1',
    'fe80::1',
    'fc00::1',
    '::ffff:127.0.0.1',
    '224.0.0.1',
    'not-an-ip',
  ]) {
    assert.equal(isGlobalAddress(a), false, a);
  }
});

describe('image URLs', () => {
  const PNG = encodePng(new Uint8Array(4 * 3 * 3).fill(200), 4, 3);
  let host: Server;
  let base = '';
  let userAgent: string | undefined;
  before(async () => {
    host = createServer((req, res) => {
      userAgent = req.headers['user-agent'];
      if (req.url === '/img.png') res.end(PNG);
      else if (req.url === '/redirect') res.writeHead(302, { location: '/img.png' }).end();
      else if (req.url === '/big') res.end(Buffer.alloc(4096, 1));
      else if (req.url === '/slow') setTimeout(() => res.end(PNG), 5000).unref();
      else res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>not here</h1>');
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
  });
  after(() => host.closeAllConnections?.() ?? host.close());

  test('a loopback URL is refused while api_forbid_local_requests is on (the default), before anything is fetched', async () => {
    userAgent = 'untouched';
    const { status, body } = await pngInfo(`${base}/img.png`);
    assert.equal(status, 403);
    assert.equal(body.detail, 'Request to local resource not allowed');
    assert.equal(userAgent, 'untouched');
  });

  test('a host name is resolved and every address must be global (one private address is enough to refuse)', async () => {
    const resolve = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.1.2.3', family: 4 },
    ];
    await assert.rejects(decodeRequestImage('http://mixed.example/img.png', ALLOW, { resolve }), { message: 'Request to local resource not allowed' });
    const failing = async () => {
      throw new Error('ENOTFOUND');
    };
    await assert.rejects(decodeRequestImage('http://nowhere.example/x.png', ALLOW, { resolve: failing }), { message: 'Request to local resource not allowed' });
  });

  test('requests disabled: "Requests not allowed"', async () => {
    await assert.rejects(
      decodeRequestImage(`${base}/img.png`, { ...ALLOW, api_enable_requests: false }),
      (e: ApiError) => e.code === 'IMAGE_URL_NOT_ALLOWED' && e.message === 'Requests not allowed',
    );
  });

  test('with local requests allowed (config.json): fetched, redirects followed, user agent sent; non-images are "Invalid image url"', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-url-'));
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ api_forbid_local_requests: false, api_useragent: 'sdapi-test/1' }));
    const local = await startTestServer({ dataDir });
    const post = async (image: string) => {
      const res = await local.request('/sdapi/v1/png-info', { method: 'POST', json: { image } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    assert.equal((await post(`${base}/img.png`)).status, 200);
    assert.equal(userAgent, 'sdapi-test/1');
    assert.equal((await post(`${base}/redirect`)).status, 200);
    const notImage = await post(`${base}/missing`);
    assert.deepEqual([notImage.status, notImage.body.detail], [400, 'Invalid image url']);
  });

  test('size and time limits end a fetch with a 400 that says why', async () => {
    const open = { ...ALLOW, api_forbid_local_requests: false };
    await assert.rejects(decodeRequestImage(`${base}/big`, open, { maxBytes: 1000 }), /larger than 1000 bytes/);
    const started = Date.now();
    await assert.rejects(decodeRequestImage(`${base}/slow`, open, { timeoutMs: 300 }), /Invalid image url: .*(timed out|closed early)/);
    assert.ok(Date.now() - started < 3000, 'the timeout ends the request');
  });
});
