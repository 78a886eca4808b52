/**
 * The one place where errors become HTTP (spec §1.5, vector http_behaviour.json): a code → status table, A1111's
 * `{error, detail, body, errors}` bodies, FastAPI's 422 `{detail: [...]}`, and the router's 404/405 bodies.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, type ApiErrorCode, PythonError, RequestValidationError } from '../services/errors.ts';
import { omitProcessTime } from './wire.ts';

/**
 * Symbolic code → HTTP status. Engine errors (EngineError codes) share the table. Deliberate deviations from
 * A1111: unknown sampler/model and bad parameters are 422 (A1111: silent fallback, or a 500), an undecodable image
 * is 400 (A1111: 500).
 */
export const STATUS_BY_CODE: Record<ApiErrorCode, number> = {
  VALIDATION: 422,
  BODY_PARSE: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  SCRIPT_NOT_FOUND: 422,
  SAMPLER_NOT_FOUND: 422,
  SCHEDULER_NOT_FOUND: 422,
  MODEL_NOT_FOUND: 422,
  INVALID_PARAMS: 422,
  UNSUPPORTED_PARAM: 422,
  INVALID_IMAGE: 400,
  // An image URL the options forbid (requests disabled, or a non-global address): A1111 answers 500.
  IMAGE_URL_NOT_ALLOWED: 403,
  // A samples_format (option or override_settings) that is no output format: A1111 answers 500; a client's
  // value, so 422 here (issue 13: never a 5xx; the fuzzer found every later generation failing with 500).
  INVALID_IMAGE_FORMAT: 422,
  // Work this server cannot do (interrogate without its models, train/*, create/*): never a fake success.
  NOT_IMPLEMENTED: 501,
  // A browser request from a page on another origin (issue 13; plugins/security.ts).
  ORIGIN_NOT_ALLOWED: 403,
  // Over a --max-* limit (issue 13; services/limits.ts): a parameter is 422, an image too large to decode 413.
  LIMIT_EXCEEDED: 422,
  PAYLOAD_TOO_LARGE: 413,
  // --max-queued-per-client: this client already has that many jobs waiting (with Retry-After).
  CLIENT_QUOTA: 429,
  QUEUE_FULL: 503,
  CANCELLED: 409,
  CONFLICT: 409,
  SHUTTING_DOWN: 503,
  CHECKPOINT_INVALID: 500,
  UNSUPPORTED_MODEL: 500,
  INTERNAL: 500,
};

const a1111Body = (error: string, detail: string, errors: string) => ({ error, detail, body: '', errors });

/** Errors carrying one of the table's codes: ApiError, and the engine's EngineError (duck-typed on `code`). */
function codedStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && Object.hasOwn(STATUS_BY_CODE, code) ? STATUS_BY_CODE[code as ApiErrorCode] : undefined;
}

function handleError(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (err instanceof RequestValidationError) return reply.status(422).send({ detail: err.issues });
  const status = codedStatus(err);
  if (status !== undefined) {
    if (err instanceof ApiError) reply.headers(err.headers);
    if (status >= 500) request.log.error({ err }, 'request failed');
    return reply.status(status).send(a1111Body('HTTPException', err.message, ''));
  }
  const fastifyStatus = (err as FastifyError).statusCode;
  if (!(err instanceof PythonError) && fastifyStatus !== undefined && fastifyStatus < 500) {
    return reply.status(fastifyStatus).send(a1111Body('HTTPException', err.message, ''));
  }
  // What A1111 does with an exception it did not expect: 500, class name + text, no X-Process-Time.
  if (!(err instanceof PythonError)) request.log.error({ err }, 'unhandled error');
  omitProcessTime(request);
  return reply.status(err instanceof PythonError ? err.status : 500).send(a1111Body(err.name || 'Exception', '', err.message));
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

/**
 * `hasRoute` reads its `url` as a route pattern, so a request path such as `/*x` or `/a:` made it throw
 * ("Wildcard must be the last character in the route": a 500 the fuzzer found). Such a path is no route of ours.
 */
function routeExists(app: FastifyInstance, method: string, url: string): boolean {
  try {
    return app.hasRoute({ method, url });
  } catch {
    return false;
  }
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    const url = request.url.split('?')[0];
    const otherMethod = METHODS.some((method) => method !== request.method && routeExists(app, method, url));
    return otherMethod ? reply.status(405).send({ detail: 'Method Not Allowed' }) : reply.status(404).send({ detail: 'Not Found' });
  });
}
