/**
 * Webhooks: each job event its submitter asked for is POSTed as JSON to the job's `webhook.url`, signed
 * `X-Sdapi-Signature: sha256=<hex HMAC-SHA256 of the raw body>` with `--webhook-secret` (the GitHub webhook
 * scheme), in order per job, retried with exponential backoff, and never on the queue's path: a slow or dead
 * receiver delays only its own job's deliveries. Targets that resolve to loopback, private, link-local or other
 * non-public addresses are refused (SSRF) unless `--webhook-allow-local`; the check runs at submission and again
 * on the address actually connected to, so DNS rebinding cannot slip past it.
 *
 * Deliveries survive a restart: with an outbox file (`<data-dir>/jobs/webhooks.jsonl`), each delivery is
 * appended (fsync'd) when it is queued and marked done once delivered or given up; `start()` re-sends what a
 * stopped or crashed process left pending, in order per job, with a fresh set of tries. Delivery is therefore
 * at least once: receivers de-duplicate by `X-Sdapi-Delivery` (the event id).
 */
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { JobEvent } from '@sdapi/protocol';
import ipaddr from 'ipaddr.js';
import { ApiError } from '../errors.ts';
import { Journal } from './journal.ts';
import { isPositionUpdate } from './store-shared.ts';
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
  /** The outbox file that keeps pending deliveries across restarts; without it they live in memory only. */
  outboxPath?: string;
}

/** One outbox line: a delivery queued (`send`) or finished (`done`, delivered or given up). */
type OutboxEntry = { send: { key: number; url: string; event: JobEvent } } | { done: number };

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
  /** The outbox, once `start()` has read it (deliveries queued before are added when it opens). */
  private outbox: Journal | null = null;
  private readonly early: OutboxEntry[] = [];

  constructor(private readonly options: WebhookOptions = {}) {}

  /**
   * Opens the outbox, compacts it to the deliveries still pending, and re-sends those (each job's in order).
   * Returns once they are queued again, not delivered.
   */
  async start(): Promise<void> {
    const path = this.options.outboxPath;
    if (!path) this.queuedKeys = null; // nothing to re-send: no need to remember
    if (!path || !this.queuedKeys) return;
    const { journal, entries } = await Journal.open(path);
    const pending = new Map<number, { url: string; event: JobEvent }>();
    for (const entry of [...(entries as OutboxEntry[]), ...this.early.splice(0)]) {
      if ('send' in entry) pending.set(entry.send.key, entry.send);
      else pending.delete(entry.done);
    }
    this.outbox = journal;
    // Compacted to what is pending; a server that never sent a webhook writes no file.
    if (entries.length > 0 || pending.size > 0) await journal.rewrite(() => [...pending].map(([key, { url, event }]) => ({ send: { key, url, event } })));
    // Deliveries notified before start() are queued already; the others are the last run's.
    const queued = this.queuedKeys;
    this.queuedKeys = null; // read once, here
    const resent = [...pending.values()].filter(({ event }) => !queued.has(event.id));
    if (resent.length > 0) this.options.log?.(`webhooks: re-sending ${resent.length} deliveries left pending by the last run`);
    for (const { url, event } of resent) this.enqueue(url, event);
  }

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

  /**
   * Queues delivery of `event` when the job asked for it; returns at once (the outbox write is not awaited).
   * Position updates are transient: one still waiting behind the job's earlier deliveries is replaced by the newer
   * position (a slow receiver is not sent every step of a long queue draining), and they stay out of the outbox (a
   * restart tells every waiting job its position again).
   */
  notify(event: JobEvent, record: JobRecord | undefined): void {
    const hook = record?.webhook;
    if (!hook?.events.includes(event.event) || this.abort.signal.aborted) return;
    if (isPositionUpdate(event)) {
      const waiting = this.waitingPosition.get(event.job);
      if (waiting) waiting.event = event;
      else this.enqueue(hook.url, event, true);
      return;
    }
    // Previews are live only (not stored, not re-sent): a delivery stores the event without them.
    const { preview: _preview, ...stored } = event;
    this.record({ send: { key: event.id, url: hook.url, event: event.preview === undefined ? event : stored } }, true);
    this.enqueue(hook.url, event);
  }

  /** Stops retrying and closes the outbox; deliveries not done stay pending there and are re-sent by the next `start()`. */
  close(): void {
    this.abort.abort();
    void this.outbox?.close().catch(() => undefined);
  }

  /** Event ids queued in this process before `start()` re-sent the outbox (so that it does not send one twice); null from then on. */
  private queuedKeys: Set<number> | null = new Set<number>();

  /** Per job, the position update queued behind its earlier deliveries and not started yet (notify replaces it). */
  private readonly waitingPosition = new Map<string, { event: JobEvent }>();

  /** Chains the delivery behind the job's earlier ones; `position`: a position update (not in the outbox). */
  private enqueue(url: string, event: JobEvent, position = false): void {
    const slot = { event };
    // A later position may replace this one only while nothing else is queued after it, so the order holds.
    if (position) this.waitingPosition.set(event.job, slot);
    else {
      this.waitingPosition.delete(event.job);
      this.queuedKeys?.add(event.id);
    }
    const previous = this.chains.get(event.job) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (this.waitingPosition.get(event.job) === slot) this.waitingPosition.delete(event.job);
      const current = slot.event; // the newest position, if a newer one replaced it while it waited
      if ((await this.deliver(url, current, JSON.stringify(current))) && !position) this.record({ done: current.id }, false);
    });
    this.chains.set(event.job, next);
    void next.finally(() => {
      if (this.chains.get(event.job) === next) this.chains.delete(event.job);
    });
  }

  /** Appends to the outbox (or keeps the entry for `start()` while it is not open yet); never throws. */
  private record(entry: OutboxEntry, durable: boolean): void {
    if (!this.options.outboxPath) return;
    if (!this.outbox) {
      this.early.push(entry);
      return;
    }
    this.outbox.append(entry, durable).catch((e: Error) => this.options.log?.(`webhook outbox: ${e.message}`));
  }

  /** Tries with backoff; true once finished (delivered or given up), false when stopped by `close()`. */
  private async deliver(url: string, event: JobEvent, body: string): Promise<boolean> {
    const maxAttempts = this.options.maxAttempts ?? 6;
    for (let attempt = 1; attempt <= maxAttempts && !this.abort.signal.aborted; attempt++) {
      const outcome = await this.post(url, event, body, attempt).catch((e: Error) => ({ retry: true, why: e.message }));
      if (outcome === 'ok') return true;
      if (this.abort.signal.aborted) return false;
      if (!outcome.retry || attempt === maxAttempts) {
        this.options.log?.(`webhook ${url}: event ${event.id} (${event.event}) of job ${event.job} not delivered after ${attempt} attempts: ${outcome.why}`);
        return true;
      }
      await sleep(backoffMs(attempt, this.options.baseDelayMs ?? 500), this.abort.signal);
    }
    return false;
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
