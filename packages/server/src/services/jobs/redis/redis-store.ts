/**
 * The cluster job store (issue 15): job records, events and images in Redis, shared by every API node and worker.
 * Keys (prefix `sdapi:`): `job:<id>` the record as JSON, `jobs` a sorted set of ids by `seq` (listing, cursors),
 * `ev:<id>` the job's events as a list, `img:<id>:<index>` / `in:<id>:<key>` image bytes with the retention age
 * as TTL, or with `--results-dir` files in that shared folder instead (result-folder.ts). Changes are published on
 * `sdapi:changes`.
 *
 * The JobStore interface reads synchronously (`get`, `list`, `events`), so each process keeps a mirror of the
 * records and events, loaded at open and on every reconnect and kept current from `sdapi:changes`. Reads on a
 * node other than the writer's are therefore eventually consistent, by the pub/sub delay (a millisecond or so on
 * a LAN); every write goes to Redis first, and with `appendfsync always` an acknowledged write is on disk.
 */
import { randomInt } from 'node:crypto';
import type { JobEvent } from '@sdapi/protocol';
import { appendToEventLog, expiredJobs, isPositionUpdate, listJobs } from '../store-shared.ts';
import type { JobFilter, JobRecord, JobStore, RetentionPolicy } from '../types.ts';
import type { RedisLink } from './link.ts';
import type { ResultFolder } from './result-folder.ts';

export const KEY = {
  job: (id: string) => `sdapi:job:${id}`,
  jobs: 'sdapi:jobs',
  events: (id: string) => `sdapi:ev:${id}`,
  image: (id: string, index: number) => `sdapi:img:${id}:${index}`,
  input: (id: string, key: string) => `sdapi:in:${id}:${key}`,
  changes: 'sdapi:changes',
};

/** What travels on `sdapi:changes`: a record written, an event appended, a job removed; `node` is the writer. */
export type Change = { node: string } & ({ job: JobRecord } | { event: JobEvent } | { remove: string });

/**
 * Writes a record unless the stored one has already finished: results are written once, whichever worker
 * finishes a job that BullMQ ran twice (a false stall), and a cancelled job stays cancelled.
 */
const PUT_ONCE = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local st = cjson.decode(cur)['status']
  if st == 'succeeded' or st == 'failed' or st == 'cancelled' then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('PUBLISH', KEYS[3], ARGV[4])
return 1`;

/**
 * KEYS: the job's event list; ARGV: the event (JSON), 1 when it is a position update, its id. A position update
 * replaces the list's last entry when that is one too (and older); otherwise the event is appended. Atomic, so an
 * event another process appended meanwhile is never overwritten.
 */
const APPEND_EVENT = `
if ARGV[2] == '1' then
  local last = redis.call('LINDEX', KEYS[1], -1)
  if last then
    local e = cjson.decode(last)
    if e['event'] == 'queued' and e['reason'] == nil then
      if tonumber(e['id']) > tonumber(ARGV[3]) then return 0 end
      redis.call('LSET', KEYS[1], -1, ARGV[1])
      return 1
    end
  end
end
redis.call('RPUSH', KEYS[1], ARGV[1])
return 1`;

export class RedisJobStore implements JobStore {
  readonly durable = true;
  private readonly jobs = new Map<string, JobRecord>();
  private readonly eventLog = new Map<string, JobEvent[]>();
  private lastClock = 0;
  /** Keeps ids of two processes apart within one microsecond slot. */
  private readonly salt = randomInt(1000);

  constructor(
    private readonly link: RedisLink,
    readonly node: string,
    /** Images expire with the retention age (the sweep removes them earlier when the count is exceeded). */
    private readonly imageTtlMs: number,
    /** `--results-dir`: images and inputs are files there rather than Redis keys. */
    private readonly folder?: ResultFolder,
  ) {}

  async open(): Promise<{ jobs: JobRecord[]; lastEventId: number; lastSeq: number }> {
    await this.load();
    return { jobs: [...this.jobs.values()].sort((a, b) => a.seq - b.seq), lastEventId: 0, lastSeq: 0 };
  }

  /** Reloads the mirror from Redis (at open and after a reconnect: pub/sub drops what was sent meanwhile). */
  async load(): Promise<void> {
    const ids = (await this.link.send('ZRANGE', [KEY.jobs, 0, -1])) as string[];
    const records = ids.length ? ((await this.link.send('MGET', ids.map(KEY.job))) as (string | null)[]) : [];
    this.jobs.clear();
    this.eventLog.clear();
    for (const text of records) {
      if (!text) continue;
      const record = JSON.parse(text) as JobRecord;
      this.jobs.set(record.id, record);
      const events = (await this.link.send('LRANGE', [KEY.events(record.id), 0, -1])) as string[];
      this.eventLog.set(
        record.id,
        events.map((e) => JSON.parse(e) as JobEvent),
      );
    }
  }

  /** The record as Redis has it now (workers read it fresh before running a job). */
  async fetch(id: string): Promise<JobRecord | undefined> {
    const text = (await this.link.send('GET', [KEY.job(id)])) as string | null;
    if (!text) return undefined;
    const record = JSON.parse(text) as JobRecord;
    this.jobs.set(id, record);
    if (!this.eventLog.has(id)) this.eventLog.set(id, []);
    return record;
  }

  /** A change another process published. */
  apply(change: Change): void {
    if (change.node === this.node) return;
    if ('job' in change) {
      const current = this.jobs.get(change.job.id);
      // The same object may be held by a running job here: update it in place.
      if (current) Object.assign(current, change.job);
      else this.jobs.set(change.job.id, change.job);
      if (!this.eventLog.has(change.job.id)) this.eventLog.set(change.job.id, []);
    } else if ('event' in change) {
      const { preview: _preview, ...stored } = change.event;
      const log = this.eventLog.get(change.event.job);
      if (log && !log.some((e) => e.id === stored.id)) appendToEventLog(log, stored);
      // Progress is not written to the record on every step: the mirror takes it from the event.
      const record = this.jobs.get(change.event.job);
      const { step, steps, fraction, eta_seconds } = change.event;
      if (record && change.event.event === 'progress' && step !== undefined && steps !== undefined && fraction !== undefined) {
        record.progress = { step, steps, fraction, eta_seconds: eta_seconds ?? null };
      }
    } else {
      this.jobs.delete(change.remove);
      this.eventLog.delete(change.remove);
    }
  }

  get(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  list(filter: JobFilter): JobRecord[] {
    return listJobs(this.jobs.values(), filter);
  }

  async put(record: JobRecord, _durable: boolean): Promise<void> {
    this.jobs.set(record.id, record);
    if (!this.eventLog.has(record.id)) this.eventLog.set(record.id, []);
    const change: Change = { node: this.node, job: record };
    const args = [KEY.job(record.id), KEY.jobs, KEY.changes, JSON.stringify(record), record.seq, record.id, JSON.stringify(change)];
    const written = await this.link.send('EVAL', [PUT_ONCE, 3, ...args]);
    if (written === 0) await this.fetch(record.id); // it had finished elsewhere: keep Redis's record
  }

  async appendEvent(event: JobEvent, _durable: boolean): Promise<void> {
    // A position update that follows another replaces it, here and in the job's list in Redis (which a node that
    // loads the job later replays), rather than N²/2 updates piling up as a queue drains.
    if (appendToEventLog(this.eventLog.get(event.job), event) === 'stale') return;
    await this.link.send('EVAL', [APPEND_EVENT, 1, KEY.events(event.job), JSON.stringify(event), isPositionUpdate(event) ? 1 : 0, event.id]);
  }

  events(jobId: string, afterId = 0): JobEvent[] {
    return (this.eventLog.get(jobId) ?? []).filter((e) => e.id > afterId);
  }

  async writeImage(record: JobRecord, index: number, bytes: Uint8Array): Promise<void> {
    if (this.folder) return this.folder.write(record.id, `${index}.png`, bytes);
    await this.link.send('SET', [KEY.image(record.id, index), Buffer.from(bytes), 'PX', this.imageTtlMs]);
  }

  async readImage(record: JobRecord, index: number): Promise<Uint8Array | undefined> {
    return (await this.folder?.read(record.id, `${index}.png`)) ?? this.readKey(KEY.image(record.id, index));
  }

  async writeInput(record: JobRecord, key: string, bytes: Uint8Array): Promise<void> {
    if (this.folder) return this.folder.write(record.id, `inputs/${key}.png`, bytes);
    await this.link.send('SET', [KEY.input(record.id, key), Buffer.from(bytes), 'PX', this.imageTtlMs]);
  }

  async readInput(record: JobRecord, key: string): Promise<Uint8Array | undefined> {
    return (await this.folder?.read(record.id, `inputs/${key}.png`)) ?? this.readKey(KEY.input(record.id, key));
  }

  /** Image bytes from Redis (also with a folder: jobs stored before it was set still serve their images). */
  private async readKey(key: string): Promise<Uint8Array | undefined> {
    const bytes = await this.link.send('GET', [key], { buffers: true });
    return Buffer.isBuffer(bytes) ? new Uint8Array(bytes) : undefined;
  }

  /** Microseconds since the epoch, kept increasing: ids ordered across processes as far as their clocks agree. */
  nextSeq(): number {
    this.lastClock = Math.max(this.lastClock + 1, Date.now() * 1000 + this.salt);
    return this.lastClock;
  }

  nextEventId(): number {
    return this.nextSeq();
  }

  async sweep(policy: RetentionPolicy, now: number): Promise<string[]> {
    const doomed = expiredJobs(this.jobs.values(), policy, now);
    for (const job of doomed) await this.remove(job);
    await this.folder?.sweepOrphans(async (id) => (await this.link.send('EXISTS', [KEY.job(id)])) === 1, this.imageTtlMs, now);
    return doomed.map((j) => j.id);
  }

  async close(): Promise<void> {}

  private async remove(job: JobRecord): Promise<void> {
    this.jobs.delete(job.id);
    this.eventLog.delete(job.id);
    const keys = [KEY.job(job.id), KEY.events(job.id)];
    for (const image of job.result?.images ?? []) keys.push(KEY.image(job.id, image.index));
    for (const input of job.inputs ?? []) keys.push(KEY.input(job.id, `${input.field}-${input.index}`));
    await this.link.send('DEL', keys);
    await this.folder?.remove(job.id);
    await this.link.send('ZREM', [KEY.jobs, job.id]);
    await this.link.send('PUBLISH', [KEY.changes, JSON.stringify({ node: this.node, remove: job.id } satisfies Change)]);
  }
}
