/**
 * Webhooks: each job event its submitter asked for is POSTed as JSON to the job's `webhook.url`, signed
 * `X-Sdapi-Signature: sha256=<hex HMAC-SHA256 of the raw body>` with `--webhook-secret` (the GitHub webhook
 * scheme), in order per job, retried with exponential backoff, and never on the queue's path: a slow or dead
 * receiver delays only its own job's deliveries. Targets that resolve to loopback, private, link-local or other
 * non-public addresses are refused (SSRF) unless `--webhook-allow-local`; the check runs at submission and again
 * on the address actually connected to, so DNS rebinding cannot slip past it.
 */
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { JobEvent } from '@sdapi/protocol';
import ipaddr from 'ipaddr.js';
import { ApiError } from '../errors.ts';
import type { JobRecord } from './types.ts';

export interface WebhookOptions {
  /** `--webhook-secret`: without it bodies are sent unsigned. */
  secret?: string;
  /** `--webhook-allow-local`: permit loopback and private targets (tests, a receiver on the same host). */
  allowLocal?: boolean;
  /** Tries per event (default 6: 0.5 s, 1 s, 2 s, 4 s, 8 s apart). */
  maxAttempts?: number;
  baseDelayMs?: number;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** `sha256=<hex>` of `body` under `secret`: what a receiver recomputes to check `X-Sdapi-Signature`. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** True for addresses a webhook may reach without --webhook-allow-local: public unicast only. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

export class WebhookSender {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();

  constructor(private readonly options: WebhookOptions = {}) {}

  /** Checks a webhook URL at submission: http(s) only, and a public target unless local ones are allowed. */
  async validateTarget(url: string): Promise<void> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ApiError('INVALID_PARAMS', `webhook.url ${JSON.stringify(url)} is not an absolute URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new ApiError('INVALID_PARAMS', `webhook.url must be http or https, got ${JSON.stringify(parsed.protocol)}`);
    }
    if (parsed.username || parsed.password) throw new ApiError('INVALID_PARAMS', 'webhook.url must not carry credentials; sign with --webhook-secret instead');
    const addresses = await this.resolve(hostOf(parsed)).catch((e: Error) => {
      throw new ApiError('INVALID_PARAMS', `webhook.url host ${parsed.hostname} does not resolve: ${e.message}`);
    });
    const refused = this.refusal(addresses.map((a) => a.address));
    if (refused) throw new ApiError('INVALID_PARAMS', `webhook.url ${parsed.hostname}: ${refused}`);
  }

  /** Queues delivery of `event` when the job asked for it; returns at once. */
  notify(event: JobEvent, record: JobRecord | undefined): void {
    const hook = record?.webhook;
    if (!hook?.events.includes(event.event) || this.abort.signal.aborted) return;
    const body = JSON.stringify(event);
    const previous = this.chains.get(event.job) ?? Promise.resolve();
    const next = previous.then(() => this.deliver(hook.url, event, body));
    this.chains.set(event.job, next);
    void next.finally(() => {
      if (this.chains.get(event.job) === next) this.chains.delete(event.job);
    });
  }

  /** Stops retrying; deliveries in flight are abandoned (a durable outbox is future work). */
  close(): void {
    this.abort.abort();
  }

  private async deliver(url: string, event: JobEvent, body: string): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 6;
    for (let attempt = 1; attempt <= maxAttempts && !this.abort.signal.aborted; attempt++) {
      const outcome = await this.post(url, event, body, attempt).catch((e: Error) => ({ retry: true, why: e.message }));
      if (outcome === 'ok') return;
      if (!outcome.retry || attempt === maxAttempts) {
        this.options.log?.(`webhook ${url}: event ${event.id} (${event.event}) of job ${event.job} not delivered after ${attempt} attempts: ${outcome.why}`);
        return;
      }
      await sleep(backoffMs(attempt, this.options.baseDelayMs ?? 500), this.abort.signal);
    }
  }

  private post(url: string, event: JobEvent, body: string, attempt: number): Promise<'ok' | { retry: boolean; why: string }> {
    const target = new URL(url);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': 'sdapi-webhook',
      'x-sdapi-event': event.event,
      'x-sdapi-delivery': String(event.id),
      'x-sdapi-attempt': String(attempt),
    };
    if (this.options.secret) headers['x-sdapi-signature'] = signBody(body, this.options.secret);
    const literal = isIP(hostOf(target)) ? this.refusal([hostOf(target)]) : null;
    if (literal) return Promise.resolve({ retry: false, why: literal });
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        target,
        { method: 'POST', headers, lookup: this.guardedLookup(), timeout: this.options.timeoutMs ?? 10_000, signal: this.abort.signal },
        (res) => {
          res.resume(); // the body is not needed
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve('ok');
          else resolve({ retry: status === 408 || status === 429 || status >= 500, why: `HTTP ${status}` });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A dns.lookup for http.request that fails on a refused address (checked where the socket connects). */
  private guardedLookup(): LookupFunction {
    return (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
        const refused = err ? null : this.refusal(addresses.map((a) => a.address));
        if (err || refused) return callback(err ?? new Error(refused ?? ''), '', 0);
        // Node asks for every address when it races IPv4/IPv6 (autoSelectFamily), else for one.
        if (options.all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
        callback(null, addresses[0].address, addresses[0].family);
      });
    };
  }

  private resolve(host: string): Promise<LookupAddress[]> {
    if (isIP(host)) return Promise.resolve([{ address: host, family: isIP(host) }]);
    return new Promise((resolve, reject) => dnsLookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));
  }

  /** Why these addresses may not be targets, or null. */
  private refusal(addresses: string[]): string | null {
    if (this.options.allowLocal) return null;
    const local = addresses.find((a) => !isPublicAddress(a));
    return local ? `refused: ${local} is not a public address (loopback/private targets need --webhook-allow-local)` : null;
  }
}

/** `[::1]` → `::1`: URL keeps the brackets of IPv6 hosts. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Exponential backoff with ±25% jitter, capped at a minute. */
function backoffMs(attempt: number, base: number): number {
  const delay = Math.min(60_000, base * 2 ** (attempt - 1));
  return delay * (0.75 + Math.random() * 0.5);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const stop = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}
