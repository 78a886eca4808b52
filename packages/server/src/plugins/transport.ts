/**
 * Fastify constructor options for A1111's transport flags (spec §1.1):
 * - `--tls-keyfile` + `--tls-certfile`: HTTPS. Both are needed, and a missing or unreadable file stops the start
 *   with its name (A1111 prints a warning and serves plain HTTP, which a user who asked for TLS would not notice).
 * - `--subpath P`: the app answers under `/P` only (A1111's root_path), e.g. `/P/sdapi/v1/txt2img`; other paths are
 *   404 `{"detail":"Not Found"}`. Done by rewriting the URL before routing, so every route and hook sees the same
 *   paths as without a subpath.
 */
import { readFileSync } from 'node:fs';
import type { FastifyServerOptions } from 'fastify';
import { ConfigError } from '../services/errors.ts';

export interface TransportOptions {
  tls?: { keyFile?: string | null; certFile?: string | null } | null;
  subpath?: string | null;
}

/** A path no route has: what URLs outside the subpath are routed to (its 404 is the plain FastAPI one). */
const OUTSIDE = '/__outside_subpath__';

export function transportOptions(options: TransportOptions): Partial<FastifyServerOptions> & { https?: { key: Buffer; cert: Buffer } } {
  const out: Partial<FastifyServerOptions> & { https?: { key: Buffer; cert: Buffer } } = {};
  const tls = options.tls;
  if (tls && (tls.keyFile || tls.certFile)) {
    if (!tls.keyFile || !tls.certFile) throw new ConfigError('HTTPS needs both --tls-keyfile and --tls-certfile');
    out.https = { key: readTlsFile('--tls-keyfile', tls.keyFile), cert: readTlsFile('--tls-certfile', tls.certFile) };
  }
  const prefix = normaliseSubpath(options.subpath);
  if (prefix) out.rewriteUrl = (request) => stripSubpath(request.url ?? '/', prefix);
  return out;
}

/** `sd`, `/sd/`, `/sd` → `/sd`; empty or `/` → null (no subpath). */
export function normaliseSubpath(subpath: string | null | undefined): string | null {
  const trimmed = (subpath ?? '').replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? null : `/${trimmed}`;
}

/** `/sd/sdapi/v1/x?y` → `/sdapi/v1/x?y`, `/sd` → `/`; a URL outside the prefix → a path that is 404. */
export function stripSubpath(url: string, prefix: string): string {
  if (url === prefix || url.startsWith(`${prefix}?`)) return `/${url.slice(prefix.length)}`;
  if (url.startsWith(`${prefix}/`)) return url.slice(prefix.length);
  return OUTSIDE;
}

function readTlsFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`${flag} ${path} cannot be read: ${(error as Error).message}`);
  }
}
