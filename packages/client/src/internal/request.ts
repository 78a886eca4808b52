/**
 * One HTTP call with timeouts, retries and typed errors (openai-node's `makeRequest` loop, scaled down). Only
 * `fetch`, `AbortSignal` and `URL`: no Node built-ins, so the SDK runs in browsers, Deno, Bun and Workers.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '../core/errors.ts';
import { type RetryClass, retryDelayMs, shouldRetryConnectionError, shouldRetryStatus } from './retry.ts';

/** Per-call options of every SDK method. */
export interface RequestOptions {
  /** Aborting rejects with APIUserAbortError (a running generation keeps running: call `interrupt()` for that). */
  signal?: AbortSignal;
  /** Milliseconds per attempt. */
  timeout?: number;
  maxRetries?: number;
  headers?: Record<string, string>;
}

export type QueryValue = string | number | boolean | undefined;

export interface FinalRequest extends RequestOptions {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
  query?: Record<string, QueryValue>;
  retry: RetryClass;
}

/** What the transport needs from the client, read at call time (auth may change with `setAuth`). */
export interface TransportConfig {
  baseURL: string;
  fetch: typeof fetch;
  headers: Record<string, string>;
  timeout: number;
  maxRetries: number;
}

type Outcome = { ok: true; response: Response } | { ok: false; error: APIError; retriable: boolean };

/** Sends `req`, retrying as its retry class allows; resolves with a 2xx Response or throws an SDError. */
export async function sendRequest(config: TransportConfig, req: FinalRequest): Promise<Response> {
  const url = buildURL(config.baseURL, req.path, req.query);
  const maxRetries = req.maxRetries ?? config.maxRetries;
  for (let attempt = 0; ; attempt++) {
    const outcome = await attemptOnce(config, req, url);
    if (outcome.ok) return outcome.response;
    if (!outcome.retriable || attempt >= maxRetries) throw outcome.error;
    await sleep(retryDelayMs(attempt, outcome.error.headers), req.signal);
  }
}

async function attemptOnce(config: TransportConfig, req: FinalRequest, url: string): Promise<Outcome> {
  if (req.signal?.aborted) throw new APIUserAbortError();
  const timeout = req.timeout ?? config.timeout;
  const timeoutSignal = AbortSignal.timeout(timeout);
  const signal = req.signal ? AbortSignal.any([req.signal, timeoutSignal]) : timeoutSignal;
  const headers: Record<string, string> = { ...config.headers, ...req.headers };
  // No body → no content type: A1111's interrupt/skip are called this way by webuiapi.
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    response = await config.fetch(url, { method: req.method, headers, body, signal });
  } catch (cause) {
    if (req.signal?.aborted) throw new APIUserAbortError();
    if (timeoutSignal.aborted) {
      // A generation that timed out may still be running on the server: never repeat it.
      const error = new APIConnectionTimeoutError(`${req.method} ${url} timed out after ${timeout} ms`, { cause });
      return { ok: false, error, retriable: req.retry === 'idempotent' };
    }
    const error = new APIConnectionError(`${req.method} ${url} failed: ${describeCause(cause)}`, { cause });
    return { ok: false, error, retriable: shouldRetryConnectionError(cause, req.retry) };
  }
  if (response.ok) return { ok: true, response };
  const body = await readErrorBody(response);
  const error = APIError.generate(response.status, body, { method: req.method, url }, response.headers);
  return { ok: false, error, retriable: shouldRetryStatus(response.status, req.retry, response.headers) };
}

export function buildURL(baseURL: string, path: string, query?: Record<string, QueryValue>): string {
  const url = new URL(baseURL + (path.startsWith('/') ? path : `/${path}`));
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
  return url.toString();
}

/** JSON body of a 2xx response; an empty body is null (A1111's `skip`, `options` POST answer `null` anyway). */
export async function parseJson<T>(response: Response): Promise<T> {
  const text = await response.text();
  if (text === '') return null as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as T; // A1111's server-stop answers plain text ("Stopping.")
  }
}

async function readErrorBody(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => '');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describeCause(cause: unknown): string {
  const inner = (cause as { cause?: { code?: string; message?: string } })?.cause;
  return inner?.code ?? inner?.message ?? (cause as Error)?.message ?? String(cause);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new APIUserAbortError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new APIUserAbortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
