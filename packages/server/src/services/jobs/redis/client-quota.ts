/**
 * `--max-queued-per-client` on a cluster (issue 15): one count per client for the whole cluster, in Redis, so a
 * client cannot get N jobs queued through each API node.
 *
 * Key `sdapi:quota:<client>` (the client key of plugins/limits.ts, its address) is a sorted set of what the client
 * has waiting or running:
 * - `req:<node>:<n>`: a request being served by a node (a sync txt2img waits for its job; an async submission
 *   until it has its job id), scored by a lease deadline that the node renews while the request lasts, so a node
 *   that dies mid-request frees its slots within LEASE_MS;
 * - `job:<id>`: an async job (or the job of a sync request whose client hung up), which counts while its record in
 *   Redis (`sdapi:job:<id>`) is queued or running.
 *
 * Admission is one Lua script, atomic across nodes: drop expired leases and the jobs whose record has finished (or
 * is gone), count what is left, refuse at the quota or add this request. A job is therefore uncounted the moment
 * its terminal record is written, by whichever process finished it, with nothing to decrement and no count that
 * can drift; a crashed worker's job is re-run or failed by BullMQ, which ends it just the same. The key expires
 * KEY_TTL_MS after its last admission (a client gone for a day leaves nothing behind).
 */
import { ApiError } from '../../errors.ts';
import { LIMIT_FLAGS } from '../../limits.ts';
import type { ClientQuota } from '../job-service.ts';
import type { RedisLink } from './link.ts';
import { KEY } from './redis-store.ts';

const LEASE_MS = 60_000;
const KEY_TTL_MS = 24 * 3600_000;
const RETRY_AFTER_SECONDS = 5;

const quotaKey = (client: string) => `sdapi:quota:${client}`;

/** KEYS[1] the client's set; ARGV: now, max, member, lease deadline, key TTL, job key prefix. → {admitted, count}. */
const ADMIT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(m, 1, 4) == 'job:' then
    local rec = redis.call('GET', ARGV[6] .. string.sub(m, 5))
    local st = rec and cjson.decode(rec)['status']
    if st ~= 'queued' and st ~= 'running' then redis.call('ZREM', KEYS[1], m) end
  end
end
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[2]) then return {0, count} end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1, count + 1}`;

/** KEYS[1] the client's set; ARGV: the request's member, then the job's member or ''. */
const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[1], '+inf', ARGV[2]) end
return 1`;

export class RedisClientQuota implements ClientQuota {
  /** Requests this node is serving: member → client, their leases renewed while any are open. */
  private readonly open = new Map<string, string>();
  private renewTimer: NodeJS.Timeout | undefined;
  private next = 0;

  constructor(
    private readonly link: RedisLink,
    private readonly node: string,
    private readonly max: number,
    private readonly unavailable: () => ApiError,
    /** How long a request's slot outlives its node's last renewal (a test shortens it). */
    private readonly leaseMs = LEASE_MS,
  ) {}

  async admit(client: string): Promise<void> {
    const member = `req:${this.node}:${++this.next}`;
    const now = Date.now();
    let reply: [number, number];
    try {
      const args = [quotaKey(client), now, this.max, member, now + this.leaseMs, KEY_TTL_MS, KEY.job('')];
      reply = (await this.link.send('EVAL', [ADMIT, 1, ...args])) as [number, number];
    } catch {
      throw this.unavailable();
    }
    if (reply[0] !== 1) throw quotaError(reply[1], this.max);
    this.open.set(member, client);
    this.renewTimer ??= setInterval(() => void this.renew(), this.leaseMs / 3).unref();
  }

  /** The request has been answered (or its client hung up): its slot goes, or passes to `jobId` while that runs. */
  async release(client: string, jobId?: string): Promise<void> {
    // The client's requests on this node are alike (same key, same lease): any one of them is this one's slot.
    const member = [...this.open].find(([, c]) => c === client)?.[0];
    if (member === undefined) return;
    this.open.delete(member);
    if (this.open.size === 0) {
      clearInterval(this.renewTimer);
      this.renewTimer = undefined;
    }
    // A failure here leaves the request's lease to expire (LEASE_MS) and the job uncounted: errs towards admitting.
    await this.link.send('EVAL', [RELEASE, 1, quotaKey(client), member, jobId ? `job:${jobId}` : '']).catch(() => undefined);
  }

  /** Pushes the lease of every request still open here (XX: never re-adds one that was released meanwhile). */
  private async renew(): Promise<void> {
    const deadline = Date.now() + this.leaseMs;
    for (const [member, client] of this.open) {
      await this.link.send('ZADD', [quotaKey(client), 'XX', deadline, member]).catch(() => undefined);
    }
  }
}

/** The 429 of the quota, embedded or clustered (plugins/limits.ts uses it too). */
export function quotaError(count: number, max: number): ApiError {
  return new ApiError(
    'CLIENT_QUOTA',
    `Too many jobs from this client: ${count} waiting or running, at most ${max} (${LIMIT_FLAGS.maxQueuedPerClient}); retry when one has finished`,
    { headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } },
  );
}
