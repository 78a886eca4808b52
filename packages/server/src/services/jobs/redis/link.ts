/**
 * A Redis connection that comes back by itself: `send` rejects at once while Redis is away (callers answer 503),
 * and a reconnect loop (0.5 s, then up to 2 s apart) restores it and calls `onUp` so that subscriptions and the
 * job mirror are re-established.
 */
import { RespClient, type RespReply, type RedisTarget } from './resp-client.ts';

export class RedisLink {
  private client: RespClient;
  private closed = false;
  private retryMs = 500;
  private timer: NodeJS.Timeout | undefined;
  /** Called after each (re)connection, before `up` is reported. */
  onUp: (() => Promise<void> | void) | undefined;
  onPush: ((reply: RespReply) => void) | undefined;
  onDown: (() => void) | undefined;
  up = false;

  constructor(
    readonly target: RedisTarget,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.client = new RespClient(target);
  }

  /** Connects once (rejects when Redis is unreachable now); later drops are retried forever. */
  async start(): Promise<void> {
    await this.open();
  }

  send(command: string, args: readonly unknown[] = [], options: { buffers?: boolean } = {}): Promise<RespReply> {
    if (!this.up) return Promise.reject(new Error(`Redis at ${this.client.url} is unreachable`));
    return this.client.send(command, args, options);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.client.close();
  }

  private async open(): Promise<void> {
    const client = new RespClient(this.target);
    client.onpush = (reply) => this.onPush?.(reply);
    client.onclose = () => {
      this.up = false;
      this.onDown?.();
      if (!this.closed) {
        this.log(`redis: lost the connection to ${client.url}; reconnecting`);
        this.retry();
      }
    };
    await client.connect();
    this.client = client;
    this.up = true;
    this.retryMs = 500;
    try {
      await this.onUp?.();
    } catch (error) {
      this.log(`redis: re-synchronising after the connection failed: ${error}`);
    }
  }

  private retry(): void {
    this.timer = setTimeout(() => {
      if (this.closed) return;
      this.open().then(
        () => this.log(`redis: connected again to ${this.client.url}`),
        () => {
          this.retryMs = Math.min(this.retryMs * 2, 2000);
          this.retry();
        },
      );
    }, this.retryMs);
    this.timer.unref();
  }
}
