/**
 * Live job events for the whole queue, so that every open tab sees every job: one WebSocket to `/sdapi/v2/ws`
 * subscribed to `"*"`, logged in with a one-time ticket from `POST /sdapi/v2/ws-ticket` (a fetch carries the
 * browser's Basic credentials; a websocket handshake may not). On a drop it reconnects with backoff and tells the
 * page to re-read the queue (`onResync`), so nothing that happened in between is lost. While the websocket is down
 * (a proxy without upgrade support, a restart), the page re-reads the queue every few seconds and follows the
 * running and queued jobs over SSE instead (`followOverSse`).
 */
import type { JobEvent } from '@sdapi/client';
import { PAGE_BASE, sd } from './api.ts';

export interface LiveHandlers {
  onEvent(event: JobEvent): void;
  onResync(): void;
  onStatus(connected: boolean): void;
}

export class LiveJobs {
  private socket: WebSocket | null = null;
  private failures = 0;
  private stopped = false;
  private readonly sse = new Map<string, AbortController>();

  constructor(private readonly handlers: LiveHandlers) {}

  start(): void {
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.socket?.close();
    for (const c of this.sse.values()) c.abort();
  }

  /** True once the websocket failed and until it is open again: the page should follow jobs with followOverSse. */
  get degraded(): boolean {
    return this.failures > 0 && this.socket?.readyState !== WebSocket.OPEN;
  }

  /** Follows one job's events over SSE (resuming after drops) until its terminal event. */
  followOverSse(id: string): void {
    if (this.sse.has(id)) return;
    const controller = new AbortController();
    this.sse.set(id, controller);
    void (async () => {
      try {
        for await (const event of sd.jobs.events(id, { signal: controller.signal })) this.handlers.onEvent(event);
      } catch {
        // aborted, or the job vanished: the next resync shows the truth
      } finally {
        this.sse.delete(id);
      }
    })();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    try {
      const { ticket } = await sd.post<{ ticket: string }>('/sdapi/v2/ws-ticket');
      const url = new URL(`sdapi/v2/ws?ticket=${encodeURIComponent(ticket)}`, PAGE_BASE);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      const socket = new WebSocket(url);
      this.socket = socket;
      socket.onopen = () => {
        this.failures = 0;
        socket.send(JSON.stringify({ op: 'subscribe', jobs: ['*'] }));
        this.handlers.onStatus(true);
        this.handlers.onResync();
      };
      socket.onmessage = (message) => {
        const data = JSON.parse(String(message.data)) as JobEvent | { op: string };
        if ('event' in data) this.handlers.onEvent(data);
      };
      socket.onclose = () => this.retry();
    } catch {
      this.retry();
    }
  }

  private retry(): void {
    this.socket = null;
    if (this.stopped) return;
    this.failures++;
    this.handlers.onStatus(false);
    if (this.failures === 1) this.handlers.onResync(); // follow what is running over SSE from now on
    setTimeout(() => void this.connect(), Math.min(10_000, 500 * 2 ** this.failures));
  }
}
