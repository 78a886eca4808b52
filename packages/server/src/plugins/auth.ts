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

/** Who may call: `--api-auth` Basic pairs and/or `--api-keys` Bearer keys (OpenAI-style clients send those). */
export interface Credentials {
  basic?: ReadonlyMap<string, string>;
  apiKeys?: readonly string[];
}

/** Parses `--api-keys "key1,key2"`. */
export function parseApiKeys(value: string): string[] {
  const keys = value.split(',').map((k) => k.trim()).filter(Boolean);
  if (keys.length === 0) throw new Error('--api-keys: expected one or more keys separated by commas');
  return keys;
}

/**
 * Checks an `Authorization` header (also used for websocket upgrades, which bypass the hooks). A Bearer header
 * must carry one of the API keys; anything else is checked as Basic, with FastAPI HTTPBasic's messages.
 */
export function authorize(header: string | undefined, credentials: Credentials): void {
  const [scheme = '', token = ''] = (header ?? '').split(/\s+/, 2);
  if (scheme.toLowerCase() === 'bearer' && credentials.apiKeys?.length) {
    if (!credentials.apiKeys.some((key) => safeEqual(token, key))) throw unauthorized('Invalid API key');
    return;
  }
  if (!header || scheme.toLowerCase() !== 'basic' || !credentials.basic) throw unauthorized('Not authenticated');
  const decoded = decodeBasic(token);
  const sep = decoded?.indexOf(':') ?? -1;
  if (decoded === undefined || sep < 0) throw unauthorized('Invalid authentication credentials');
  const expected = credentials.basic.get(decoded.slice(0, sep));
  if (expected === undefined || !safeEqual(decoded.slice(sep + 1), expected)) throw unauthorized('Incorrect username or password');
}

/** A preValidation hook enforcing `credentials` (a Basic map, as `--api-auth`, or Basic pairs and API keys). */
export function basicAuthHook(credentials: ReadonlyMap<string, string> | Credentials) {
  const creds: Credentials = credentials instanceof Map ? { basic: credentials } : (credentials as Credentials);
  return async (request: FastifyRequest): Promise<void> => {
    if (request.body instanceof DeferredBodyError && request.routeOptions.schema?.body) throw request.body.error;
    authorize(request.headers.authorization, creds);
  };
}
