/**
 * The scale-out case of `npm run bench` (issue 15): on the tiny SD1.5 fixture, the added latency of the Redis path
 * over the embedded queue (ms per sync job) and jobs per minute with one and two worker processes
 * (scripts/bench-cluster.ts). Needs redis-server and ../shared; it reports nothing without them.
 */
import { benchCluster } from '../bench-cluster.ts';
import type { BenchCase } from './harness.ts';

export const CLUSTER_CASE: BenchCase = {
  name: 'cluster-tiny',
  description: 'Redis + BullMQ: added latency per job, jobs/min with 1 and 2 workers (tiny model)',
  quick: false,
  byDefault: true,
  async run() {
    const r = await benchCluster();
    if (!r) return { seconds: [0], gflop: null, notes: ['skipped: needs /usr/bin/redis-server and ../shared/fixtures/tiny-sd15'] };
    return {
      seconds: [r.redisMs / 1000],
      gflop: null,
      notes: [
        `sync txt2img 64² 4 steps: embedded ${r.embeddedMs.toFixed(0)} ms/job, through Redis ${r.redisMs.toFixed(0)} ms/job (+${(r.redisMs - r.embeddedMs).toFixed(0)} ms)`,
        `${r.jobs} jobs at once: ${r.jobsPerMinute.one.toFixed(1)} jobs/min with 1 worker, ${r.jobsPerMinute.two.toFixed(1)} with 2 (one machine: they share its cores)`,
      ],
    };
  },
};
