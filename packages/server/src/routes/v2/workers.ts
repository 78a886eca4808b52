/** GET /sdapi/v2/workers (issue 15): the cluster's live workers from their heartbeats; [] without --redis. */
import type { RedisCluster } from '../../services/jobs/redis/cluster.ts';
import type { SdApiInstance } from '../../types.ts';

export function workersRoute(app: SdApiInstance, cluster: RedisCluster | undefined): void {
  app.get('/sdapi/v2/workers', async () => ({ workers: cluster ? await cluster.workers() : [] }));
}
