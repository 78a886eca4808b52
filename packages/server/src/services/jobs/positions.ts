/**
 * `queued` events whenever a waiting job's place in the queue changes: a job ahead started, was cancelled or
 * failed, or a higher-priority job jumped in. Driven by the job events themselves (every such change emits one),
 * re-checked once per microtask burst, so the job service needs no extra calls. Each event carries the new
 * 1-based `queue_position` (and `position`, the older name), on SSE, the websocket and webhooks alike.
 * Positions are those of this process's queue (a cluster worker reports its own queue).
 */
import type { JobEvent, JobEventType } from '@sdapi/protocol';
import type { JobListener } from './job-service.ts';
import type { JobRecord } from './types.ts';

/** What the tracker needs of the job service. */
export interface PositionSource {
  subscribe(job: string, fn: JobListener): () => void;
  get(id: string): JobRecord | undefined;
  emit(record: JobRecord, event: JobEventType, data: Partial<JobEvent>, durable: boolean): Promise<void>;
}

/** Events after which waiting positions may differ. */
const MOVES: readonly JobEventType[] = ['queued', 'started', 'cancelled', 'failed', 'succeeded'];

/** Starts tracking; returns the unsubscribe function. */
export function trackQueuePositions(jobs: PositionSource, waitingIds: () => string[]): () => void {
  /** The position each waiting job was last told. */
  const told = new Map<string, number>();
  let scheduled = false;
  const refresh = () => {
    scheduled = false;
    const ids = waitingIds();
    const waiting = new Set(ids);
    for (const id of told.keys()) if (!waiting.has(id)) told.delete(id);
    for (const [i, id] of ids.entries()) {
      const position = i + 1;
      if (told.get(id) === position) continue;
      told.set(id, position);
      const record = jobs.get(id);
      if (record) void jobs.emit(record, 'queued', { position, queue_position: position }, false).catch(() => undefined);
    }
  };
  return jobs.subscribe('*', (event) => {
    if (!MOVES.includes(event.event)) return;
    if (event.event === 'queued' && typeof event.position === 'number') told.set(event.job, event.position);
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(refresh);
  });
}
