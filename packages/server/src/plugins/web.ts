/**
 * The browser page (packages/web, built by Vite into `dist/`) served at `/`: `index.html` revalidated on every load
 * (`no-cache` + ETag), the content-hashed `assets/*` cached for a year as immutable. Files are read only from
 * inside the dist folder (a name pattern, then the real path checked against the folder), with their MIME type and
 * `nosniff`. Without a build, `/` says how to make one instead of a 404.
 *
 * Auth: with `--api-auth`, the page itself asks for the same Basic credentials with a `WWW-Authenticate` challenge
 * (the API's 401s carry none, like A1111's), so the browser prompts once and then sends the credentials with the
 * page's own same-origin requests. With only `--api-keys` there is nothing a browser can prompt for: the page loads
 * and asks for a key itself.
 */
import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authorize, type Credentials } from './auth.ts';

/** Where `npm ci` (the root `prepare` script) builds the page: packages/web/dist. */
export const DEFAULT_WEB_DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'web', 'dist');

export interface WebPageOptions {
  /** The Vite build output (default DEFAULT_WEB_DIST). */
  dist?: string;
  credentials?: Credentials;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** A Vite asset name: `index-BQrPbuBN.js`; no dots first, no separators, nothing else. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

// Same-origin everything; images also as data:/blob: (previews, dropped files); the page is never framed.
const CSP =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'";

const NOT_BUILT = (dist: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sdapi: the web page is not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; line-height: 1.5">
<h1>The web page is not built</h1>
<p>This server found no <code>${escapeHtml(join(dist, 'index.html'))}</code>. Build it from the repository root with</p>
<pre>npm ci            # installs and builds everything, or only the page:
npm run build --workspace @sdapi/web</pre>
<p>then reload. The API works without it: see <a href="docs">the API docs</a>.</p>
</body></html>`;

export function registerWebPage(app: FastifyInstance, options: WebPageOptions = {}): void {
  const dist = options.dist ?? DEFAULT_WEB_DIST;
  const { credentials } = options;
  const guard = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!credentials?.basic) return; // nothing a browser can prompt for (only --api-keys, or no auth at all)
    try {
      authorize(request.headers.authorization, credentials);
    } catch (error) {
      return reply
        .code(401)
        .header('www-authenticate', 'Basic realm="sdapi", charset="UTF-8"')
        .header('cache-control', 'no-store')
        .type('application/json')
        .send({ detail: (error as Error).message });
    }
  };
  const schema = { hide: true };
  app.get('/', { schema, onRequest: guard }, (request, reply) => sendFile(request, reply, dist, 'index.html', 'no-cache'));
  app.get('/index.html', { schema, onRequest: guard }, (request, reply) => sendFile(request, reply, dist, 'index.html', 'no-cache'));
  app.get<{ Params: { name: string } }>('/assets/:name', { schema, onRequest: guard }, (request, reply) =>
    sendFile(request, reply, join(dist, 'assets'), request.params.name, 'public, max-age=31536000, immutable'),
  );
}

async function sendFile(request: FastifyRequest, reply: FastifyReply, folder: string, name: string, cacheControl: string) {
  securityHeaders(reply);
  const file = ASSET_NAME.test(name) ? await insideFolder(folder, name) : null;
  if (!file) {
    if (name === 'index.html') return reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT(folder));
    return reply.code(404).type('application/json').send({ detail: 'Not Found' });
  }
  const bytes = await readFile(file);
  const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;
  reply.header('cache-control', cacheControl).header('etag', etag);
  if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  return reply.type(MIME[extname(file).toLowerCase()] ?? 'application/octet-stream').send(bytes);
}

/** The real path of `folder/name` when it is a regular file inside the folder's real path (no symlink escapes). */
async function insideFolder(folder: string, name: string): Promise<string | null> {
  try {
    const root = await realpath(folder);
    const file = await realpath(join(root, name));
    if (!file.startsWith(root + sep) || !(await stat(file)).isFile()) return null;
    return file;
  } catch {
    return null; // absent (not built, or no such asset)
  }
}

function securityHeaders(reply: FastifyReply): void {
  reply
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', CSP)
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
