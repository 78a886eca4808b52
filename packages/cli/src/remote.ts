/** `--remote URL` / `--auth U:P`: an SDClient for a running sdapi or A1111 server. */
import { SDClient } from '@sdapi/client';
import { CliError, EXIT } from './output.ts';

export const REMOTE_OPTIONS = {
  remote: { type: 'string' },
  auth: { type: 'string' },
  timeout: { type: 'string' },
} as const;

export const REMOTE_HELP = `  --remote URL             send the work to a running sdapi or A1111 server (env SDAPI_REMOTE)
  --auth USER:PASS         HTTP Basic credentials (A1111 --api-auth); also accepted in the URL
  --timeout SECONDS        give up on the server after this long (default 600)`;

/** The --remote URL (or $SDAPI_REMOTE), or undefined for in-process work. */
export function remoteURL(values: { remote?: string }): string | undefined {
  return values.remote ?? (process.env.SDAPI_REMOTE || undefined);
}

/** Builds the client; credentials in the URL move to `auth` because fetch refuses URLs that carry them. */
export function remoteClient(url: string, values: { auth?: string; timeout?: string }): SDClient {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`--remote must be a URL such as http://127.0.0.1:7860, got '${url}'`);
  }
  let credentials = values.auth;
  if (!credentials && parsed.username) credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  parsed.username = '';
  parsed.password = '';
  const colon = credentials?.indexOf(':') ?? -1;
  if (credentials !== undefined && colon < 0) throw new CliError(`--auth must be USER:PASS, got '${credentials}'`);
  const seconds = values.timeout === undefined ? 600 : Number(values.timeout);
  if (!(seconds > 0)) throw new CliError(`--timeout must be a positive number of seconds, got '${values.timeout}'`, EXIT.USAGE);
  return new SDClient({
    baseURL: parsed.toString(),
    timeout: seconds * 1000,
    auth: credentials ? { username: credentials.slice(0, colon), password: credentials.slice(colon + 1) } : undefined,
  });
}
