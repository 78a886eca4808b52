/**
 * The page's static route (plugins/web.ts) over real HTTP, on a dist folder made here: MIME types, caching headers,
 * ETag revalidation, nosniff, names that try to leave the folder, a symlink out of it, the "not built" answer, the
 * Basic challenge behind --api-auth, and no page at all without `webui`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestServer } from './helpers/http.ts';

function makeDist(): string {
  const root = mkdtempSync(join(tmpdir(), 'sdapi-web-'));
  const dist = join(root, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>sdapi</title><script type="module" src="./assets/index-AbC123.js"></script>');
  writeFileSync(join(dist, 'assets', 'index-AbC123.js'), 'console.log("page")');
  writeFileSync(join(dist, 'assets', 'index-AbC123.css'), 'body{}');
  writeFileSync(join(root, 'secret.txt'), 'outside the dist folder');
  symlinkSync(join(root, 'secret.txt'), join(dist, 'assets', 'link.txt'));
  return dist;
}

test('index: no-cache with an ETag (304 on revalidation), nosniff, CSP; assets: immutable with their MIME type', async () => {
  const { request } = await startTestServer({ webui: { dist: makeDist() } });
  const index = await request('/');
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
  assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'self'.*frame-ancestors 'none'/);
  assert.match(await index.text(), /<title>sdapi<\/title>/);
  const etag = index.headers.get('etag') ?? '';
  assert.ok(etag, 'an ETag');
  const again = await request('/', { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);

  const js = await request('/assets/index-AbC123.js');
  assert.equal(js.status, 200);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(js.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(await js.text(), 'console.log("page")');
  assert.equal((await request('/assets/index-AbC123.css')).headers.get('content-type'), 'text/css; charset=utf-8');
});

test('names that leave the folder, hidden files, a symlink out and absent assets are 404s', async () => {
  const { request } = await startTestServer({ webui: { dist: makeDist() } });
  for (const path of [
    '/assets/..%2Fsecret.txt',
    '/assets/..%2F..%2Fsecret.txt',
    '/assets/%2e%2e%2fsecret.txt',
    '/assets/..%5Cindex.html',
    '/assets/.hidden',
    '/assets/link.txt',
    '/assets/nope.js',
    '/assets/a%00.js',
  ]) {
    const res = await request(path);
    assert.equal(res.status, 404, path);
    assert.doesNotMatch(await res.text(), /outside the dist folder/, path);
  }
});

test('without a build, / answers 503 with how to build the page (not a bare 404)', async () => {
  const { request } = await startTestServer({ webui: { dist: join(tmpdir(), 'sdapi-no-such-dist') } });
  const res = await request('/');
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  const html = await res.text();
  assert.match(html, /npm run build --workspace @sdapi\/web/);
  assert.match(html, /npm ci/);
});

test('behind --api-auth the page asks the browser for Basic credentials; with them it loads', async () => {
  const { request } = await startTestServer({ webui: { dist: makeDist() }, apiAuth: 'me:secret' });
  const bare = await request('/');
  assert.equal(bare.status, 401);
  assert.equal(bare.headers.get('www-authenticate'), 'Basic realm="sdapi", charset="UTF-8"');
  assert.equal((await request('/assets/index-AbC123.js')).status, 401);
  const wrong = await request('/', { headers: { authorization: `Basic ${Buffer.from('me:nope').toString('base64')}` } });
  assert.equal(wrong.status, 401);
  const ok = await request('/', { headers: { authorization: `Basic ${Buffer.from('me:secret').toString('base64')}` } });
  assert.equal(ok.status, 200);
});

test('without webui (sdapi serve --nowebui, and buildApp by default) there is no page', async () => {
  const { request } = await startTestServer({});
  assert.equal((await request('/')).status, 404);
  const flags = await (await request('/sdapi/v1/cmd-flags')).json();
  assert.equal(flags.nowebui, true);
  const withPage = await startTestServer({ webui: { dist: makeDist() } });
  assert.equal((await (await withPage.request('/sdapi/v1/cmd-flags')).json()).nowebui, false);
});
