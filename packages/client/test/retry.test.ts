/** Retries, timeouts and aborts against a scripted fetch (no server). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  BadRequestError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  NotImplementedError,
  PayloadTooLargeError,
  RateLimitError,
  SDClient,
  ServiceUnavailableError,
  UnauthorizedError,
  UnprocessableEntityError,
} from '../src/index.ts';
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

test('POSTs retry on 429, but on 503 only when it carries Retry-After; GETs retry on any 503', async () => {
  const busy = (headers: Record<string, string> = {}) => json(503, { detail: 'busy' }, headers);
  let run = scripted([json(429, { detail: 'slow down' }, FAST), json(200, { images: [], parameters: {}, info: '{}' })]);
  await new SDClient({ baseURL: 'http://sd.test', fetch: run.impl }).txt2img({});
  assert.equal(run.calls.length, 2);
  run = scripted([busy(), json(200, {})]);
  const err = await new SDClient({ baseURL: 'http://sd.test', fetch: run.impl }).txt2img({}).catch((e: unknown) => e);
  assert.ok(err instanceof ServiceUnavailableError, 'a bare 503 (a proxy?) may hide a running job: not repeated');
  assert.equal(run.calls.length, 1);
  run = scripted([busy(), json(200, [])]);
  const start = Date.now();
  assert.deepEqual(await new SDClient({ baseURL: 'http://sd.test', fetch: run.impl }).samplers.list(), []);
  assert.equal(run.calls.length, 2);
  assert.ok(Date.now() - start >= 300, 'backoff waited (0.5 s less up to 25% jitter)');
});

test('every documented status has its class; other 4xx are plain APIError, other 5xx InternalServerError', async () => {
  const classes: [number, typeof APIError][] = [
    [400, BadRequestError],
    [401, UnauthorizedError],
    [404, NotFoundError],
    [409, ConflictError],
    [413, PayloadTooLargeError],
    [422, UnprocessableEntityError],
    [429, RateLimitError],
    [500, InternalServerError],
    [501, NotImplementedError],
    [503, ServiceUnavailableError],
    [418, APIError],
    [502, InternalServerError],
  ];
  for (const [status, Class] of classes) {
    const run = scripted([new Response('', { status })]);
    const err = await new SDClient({ baseURL: 'http://sd.test', fetch: run.impl, maxRetries: 0 }).txt2img({}).catch((e: unknown) => e);
    assert.ok(err instanceof Class && err.constructor === Class, `${status} → ${Class.name}, got ${(err as Error).constructor.name}`);
    assert.equal((err as APIError).status, status);
    assert.match((err as Error).message, new RegExp(`^${status} POST http://sd.test/sdapi/v1/txt2img: \\(empty body\\)$`));
  }
});

test('error messages carry the server explanation: FastAPI detail lists, A1111 bodies, plain text', async () => {
  const run = scripted([
    json(413, { error: 'PayloadTooLarge', detail: 'Request body is too large', body: '', errors: '' }),
    new Response('Stopping.', { status: 200 }),
  ]);
  const sd = new SDClient({ baseURL: 'http://sd.test', fetch: run.impl });
  const err = await sd.img2img({ init_images: ['x'] }).catch((e: unknown) => e);
  assert.ok(err instanceof PayloadTooLargeError);
  assert.match(err.message, /^413 POST http:\/\/sd\.test\/sdapi\/v1\/img2img: PayloadTooLarge: Request body is too large$/);
  assert.equal(await sd.post('/sdapi/v1/server-stop'), 'Stopping.', 'a non-JSON 200 body comes back as text');
});
