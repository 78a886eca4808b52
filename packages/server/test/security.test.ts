/**
 * Issue 13 points 2, 3 and 11: auth on every route of the router table (and every unknown path, method and
 * websocket upgrade) before any 404/405, one allow-list; no response carries a configured secret; foreign
 * origins refused with 403 before any work, whatever the content type; nosniff everywhere.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { describe, test } from 'node:test';
import { isPublicRoute, PUBLIC_ROUTES, registeredRoutes } from '../src/plugins/security.ts';
import sharp from 'sharp';
import { startTestServer } from './helpers/http.ts';

const tinyPng = async () =>
  (
    await sharp({ create: { width: 16, height: 16, channels: 3, background: '#336699' } })
      .png()
      .toBuffer()
  ).toString('base64');

const BASIC_SECRET = 'pw-Qx7-basic-secret';
const API_KEY = 'sk-Zr9-api-key-secret';
const WEBHOOK_SECRET = 'whsec-Lm3-webhook-secret';
const AUTH = { authorization: `Basic ${Buffer.from(`me:${BASIC_SECRET}`).toString('base64')}` };

/** A concrete URL for a route pattern: every `:param` and `*` filled with a harmless value. */
const concrete = (pattern: string) => pattern.replace(/:[A-Za-z_]+/g, 'x1').replace(/\*/g, 'x1');

const server = await startTestServer({
  apiAuth: `me:${BASIC_SECRET}`,
  apiKeys: API_KEY,
  webhooks: { secret: WEBHOOK_SECRET },
  webui: { dist: '/nonexistent-web-dist' },
});
const routes = registeredRoutes(server.app);

/** Upgrade request: resolves with the HTTP status the server answered instead of switching protocols. */
function upgrade(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('auth on every route', () => {
  test('the route table is collected and covers the API families', () => {
    const urls = new Set(routes.map((r) => r.url));
    for (const u of [
      '/sdapi/v1/txt2img',
      '/sdapi/v1/loras',
      '/sdapi/v2/jobs',
      '/sdapi/v2/ws',
      '/v1/images/generations',
      '/docs',
      '/openapi.json',
      '/controlnet/version',
      '/health',
    ]) {
      assert.ok(urls.has(u), `${u} in the route table (${urls.size} routes)`);
    }
    assert.ok(
      [...urls].some((u) => u.startsWith('/internal/')),
      'an /internal/ route',
    );
    assert.ok(routes.length > 60, `${routes.length} routes`);
  });

  test('every registered route answers 401 without credentials (except the allow-list)', async () => {
    const open: string[] = [];
    let checked = 0;
    for (const { method, url } of routes) {
      if (isPublicRoute(method, url)) continue;
      const res = await server.request(concrete(url), { method, ...(method === 'POST' || method === 'PUT' ? { json: {} } : {}) });
      await res.arrayBuffer();
      checked++;
      if (res.status !== 401) open.push(`${method} ${url} → ${res.status}`);
    }
    assert.deepEqual(open, [], `routes answering without credentials (of ${checked})`);
  });

  test('a wrong key or password is 401 too; the right ones pass on every GET route', async () => {
    assert.equal((await server.request('/sdapi/v1/samplers', { headers: { authorization: 'Bearer sk-wrong' } })).status, 401);
    assert.equal((await server.request('/sdapi/v1/samplers', { headers: { authorization: `Basic ${btoa('me:wrong')}` } })).status, 401);
    assert.equal((await server.request('/sdapi/v1/samplers', { headers: { authorization: `Bearer ${API_KEY}` } })).status, 200);
    const refused: string[] = [];
    for (const { url } of routes.filter((r) => r.method === 'GET')) {
      const res = await server.request(concrete(url), { headers: AUTH });
      await res.arrayBuffer();
      if (res.status === 401) refused.push(url);
    }
    assert.deepEqual(refused, []);
  });

  test('unknown paths and methods are 401 before 404/405; the allow-list is open', async () => {
    for (const [method, path] of [
      ['GET', '/no/such/route'],
      ['POST', '/no/such/route'],
      ['DELETE', '/sdapi/v1/txt2img'],
      ['PUT', '/sdapi/v1/options'],
      ['PATCH', '/sdapi/v2/jobs'],
      ['OPTIONS', '/sdapi/v1/txt2img'],
      ['GET', '/file=/etc/passwd'],
      ['GET', '/sdapi/v1/../../etc/passwd'],
      ['GET', '/internal/ping'],
      ['GET', '/sdapi/v2/jobs/x/images/0'],
    ]) {
      const res = await server.request(path, { method });
      await res.arrayBuffer();
      assert.equal(res.status, 401, `${method} ${path}`);
    }
    // With credentials the same requests get their ordinary 404/405.
    assert.equal((await server.request('/no/such/route', { headers: AUTH })).status, 404);
    assert.equal((await server.request('/sdapi/v1/txt2img', { method: 'DELETE', headers: AUTH })).status, 405);
    const health = await server.request('/health');
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.ok(PUBLIC_ROUTES.has('GET /health'));
    // The page's shell challenges for Basic credentials itself (plugins/web.ts).
    const page = await server.request('/');
    assert.equal(page.status, 401);
    assert.match(page.headers.get('www-authenticate') ?? '', /^Basic/);
  });

  test('requests refused before routing (414 long path parameter, malformed URL) also need credentials and get an API body (fuzz finding)', async () => {
    const long = `/sdapi/v2/jobs/${'x'.repeat(2000)}`;
    assert.equal((await server.request(long)).status, 401);
    const authed = await server.request(long, { headers: AUTH });
    assert.equal(authed.status, 414);
    assert.equal(typeof (await authed.json()).detail, 'string');
    assert.equal((await server.request(long, { headers: { origin: 'https://evil.example' } })).status, 403);
    // Paths that look like route patterns to the router were a 500 before the 404 handler stopped reading them as one.
    for (const path of ['/*8c$!:C', '/*///;//J//5', '/a:b', '/sdapi/v1/*']) {
      const res = await server.request(path, { method: 'DELETE', headers: AUTH });
      assert.equal(res.status, 404, path);
      assert.deepEqual(await res.json(), { detail: 'Not Found' });
    }
    const huge = await server.request(`/sdapi/v1/progress?q=${'%F0%9F%A6%84'.repeat(2000)}`, { headers: AUTH });
    assert.equal(huge.status, 431);
    assert.equal(typeof (await huge.json()).detail, 'string');
    const docs = await (await server.request('/openapi.json', { headers: AUTH })).json();
    assert.ok(docs.paths['/health'], '/health is documented');
  });

  test('websocket upgrades: 401 on the socket route and on any other path without credentials', async () => {
    assert.equal(await upgrade(`${server.url}/sdapi/v2/ws`), 401);
    assert.equal(await upgrade(`${server.url}/somewhere/else`), 401);
    assert.equal(await upgrade(`${server.url}/somewhere/else`, AUTH), 404);
    assert.equal(await upgrade(`${server.url}/sdapi/v2/ws`, AUTH), 101);
    assert.equal(await upgrade(`${server.url}/sdapi/v2/ws`, { ...AUTH, origin: 'https://evil.example' }), 403);
  });

  test('no response to any GET route contains a configured secret', async () => {
    const secrets = [BASIC_SECRET, API_KEY, WEBHOOK_SECRET, Buffer.from(`me:${BASIC_SECRET}`).toString('base64')];
    let scanned = 0;
    for (const { url } of routes.filter((r) => r.method === 'GET')) {
      for (const headers of [AUTH, {}]) {
        const res = await server.request(concrete(url), { headers });
        const text = Buffer.from(await res.arrayBuffer()).toString('latin1') + JSON.stringify([...res.headers]);
        scanned++;
        for (const secret of secrets) assert.ok(!text.includes(secret), `GET ${url} leaks a secret`);
      }
    }
    assert.ok(scanned > 50, `${scanned} responses scanned`);
    const flags = await (await server.request('/sdapi/v1/cmd-flags', { headers: AUTH })).json();
    assert.equal(flags.api_auth, '***', 'cmd-flags says auth is on, not what it is');
  });
});

describe('foreign origins', async () => {
  const plain = await startTestServer();
  const cors = await startTestServer({ corsAllowOrigins: 'https://allowed.example', corsAllowOriginsRegex: 'https://[a-z]+\\.trusted\\.example' });
  const bodies: [string, string][] = [
    ['application/json', JSON.stringify({ prompt: 'x', steps: 1, width: 64, height: 64 })],
    ['text/plain', JSON.stringify({ prompt: 'x' })],
    ['application/x-www-form-urlencoded', 'prompt=x'],
    ['multipart/form-data; boundary=zz', '--zz\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nx\r\n--zz--\r\n'],
  ];

  test('a foreign Origin (or Origin: null) is 403 before any work, whatever the content type', async () => {
    for (const origin of ['https://evil.example', 'null', 'http://localhost.evil.example', 'file://', 'garbage']) {
      for (const [type, body] of bodies) {
        const res = await plain.request('/sdapi/v1/txt2img', { method: 'POST', headers: { origin, 'content-type': type }, body });
        const json = await res.json();
        assert.equal(res.status, 403, `${origin} ${type}`);
        assert.match(json.detail, /Origin not allowed/);
      }
      for (const path of ['/sdapi/v1/options', '/no/such', '/sdapi/v2/jobs']) assert.equal((await plain.request(path, { headers: { origin } })).status, 403);
    }
    assert.equal(plain.generator.calls.length, 0, 'nothing was generated');
  });

  test('no Origin (curl, webuiapi) and the server own origin are unaffected', async () => {
    const ok = await plain.request('/sdapi/v1/txt2img', { method: 'POST', json: { prompt: 'x', steps: 1, width: 64, height: 64 } });
    assert.equal(ok.status, 200);
    const same = await plain.request('/sdapi/v1/txt2img', {
      method: 'POST',
      headers: { origin: plain.url },
      json: { prompt: 'x', steps: 1, width: 64, height: 64 },
    });
    assert.equal(same.status, 200);
    assert.equal(same.headers.get('access-control-allow-origin'), null, 'no CORS headers needed for the same origin');
  });

  test('--cors-allow-origins(-regex): allowed origins pass with CORS headers, preflights answered', async () => {
    for (const origin of ['https://allowed.example', 'https://api.trusted.example']) {
      const res = await cors.request('/sdapi/v1/samplers', { headers: { origin } });
      assert.equal(res.status, 200, origin);
      assert.equal(res.headers.get('access-control-allow-origin'), origin);
      const pre = await cors.request('/sdapi/v1/txt2img', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      assert.equal(pre.status, 200);
      assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
    }
    for (const origin of ['https://evil.example', 'https://x.trusted.example.evil.example', 'null']) {
      assert.equal((await cors.request('/sdapi/v1/samplers', { headers: { origin } })).status, 403, origin);
      const pre = await cors.request('/sdapi/v1/txt2img', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      assert.equal(pre.status, 403, `preflight from ${origin}`);
    }
  });

  test('job images (and kept inputs) are served as images with nosniff', async () => {
    const created = await plain.request('/sdapi/v2/jobs', {
      method: 'POST',
      json: { type: 'img2img', params: { steps: 2, width: 64, height: 64, init_images: [await tinyPng()] } },
    });
    assert.equal(created.status, 202);
    const { id } = await created.json();
    let job: { status: string } = { status: 'queued' };
    for (let i = 0; i < 200 && job.status !== 'succeeded' && job.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      job = await (await plain.request(`/sdapi/v2/jobs/${id}`)).json();
    }
    assert.equal(job.status, 'succeeded');
    for (const path of [`/sdapi/v2/jobs/${id}/images/0`, `/sdapi/v2/jobs/${id}/inputs/init_images/0`]) {
      const res = await plain.request(path);
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^image\/(png|jpeg|webp)$/, path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(bytes.subarray(1, 4).toString(), 'PNG', path);
    }
  });

  test('every response says nosniff', async () => {
    for (const path of ['/sdapi/v1/samplers', '/no/such', '/health', '/openapi.json', '/docs']) {
      const res = await plain.request(path);
      await res.arrayBuffer();
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
    }
  });
});

/** A raw HTTP request with a chosen `Host` header (fetch sets its own): resolves with status and parsed body. */
function withHost(base: string, path: string, host: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = httpRequest(base + path, { method: init.method ?? 'GET', headers: { ...init.headers, host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('allowed hosts (DNS rebinding)', async () => {
  const loopback = await startTestServer();
  const extended = await startTestServer({ allowedHosts: 'sd.example.lan, other.example:8080' });
  const listening = await startTestServer({ listenHost: '0.0.0.0' });
  const listeningChecked = await startTestServer({ listenHost: '0.0.0.0', allowedHosts: 'sd.example.lan' });
  const job = JSON.stringify({ prompt: 'x', steps: 1, width: 64, height: 64 });
  const port = new URL(loopback.url).port;

  test('on loopback, a rebinding page (foreign Host, Origin matching it) is 403 before any work', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `localhost.evil.example:${port}`, '127.0.0.1.nip.io', '10.0.0.5', `[::2]:${port}`]) {
      const origin = `http://${host}`;
      const res = await withHost(loopback.url, '/sdapi/v1/txt2img', host, { method: 'POST', headers: { origin, 'content-type': 'text/plain' }, body: job });
      assert.equal(res.status, 403, host);
      assert.match(res.body.detail, /Host not allowed.*--allowed-hosts/, host);
      // No Origin at all (a rebinding page's GET of an image, say) is refused the same.
      assert.equal((await withHost(loopback.url, '/sdapi/v1/options', host)).status, 403, `GET ${host}`);
      assert.equal((await withHost(loopback.url, '/no/such', host)).status, 403, `unknown path ${host}`);
      assert.equal(await upgrade(`${loopback.url}/sdapi/v2/ws`, { host }), 403, `websocket ${host}`);
    }
    assert.equal(loopback.generator.calls.length, 0, 'nothing was generated');
  });

  test('loopback names and addresses pass, with any port', async () => {
    for (const host of ['localhost', `localhost:${port}`, `LOCALHOST:${port}`, `127.0.0.1:${port}`, '127.0.0.1', `[::1]:${port}`, '[::1]']) {
      const res = await withHost(loopback.url, '/sdapi/v1/txt2img', host, {
        method: 'POST',
        headers: { origin: `http://${host}`, 'content-type': 'application/json' },
        body: job,
      });
      assert.equal(res.status, 200, host);
    }
    assert.equal(loopback.generator.calls.length, 7);
  });

  test('--allowed-hosts adds names (with or without a port); others are still refused', async () => {
    for (const host of ['sd.example.lan', `sd.example.lan:${port}`, 'SD.example.lan', 'other.example:8080', 'localhost'])
      assert.equal((await withHost(extended.url, '/sdapi/v1/samplers', host)).status, 200, host);
    for (const host of ['evil.example', 'other.example:9090', 'example.lan'])
      assert.equal((await withHost(extended.url, '/sdapi/v1/samplers', host)).status, 403, host);
  });

  test('listening beyond loopback the check is off, unless --allowed-hosts is given', async () => {
    assert.equal((await withHost(listening.url, '/sdapi/v1/samplers', 'my-box.lan')).status, 200);
    assert.equal((await withHost(listeningChecked.url, '/sdapi/v1/samplers', 'sd.example.lan')).status, 200);
    assert.equal((await withHost(listeningChecked.url, '/sdapi/v1/samplers', 'my-box.lan')).status, 403);
    assert.equal((await withHost(listeningChecked.url, '/sdapi/v1/samplers', '127.0.0.1')).status, 200);
  });
});
