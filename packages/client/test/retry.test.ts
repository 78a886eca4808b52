/** Retries, timeouts and aborts against a scripted fetch (no server). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APIConnectionError, APIConnectionTimeoutError, APIUserAbortError, InternalServerError, SDClient, ServiceUnavailableError } from '../src/index.ts';
import { retryDelayMs } from '../src/internal/retry.ts';

type Step = Response | Error | 'hang';

/** A fetch that plays `steps` in order and records the calls. */
function scripted(steps: Step[]) {
  const calls: { url: string; method: string }[] = [];
  const impl: typeof fetch = async (input, init) => {
    calls.push({ url: String(input), method: init?.method ?? 'GET' });
    const step = steps.shift() ?? new Error('no more steps');
    if (step === 'hang') {
      // Like a socket, a hanging request keeps the event loop alive (AbortSignal.timeout's timer does not).
      return new Promise<Response>((_, reject) => {
        const keepAlive = setTimeout(() => reject(new Error('test fetch never aborted')), 10_000);
        init?.signal?.addEventListener('abort', () => {
          clearTimeout(keepAlive);
          reject(init.signal?.reason);
        });
      });
    }
    if (step instanceof Error) throw step;
    return step;
  };
  return { impl, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const refused = () => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
const FAST = { 'retry-after-ms': '1' };

test('GETs retry on 500 and connection errors, then succeed', async () => {
  const { impl, calls } = scripted([
    json(500, { error: 'RuntimeError', detail: '', body: '', errors: 'x' }, FAST),
    new TypeError('socket hang up'),
    json(200, []),
  ]);
  const sd = new SDClient({ baseURL: 'http://sd.test', fetch: impl, maxRetries: 2 });
  const start = Date.now();
  assert.deepEqual(await sd.samplers.list(), []);
  assert.equal(calls.length, 3);
  assert.ok(Date.now() - start < 1500, 'retry-after-ms and the 0.5 s first backoff were used');
});

test('txt2img is not retried on 500 (the server may have generated) nor on a reset connection', async () => {
  for (const failure of [json(500, { error: 'TypeError', detail: '', body: '', errors: 'boom' }), new TypeError('socket hang up')]) {
    const { impl, calls } = scripted([failure, json(200, {})]);
    const sd = new SDClient({ baseURL: 'http://sd.test', fetch: impl });
    const err = await sd.txt2img({}).catch((e: unknown) => e);
    assert.ok(err instanceof InternalServerError || err instanceof APIConnectionError);
    assert.equal(calls.length, 1);
  }
});

test('txt2img is retried on connection refused and on 503 with Retry-After', async () => {
  const { impl, calls } = scripted([
    refused(),
    json(503, { error: 'HTTPException', detail: 'queue full', body: '', errors: '' }, FAST),
    json(200, { images: [], parameters: {}, info: '{}' }),
  ]);
  const sd = new SDClient({ baseURL: 'http://sd.test', fetch: impl });
  assert.deepEqual((await sd.txt2img({ prompt: 'x' })).images, []);
  assert.deepEqual(
    calls.map((c) => c.method),
    ['POST', 'POST', 'POST'],
  );
});

test('maxRetries bounds the attempts and the last error is thrown', async () => {
  const busy = () => json(503, { error: 'HTTPException', detail: 'queue full', body: '', errors: '' }, FAST);
  const { impl, calls } = scripted([busy(), busy(), busy()]);
  const sd = new SDClient({ baseURL: 'http://sd.test', fetch: impl, maxRetries: 1 });
  const err = await sd.txt2img({}).catch((e: unknown) => e);
  assert.ok(err instanceof ServiceUnavailableError);
  assert.equal(calls.length, 2);
  assert.match(err.message, /^503 POST http:\/\/sd\.test\/sdapi\/v1\/txt2img: queue full$/);
});

test('a timeout is APIConnectionTimeoutError; generations are not repeated after one', async () => {
  const { impl, calls } = scripted(['hang', 'hang']);
  const sd = new SDClient({ baseURL: 'http://sd.test', fetch: impl, timeout: 20 });
  const err = await sd.txt2img({}).catch((e: unknown) => e);
  assert.ok(err instanceof APIConnectionTimeoutError);
  assert.equal(calls.length, 1);
});

test("the caller's AbortSignal gives APIUserAbortError without retrying", async () => {
  const { impl, calls } = scripted(['hang']);
  const sd = new SDClient({ baseURL: 'http://sd.test', fetch: impl });
  const controller = new AbortController();
  const pending = sd.samplers.list({ signal: controller.signal });
  controller.abort();
  await assert.rejects(Promise.resolve(pending), APIUserAbortError);
  assert.equal(calls.length, 1);
});

test('backoff: 0.5 s doubling to 8 s with up to 25% jitter; Retry-After seconds and dates honoured', () => {
  assert.equal(
    retryDelayMs(0, undefined, () => 0),
    500,
  );
  assert.equal(
    retryDelayMs(3, undefined, () => 0),
    4000,
  );
  assert.equal(
    retryDelayMs(10, undefined, () => 0),
    8000,
  );
  assert.equal(
    retryDelayMs(0, undefined, () => 1),
    375,
  );
  assert.equal(retryDelayMs(0, new Headers({ 'retry-after': '2' })), 2000);
  const date = new Date(Date.now() + 3000).toUTCString();
  const fromDate = retryDelayMs(0, new Headers({ 'retry-after': date }), () => 0);
  assert.ok(fromDate > 1000 && fromDate <= 3000, String(fromDate));
  assert.equal(
    retryDelayMs(1, new Headers({ 'retry-after': '3600' }), () => 0),
    1000,
    'absurd waits fall back to backoff',
  );
});
