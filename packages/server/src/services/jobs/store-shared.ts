/** What the embedded store and the Redis store's mirror do alike over their in-memory map of job records. */
import { FINISHED_STATUSES, type JobEvent } from '@sdapi/protocol';
import type { JobFilter, JobRecord, RetentionPolicy } from './types.ts';

/** `JobStore.list`: newest first, filtered, up to `filter.limit`. */
export function listJobs(jobs: Iterable<JobRecord>, filter: JobFilter): JobRecord[] {
  const out: JobRecord[] = [];
  for (const job of [...jobs].sort((a, b) => b.seq - a.seq)) {
    if (filter.beforeSeq !== undefined && job.seq >= filter.beforeSeq) continue;
    if (filter.statuses && !filter.statuses.includes(job.status)) continue;
    if (filter.types && !filter.types.includes(job.type)) continue;
    out.push(job);
    if (out.length >= filter.limit) break;
  }
  return out;
}

/** The finished jobs `JobStore.sweep` removes: beyond the newest `maxCount` by finish time, or older than `maxAgeMs`. */
export function expiredJobs(jobs: Iterable<JobRecord>, policy: RetentionPolicy, now: number): JobRecord[] {
  const finished = [...jobs].filter((j) => FINISHED_STATUSES.includes(j.status)).sort((a, b) => (b.finishedAt ?? 0) - (a.finishedAt ?? 0) || b.seq - a.seq);
  return finished.filter((j, i) => i >= policy.maxCount || (j.finishedAt ?? 0) < now - policy.maxAgeMs);
}

/** A `queued` event that only tells a new queue position (no `reason`, unlike a re-queue after a restart). */
export function isPositionUpdate(event: JobEvent): boolean {
  return event.event === 'queued' && event.reason === undefined;
}

/**
 * Appends `event` to a job's stored events, except that a position update replaces the position update just
 * before it: a replay only needs the newest position, and N waiting jobs would otherwise store N²/2 of them as the
 * queue drains (each start moves every job behind it). Live listeners still get every one. Returns 'replaced'
 * then, 'stale' for a position update older than the one it would replace (dropped), else 'appended'.
 */
export function appendToEventLog(log: JobEvent[] | undefined, event: JobEvent): 'appended' | 'replaced' | 'stale' {
  const last = log?.at(-1);
  if (log && last && isPositionUpdate(last) && isPositionUpdate(event)) {
    if (event.id < last.id) return 'stale';
    log[log.length - 1] = event;
    return 'replaced';
  }
  log?.push(event);
  return 'appended';
}
