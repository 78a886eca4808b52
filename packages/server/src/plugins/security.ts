/**
 * The server's front door (issue 13), registered before any route so that nothing can be routed around it:
 *
 * - **Foreign origins**: a browser request whose `Origin` is neither this server's own origin nor allowed by
 *   `--cors-allow-origins` / `--cors-allow-origins-regex` (A1111's flags; `Origin: null` included) is refused with
 *   403 before any work, whatever its content type. That is what keeps a page on another site from queueing jobs on
 *   a user's localhost server with a form POST (ComfyUI #4850). Requests without an `Origin` (curl, webuiapi, our
 *   SDK in Node) are not browsers' cross-site requests and pass. Allowed foreign origins get CORS headers and their
 *   preflights are answered here (before auth: browsers send no credentials on a preflight).
 * - **Auth on every route**: with `--api-auth` or `--api-keys`, every route and every unknown path or method answers
 *   401 without credentials, before any 404/405; only the routes in PUBLIC_ROUTES (the one allow-list) are open.
 *   A1111 leaves `/sdapi/v1/loras`, `/internal/*` and extension routes outside its auth; we do not.
 *   Routes with a JSON body are checked after the body is parsed, so a JSON syntax error still wins over 401 as in
 *   A1111 (spec §1.3); everything else is checked on arrival.
 * - **Allowed hosts (DNS rebinding)**: a page on an attacker's name that resolves to 127.0.0.1 sends an `Origin` equal
 *   to the `Host` it sent, so the origin check alone lets it through. When the server listens on loopback only, a
 *   request whose `Host` is not a loopback name or address (`localhost`, `127.0.0.1`, `[::1]`, any port) is refused
 *   with 403 before any work; `--allowed-hosts a,b` adds names. With `--listen` / a non-loopback `--server-name`
 *   the server is meant to be reached by other names, so the check is off unless `--allowed-hosts` is given.
 * - `X-Content-Type-Options: nosniff` on every response, and `GET /health`.
 *
 * The websocket upgrade bypasses fastify's hooks; routes/v2/ws.ts calls `checkOrigin` and `authorize` itself.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import ipaddr from 'ipaddr.js';
import { ApiError, ConfigError } from '../services/errors.ts';
import { authorize, type Credentials } from './auth.ts';
import { DeferredBodyError } from './wire.ts';

/**
 * The allow-list: `METHOD /route-pattern` reachable without credentials. Keep it here and only here.
 * - `/health`: liveness for load balancers and supervisors; it says nothing but `ok`.
 * - The web page's static shell (`/`, `/index.html`, `/assets/:name`): HTML, JS and CSS with no data in them.
 *   With `--api-auth` the page challenges for Basic credentials itself (plugins/web.ts); with only `--api-keys`
 *   there is nothing a browser could prompt for, so the page loads and asks for a key, and every API call it makes
 *   is authenticated as any other.
 */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  'GET /health',
  'HEAD /health',
  'GET /',
  'HEAD /',
  'GET /index.html',
  'HEAD /index.html',
  'GET /assets/:name',
  'HEAD /assets/:name',
]);

export interface SecurityOptions {
  credentials?: Credentials;
  /** `--cors-allow-origins "https://a.example,https://b.example"` (`*` allows every origin, as Starlette). */
  corsAllowOrigins?: string;
  /** `--cors-allow-origins-regex`: a full-match regular expression for allowed origins. */
  corsAllowOriginsRegex?: string;
  /**
   * The Host check: `null` or absent = off; otherwise the names allowed besides the loopback ones (app.ts decides
   * from `--allowed-hosts` and the listening address, see `hostCheckFor`).
   */
  allowedHosts?: readonly string[] | null;
}

/** True for `localhost` (and `*.localhost`, which browsers resolve to loopback themselves) and loopback IP literals. */
export function isLoopbackName(hostname: string): boolean {
  const name = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (!ipaddr.isValid(name)) return false;
  let address = ipaddr.parse(name);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  return address.range() === 'loopback';
}

/**
 * `allowedHosts` for the SecurityOptions: on (loopback names plus `--allowed-hosts`) when the server listens on a
 * loopback address (or has not said where: buildApp alone, tests) or when `--allowed-hosts` is given; off otherwise.
 */
export function hostCheckFor(listenHost: string | undefined, allowedHosts: string | readonly string[] | undefined): readonly string[] | null {
  const extra = [allowedHosts ?? []]
    .flat()
    .flatMap((h) => h.split(','))
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  if (allowedHosts !== undefined && allowedHosts !== null) return extra;
  return listenHost === undefined || isLoopbackName(listenHost) ? [] : null;
}

/** The hostname of a `Host` header without its port (`[::1]:7860` → `[::1]`), lower case; null when malformed. */
function hostnameOf(host: string): string | null {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::\d*)?$/i.exec(host.trim());
  return match ? match[1].toLowerCase() : null;
}

/** A registered route, as collected by the onRoute hook (tests walk this table). */
export interface RouteEntry {
  method: string;
  url: string;
  hasBody: boolean;
}

const routeTables = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route registered on `app` after `registerSecurity`, HEAD routes included. */
export function registeredRoutes(app: FastifyInstance): readonly RouteEntry[] {
  return routeTables.get(app) ?? [];
}

export const isPublicRoute = (method: string, url: string | undefined): boolean => url !== undefined && PUBLIC_ROUTES.has(`${method} ${url}`);

/** Decides which `Origin` values may call: the server's own origin always, others by the CORS flags. */
export class OriginPolicy {
  private readonly exact: Set<string>;
  private readonly any: boolean;
  private readonly regex: RegExp | null;
  private readonly hosts: readonly string[] | null;

  constructor(options: Pick<SecurityOptions, 'corsAllowOrigins' | 'corsAllowOriginsRegex' | 'allowedHosts'> = {}) {
    this.hosts = options.allowedHosts ?? null;
    const list = (options.corsAllowOrigins ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    this.any = list.includes('*');
    this.exact = new Set(list.map((o) => o.replace(/\/+$/, '').toLowerCase()));
    // Starlette full-matches the regex; a bad one is a start-up error, not a silently open server.
    this.regex = options.corsAllowOriginsRegex ? corsRegex(options.corsAllowOriginsRegex) : null;
  }

  /** True when a foreign origin is allowed by the flags (not the same-origin case). */
  allowsForeign(origin: string): boolean {
    return this.any || this.exact.has(origin.toLowerCase()) || (this.regex?.test(origin) ?? false);
  }

  /**
   * `null` when the request may proceed, else why not. Same origin = the Origin's host:port equals the `Host` the
   * request was sent to (or the proxy's `X-Forwarded-Host`: a cross-site page cannot set that header without a
   * preflight, which is refused here).
   */
  check(origin: string | undefined, headers: Record<string, string | string[] | undefined>): string | null {
    const host = this.checkHost(headers.host);
    if (host) return host;
    if (origin === undefined) return null;
    if (this.allowsForeign(origin)) return null;
    if (origin !== 'null') {
      let host: string;
      try {
        const url = new URL(origin);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
        host = url.host.toLowerCase();
      } catch {
        return `Origin not allowed: ${JSON.stringify(origin.slice(0, 200))} is not a valid origin`;
      }
      const own = [headers.host, headers['x-forwarded-host']].flatMap((h) => (Array.isArray(h) ? h : [h])).filter((h): h is string => !!h);
      if (own.some((h) => h.split(',')[0].trim().toLowerCase() === host)) return null;
    }
    return `Origin not allowed: ${JSON.stringify(origin.slice(0, 200))}; start the server with --cors-allow-origins or --cors-allow-origins-regex to allow it`;
  }

  /**
   * The DNS-rebinding guard (see the top of this file): null when the `Host` is allowed. A request without a `Host`
   * passes: browsers always send one (HTTP/1.1 requires it), so its absence is no rebinding attack.
   */
  checkHost(host: string | string[] | undefined): string | null {
    if (this.hosts === null || host === undefined) return null;
    const value = [host].flat()[0] ?? '';
    const name = hostnameOf(value);
    if (name !== null && (isLoopbackName(name) || this.hosts.includes(name) || this.hosts.includes(value.trim().toLowerCase()))) return null;
    const names = ['localhost', '127.0.0.1', '[::1]', ...this.hosts].join(', ');
    return `Host not allowed: ${JSON.stringify(value.slice(0, 200))}; this server answers only to ${names} (any port); start it with --allowed-hosts to add names`;
  }
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `GET /health`: registered after the OpenAPI plugin (so that /docs lists it); public (PUBLIC_ROUTES). */
export function healthRoute(app: FastifyInstance): void {
  app.get(
    '/health',
    {
      schema: {
        tags: ['server'],
        summary: 'Liveness: 200 while the server answers (no credentials needed)',
        response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } }, required: ['status'] } },
      },
    },
    async () => ({ status: 'ok' }),
  );
}

/** Registers the origin check, CORS, auth and nosniff on the root app; call it before any route. */
export function registerSecurity(app: FastifyInstance, options: SecurityOptions): OriginPolicy {
  const origins = new OriginPolicy(options);
  const table: RouteEntry[] = [];
  routeTables.set(app, table);
  app.addHook('onRoute', (route: RouteOptions) => {
    for (const method of [route.method].flat()) table.push({ method, url: route.url, hasBody: !!route.schema?.body });
  });
  const { credentials } = options;
  const authOn = !!credentials && (!!credentials.basic || !!credentials.apiKeys?.length);

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-content-type-options', 'nosniff');
    const origin = request.headers.origin;
    const denied = origins.check(origin, request.headers);
    if (denied) throw new ApiError('ORIGIN_NOT_ALLOWED', denied);
    if (origin !== undefined && origins.allowsForeign(origin)) {
      corsHeaders(reply, origin);
      if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) return preflight(request, reply);
    }
    if (!authOn || isPublicRoute(request.method, request.routeOptions.url)) return;
    // Body routes wait for preValidation (below) so that a JSON syntax error is reported first, as A1111 does.
    if (request.routeOptions.schema?.body && BODY_METHODS.has(request.method)) return;
    authorize(request.headers.authorization, credentials);
  });
  if (authOn) {
    app.addHook('preValidation', async (request: FastifyRequest) => {
      if (!request.routeOptions.schema?.body || !BODY_METHODS.has(request.method)) return;
      if (isPublicRoute(request.method, request.routeOptions.url)) return;
      if (request.body instanceof DeferredBodyError) throw request.body.error;
      authorize(request.headers.authorization, credentials);
    });
  }
  return origins;
}

function corsHeaders(reply: FastifyReply, origin: string): void {
  // Starlette's CORSMiddleware as A1111 configures it: credentials allowed, so the origin is echoed, never `*`.
  reply.header('access-control-allow-origin', origin).header('access-control-allow-credentials', 'true').header('vary', 'Origin');
}

function preflight(request: FastifyRequest, reply: FastifyReply) {
  const asked = request.headers['access-control-request-headers'];
  return reply
    .code(200)
    .header('access-control-allow-methods', 'DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT')
    .header('access-control-allow-headers', typeof asked === 'string' && asked.length <= 1000 ? asked : 'authorization, content-type')
    .header('access-control-max-age', '600')
    .type('text/plain; charset=utf-8')
    .send('OK');
}

/**
 * Fastify's `frameworkErrors`: requests refused before routing (a path parameter over `maxParamLength`: 414; a
 * malformed URL: 400) get the same front door (origin, then auth) and an API error body instead of fastify's own
 * `{error, code, message}`.
 */
export function frameworkErrorHandler(options: SecurityOptions) {
  const origins = new OriginPolicy(options);
  const { credentials } = options;
  const authOn = !!credentials && (!!credentials.basic || !!credentials.apiKeys?.length);
  return (error: Error & { statusCode?: number }, request: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-content-type-options', 'nosniff').type('application/json');
    const denied = origins.check(request.headers.origin, request.headers);
    if (denied) return reply.code(403).send({ detail: denied });
    if (authOn) {
      try {
        authorize(request.headers.authorization, credentials);
      } catch (refusal) {
        return reply.code(401).send({ detail: (refusal as Error).message });
      }
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
    return reply.code(status).send({ detail: status === 414 ? 'URI Too Long: a path segment is over 100 characters' : 'Bad Request: malformed URL' });
  };
}

/**
 * Fastify's `clientErrorHandler`: what node's HTTP parser refuses before there is a request (headers or URL over
 * 16 KiB: 431; garbage: 400) answered with an API error body, like every other refusal (fuzz finding: the default
 * body is fastify's `{error, message, statusCode}`). No request exists yet, so no auth or origin check applies.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const detail = status === 431 ? 'Request Header Fields Too Large: the URL and headers must fit in 16 KiB' : (STATUS_CODES[status] ?? 'Bad Request');
  const body = JSON.stringify({ detail });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json\r\nx-content-type-options: nosniff\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function corsRegex(pattern: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (error) {
    throw new ConfigError(`--cors-allow-origins-regex is not a valid regular expression: ${(error as Error).message}`);
  }
}
