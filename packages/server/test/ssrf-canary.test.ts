/**
 * Image URLs must not reach local services (issue 13 §4, A1111 PR #12698): a canary listener on loopback must see
 * zero connections while a corpus of spellings of local addresses (numeric forms, IPv4-mapped IPv6, 0.0.0.0, names
 * that resolve to loopback, redirects to them, a resolver that answers differently the second time) goes through
 * the decoder and over HTTP. Every refusal is a 4xx.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { encodePng } from '@sdapi/engine';
import type { ApiError } from '../src/index.ts';
import { decodeRequestImage, isGlobalAddress } from '../src/services/image-input.ts';
import { startTestServer } from './helpers/http.ts';

const ALLOW = { api_enable_requests: true, api_forbid_local_requests: true, api_useragent: '' };
const PNG = encodePng(new Uint8Array(2 * 2 * 3).fill(7), 2, 2);

/** A loopback listener that counts every TCP connection it is offered. */
async function canary(host: string): Promise<{ server: Server; port: number; connections: () => number }> {
  let count = 0;
  const server = createServer((_req, res) => res.end(PNG));
  server.on('connection', (socket: Socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port, connections: () => count };
}

let v4: Awaited<ReturnType<typeof canary>>;
let v6: Awaited<ReturnType<typeof canary>> | undefined;
const server = await startTestServer();

before(async () => {
  v4 = await canary('127.0.0.1');
  v6 = await canary('::1').catch(() => undefined); // hosts without IPv6 loopback skip those spellings
});
after(() => {
  v4.server.close();
  v6?.server.close();
});

/** Spellings of the IPv4 canary (`P` is its port). */
const V4_SPELLINGS = [
  'http://127.0.0.1:P/x.png',
  'http://127.1:P/x.png',
  'http://0x7f000001:P/x.png',
  'http://2130706433:P/x.png',
  'http://0177.0.0.1:P/x.png',
  'http://0x7f.0.0.1:P/x.png',
  'http://127.0.0.1.:P/x.png',
  'http://%31%32%37.0.0.1:P/x.png',
  'http://①②⑦.0.0.1:P/x.png',
  'http://[::ffff:127.0.0.1]:P/x.png',
  'http://[0:0:0:0:0:ffff:7f00:1]:P/x.png',
  'http://0.0.0.0:P/x.png',
  'http://0:P/x.png',
  'http://localhost:P/x.png',
  'http://LOCALHOST.:P/x.png',
  'http://user:pass@127.0.0.1:P/x.png',
  'https://127.0.0.1:P/x.png',
  'HTTP://127.0.0.1:P/x.png'.replace('HTTP', 'http'),
  'http://127.0.0.1:P/x.png#@8.8.8.8',
  'http://8.8.8.8@127.0.0.1:P/x.png',
];
const V6_SPELLINGS = ['http://[::1]:P/x.png', 'http://[0:0:0:0:0:0:0:1]:P/x.png', 'http://[::]:P/x.png'];

describe('the canary sees no connection from any spelling of a local address', () => {
  test('decoder: each spelling is refused as local (IMAGE_URL_NOT_ALLOWED)', async () => {
    const urls = [...V4_SPELLINGS.map((u) => u.replace('P', String(v4.port))), ...(v6 ? V6_SPELLINGS.map((u) => u.replace('P', String(v6?.port))) : [])];
    for (const url of urls) {
      await assert.rejects(
        decodeRequestImage(url, ALLOW),
        (e: ApiError) => e.code === 'IMAGE_URL_NOT_ALLOWED' && e.message === 'Request to local resource not allowed',
        url,
      );
    }
    assert.equal(v4.connections() + (v6?.connections() ?? 0), 0);
  });

  test('over HTTP (png-info, img2img init_images, mask): 403 each, no 5xx', async () => {
    for (const spelling of V4_SPELLINGS) {
      const url = spelling.replace('P', String(v4.port));
      for (const [path, body] of [
        ['/sdapi/v1/png-info', { image: url }],
        ['/sdapi/v1/img2img', { init_images: [url], steps: 1, width: 64, height: 64 }],
        ['/sdapi/v1/img2img', { init_images: [`data:image/png;base64,${PNG.toString('base64')}`], mask: url, steps: 1, width: 64, height: 64 }],
      ] as const) {
        const res = await server.request(path, { method: 'POST', json: body });
        const text = await res.text();
        assert.equal(res.status, 403, `${path} ${url}: ${res.status} ${text.slice(0, 200)}`);
        assert.match(text, /Request to local resource not allowed/);
      }
    }
    assert.equal(v4.connections(), 0);
  });

  test('names resolving to local addresses (any one of them) are refused, and so is a name that does not resolve', async () => {
    const answers: Record<string, string[]> = {
      'loopback.example': ['127.0.0.1'],
      'metadata.example': ['169.254.169.254'],
      'mixed.example': ['93.184.216.34', '127.0.0.1'],
      'mapped.example': ['::ffff:127.0.0.1'],
      'compat.example': ['::7f00:1'],
      'nat64.example': ['64:ff9b::7f00:1'],
      'private.example': ['10.0.0.1', '192.168.0.1'],
      'cgnat.example': ['100.64.0.1'],
      'unique-local.example': ['fd00::1'],
      'empty.example': [],
    };
    const resolve = async (host: string) => (answers[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    for (const host of Object.keys(answers)) {
      await assert.rejects(
        decodeRequestImage(`http://${host}:${v4.port}/x.png`, ALLOW, { resolve }),
        { message: 'Request to local resource not allowed' },
        host,
      );
    }
    const failing = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    await assert.rejects(decodeRequestImage(`http://nowhere.example:${v4.port}/x.png`, ALLOW, { resolve: failing }), {
      message: 'Request to local resource not allowed',
    });
    assert.equal(v4.connections(), 0);
  });
});

describe('redirects and DNS rebinding (a stand-in "public" host on 127.0.0.2 that the test declares global)', () => {
  // Linux routes all of 127/8 to loopback, so 127.0.0.2 can play a public web server; only it is allowed.
  const publicOnly = (address: string) => address === '127.0.0.2' || isGlobalAddress(address);
  let publicHost: Server;
  let publicPort = 0;
  let hits = 0;
  before(async () => {
    publicHost = createServer((req, res) => {
      hits++;
      const to = decodeURIComponent((req.url ?? '').slice('/to/'.length));
      if (req.url === '/img.png') res.end(PNG);
      else if (req.url === '/huge') res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) }).end();
      // biome-ignore lint/suspicious/noControlCharactersInRegex: any non-ASCII character
      else res.writeHead(302, { location: /[^\x00-\x7f]/.test(to) ? encodeURI(to) : to }).end();
    });
    await new Promise<void>((resolve) => publicHost.listen(0, '127.0.0.2', resolve));
    publicPort = (publicHost.address() as AddressInfo).port;
  });
  after(() => publicHost.close());

  test('the stand-in serves an image (the set-up works)', async () => {
    const image = await decodeRequestImage(`http://127.0.0.2:${publicPort}/img.png`, ALLOW, { isAllowedAddress: publicOnly });
    assert.deepEqual([image.width, image.height], [2, 2]);
  });

  test('every redirect is checked again: redirects to each local spelling are refused, the canary sees nothing', async () => {
    hits = 0;
    for (const spelling of V4_SPELLINGS) {
      const target = spelling.replace('P', String(v4.port));
      await assert.rejects(
        decodeRequestImage(`http://127.0.0.2:${publicPort}/to/${encodeURIComponent(target)}`, ALLOW, { isAllowedAddress: publicOnly }),
        (e: ApiError) => e.code === 'IMAGE_URL_NOT_ALLOWED',
        target,
      );
    }
    assert.equal(hits, V4_SPELLINGS.length, 'the public hop was fetched each time');
    assert.equal(v4.connections(), 0);
  });

  test('a redirect to another scheme (file:, ftp:, data:) is a 400, not a read', async () => {
    for (const target of ['file:///etc/passwd', 'ftp://127.0.0.2/x', `data:image/png;base64,${PNG.toString('base64')}`]) {
      await assert.rejects(
        decodeRequestImage(`http://127.0.0.2:${publicPort}/to/${encodeURIComponent(target)}`, ALLOW, { isAllowedAddress: publicOnly }),
        (e: ApiError) => e.code === 'INVALID_IMAGE' && /unsupported scheme/.test(e.message),
        target,
      );
    }
  });

  test('DNS rebinding: the name is resolved once per hop and the checked address is the one connected', async () => {
    let calls = 0;
    // First answer public (the stand-in), every later answer the canary: a second lookup would reach the canary.
    const rebinding = async () => [{ address: calls++ === 0 ? '127.0.0.2' : '127.0.0.1', family: 4 }];
    hits = 0;
    const image = await decodeRequestImage(`http://rebind.example:${publicPort}/img.png`, ALLOW, { resolve: rebinding, isAllowedAddress: publicOnly });
    assert.deepEqual([image.width, image.height, calls, hits], [2, 2, 1, 1]);
    // A redirect back to the same name resolves again, gets the local answer and is refused.
    calls = 0;
    await assert.rejects(
      decodeRequestImage(`http://rebind.example:${publicPort}/to/${encodeURIComponent(`http://rebind.example:${v4.port}/x.png`)}`, ALLOW, {
        resolve: rebinding,
        isAllowedAddress: publicOnly,
      }),
      { message: 'Request to local resource not allowed' },
    );
    assert.equal(v4.connections(), 0);
  });

  test('size cap: a Content-Length over the cap is refused before the body is read', async () => {
    await assert.rejects(
      decodeRequestImage(`http://127.0.0.2:${publicPort}/huge`, ALLOW, { isAllowedAddress: publicOnly, maxBytes: 1024 }),
      /larger than 1024 bytes \(Content-Length/,
    );
  });
});
