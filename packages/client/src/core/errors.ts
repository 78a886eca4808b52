/**
 * The SDK's error hierarchy (openai-node's shape): APIError for HTTP error statuses, with one subclass per status
 * a client branches on, and connection/timeout/abort errors for requests that got no response.
 */

/** Base class of every error the SDK throws. */
export class SDError extends Error {}

/** The server answered with an error status. `body` is the parsed JSON (A1111 or FastAPI shape) or the raw text. */
export class APIError extends SDError {
  readonly status: number | undefined;
  readonly body: unknown;
  readonly headers: Headers | undefined;

  constructor(status: number | undefined, body: unknown, message: string, headers?: Headers) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.body = body;
    this.headers = headers;
  }

  /** The subclass for `status`, with a message that names the method, URL and the server's explanation. */
  static generate(status: number, body: unknown, request: { method: string; url: string }, headers?: Headers): APIError {
    const message = `${status} ${request.method} ${request.url}: ${describeBody(body)}`;
    const Class = ERROR_BY_STATUS[status] ?? (status >= 500 ? InternalServerError : APIError);
    return new Class(status, body, message, headers);
  }
}

/** 400: a malformed input the server refused (e.g. an undecodable image on sdapi). */
export class BadRequestError extends APIError {}
/** 401: missing or wrong `--api-auth` credentials. */
export class UnauthorizedError extends APIError {}
/** 403: authenticated but not allowed. */
export class PermissionDeniedError extends APIError {}
/** 404: unknown route (an extension that is not installed) or a missing object (A1111: `Init image not found`). */
export class NotFoundError extends APIError {}
/** 409: conflicts, e.g. a job id already in use. */
export class ConflictError extends APIError {}
/** 413: the request body is larger than the server accepts (big base64 images). */
export class PayloadTooLargeError extends APIError {}
/** 422: validation failed (FastAPI `detail` list) or a name was not found (sampler, script). */
export class UnprocessableEntityError extends APIError {}
/** 429: too many requests; retried after `Retry-After`. */
export class RateLimitError extends APIError {}
/** 500 (and other 5xx without a class of their own): A1111 reports Python exceptions here. */
export class InternalServerError extends APIError {}
/** 501: the server does not implement this (A1111 `server-restart` without a launcher). */
export class NotImplementedError extends APIError {}
/** 503: the queue is full or the server is starting; retried after `Retry-After`. */
export class ServiceUnavailableError extends APIError {}

const ERROR_BY_STATUS: Record<number, typeof APIError> = {
  400: BadRequestError,
  401: UnauthorizedError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  422: UnprocessableEntityError,
  429: RateLimitError,
  500: InternalServerError,
  501: NotImplementedError,
  503: ServiceUnavailableError,
};

/** No response arrived (refused, reset, DNS, …); `cause` is the fetch error. */
export class APIConnectionError extends APIError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(undefined, undefined, message);
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

/** The request exceeded its `timeout`. */
export class APIConnectionTimeoutError extends APIConnectionError {}

/** The caller's AbortSignal fired. */
export class APIUserAbortError extends APIError {
  constructor(message = 'Request was aborted.') {
    super(undefined, undefined, message);
  }
}

/** The server's own explanation: A1111 `detail`/`errors`, FastAPI's 422 list, or the raw text. */
function describeBody(body: unknown): string {
  if (typeof body === 'string') return body || '(empty body)';
  if (!body || typeof body !== 'object') return JSON.stringify(body);
  const b = body as { error?: unknown; detail?: unknown; errors?: unknown };
  if (Array.isArray(b.detail)) {
    return b.detail.map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).join('.')}: ${d.msg ?? ''}`).join('; ');
  }
  const text = [b.detail, b.errors].filter((x) => typeof x === 'string' && x !== '').join(' ');
  const kind = typeof b.error === 'string' && b.error !== 'HTTPException' ? `${b.error}: ` : '';
  return `${kind}${text}` || JSON.stringify(body);
}
