/**
 * Redis connections of a cluster node, on ioredis (which parses the URL: user, password, db, and TLS for
 * `rediss://`). ioredis reconnects by itself (retryStrategy: 0.5 s, then up to 2 s apart).
 *
 * RedisLink is one of the node's own connections (the store's commands and heartbeats; another for pub/sub): with no
 * offline queue, `send` rejects at once while Redis is away (callers answer 503), and commands in flight when the
 * connection drops are rejected rather than re-sent. `onUp` runs after each reconnection so that the job mirror is
 * reloaded (ioredis re-subscribes by itself).
 */
import { Redis, type RedisOptions } from 'ioredis';

/** `--redis` must be `redis://[user:pass@]host[:port][/db]` or `rediss://…` (TLS); ioredis parses the rest. */
export function checkRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--redis must be a URL like redis://127.0.0.1:6379/0, got '${url}'`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`--redis must use the redis:// or rediss:// (TLS) scheme, got '${url}'`);
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`--redis database must be a number, got '${parsed.pathname.slice(1)}' in '${url}'`);
  return url;
}

const retryStrategy = (times: number) => Math.min(500 * 2 ** (times - 1), 2000);

/**
 * An ioredis client for `url`, not connected yet (BullMQ connects the ones it is given). Its 'error' events
 * (each failed reconnect) are quiet: RedisLink logs outages and BullMQ reports its own connections' errors.
 */
export function openRedis(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 5000, retryStrategy, ...options });
  client.on('error', () => undefined);
  return client;
}

export class RedisLink {
  readonly client: Redis;
  private closed = false;
  private lost = false;
  private lastError: Error | undefined;
  /** Times the connection was lost (a worker re-queues a job that ran meanwhile). */
  drops = 0;
  /** Called after each reconnection. */
  onUp: (() => Promise<void> | void) | undefined;

  constructor(
    url: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    // maxRetriesPerRequest 0: what was in flight when the connection dropped fails now instead of being re-sent.
    this.client = openRedis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    this.client.on('error', (error: Error) => {
      this.lastError = error;
    });
    this.client.on('close', () => {
      if (this.closed || this.lost) return;
      this.lost = true;
      this.drops++;
      this.log(`redis: lost the connection to ${this.where}; reconnecting`);
    });
    this.client.on('ready', () => {
      if (!this.lost) return;
      this.lost = false;
      this.log(`redis: connected again to ${this.where}`);
      Promise.resolve(this.onUp?.()).catch((error) => this.log(`redis: re-synchronising after the connection failed: ${error}`));
    });
  }

  /** `host:port/db`, for messages (no password). */
  get where(): string {
    const { host, port, db } = this.client.options;
    return `${host}:${port}/${db ?? 0}`;
  }

  get up(): boolean {
    return this.client.status === 'ready';
  }

  /** Connects once (rejects when Redis is unreachable now, and stops trying); later drops are retried forever. */
  async start(): Promise<void> {
    try {
      await this.client.connect();
    } catch (error) {
      this.client.disconnect();
      throw new Error(`cannot reach Redis at ${this.where}: ${(this.lastError ?? (error as Error)).message}`);
    }
  }

  /** One command; bulk replies as UTF-8 strings, or as Buffers with `buffers`. */
  send(command: string, args: readonly (string | number | Buffer)[] = [], options: { buffers?: boolean } = {}): Promise<unknown> {
    if (!this.up) return Promise.reject(new Error(`Redis at ${this.where} is unreachable`));
    return options.buffers ? this.client.callBuffer(command, ...args) : this.client.call(command, ...args);
  }

  close(): void {
    this.closed = true;
    this.client.disconnect();
  }
}
