/**
 * `--api-auth "user:pass,user2:pass2"` (spec §1.3): HTTP Basic on the /sdapi/v1 routes, with FastAPI HTTPBasic's
 * three failure messages and no `WWW-Authenticate` header (A1111's error handler drops it, so browsers do not
 * prompt). Runs after body parsing so that a JSON syntax error still wins over 401, as in A1111.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../services/errors.ts';
import { DeferredBodyError } from './wire.ts';

/** Parses the flag value; a pair that does not split into exactly two parts is a start-up error, as in A1111. */
export function parseApiAuth(value: string): Map<string, string> {
  const credentials = new Map<string, string>();
  for (const pair of value.split(',')) {
    const parts = pair.split(':');
    if (parts.length !== 2) throw new Error(`--api-auth: expected "user:password" pairs separated by commas, got ${JSON.stringify(pair)}`);
    credentials.set(parts[0], parts[1]);
  }
  return credentials;
}

const unauthorized = (detail: string) => new ApiError('UNAUTHORIZED', detail);

/** Python's non-validating b64decode: characters outside the alphabet are discarded, padding must still be right. */
function decodeBasic(token: string): string | undefined {
  const clean = token.replace(/[^A-Za-z0-9+/=]/g, '');
  const body = clean.replace(/=+$/, '');
  if (body.includes('=') || body.length % 4 === 1 || (body.length % 4 !== 0 && clean.length % 4 !== 0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(body, 'base64'));
  } catch {
    return undefined;
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A preValidation hook enforcing `credentials`. */
export function basicAuthHook(credentials: ReadonlyMap<string, string>) {
  return async (request: FastifyRequest): Promise<void> => {
    if (request.body instanceof DeferredBodyError && request.routeOptions.schema?.body) throw request.body.error;
    const header = request.headers.authorization ?? '';
    const [scheme, token = ''] = header.split(/\s+/, 2);
    if (!header || scheme.toLowerCase() !== 'basic') throw unauthorized('Not authenticated');
    const decoded = decodeBasic(token);
    const sep = decoded?.indexOf(':') ?? -1;
    if (decoded === undefined || sep < 0) throw unauthorized('Invalid authentication credentials');
    const expected = credentials.get(decoded.slice(0, sep));
    if (expected === undefined || !safeEqual(decoded.slice(sep + 1), expected)) throw unauthorized('Incorrect username or password');
  };
}
