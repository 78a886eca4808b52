/**
 * A minimal Redis client (RESP2 over one TCP socket) shaped like Bun's built-in `RedisClient`
 * (`send(command, args)`, `connected`, `onconnect`/`onclose`, `connect()`, `close()`, `duplicate()`), which BullMQ
 * 6 adapts on its own (`createBunRedisClient`, detected structurally). Why it exists: neither `ioredis` nor
 * `redis` is in the lockfile and dependencies are not installed from a session; once `ioredis` is added, pass an
 * `ioredis` instance instead (connection.ts is the one place that builds clients). It is a driver only: queueing,
 * locks, retries and stalled-job recovery are BullMQ's Lua scripts.
 *
 * Pipelining comes from RESP's in-order replies: each `send` appends a pending entry that the next reply settles.
 */
import { connect, type Socket } from 'node:net';

export type RespReply = string | number | null | Buffer | RespReply[];

export class RespError extends Error {}

interface Pending {
  resolve(value: RespReply): void;
  reject(error: Error): void;
  buffers: boolean;
}

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  password?: string;
  username?: string;
}

/** `redis://[user:pass@]host[:port][/db]` → its parts (422-style message naming the value otherwise). */
export function parseRedisUrl(url: string): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--redis must be a URL like redis://127.0.0.1:6379/0, got '${url}'`);
  }
  if (parsed.protocol !== 'redis:') throw new Error(`--redis must use the redis:// scheme (rediss:// is not supported yet), got '${url}'`);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`--redis database must be a number, got '${parsed.pathname.slice(1)}' in '${url}'`);
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    db,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
  };
}

export class RespClient {
  /** Every client with a socket, so that a closing cluster can end them all (BullMQ's duplicates included). */
  private static readonly live = new Set<RespClient>();
  private static ended = false;

  /**
   * Process shutdown: closes every socket, and from then on `connect` never settles, so that BullMQ's adapters
   * (which reconnect by themselves on a timer) leave nothing that keeps the process alive.
   */
  static endAll(): void {
    RespClient.ended = true;
    for (const client of RespClient.live) client.close();
  }

  connected = false;
  onconnect: (() => void) | undefined;
  onclose: ((error?: Error) => void) | undefined;
  /** Replies nobody asked for: pub/sub messages once SUBSCRIBE has been sent. */
  onpush: ((reply: RespReply) => void) | undefined;
  private socket: Socket | null = null;
  private pending: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private closedByUser = false;
  private connecting: Promise<void> | null = null;

  constructor(
    readonly target: RedisTarget,
    private readonly connectTimeoutMs = 5000,
  ) {}

  /** BullMQ's adapter reads `url` only when `duplicate` is missing; kept for logs. */
  get url(): string {
    return `redis://${this.target.host}:${this.target.port}/${this.target.db}`;
  }

  connect(): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (RespClient.ended) return new Promise(() => undefined);
    this.connecting ??= new Promise<void>((resolve, reject) => {
      const socket = connect({ host: this.target.host, port: this.target.port });
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 10_000);
      const timer = setTimeout(
        () => socket.destroy(new Error(`Connection has failed: no answer from ${this.url} in ${this.connectTimeoutMs} ms`)),
        this.connectTimeoutMs,
      );
      socket.once('connect', async () => {
        clearTimeout(timer);
        this.socket = socket;
        RespClient.live.add(this);
        try {
          // Written before `connected` is set, so they precede anything the caller sends.
          if (this.target.password) await this.raw('AUTH', this.target.username ? [this.target.username, this.target.password] : [this.target.password]);
          if (this.target.db) await this.raw('SELECT', [String(this.target.db)]);
          this.connected = true;
          this.connecting = null;
          resolve();
          this.onconnect?.();
        } catch (error) {
          socket.destroy();
          reject(error);
        }
      });
      socket.on('data', (chunk) => this.onData(chunk));
      socket.on('error', () => undefined); // 'close' follows and reports it
      socket.once('close', () => {
        clearTimeout(timer);
        RespClient.live.delete(this);
        const wasConnected = this.connected;
        this.connected = false;
        this.socket = null;
        this.connecting = null;
        const error = new Error('Connection closed');
        for (const p of this.pending.splice(0)) p.reject(error);
        if (!wasConnected) reject(new Error(`Connection has failed: ${this.url} refused or dropped the connection`));
        else this.onclose?.(this.closedByUser ? undefined : error);
      });
    });
    return this.connecting;
  }

  /** Sends one command; resolves with its reply (bulk strings as UTF-8 strings, or Buffers when `buffers`). */
  send(command: string, args: readonly unknown[] = [], options: { buffers?: boolean } = {}): Promise<RespReply> {
    if (!this.socket || !this.connected) return Promise.reject(new Error('Connection is closed.'));
    return this.raw(command, args, options.buffers ?? false);
  }

  close(): void {
    this.closedByUser = true;
    this.socket?.end();
    this.socket?.destroy();
  }

  /** A new, unconnected client to the same server (BullMQ's blocking connections and reconnects). */
  async duplicate(): Promise<RespClient> {
    return new RespClient(this.target, this.connectTimeoutMs);
  }

  private raw(command: string, args: readonly unknown[], buffers = false): Promise<RespReply> {
    const parts = [command, ...args].map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(a === undefined || a === null ? '' : String(a))));
    const frames: Buffer[] = [Buffer.from(`*${parts.length}\r\n`)];
    for (const part of parts) frames.push(Buffer.from(`$${part.length}\r\n`), part, Buffer.from('\r\n'));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject, buffers });
      this.socket?.write(Buffer.concat(frames));
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length > 0) {
      const head = this.pending[0];
      const parsed = parseReply(this.buffer, 0, head?.buffers ?? false);
      // A pushed message may arrive while a SUBSCRIBE reply is awaited; RESP2 marks both as arrays.
      if (parsed && this.onpush && Array.isArray(parsed.value) && parsed.value[0] === 'message') {
        this.buffer = this.buffer.subarray(parsed.end);
        this.onpush(parsed.value);
        continue;
      }
      if (!parsed) return; // incomplete: wait for more bytes
      this.buffer = this.buffer.subarray(parsed.end);
      const pending = this.pending.shift();
      if (!pending) {
        this.onpush?.(parsed.value as RespReply);
        continue;
      }
      if (parsed.value instanceof RespError) pending.reject(parsed.value);
      else pending.resolve(parsed.value as RespReply);
    }
  }
}

/** One RESP2 value at `at`, or null when the buffer does not hold all of it yet. */
function parseReply(buf: Buffer, at: number, buffers: boolean): { value: RespReply | RespError; end: number } | null {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[at]);
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new RespError(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return null;
      const bytes = buf.subarray(next, next + len);
      return { value: buffers ? Buffer.from(bytes) : bytes.toString('utf8'), end: next + len + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RespReply[] = [];
      let end = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, end, buffers);
        if (!item) return null;
        // An error inside an array (EXEC of a failed command) stays a value, as Bun gives it.
        items.push(item.value instanceof RespError ? (item.value.message as string) : item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`);
  }
}
