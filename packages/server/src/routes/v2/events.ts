/**
 * GET /sdapi/v2/jobs/{id}/events: the job's events as Server-Sent Events (`id:`, `event:`, `data:` JSON). A
 * reconnecting client sends `Last-Event-ID` (or `?last_event_id=`) and gets only what it missed; a finished
 * job replays its history and the stream closes; comments keep idle proxies from cutting the stream.
 */
import { FINISHED_STATUSES, type JobEvent } from '@sdapi/protocol';
import type { FastifyReply } from 'fastify';
import Type from 'typebox';
import { ApiError } from '../../services/errors.ts';
import type { JobService } from '../../services/jobs/job-service.ts';
import type { SdApiInstance } from '../../types.ts';

const TERMINAL = new Set<string>(FINISHED_STATUSES);

/** One SSE frame. JSON has no raw newlines, so `data:` is a single line. */
export function sseFrame(event: JobEvent): string {
  return `id: ${event.id}\nevent: ${event.event}\ndata: ${JSON.stringify(event)}\n\n`;
}

export interface EventStreamOptions {
  /** Milliseconds between keep-alive comments (default 15 s). */
  keepAliveMs?: number;
}

export function eventRoutes(app: SdApiInstance, options: EventStreamOptions = {}): void {
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });
  const schema = {
    params: Type.Object({ id: Type.String() }),
    querystring: Type.Object({ last_event_id: Type.Optional(Type.Integer({ description: 'Same as the Last-Event-ID header' })) }),
    produces: ['text/event-stream'],
    tags: ['jobs'],
    summary: 'Job events as Server-Sent Events (Last-Event-ID resume; closes after the terminal event)',
  };
  app.get('/sdapi/v2/jobs/:id/events', { schema }, async (req, reply) => {
    const { id } = req.params;
    if (!app.sd.jobs.get(id)) throw new ApiError('NOT_FOUND', `no job with id ${JSON.stringify(id)}`);
    const header = req.headers['last-event-id'];
    const after = header !== undefined ? Number(header) : (req.query.last_event_id ?? 0);
    if (!Number.isInteger(after) || after < 0)
      throw new ApiError('INVALID_PARAMS', `Last-Event-ID must be a non-negative integer, got ${JSON.stringify(header)}`);
    streamEvents(app.sd.jobs, id, after, reply, options.keepAliveMs ?? 15_000, open);
  });
}

/** Takes over the response: replay after `after`, then live events until a terminal one (or the client leaves). */
function streamEvents(jobs: JobService, id: string, after: number, reply: FastifyReply, keepAliveMs: number, open: Set<() => void>): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no', // nginx: do not buffer the stream
  });
  let last = after;
  let replaying = true;
  const held: JobEvent[] = [];
  const close = () => {
    if (!open.delete(close)) return;
    clearInterval(keepAlive);
    unsubscribe();
    res.end();
  };
  const send = (event: JobEvent) => {
    if (!open.has(close) || event.id <= last) return; // closed, or already sent (replay and live overlap)
    last = event.id;
    res.write(sseFrame(event));
    if (TERMINAL.has(event.event)) close();
  };
  open.add(close);
  // Subscribe before reading the history so that nothing falls between them; live events wait for the replay.
  const unsubscribe = jobs.subscribe(id, (event) => (replaying ? held.push(event) : send(event)));
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), keepAliveMs);
  res.write(': stream of job events\nretry: 2000\n\n');
  for (const event of jobs.store.events(id, after)) send(event);
  replaying = false;
  for (const event of held) send(event);
  const record = jobs.get(id);
  if (!record || TERMINAL.has(record.status)) close(); // finished: the replay was everything
  res.on('close', close);
}
