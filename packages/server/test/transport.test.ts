/**
 * Transport flags over real sockets (spec §1.1): --tls-keyfile/--tls-certfile serve HTTPS (a self-signed pair made
 * with openssl; the test skips with the reason when openssl is absent), a missing file stops the start with its
 * name; --subpath answers under /<subpath>/ only.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildApp } from '../src/app.ts';
import { normaliseSubpath, stripSubpath } from '../src/plugins/transport.ts';
import { FakeGenerator } from './helpers/fake-generator.ts';
import { startTestServer } from './helpers/http.ts';

function selfSigned(): { keyFile: string; certFile: string; cert: string } | string {
  const dir = mkdtempSync(join(tmpdir(), 'sdapi-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
  } catch (error) {
    return `openssl cannot make a test certificate: ${(error as Error).message}`;
  }
  return { keyFile, certFile, cert: execFileSync('cat', [certFile]).toString() };
}

const pair = selfSigned();
const tlsSkip = typeof pair === 'string' ? pair : false;
if (tlsSkip) console.log(`# skipping the TLS test: ${tlsSkip}`);

test('--tls-keyfile/--tls-certfile: the API answers over HTTPS', { skip: tlsSkip }, async () => {
  if (typeof pair === 'string') return;
  const app = await buildApp({ generator: new FakeGenerator(), tls: { keyFile: pair.keyFile, certFile: pair.certFile } });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    assert.match(url, /^https:\/\//);
    const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(`${url}/sdapi/v1/progress?skip_current_image=true`, { ca: pair.cert }, (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(body.status, 200);
    assert.equal(JSON.parse(body.text).state.job_count, 0);
  } finally {
    await app.close();
  }
});

test('TLS flags: one without the other, or a missing file, stops the start naming it', async () => {
  await assert.rejects(buildApp({ generator: new FakeGenerator(), tls: { keyFile: '/nonexistent/key.pem' } }), /both --tls-keyfile and --tls-certfile/);
  await assert.rejects(
    buildApp({ generator: new FakeGenerator(), tls: { keyFile: '/nonexistent/key.pem', certFile: '/nonexistent/cert.pem' } }),
    /--tls-keyfile \/nonexistent\/key\.pem cannot be read/,
  );
});

test('--subpath sd: routes answer under /sd/ only; elsewhere 404 Not Found', async () => {
  const server = await startTestServer({ subpath: '/sd/' });
  const under = await server.request('/sd/sdapi/v1/samplers');
  assert.equal(under.status, 200);
  assert.ok(((await under.json()) as unknown[]).length > 10);
  const posted = await server.request('/sd/sdapi/v1/txt2img', { method: 'POST', json: { prompt: 'x', steps: 2, width: 8, height: 8 } });
  assert.equal(posted.status, 200);
  const outside = await server.request('/sdapi/v1/samplers');
  assert.equal(outside.status, 404);
  assert.deepEqual(await outside.json(), { detail: 'Not Found' });
  assert.equal((await server.request('/sdx/sdapi/v1/samplers')).status, 404, 'a longer name is not the subpath');
});

test('subpath normalisation and stripping', () => {
  assert.equal(normaliseSubpath('sd'), '/sd');
  assert.equal(normaliseSubpath('/a/b/'), '/a/b');
  assert.equal(normaliseSubpath('/'), null);
  assert.equal(stripSubpath('/sd/sdapi/v1/x?y=1', '/sd'), '/sdapi/v1/x?y=1');
  assert.equal(stripSubpath('/sd', '/sd'), '/');
  assert.equal(stripSubpath('/sd?x', '/sd'), '/?x');
  assert.notEqual(stripSubpath('/sdapi/v1/x', '/sd').slice(0, 6), '/sdapi');
});
