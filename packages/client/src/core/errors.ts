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

export class BadRequestError extends APIError {}
export class UnauthorizedError extends APIError {}
export class NotFoundError extends APIError {}
export class UnprocessableEntityError extends APIError {}
export class ServiceUnavailableError extends APIError {}
export class InternalServerError extends APIError {}

const ERROR_BY_STATUS: Record<number, typeof APIError> = {
  400: BadRequestError,
  401: UnauthorizedError,
  404: NotFoundError,
  422: UnprocessableEntityError,
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
