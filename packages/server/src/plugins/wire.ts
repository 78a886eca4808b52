/**
 * FastAPI/starlette transport behaviour on fastify (spec §1.2, §1.8): JSON bodies parsed like `json.loads`, any
 * Content-Type other than JSON turning the body into "not a valid dict", pydantic-v1 validation driven by the
 * TypeBox schemas, compact JSON with Python number types, `X-Process-Time`, and gzip for bodies ≥ 1000 bytes.
 */
import { gzipSync } from 'node:zlib';
import { formatPyFloat, pyJsonDumps } from '@sdapi/engine';
import { coerce } from '@sdapi/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, RequestValidationError } from '../services/errors.ts';
import { pyTyped } from '../wire/py-typed.ts';
import { formatPythonJsonError, parsePythonJson } from '../wire/python-json.ts';

/**
 * A body that could not be parsed. FastAPI only parses bodies of routes that declare one, so the failure is kept
 * and raised by validation (or by the auth hook, since a JSON error wins over 401, §1.3) instead of by the parser.
 */
export class DeferredBodyError {
  constructor(readonly error: Error) {}
}

const START = Symbol('sdapi.start');
const NO_PROCESS_TIME = Symbol('sdapi.noProcessTime');
type Timed = FastifyRequest & { [START]?: bigint; [NO_PROCESS_TIME]?: boolean };

/** Marks a reply as an unhandled-exception 500, which A1111 sends without `X-Process-Time`. */
export function omitProcessTime(request: FastifyRequest): void {
  (request as Timed)[NO_PROCESS_TIME] = true;
}

export const compactJson = (value: unknown): string => pyJsonDumps(value, { separators: [',', ':'], ensureAscii: false, allowNan: false });

export function registerWire(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => done(null, parseBody(request, body as Buffer)));
  app.setValidatorCompiler(
    ({ schema, httpPart }) =>
      (data: unknown) =>
        validate(schema, httpPart, data),
  );
  // Routes with a response schema get Python number types; the rest (errors, `{}`, `null`) hold no floats, and
  // JSON.stringify already writes what starlette writes for them. (A reply serializer would shadow the schemas.)
  app.setSerializerCompiler(
    ({ schema }) =>
      (data: unknown) =>
        compactJson(pyTyped(schema as object, data)),
  );
  app.addHook('onRequest', async (request) => {
    (request as Timed)[START] = process.hrtime.bigint();
  });
  app.addHook('onSend', async (request, reply, payload) => finishReply(request as Timed, reply, payload));
}

function parseBody(request: FastifyRequest, raw: Buffer): unknown {
  if (!isJsonContentType(request.headers['content-type'])) return raw.toString('latin1'); // → "not a valid dict"
  if (raw.length === 0) return undefined; // → "field required"
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(raw);
  } catch (cause) {
    return new DeferredBodyError(new ApiError('BODY_PARSE', 'There was an error parsing the body', { cause }));
  }
  const parsed = parsePythonJson(text);
  if (parsed.ok) return parsed.value;
  const { msg, pos, lineno, colno } = parsed.error;
  const issue = { loc: ['body', pos], msg: formatPythonJsonError(parsed.error), type: 'value_error.jsondecode', ctx: { msg, doc: text, pos, lineno, colno } };
  return new DeferredBodyError(new RequestValidationError([issue]));
}

/** FastAPI reads JSON when Content-Type is absent, `application/json` or `application/*+json`. */
function isJsonContentType(header: string | undefined): boolean {
  if (!header) return true;
  const [type = '', subtype = ''] = header.split(';')[0].trim().toLowerCase().split('/');
  return type === 'application' && (subtype === 'json' || subtype.endsWith('+json'));
}

const LOC_PREFIX: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

function validate(schema: unknown, httpPart: string | undefined, data: unknown): { value?: unknown; error?: Error } {
  if (data instanceof DeferredBodyError) return { error: data.error };
  const loc = [LOC_PREFIX[httpPart ?? 'body'] ?? httpPart ?? 'body'];
  if (httpPart === 'body' && (data === null || data === undefined)) {
    return { error: new RequestValidationError([{ loc, msg: 'field required', type: 'value_error.missing' }]) };
  }
  const out = coerce(schema as object, data ?? {}, loc);
  return out.ok ? { value: out.value } : { error: new RequestValidationError(out.errors) };
}

function finishReply(request: Timed, reply: FastifyReply, payload: unknown): unknown {
  const type = reply.getHeader('content-type');
  if (typeof type === 'string' && type.startsWith('application/json')) reply.header('content-type', 'application/json');
  if (!request[NO_PROCESS_TIME] && request[START] !== undefined) {
    const seconds = Number(process.hrtime.bigint() - request[START]) / 1e9;
    reply.header('x-process-time', formatPyFloat(Math.round(seconds * 1e4) / 1e4));
  }
  return maybeGzip(request, reply, payload);
}

/** starlette's GZipMiddleware(minimum_size=1000): only when the client accepts gzip. */
function maybeGzip(request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
  if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const accepts = /\bgzip\b/i.test(String(request.headers['accept-encoding'] ?? ''));
  if (size < 1000 || !accepts || reply.getHeader('content-encoding')) return payload;
  reply.header('content-encoding', 'gzip');
  reply.header('vary', 'Accept-Encoding');
  reply.removeHeader('content-length');
  return gzipSync(payload);
}
