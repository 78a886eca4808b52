/**
 * WebSocket `/sdapi/v2/ws` (the `ws` package on the fastify server's `upgrade` event): the same job events as SSE,
 * as JSON `{id, job, event, ...}` messages, for the jobs a client subscribes to (`"*"` = every job). Client ops:
 * `{"op":"subscribe","jobs":[…],"since"?:n}`, `{"op":"unsubscribe","jobs":[…]}`, `{"op":"cancel","job":id}`,
 * `{"op":"interrupt"}`, `{"op":"skip"}`; each is answered `{"op", "ok": true, …}` or `{"op", "ok": false, "error"}`.
 * Auth as the HTTP routes (Basic or Bearer header), or `?ticket=` from `POST /sdapi/v2/ws-ticket` for browsers.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type JobEvent, WsTicket } from '@sdapi/protocol';
import { type WebSocket, WebSocketServer } from 'ws';
import { authorize, type Credentials } from '../../plugins/auth.ts';
import { OriginPolicy } from '../../plugins/security.ts';
import type { JobService } from '../../services/jobs/job-service.ts';
import type { TicketStore } from '../../services/jobs/tickets.ts';
import type { SdApiInstance } from '../../types.ts';

export const WS_PATH = '/sdapi/v2/ws';

export interface WebSocketOptions {
  credentials?: Credentials;
  /** Who may open a socket from a browser (the same policy as the HTTP routes; default: same origin only). */
  origins?: OriginPolicy;
  tickets: TicketStore;
  /** Milliseconds between pings; a client that missed the last pong is dropped (default 30 s). */
  pingMs?: number;
}

type Message = { op?: unknown; jobs?: unknown; job?: unknown; since?: unknown };

export function websocketRoutes(app: SdApiInstance, options: WebSocketOptions): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const origins = options.origins ?? new OriginPolicy();
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Same order as the HTTP routes (plugins/security.ts): origin (cross-site websocket hijacking), auth, then path.
    const foreign = origins.check(req.headers.origin, req.headers);
    if (foreign) return refuse(socket, 403, foreign);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return refuse(socket, 400, 'Bad Request');
    }
    const denied = checkAuth(req, url, options);
    if (denied) return refuse(socket, 401, denied);
    if (url.pathname !== WS_PATH) return refuse(socket, 404, 'Not Found');
    wss.handleUpgrade(req, socket, head, (ws) => session(ws, app, options.pingMs ?? 30_000));
  });
  app.addHook('preClose', async () => {
    for (const client of wss.clients) client.close(1001, 'server shutting down');
    wss.close();
  });
  // Documents the endpoint in /docs; a plain GET (no upgrade) gets 426.
  const description =
    'Open with ws:// or wss://. Send {"op":"subscribe","jobs":[id|"*"],"since"?:n}, {"op":"unsubscribe","jobs":[…]}, {"op":"cancel","job":id}, {"op":"interrupt"}, {"op":"skip"}; receive the same events as SSE ({id, job, event, …}) and {op, ok, error?} answers. Auth: Basic/Bearer header or ?ticket=.';
  app.get(WS_PATH, { schema: { tags: ['jobs'], summary: 'WebSocket: job events and ops', description } }, async (_req, reply) =>
    reply.code(426).header('upgrade', 'websocket').send({ detail: 'Upgrade Required: open a WebSocket to this URL' }),
  );
  app.post(
    '/sdapi/v2/ws-ticket',
    { schema: { tags: ['jobs'], summary: 'A one-time websocket login ticket (?ticket=), valid 60 s', response: { 200: WsTicket } } },
    async () => {
      const { ticket, expiresAt } = options.tickets.issue();
      return { ticket, expires_at: new Date(expiresAt).toISOString() };
    },
  );
}

/** Null when the upgrade may go ahead, else the 401 detail. */
function checkAuth(req: IncomingMessage, url: URL, options: WebSocketOptions): string | null {
  const { credentials } = options;
  if (!credentials?.basic && !credentials?.apiKeys?.length) return null;
  const ticket = url.searchParams.get('ticket');
  if (ticket !== null) return options.tickets.consume(ticket) ? null : 'Invalid or expired ticket';
  try {
    authorize(req.headers.authorization, credentials);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

function refuse(socket: Duplex, status: number, detail: string): void {
  const body = JSON.stringify({ detail });
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden' }[status] ?? 'Not Found';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** One client: its subscriptions, its ops, and a heartbeat. */
function session(ws: WebSocket, app: SdApiInstance, pingMs: number): void {
  const jobs = app.sd.jobs;
  const ids = new Set<string>();
  let everything = false;
  const send = (message: object) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  // One listener per connection, so a job matched by both "*" and its id is sent once.
  const unsubscribe = jobs.subscribe('*', (event) => {
    if (everything || ids.has(event.job)) send(event);
  });
  let alive = true;
  ws.on('pong', () => (alive = true));
  const heartbeat = setInterval(() => {
    if (!alive) return ws.terminate();
    alive = false;
    ws.ping();
  }, pingMs);
  ws.on('close', () => {
    clearInterval(heartbeat);
    unsubscribe();
  });
  ws.on('message', (data) => {
    let message: Message;
    try {
      message = JSON.parse(String(data)) as Message;
    } catch {
      return send({ op: null, ok: false, error: { code: 'BAD_MESSAGE', message: 'messages must be JSON objects with an "op"' } });
    }
    void handle(message, { jobs, app, ids, send, setEverything: (v) => (everything = v) });
  });
}

interface SessionState {
  jobs: JobService;
  app: SdApiInstance;
  ids: Set<string>;
  send: (message: object) => void;
  setEverything: (value: boolean) => void;
}

async function handle(message: Message, s: SessionState): Promise<void> {
  const { op } = message;
  const fail = (code: string, text: string) => s.send({ op, ok: false, error: { code, message: text } });
  try {
    if (op === 'subscribe' || op === 'unsubscribe') return subscribeOp(message, s, op);
    if (op === 'cancel') {
      if (typeof message.job !== 'string') return fail('INVALID_PARAMS', '"job" must be a job id');
      const record = await s.jobs.cancel(message.job);
      return s.send({ op, ok: true, job: record.id, status: record.status });
    }
    if (op === 'interrupt' || op === 'skip') {
      if (op === 'interrupt') s.app.sd.queue.interrupt();
      else s.app.sd.queue.skip();
      return s.send({ op, ok: true });
    }
    fail('INVALID_PARAMS', `unknown op ${JSON.stringify(op)}; valid ops: subscribe, unsubscribe, cancel, interrupt, skip`);
  } catch (error) {
    fail((error as { code?: string }).code ?? 'INTERNAL', (error as Error).message);
  }
}

/** Subscribing to a job id first replays its events after `since` (its whole history by default). */
function subscribeOp(message: Message, s: SessionState, op: 'subscribe' | 'unsubscribe'): void {
  const list = message.jobs;
  if (!Array.isArray(list) || !list.every((j) => typeof j === 'string')) {
    s.send({ op, ok: false, error: { code: 'INVALID_PARAMS', message: '"jobs" must be a list of job ids or "*"' } });
    return;
  }
  const since = typeof message.since === 'number' ? message.since : 0;
  const unknown = (list as string[]).filter((id) => id !== '*' && !s.jobs.get(id));
  if (unknown.length > 0 && op === 'subscribe') {
    const error = { code: 'NOT_FOUND', message: `no job with id ${unknown.map((u) => JSON.stringify(u)).join(', ')}` };
    s.send({ op, ok: false, jobs: list, error });
  } else {
    s.send({ op, ok: true, jobs: list });
  }
  for (const id of list as string[]) {
    if (op === 'unsubscribe') {
      if (id === '*') s.setEverything(false);
      s.ids.delete(id);
    } else if (id === '*') {
      s.setEverything(true);
    } else if (!unknown.includes(id) && !s.ids.has(id)) {
      // Replay and subscribe in one synchronous step: no live event can fall between them.
      for (const event of s.jobs.store.events(id, since) as JobEvent[]) s.send(event);
      s.ids.add(id);
    }
  }
}
