/**
 * SDClient: a typed fetch wrapper for any AUTOMATIC1111-compatible `/sdapi/v1` server (sdapi or A1111 itself),
 * in openai-node's style: resources, typed errors, timeouts, retries with backoff, `.withResponse()`.
 * Uses only `fetch`, `AbortSignal`, `atob`/`btoa`: runs in browsers, Deno, Bun, Workers and Node.
 */
import type { Txt2ImgRequest, Txt2ImgResponse } from '@sdapi/protocol';
import { APIPromise } from './core/api-promise.ts';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from './core/errors.ts';
import { encodeBase64Utf8 } from './internal/base64.ts';
import { type RetryClass, retryDelayMs, shouldRetryConnectionError, shouldRetryStatus } from './internal/retry.ts';
import { OptionsResource } from './resources/options.ts';
import { ProgressResource } from './resources/progress.ts';
import { SamplersResource, SchedulersResource } from './resources/samplers.ts';
import { SdModelsResource } from './resources/sd-models.ts';

export interface ClientOptions {
  /** Server root, e.g. `http://127.0.0.1:7860` (paths such as `/sdapi/v1/txt2img` are appended). */
  baseURL: string;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
  /** Milliseconds per attempt before APIConnectionTimeoutError (default 10 minutes: generations are slow). */
  timeout?: number;
  /** Retries after the first attempt (default 2). */
  maxRetries?: number;
  /** HTTP Basic credentials, as for A1111 `--api-auth`. */
  auth?: { username: string; password: string };
  /** Headers sent with every request. */
  defaultHeaders?: Record<string, string>;
}

/** Per-call options of every SDK method. */
export interface RequestOptions {
  signal?: AbortSignal;
  timeout?: number;
  maxRetries?: number;
  headers?: Record<string, string>;
}

interface FinalRequest extends RequestOptions {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  retry: RetryClass;
}

/**
 * @example
 * const sd = new SDClient({ baseURL: 'http://127.0.0.1:7860' });
 * const { images, info } = await sd.txt2img({ prompt: 'a cat', steps: 20, sampler_name: 'Euler a', seed: 1 });
 */
export class SDClient {
  readonly baseURL: string;
  readonly timeout: number;
  readonly maxRetries: number;
  readonly sdModels = new SdModelsResource(this);
  readonly samplers = new SamplersResource(this);
  readonly schedulers = new SchedulersResource(this);
  readonly options = new OptionsResource(this);
  readonly progress = new ProgressResource(this);
  private readonly fetchImpl: typeof fetch;
  private readonly headers: Record<string, string>;

  constructor(opts: ClientOptions) {
    if (!opts.baseURL) throw new Error('SDClient: baseURL is required, e.g. "http://127.0.0.1:7860"');
    this.baseURL = opts.baseURL.replace(/\/+$/, '');
    this.timeout = opts.timeout ?? 10 * 60_000;
    this.maxRetries = opts.maxRetries ?? 2;
    this.fetchImpl = opts.fetch ?? ((...args) => fetch(...args));
    this.headers = { accept: 'application/json', ...opts.defaultHeaders };
    if (opts.auth) this.headers.authorization = `Basic ${encodeBase64Utf8(`${opts.auth.username}:${opts.auth.password}`)}`;
  }

  /** POST /sdapi/v1/txt2img. Retried only when the server cannot have started it (refused, 429, 503). */
  txt2img(body: Txt2ImgRequest, options?: RequestOptions): APIPromise<Txt2ImgResponse> {
    return this.post('/sdapi/v1/txt2img', { body, ...options, retry: 'generation' });
  }

  /** POST /sdapi/v1/interrupt: stops the running job; its partial images are still returned to its caller. */
  interrupt(options?: RequestOptions): APIPromise<Record<string, never>> {
    return this.post('/sdapi/v1/interrupt', { ...options, retry: 'idempotent' });
  }

  /** POST /sdapi/v1/skip: ends the running batch early; the next batch continues. */
  skip(options?: RequestOptions): APIPromise<null> {
    return this.post('/sdapi/v1/skip', { ...options, retry: 'idempotent' });
  }

  get<T>(path: string, options: Omit<FinalRequest, 'method' | 'path' | 'retry'> = {}): APIPromise<T> {
    return this.request<T>({ ...options, method: 'GET', path, retry: 'idempotent' });
  }

  post<T>(path: string, options: Omit<FinalRequest, 'method' | 'path'>): APIPromise<T> {
    return this.request<T>({ ...options, method: 'POST', path });
  }

  request<T>(req: FinalRequest): APIPromise<T> {
    return new APIPromise<T>(this.send(req), parseJson<T>);
  }

  private async send(req: FinalRequest): Promise<Response> {
    const url = this.buildURL(req.path, req.query);
    const maxRetries = req.maxRetries ?? this.maxRetries;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(req, url);
      const retriable = outcome.ok ? false : outcome.retriable;
      if (outcome.ok || !retriable || attempt >= maxRetries) {
        if (outcome.ok) return outcome.response;
        throw outcome.error;
      }
      await sleep(retryDelayMs(attempt, outcome.error.headers), req.signal);
    }
  }

  private async attempt(req: FinalRequest, url: string): Promise<{ ok: true; response: Response } | { ok: false; error: APIError; retriable: boolean }> {
    const timeout = req.timeout ?? this.timeout;
    const timeoutSignal = AbortSignal.timeout(timeout);
    const signal = req.signal ? AbortSignal.any([req.signal, timeoutSignal]) : timeoutSignal;
    const headers: Record<string, string> = { ...this.headers, ...req.headers };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetchImpl(url, { method: req.method, headers, body: req.body === undefined ? undefined : JSON.stringify(req.body), signal });
    } catch (cause) {
      if (req.signal?.aborted) throw new APIUserAbortError();
      if (timeoutSignal.aborted) {
        // A generation that timed out may still be running on the server: never repeat it.
        return {
          ok: false,
          error: new APIConnectionTimeoutError(`${req.method} ${url} timed out after ${timeout} ms`, { cause }),
          retriable: req.retry === 'idempotent',
        };
      }
      return {
        ok: false,
        error: new APIConnectionError(`${req.method} ${url} failed: ${describeCause(cause)}`, { cause }),
        retriable: shouldRetryConnectionError(cause, req.retry),
      };
    }
    if (response.ok) return { ok: true, response };
    const body = await readErrorBody(response);
    const error = APIError.generate(response.status, body, { method: req.method, url }, response.headers);
    return { ok: false, error, retriable: shouldRetryStatus(response.status, req.retry) };
  }

  private buildURL(path: string, query?: FinalRequest['query']): string {
    const url = new URL(this.baseURL + path);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }
}

async function parseJson<T>(response: Response): Promise<T> {
  const text = await response.text();
  return (text === '' ? null : JSON.parse(text)) as T;
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
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new APIUserAbortError());
      },
      { once: true },
    );
  });
}
