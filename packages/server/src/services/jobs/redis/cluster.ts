/**
 * The shared queue of a cluster (issue 15) on BullMQ: API nodes add jobs (`dispatch`), worker processes take them
 * one at a time and run them through their own JobService (`runStored`). BullMQ gives the order (priority, FIFO
 * within a priority), the per-job lock that a worker renews while it runs, and stalled-job recovery: a worker
 * killed mid-job loses its lock, BullMQ puts the job back (at most `maxStalledCount` times, then fails it with the
 * reason, which every node writes into the record if no worker did).
 *
 * Events: each process publishes the events it emits (full, previews included) on `sdapi:changes`; every other
 * process mirrors them (RedisJobStore.apply) and hands them to its subscribers (JobService.deliver), so SSE, the
 * websocket and waiting sync requests work on any node. Webhooks are sent by the process that emitted the event.
 *
 * Cancel: a waiting job is removed from BullMQ by the node that got the DELETE; a running one is signalled on
 * `sdapi:control` to the worker that runs it. Workers heartbeat `sdapi:worker:<id>` (TTL 3 beats).
 *
 * /progress, /interrupt, /skip: see ClusterQueue.callerProgress (the rule is in job-service.ts and the README).
 * Routing by loaded checkpoint: see `take`. Per-client quotas: client-quota.ts. Images in a shared folder
 * (`--results-dir`): result-folder.ts.
 */
import { hostname } from 'node:os';
import type { JobEvent, ProgressResponse } from '@sdapi/protocol';
import { DelayedError, type Job, Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { ApiError } from '../../errors.ts';
import { jobTimestamp } from '../../generation-queue.ts';
import type { OptionsStore } from '../../options-store.ts';
import type { ClusterQueue, JobService } from '../job-service.ts';
import type { JobRecord } from '../types.ts';
import { RedisClientQuota } from './client-quota.ts';
import { checkRedisUrl, openRedis, RedisLink } from './link.ts';
import { type Change, KEY, RedisJobStore } from './redis-store.ts';
import { RESULTS_TOKEN_KEY, ResultFolder } from './result-folder.ts';
import { SharedOptions } from './shared-options.ts';

const QUEUE = 'sdapi-jobs';
const CONTROL = 'sdapi:control';
const WORKERS = 'sdapi:workers';
const workerKey = (id: string) => `sdapi:worker:${id}`;

export interface ClusterOptions {
  url: string;
  /** Runs jobs here (a worker or `serve --redis` without `--no-worker`). */
  worker: boolean;
  /** Images' TTL in Redis (the retention age). */
  imageTtlMs: number;
  /** `--results-dir`: a folder every node shares, for images and kept inputs instead of Redis (result-folder.ts). */
  resultsDir?: string;
  /** BullMQ lock: a worker that stops renewing it for this long has stalled (default 30 s). */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for (default 30 s). */
  stalledIntervalMs?: number;
  /** Times a job may stall (its worker died) and run again before it fails (default 1). */
  maxStalledCount?: number;
  heartbeatMs?: number;
  /** Title of the checkpoint this worker has loaded, for the heartbeat. */
  loadedModel?: () => string | null;
  log?: (line: string) => void;
}

export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  state: 'idle' | 'running' | 'draining';
  loaded_model: string | null;
  current_job: string | null;
  seconds_per_step: number | null;
  last_heartbeat: string;
}

const MAX_DEFERRALS = 2;

/** A checkpoint name as requests and heartbeats spell it (`sub/m.safetensors [hash]`, `sub/m`) → `sub/m`. */
function modelKey(name: string | null | undefined): string | null {
  if (!name) return null;
  return name
    .replace(/\s*\[[0-9a-f]+\]$/i, '')
    .replace(/\.(safetensors|ckpt)$/i, '')
    .trim();
}

/** BullMQ's priority: 1 is the highest, up to 2^21; ours: higher first, -1e6…1e6. */
const bullPriority = (priority: number) => 1_000_001 - Math.max(-1_000_000, Math.min(1_000_000, priority));
/** BullMQ job ids may not contain `:` (A1111's force_task_id may). */
const bullId = (id: string) => id.replaceAll('%', '%25').replaceAll(':', '%3A');

export class RedisCluster implements ClusterQueue {
  readonly workerId = `${hostname()}:${process.pid}`;
  readonly store: RedisJobStore;
  private readonly link: RedisLink;
  private readonly sub: RedisLink;
  /** The ioredis clients handed to BullMQ (it closes the duplicates it makes of them, not these). */
  private readonly bullClients: Redis[] = [];
  private queue!: Queue;
  private events!: QueueEvents;
  private worker: Worker | undefined;
  private jobs: JobService | undefined;
  private waiting: string[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private delivering = false;
  private current: { id: string; startedAt: number } | null = null;
  private secondsPerStep: number | null = null;
  private draining = false;
  /** Jobs submitted through this node (the "caller's" jobs of /progress, /interrupt, /skip). */
  private readonly submittedHere = new Set<string>();
  private sharedOptions: SharedOptions | undefined;
  private readonly folder: ResultFolder | undefined;

  constructor(private readonly options: ClusterOptions) {
    checkRedisUrl(options.url);
    const log = options.log ?? (() => undefined);
    this.link = new RedisLink(options.url, log);
    this.sub = new RedisLink(options.url, log);
    this.folder = options.resultsDir ? new ResultFolder(options.resultsDir) : undefined;
    this.store = new RedisJobStore(this.link, this.workerId, options.imageTtlMs, this.folder);
  }

  /** Connects (rejects when Redis is unreachable at start-up); call before JobService.start. */
  async connect(): Promise<void> {
    this.link.onUp = () => this.resync();
    await this.link.start();
    await this.checkResultsFolder();
    this.sub.client.on('message', (channel: string, payload: string) => this.onMessage(channel, payload));
    this.sub.onUp = () => this.resync(); // ioredis has subscribed again by itself
    await this.sub.start();
    await this.sub.client.subscribe(KEY.changes, CONTROL);
    // The queue fails fast while Redis is away (API nodes answer 503); blocking connections wait for it (BullMQ).
    this.queue = new Queue(QUEUE, { connection: this.bullClient({ enableOfflineQueue: false }) });
    this.queue.on('error', () => undefined); // the link reports outages; BullMQ reconnects by itself
    this.events = new QueueEvents(QUEUE, { connection: this.bullClient({ maxRetriesPerRequest: null }) });
    this.events.on('error', () => undefined);
    this.events.on('failed', ({ jobId, failedReason }) => void this.onBullFailed(jobId, failedReason));
    this.events.on('waiting', () => void this.refreshWaiting());
    this.events.on('active', () => void this.refreshWaiting());
    this.refreshTimer = setInterval(() => void this.refreshWaiting(), 1000);
    this.refreshTimer.unref();
  }

  /** `--results-dir` is the cluster's shared folder (ResultFolder.claim); without one, warns if the cluster has one. */
  private async checkResultsFolder(): Promise<void> {
    const send = (command: string, args: (string | number)[]) => this.link.send(command, args);
    if (this.folder) return this.folder.claim(send);
    if (await send('GET', [RESULTS_TOKEN_KEY])) {
      this.options.log?.(
        'warning: the cluster keeps images in a shared --results-dir but this node has none: it cannot serve those images, and its own go to Redis',
      );
    }
  }

  /**
   * Shares the settings through Redis (shared-options.ts): `store` takes the cluster's (or seeds an empty
   * cluster's); a worker refreshes them before each job. Call after connect().
   */
  async shareOptions(store: OptionsStore): Promise<SharedOptions> {
    this.sharedOptions = new SharedOptions(this.link, store, this.options.worker, () => this.unavailable());
    await this.sharedOptions.join();
    return this.sharedOptions;
  }

  /** Wires the job service: its local events are published, and (on workers) the BullMQ worker starts. */
  attach(jobs: JobService): void {
    this.jobs = jobs;
    jobs.subscribe('*', (event) => {
      if (!this.delivering) void this.publishEvent(event);
      if (event.event === 'progress' && this.current && event.step) {
        this.secondsPerStep = (Date.now() - this.current.startedAt) / 1000 / event.step;
      }
    });
    if (!this.options.worker) return;
    this.worker = new Worker(QUEUE, (job, token) => this.take(job, token), {
      connection: this.bullClient({ maxRetriesPerRequest: null }),
      concurrency: 1,
      lockDuration: this.options.lockDurationMs ?? 30_000,
      stalledInterval: this.options.stalledIntervalMs ?? 30_000,
      maxStalledCount: this.options.maxStalledCount ?? 1,
      name: this.workerId,
    });
    this.worker.on('error', () => undefined);
    void this.heartbeat();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.options.heartbeatMs ?? 2000);
    this.heartbeatTimer.unref();
  }

  callerProgress(): ProgressResponse | null {
    const record = this.callerJob();
    if (!record) return null;
    const { step, steps, fraction, eta_seconds } = record.progress;
    const state = {
      skipped: false,
      interrupted: false,
      stopping_generation: false,
      job: record.type === 'img2img' ? 'scripts_img2img' : 'scripts_txt2img',
      job_count: 1,
      job_timestamp: jobTimestamp(new Date(record.startedAt ?? Date.now())),
      job_no: 0,
      sampling_step: step,
      sampling_steps: steps,
    };
    return { progress: Math.max(0.01, fraction), eta_relative: eta_seconds ?? 0, state, current_image: null, textinfo: null };
  }

  async signalCaller(op: 'interrupt' | 'skip'): Promise<void> {
    const record = this.callerJob();
    if (record) await this.link.send('PUBLISH', [CONTROL, JSON.stringify({ op, job: record.id })]);
  }

  /** The oldest running job submitted through this node, else the oldest running job of the cluster. */
  private callerJob(): JobRecord | undefined {
    const running = this.store.list({ statuses: ['running'], limit: 1000 }).reverse();
    return running.find((r) => this.submittedHere.has(r.id)) ?? running[0];
  }

  async dispatch(record: JobRecord): Promise<void> {
    this.submittedHere.add(record.id);
    if (this.submittedHere.size > 10_000) this.submittedHere.delete(this.submittedHere.values().next().value as string);
    // The checkpoint the job asks for: workers use it to hand the job to an idle worker that has it loaded.
    const model = (record.request.override_settings as Record<string, unknown> | undefined)?.sd_model_checkpoint;
    await this.queue.add(
      'job',
      { id: record.id, model: typeof model === 'string' ? model : null },
      { jobId: bullId(record.id), priority: bullPriority(record.priority), removeOnComplete: true, removeOnFail: 1000 },
    );
    if (!this.waiting.includes(record.id)) this.waiting.push(record.id);
    void this.refreshWaiting();
  }

  async cancel(record: JobRecord): Promise<boolean> {
    const job = await this.queue.getJob(bullId(record.id));
    const state = job ? await job.getState() : 'unknown';
    if (job && (state === 'waiting' || state === 'prioritized' || state === 'delayed')) {
      try {
        await job.remove();
        void this.refreshWaiting();
        return true;
      } catch {
        // a worker took it meanwhile: signal it below
      }
    }
    await this.link.send('PUBLISH', [CONTROL, JSON.stringify({ op: 'cancel', job: record.id })]);
    return false;
  }

  waitingIds(): string[] {
    return this.waiting;
  }

  assertAvailable(): void {
    if (!this.link.up) throw this.unavailable();
  }

  /** `--max-queued-per-client` counted for the whole cluster, in Redis (client-quota.ts). */
  clientQuota(max: number): RedisClientQuota {
    return new RedisClientQuota(this.link, this.workerId, max, () => this.unavailable());
  }

  private unavailable(): ApiError {
    return new ApiError('QUEUE_FULL', `the shared job queue (Redis at ${this.link.where}) is unreachable; retry shortly`, {
      headers: { 'Retry-After': '2' },
    });
  }

  /** The live workers, from their heartbeats. */
  async workers(): Promise<WorkerInfo[]> {
    const ids = (await this.link.send('SMEMBERS', [WORKERS])) as string[];
    if (ids.length === 0) return [];
    const beats = (await this.link.send('MGET', ids.map(workerKey))) as (string | null)[];
    const gone = ids.filter((_, i) => !beats[i]);
    if (gone.length) await this.link.send('SREM', [WORKERS, ...gone]);
    return beats.filter((b): b is string => b !== null).map((b) => JSON.parse(b) as WorkerInfo);
  }

  /** SIGTERM: finish the running job, take no new one, then disconnect. */
  async close(): Promise<void> {
    this.draining = true;
    clearInterval(this.refreshTimer);
    clearInterval(this.heartbeatTimer);
    if (this.worker) {
      await this.heartbeat();
      await this.worker.close();
      await this.link.send('DEL', [workerKey(this.workerId)]).catch(() => undefined);
      await this.link.send('SREM', [WORKERS, this.workerId]).catch(() => undefined);
    }
    await this.events.close();
    await this.queue.close();
    for (const client of this.bullClients) client.disconnect();
    this.link.close();
    this.sub.close();
  }

  private bullClient(options: Parameters<typeof openRedis>[1]): Redis {
    const client = openRedis(this.options.url, options);
    this.bullClients.push(client);
    return client;
  }

  /** After either connection came back: what was published while we were away is reloaded, once both are up. */
  private async resync(): Promise<void> {
    if (!this.link.up || !this.sub.up) return;
    if (this.jobs) await this.store.load();
    await this.refreshWaiting();
  }

  /**
   * Routing by loaded model, as a claim step: a worker that takes a job asking for a checkpoint it has not loaded,
   * while another worker is idle with that checkpoint loaded (heartbeats), gives the job back for a moment
   * (BullMQ delayed 50 ms, same priority; this worker pauses 0.5 s) so that the other takes it; at most MAX_DEFERRALS times per job, so a
   * job never waits on a busy or vanished worker. Otherwise the job runs here.
   */
  private async take(job: Job, token: string | undefined): Promise<string> {
    const wanted = modelKey(job.data.model as string | null);
    const deferrals = (job.data.deferrals as number | undefined) ?? 0;
    if (wanted && token && deferrals < MAX_DEFERRALS && modelKey(this.options.loadedModel?.() ?? null) !== wanted) {
      const workers = await this.workers().catch(() => [] as WorkerInfo[]);
      const better = workers.find((w) => w.id !== this.workerId && w.state === 'idle' && modelKey(w.loaded_model) === wanted);
      if (better) {
        this.options.log?.(`worker ${this.workerId}: job ${job.data.id} wants ${wanted}, loaded on idle ${better.id}: handing it over`);
        await job.updateData({ ...job.data, deferrals: deferrals + 1 });
        await job.moveToDelayed(Date.now() + 50, token);
        // Not fetching for a moment: this worker would otherwise wake first for the job it just gave back.
        await new Promise((r) => setTimeout(r, 500));
        throw new DelayedError();
      }
    }
    return this.process(job, token);
  }

  /**
   * The BullMQ processor: the stored job runs here; its outcome is in the record, so BullMQ never retries it, except
   * when Redis went away while it ran: its events, images or final record may then be missing, so the job goes back
   * to the queue and runs again (a job whose outcome was stored is skipped then: results are written once).
   */
  private async process(job: Job, token: string | undefined): Promise<string> {
    const id = job.data.id as string;
    const jobs = this.jobs;
    // BullMQ's connection may be back before this node's own: the job waits a second rather than failing.
    if (!this.link.up && token) return this.requeue(job, token, 1000, `Redis is unreachable from worker ${this.workerId}`);
    const record = await this.store.fetch(id);
    if (!jobs || !record || ['succeeded', 'failed', 'cancelled'].includes(record.status)) return 'skipped';
    // The settings in force are the cluster's as of now (a POST /options answered before this job was taken).
    await this.sharedOptions?.refresh().catch((error: Error) => this.options.log?.(`worker ${this.workerId}: settings not refreshed: ${error.message}`));
    this.options.log?.(`worker ${this.workerId}: running job ${id} (attempt ${record.attempts + 1})`);
    this.current = { id, startedAt: Date.now() };
    void this.heartbeat();
    const drops = this.link.drops;
    let failure: { error: unknown } | undefined;
    try {
      await jobs.runStored(record);
    } catch (error) {
      failure = { error }; // a write to Redis failed, most likely
    } finally {
      this.current = null;
      void this.heartbeat();
    }
    if (this.link.drops !== drops && token) return this.requeue(job, token, 0, `Redis went away while job ${id} ran on ${this.workerId}`);
    if (failure) throw failure.error;
    this.options.log?.(`worker ${this.workerId}: job ${id} ended ${record.status}`);
    return record.status;
  }

  /** Puts a taken job back in the queue to run again, on any worker, after `delayMs`. */
  private async requeue(job: Job, token: string, delayMs: number, why: string): Promise<never> {
    this.options.log?.(`${why}; the job goes back to the queue`);
    // BullMQ's own connection waits for Redis to come back (its offline queue), then this lands.
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError();
  }

  private async heartbeat(): Promise<void> {
    const info: WorkerInfo = {
      id: this.workerId,
      host: hostname(),
      pid: process.pid,
      state: this.draining ? 'draining' : this.current ? 'running' : 'idle',
      loaded_model: this.options.loadedModel?.() ?? null,
      current_job: this.current?.id ?? null,
      seconds_per_step: this.secondsPerStep,
      last_heartbeat: new Date().toISOString(),
    };
    const ttl = 3 * (this.options.heartbeatMs ?? 2000);
    await this.link.send('SET', [workerKey(this.workerId), JSON.stringify(info), 'PX', ttl]).catch(() => undefined);
    await this.link.send('SADD', [WORKERS, this.workerId]).catch(() => undefined);
  }

  private async publishEvent(event: JobEvent): Promise<void> {
    const change: Change = { node: this.workerId, event };
    await this.link.send('PUBLISH', [KEY.changes, JSON.stringify(change)]).catch(() => undefined);
  }

  private onMessage(channel: string, payload: string): void {
    if (channel === CONTROL) {
      this.onControl(JSON.parse(payload) as { op: string; job: string });
      return;
    }
    const change = JSON.parse(payload) as Change;
    if (change.node === this.workerId) return;
    this.store.apply(change);
    if ('event' in change && this.jobs) {
      this.delivering = true;
      try {
        this.jobs.deliver(change.event);
      } finally {
        this.delivering = false;
      }
    }
  }

  private onControl(message: { op: string; job: string }): void {
    if (this.current?.id !== message.job || !this.jobs) return;
    if (message.op === 'cancel') void this.jobs.cancel(message.job).catch(() => undefined);
    else if (message.op === 'interrupt') this.jobs.queue.interrupt();
    else if (message.op === 'skip') this.jobs.queue.skip();
  }

  /** BullMQ failed a job itself (it stalled more than allowed): the record says so, with BullMQ's reason. */
  private async onBullFailed(jobId: string, reason: string): Promise<void> {
    const id = decodeURIComponent(jobId);
    const record = await this.store.fetch(id).catch(() => undefined);
    if (!record || !this.jobs || ['succeeded', 'failed', 'cancelled'].includes(record.status)) return;
    record.error = { code: 'INTERRUPTED', message: `the job's worker stopped while it ran, ${record.attempts} times; BullMQ: ${reason}` };
    record.status = 'failed';
    record.finishedAt = Date.now();
    await this.store.put(record, true);
    await this.jobs.emit(record, 'failed', { error: record.error }, true);
  }

  private async refreshWaiting(): Promise<void> {
    if (!this.queue || !this.link.up) return;
    try {
      const jobs = await this.queue.getJobs(['prioritized', 'waiting'], 0, 999, true);
      this.waiting = jobs
        .filter((j) => j !== undefined)
        .sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0) || a.timestamp - b.timestamp)
        .map((j) => j.data.id as string);
      await this.estimateWaiting();
    } catch {
      // Redis away: keep the last snapshot
    }
  }

  /**
   * ETA of waiting jobs (their `progress.eta_seconds` in this node's mirror): the steps ahead of each (what the
   * running jobs have left, then the waiting jobs before it) spread over the live workers, at the mean of their
   * measured seconds per step, plus its own steps. Null until a worker has measured its speed.
   */
  private async estimateWaiting(): Promise<void> {
    const workers = await this.workers();
    const speeds = workers.map((w) => w.seconds_per_step).filter((v): v is number => typeof v === 'number' && v > 0);
    if (speeds.length === 0 || workers.length === 0) return;
    const secondsPerStep = speeds.reduce((a, b) => a + b, 0) / speeds.length;
    const stepsOf = (r: JobRecord) => {
      const steps = Number(r.request.steps ?? 20) || 20;
      return steps * (Number(r.request.n_iter ?? 1) || 1);
    };
    let ahead = 0;
    for (const r of this.store.list({ statuses: ['running'], limit: 1000 })) ahead += Math.max(0, (r.progress.steps || stepsOf(r)) - r.progress.step);
    for (const id of this.waiting) {
      const record = this.store.get(id);
      if (record?.status !== 'queued') continue;
      const own = stepsOf(record);
      record.progress = { ...record.progress, eta_seconds: (ahead / workers.length + own) * secondsPerStep };
      ahead += own;
    }
  }
}
