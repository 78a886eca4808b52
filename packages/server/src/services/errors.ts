/**
 * Domain errors thrown by services and routes. Each carries a symbolic code; plugins/errors.ts maps codes to HTTP
 * statuses in one table and renders A1111's bodies (spec §1.5). No HTTP knowledge lives here.
 */
import type { ValidationIssue } from '@sdapi/protocol';

export type ApiErrorCode =
  | 'VALIDATION'
  | 'BODY_PARSE'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'SCRIPT_NOT_FOUND'
  | 'SAMPLER_NOT_FOUND'
  | 'SCHEDULER_NOT_FOUND'
  | 'MODEL_NOT_FOUND'
  | 'INVALID_PARAMS'
  | 'UNSUPPORTED_PARAM'
  | 'INVALID_IMAGE'
  | 'IMAGE_URL_NOT_ALLOWED'
  | 'ORIGIN_NOT_ALLOWED'
  | 'LIMIT_EXCEEDED'
  | 'PAYLOAD_TOO_LARGE'
  | 'CLIENT_QUOTA'
  | 'INVALID_IMAGE_FORMAT'
  | 'NOT_IMPLEMENTED'
  | 'QUEUE_FULL'
  | 'CANCELLED'
  | 'CONFLICT'
  | 'SHUTTING_DOWN'
  | 'CHECKPOINT_INVALID'
  | 'UNSUPPORTED_MODEL'
  | 'INTERNAL';

/** An error the API raises on purpose; rendered as `{"error":"HTTPException","detail":message,…}`. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  /** Extra response headers (e.g. `Retry-After` for QUEUE_FULL). */
  readonly headers: Record<string, string>;

  constructor(code: ApiErrorCode, message: string, options: { headers?: Record<string, string>; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ApiError';
    this.code = code;
    this.headers = options.headers ?? {};
  }
}

/** FastAPI request validation failure (422 `{"detail":[…]}`), with pydantic's entries. */
export class RequestValidationError extends ApiError {
  readonly issues: ValidationIssue[];

  constructor(issues: ValidationIssue[]) {
    super('VALIDATION', issues.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; '));
    this.name = 'RequestValidationError';
    this.issues = issues;
  }
}

/**
 * What A1111 produces from an unhandled Python exception (500 `{"error":"KeyError",…,"errors":"'key'"}`). Used
 * where clients may match on A1111's exact body (POST /options), so the Python class name and text are kept.
 * The status is ours: bad input is a 4xx here (issue 13: never a 5xx for what the client sent), A1111's is 500.
 */
export class PythonError extends Error {
  readonly pythonType: string;

  /** The HTTP status (A1111: always 500). */
  readonly status: number;

  constructor(pythonType: string, text: string, status = 500) {
    super(text);
    this.name = pythonType;
    this.pythonType = pythonType;
    this.status = status;
  }
}

/** A server setting (a flag) that cannot work, found while the app is built: the CLI reports it as a usage error. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
