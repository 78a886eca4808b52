/**
 * The page's one SDClient, rooted at the folder the page was loaded from: every request is relative to the page,
 * so the page works under a reverse proxy's sub-path (A1111's `--subpath`) and, being same-origin, carries the
 * Basic credentials the browser was asked for when it loaded the page (`--api-auth`). A server with only
 * `--api-keys` gives the browser nothing to prompt for: the page then asks for a key, keeps it for this tab
 * (sessionStorage) and sends it as `Authorization: Bearer`, images included (fetched, then shown as blob URLs).
 */
import { APIError, SDClient } from '@sdapi/client';
import { useEffect, useState } from 'preact/hooks';

/** The page's folder, e.g. `http://host:7860/` or `https://host/sd/`. */
export const PAGE_BASE = new URL('.', location.href);

const KEY_STORAGE = 'sdapi.apiKey';
const apiKey = sessionStorage.getItem(KEY_STORAGE);
const authHeaders: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};

export const sd = new SDClient({ baseURL: PAGE_BASE.href, maxRetries: 1, defaultHeaders: authHeaders });

/** Keeps `key` for this tab and reloads the page, which then sends it with every request. */
export function rememberApiKey(key: string): void {
  sessionStorage.setItem(KEY_STORAGE, key);
  location.reload();
}

/**
 * A server path's response (a job image's bytes) through the page's SDClient: its credentials (the browser's
 * Basic ones, or the API key), its sub-path, and an APIError on failure (a 401 then offers the key form).
 */
export function fetchServer(path: string): Promise<Response> {
  return sd.get<unknown>(path, { headers: { accept: 'image/*' } }).asResponse();
}

/**
 * The URL to show a server image with: the path itself, or with an API key (which an <img> cannot send) the
 * bytes fetched with it as a blob URL, released when the image goes away.
 */
export function useServerImage(path: string): string | undefined {
  const [src, setSrc] = useState(apiKey ? undefined : serverUrl(path));
  useEffect(() => {
    if (!apiKey) return setSrc(serverUrl(path));
    let url: string | undefined;
    let live = true;
    fetchServer(path)
      .then((res) => res.blob())
      .then((blob) => {
        if (!live) return;
        url = URL.createObjectURL(blob);
        setSrc(url);
      })
      .catch(() => undefined); // the card still shows its parameters; a later reload retries
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [path]);
  return src;
}

/** True when `error` is a 401: the server wants credentials the page did not send. */
export const isUnauthorized = (error: unknown): boolean => error instanceof APIError && error.status === 401;

/** A server path (`/sdapi/v2/jobs/…/images/0`) as a URL under the page's folder (keeps the sub-path). */
export function serverUrl(path: string): string {
  return new URL(path.replace(/^\/+/, ''), PAGE_BASE).href;
}

/** What an error says, in one line, for a banner. */
export function errorText(error: unknown): string {
  if (error instanceof APIError) {
    if (error.status === 401)
      return apiKey
        ? 'The server refused this API key.'
        : 'The server wants credentials: reload the page to be asked for them (--api-auth), or enter an API key.';
    const detail = (error.body as { detail?: unknown } | undefined)?.detail;
    if (typeof detail === 'string') return `${error.status}: ${detail}`;
    if (Array.isArray(detail)) return `${error.status}: ${detail.map((d) => `${(d.loc ?? []).slice(1).join('.')}: ${d.msg}`).join('; ')}`;
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * The request fields an API error is about: FastAPI 422 bodies name them in `loc` (`["body", "cfg_scale"]`);
 * A1111 `{error, detail}` bodies name them in the message (`steps must be at least 1, got 0`), matched against
 * the fields the page sends. Whatever names no field is returned under `''`, for the banner.
 */
export function fieldErrors(error: unknown, fields: readonly string[]): Record<string, string> {
  if (!(error instanceof APIError)) return { '': errorText(error) };
  const detail = (error.body as { detail?: unknown } | undefined)?.detail;
  const out: Record<string, string> = {};
  const add = (field: string, msg: string) => {
    out[field] = out[field] ? `${out[field]}; ${msg}` : msg;
  };
  if (Array.isArray(detail)) {
    for (const item of detail as { loc?: unknown[]; msg?: string }[]) {
      const named = [...(item.loc ?? [])].reverse().find((part) => typeof part === 'string' && fields.includes(part));
      add(typeof named === 'string' ? named : '', named ? String(item.msg) : `${(item.loc ?? []).join('.')}: ${item.msg}`);
    }
    return out;
  }
  const text = typeof detail === 'string' ? detail : error.message;
  const named = fields.find((f) => new RegExp(`\\b${f}\\b`).test(text)) ?? (/^Sampler not found/.test(text) ? 'sampler_name' : undefined);
  add(named ?? '', named ? text : errorText(error));
  return out;
}
