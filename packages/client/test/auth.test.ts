import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NotFoundError, SDClient, UnauthorizedError } from '../src/index.ts';
import { startServer } from './helpers/server.ts';

const { url } = await startServer({ apiAuth: 'user:pässword' });

test('auth: HTTP Basic credentials (UTF-8) are sent with every request', async () => {
  const sd = new SDClient({ baseURL: url, auth: { username: 'user', password: 'pässword' } });
  assert.equal((await sd.progress.retrieve()).state.job_count, 0);
});

test('missing or wrong credentials reject with UnauthorizedError and are not retried', async () => {
  let calls = 0;
  const counting: typeof fetch = (input, init) => {
    calls++;
    return fetch(input, init);
  };
  const anonymous = new SDClient({ baseURL: url, fetch: counting });
  const err = await anonymous.samplers.list().catch((e: unknown) => e);
  assert.ok(err instanceof UnauthorizedError);
  assert.equal(calls, 1);
  assert.match(err.message, /401 GET .*\/sdapi\/v1\/samplers: Not authenticated$/);
  const wrong = new SDClient({ baseURL: url, auth: { username: 'user', password: 'nope' } });
  const wrongErr = await wrong.samplers.list().catch((e: unknown) => e);
  assert.ok(wrongErr instanceof UnauthorizedError);
  assert.match(wrongErr.message, /Incorrect username or password$/);
});

test('an unknown route rejects with NotFoundError', async () => {
  const sd = new SDClient({ baseURL: url, auth: { username: 'user', password: 'pässword' } });
  const err = await sd.get('/sdapi/v1/artists').catch((e: unknown) => e);
  assert.ok(err instanceof NotFoundError);
  assert.deepEqual(err.body, { detail: 'Not Found' });
});
