/**
 * When and how long to retry (openai-node's backoff: 0.5 s doubling to 8 s, up to 25% jitter, `Retry-After`
 * honoured). Generation POSTs are expensive and not idempotent, so they retry only when the server surely did
 * not start them: connection refused, 429, and 503 with `Retry-After` (the server saying "busy, come back";
 * a bare 503 may come from a proxy in front of a job that is still running). Idempotent calls (GETs, options,
 * interrupt) also retry on 408, any 5xx and any connection error.
 */

/** `once`: POSTs with a body (generations, options, png-info): repeated only when the server surely did not start them; `idempotent`: GETs and body-less control calls (interrupt, refresh-*). */
export type RetryClass = 'once' | 'idempotent';

const INITIAL_DELAY_S = 0.5;
const MAX_DELAY_S = 8;

export function shouldRetryStatus(status: number, kind: RetryClass, headers?: Headers): boolean {
  if (kind === 'idempotent') return status === 408 || status === 429 || status >= 500;
  return status === 429 || (status === 503 && retryAfterMs(headers) !== undefined);
}

/** Whether a fetch that produced no response may be repeated. */
export function shouldRetryConnectionError(error: unknown, kind: RetryClass): boolean {
  return kind === 'idempotent' || isConnectionRefused(error);
}

function isConnectionRefused(error: unknown): boolean {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code === 'ECONNREFUSED') return true;
  }
  return false;
}

/** Milliseconds to wait before retry number `retriesDone + 1`. */
export function retryDelayMs(retriesDone: number, headers?: Headers, random: () => number = Math.random): number {
  const fromHeader = retryAfterMs(headers);
  if (fromHeader !== undefined && fromHeader >= 0 && fromHeader < 60_000) return fromHeader;
  const delay = Math.min(INITIAL_DELAY_S * 2 ** retriesDone, MAX_DELAY_S);
  return delay * (1 - random() * 0.25) * 1000;
}

/** `retry-after-ms`, or `Retry-After` as seconds or an HTTP date. */
function retryAfterMs(headers?: Headers): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (!Number.isNaN(ms)) return ms;
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  if (!Number.isNaN(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : date - Date.now();
}
