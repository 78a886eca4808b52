/**
 * What this server cannot do answers 501 with a reason, never a fake success: /sdapi/v1/interrogate (after
 * the schema's 422 for a null image, A1111's 404 for an unknown model, and the 400 for an undecodable image), create/* and
 * train/*. Real HTTP.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodePng } from '@sdapi/engine';
import { startTestServer } from './helpers/http.ts';

const server = await startTestServer();
const PNG = encodePng(new Uint8Array(8 * 8 * 3).fill(120), 8, 8).toString('base64');

async function post(path: string, json: unknown) {
  const res = await server.request(path, { method: 'POST', json });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

test('interrogate: 501 naming the missing models for clip and deepdanbooru; A1111 404s first', async () => {
  for (const model of ['clip', 'deepdanbooru', undefined]) {
    const { status, body } = await post('/sdapi/v1/interrogate', { image: PNG, ...(model ? { model } : {}) });
    assert.equal(status, 501, String(model));
    assert.equal(body.error, 'HTTPException');
    assert.match(body.detail, /not implemented by this server: .*(BLIP|DeepDanbooru)/);
  }
  // A1111 answers a null image with 404 `Image not found`; the protocol schema refuses it first (422 on body.image).
  const nullImage = await post('/sdapi/v1/interrogate', { image: null });
  assert.equal(nullImage.status, 422);
  assert.deepEqual(nullImage.body.detail[0].loc, ['body', 'image']);
  assert.deepEqual((await post('/sdapi/v1/interrogate', { image: PNG, model: 'nope' })).body.detail, 'Model not found');
  assert.equal((await post('/sdapi/v1/interrogate', { image: 'garbage' })).status, 400);
});

test('create/* and train/* answer 501 with a message', async () => {
  for (const path of ['/sdapi/v1/create/embedding', '/sdapi/v1/create/hypernetwork', '/sdapi/v1/train/embedding', '/sdapi/v1/train/hypernetwork']) {
    const { status, body } = await post(path, { name: 'x', embedding_name: 'x' });
    assert.equal(status, 501, path);
    assert.equal(body.error, 'HTTPException');
    assert.match(body.detail, /is not implemented by this server/);
    assert.ok(body.detail.includes(path), body.detail);
  }
});
