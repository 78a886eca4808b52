/**
 * Limits before work (services/limits.ts) as one preHandler hook on the root app: it runs after the body is
 * parsed, authenticated and validated, and before any handler prepares, decodes or queues anything.
 * Also the per-client queue quota (`--max-queued-per-client`): 429 with `Retry-After` when a client (by address)
 * already has that many generation requests waiting or running (sync requests in flight + its async jobs that are
 * still queued or running). With `--redis` the count is the whole cluster's, kept in Redis
 * (services/jobs/redis/client-quota.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientQuota, JobService } from '../services/jobs/job-service.ts';
import { quotaError } from '../services/jobs/redis/client-quota.ts';
import { checkBodyImages, checkRequestLimits, type RequestLimits } from '../services/limits.ts';

/** The routes that make images (their bodies carry the size/steps/batch fields, and they take a queue slot). */
export const GENERATION_ROUTES: ReadonlySet<string> = new Set([
  '/sdapi/v1/txt2img',
  '/sdapi/v1/img2img',
  '/sdapi/v1/extra-single-image',
  '/sdapi/v1/extra-batch-images',
  '/sdapi/v2/jobs',
  '/sdapi/v2/jobs/:id/replay',
  '/v1/images/generations',
]);
/** Routes that queue a job and answer at once: the job stays the client's until it ends. */
const ASYNC_ROUTES = new Set(['/sdapi/v2/jobs', '/sdapi/v2/jobs/:id/replay']);
const SIZED_ROUTES = new Set(['/sdapi/v1/txt2img', '/sdapi/v1/img2img', '/sdapi/v2/jobs', '/v1/images/generations']);

/** Who counts as one client: the connecting address (behind a proxy, every user shares the proxy's quota). */
const clientOf = (request: FastifyRequest) => request.ip || request.socket.remoteAddress || 'unknown';

/** The embedded quota: this process's own requests and jobs (on a cluster, RedisClientQuota counts them all). */
class LocalQuota implements ClientQuota {
  private readonly inFlight = new Map<string, number>();
  private readonly asyncJobs = new Map<string, Set<string>>();

  constructor(
    private readonly max: number,
    private readonly jobs: () => JobService,
  ) {}

  /** Jobs of `client` waiting or running now. */
  count(client: string): number {
    const ids = this.asyncJobs.get(client);
    if (ids) {
      for (const id of ids) {
        const status = this.jobs().get(id)?.status;
        if (status !== 'queued' && status !== 'running') ids.delete(id);
      }
      if (ids.size === 0) this.asyncJobs.delete(client);
    }
    return (this.inFlight.get(client) ?? 0) + (ids?.size ?? 0);
  }

  admit(client: string): void {
    const count = this.count(client);
    if (count >= this.max) throw quotaError(count, this.max);
    this.inFlight.set(client, (this.inFlight.get(client) ?? 0) + 1);
  }

  release(client: string, asyncJobId?: string): void {
    const left = (this.inFlight.get(client) ?? 1) - 1;
    if (left > 0) this.inFlight.set(client, left);
    else this.inFlight.delete(client);
    if (asyncJobId) {
      const ids = this.asyncJobs.get(client) ?? new Set<string>();
      ids.add(asyncJobId);
      this.asyncJobs.set(client, ids);
    }
  }
}

const ADMITTED = Symbol('sdapi.quotaAdmitted');
type Admitted = FastifyRequest & { [ADMITTED]?: string };

export function registerLimits(app: FastifyInstance, limits: RequestLimits, jobs: () => JobService): void {
  const max = limits.maxQueuedPerClient;
  const quota: ClientQuota | null = max === null ? null : (jobs().cluster?.clientQuota?.(max) ?? new LocalQuota(max, jobs));
  app.addHook('preHandler', async (request: FastifyRequest) => {
    if (request.method !== 'POST') return;
    const url = request.routeOptions.url;
    if (request.body !== undefined) {
      if (url && SIZED_ROUTES.has(url)) checkRequestLimits(url, request.body, limits);
      checkBodyImages(request.body, limits.maxImagePixels);
    }
    if (quota && url && GENERATION_ROUTES.has(url)) {
      const client = clientOf(request);
      await quota.admit(client);
      // Redis answered after the client hung up: the 'close' below has fired already and would never release it.
      if (request.raw.socket?.destroyed) return void (await quota.release(client));
      (request as Admitted)[ADMITTED] = client;
    }
  });
  if (!quota) return;
  // Released once per admitted request: on its response, or when its client hangs up (then its job, which runs on
  // as in A1111, keeps the slot until it ends; a finished job is dropped at the next count).
  const release = (request: FastifyRequest, reply: FastifyReply, hungUp: boolean) => {
    const admitted = request as Admitted;
    const client = admitted[ADMITTED];
    if (client === undefined) return;
    admitted[ADMITTED] = undefined;
    const id = reply.getHeader('x-job-id');
    const url = request.routeOptions.url;
    const queued = hungUp || (url !== undefined && ASYNC_ROUTES.has(url) && reply.statusCode < 300);
    return quota.release(client, typeof id === 'string' && queued ? id : undefined);
  };
  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => release(request, reply, !reply.raw.writableFinished));
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    // The response's 'close' (the request's fires as soon as its body is read): finished, or the client hung up.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) void release(request, reply, true);
    });
  });
}
