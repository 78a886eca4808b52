/** What the embedded store and the Redis store's mirror do alike over their in-memory map of job records. */
import { FINISHED_STATUSES } from '@sdapi/protocol';
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
