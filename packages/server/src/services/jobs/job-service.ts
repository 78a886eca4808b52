/**
 * The jobs layer over the one generation queue: every generation (an A1111 sync route, a `/sdapi/v2/jobs`
 * submission, an OpenAI image request) becomes a stored job with an id, a status, progress, events and results,
 * and runs in the same queue, in (priority, arrival) order. No HTTP here: routes, SSE, the websocket and webhooks
 * all read jobs and subscribe to events through this class.
 */
import type { GenerationHooks, GenerationProgress } from '@sdapi/engine';
import { FINISHED_STATUSES, type JobEvent, type JobEventType, type JobStatus, type JobType, type ProgressResponse } from '@sdapi/protocol';
import { ApiError } from '../errors.ts';
import type { GenerationQueue } from '../generation-queue.ts';
import { etagOf } from './embedded-store.ts';
import { imageView, jobId } from './ids.ts';
import { keepInputs } from './inputs.ts';
import { trackQueuePositions } from './positions.ts';
import type { JobKind } from './kinds.ts';
import type { JobRecord, JobSource, JobStore, RetentionPolicy, StoredImage } from './types.ts';
import type { WebhookSender } from './webhooks.ts';

export interface SubmitSpec {
  type: JobType;
  /** The A1111 request body (only the fields the client sent). */
  request: Record<string, unknown>;
  /** Already validated and mapped by the caller (sync routes); else `kind.prepare(request)` runs here. */
  prepared?: unknown;
  id?: string | null;
  priority?: number;
  preview?: number;
  webhook?: JobRecord['webhook'];
  source: JobSource;
}

export interface JobOutcome<O = unknown> {
  record: JobRecord;
  /** The engine's own result (sync routes build their A1111 response from it). */
  output: O;
}

export interface JobHandle<O = unknown> {
  record: JobRecord;
  /** Resolves when the job succeeded; rejects with the job's error (CANCELLED, SHUTTING_DOWN, engine errors). */
  done: Promise<JobOutcome<O>>;
}

export type JobListener = (event: JobEvent, record: JobRecord | undefined) => void;

export interface JobServiceOptions {
  store: JobStore;
  queue: GenerationQueue;
  kinds: Partial<Record<JobType, JobKind>>;
  retention?: RetentionPolicy;
  /** How often the retention sweep runs besides after each job (default 10 minutes). */
  sweepIntervalMs?: number;
  now?: () => number;
  log?: (message: string) => void;
  /** Delivers the events that jobs asked for to their webhook URLs. */
  webhooks?: WebhookSender;
  /** A progress preview (data URL) from the engine's progress, for jobs that ask for previews; null if none. */
  preview?: (progress: GenerationProgress) => string | null;
  /** A shared queue (issue 15, services/jobs/redis): jobs go there instead of this process's queue. */
  cluster?: ClusterQueue;
}

/**
 * The shared queue of a cluster (Redis + BullMQ, services/jobs/redis/cluster.ts). With it, `submit` stores the job
 * and hands it to the shared queue; a worker process takes it and runs it here through `runStored`; events from
 * other processes come in through `deliver`.
 */
export interface ClusterQueue {
  /** This process's worker id (`host:pid`), recorded on the jobs it runs. */
  readonly workerId: string;
  dispatch(record: JobRecord): Promise<void>;
  /** Removes a waiting job from the shared queue (true), or asks the worker running it to stop (false). */
  cancel(record: JobRecord): Promise<boolean>;
  /** Waiting job ids, next first (a snapshot kept fresh by the cluster). */
  waitingIds(): string[];
  /** Throws a 503 with `Retry-After` while the shared queue cannot take jobs (Redis unreachable). */
  assertAvailable(): void;
  /**
   * A1111's /progress, /interrupt and /skip on a node whose own queue is idle act on "the caller's running job":
   * the oldest running job submitted through this node, else the oldest running job of the cluster.
   */
  callerProgress?(): ProgressResponse | null;
  signalCaller?(op: 'interrupt' | 'skip'): Promise<void>;
  /** `--max-queued-per-client` counted across the cluster (plugins/limits.ts uses it instead of its own count). */
  clientQuota?(max: number): ClientQuota;
}

/** Admits one request of a client (or throws the 429); released once, with the job id when its job runs on. */
export interface ClientQuota {
  admit(client: string): void | Promise<void>;
  release(client: string, asyncJobId?: string): void | Promise<void>;
}

/** The `output` of a job that ran in another process: routes build their answer from the stored record. */
export const REMOTE_OUTPUT = Symbol('job ran on another worker');

/** A job this process has in its queue: what the run needs and who waits for it. */
interface LiveJob {
  prepared: unknown;
  cancelRequested: boolean;
  resolve(outcome: JobOutcome): void;
  reject(error: unknown): void;
  /** Settles when the queue is done with it (shutdown waits for the running one). */
  settled: Promise<unknown>;
  /** Overall step of the last preview sent. */
  previewStep?: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { maxCount: 1000, maxAgeMs: 7 * 24 * 3600 * 1000 };
const SHUTDOWN_WAIT_MS = 10_000;

export class JobService {
  readonly store: JobStore;
  readonly queue: GenerationQueue;
  readonly webhooks: WebhookSender | undefined;
  private readonly kinds: Partial<Record<JobType, JobKind>>;
  private readonly live = new Map<string, LiveJob>();
  private readonly listeners = new Set<{ job: string; fn: JobListener }>();
  private readonly now: () => number;
  private lastEventId = 0;
  private lastSeq = 0;
  private closing = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private webhookListener: { job: string; fn: JobListener } | undefined;

  constructor(private readonly options: JobServiceOptions) {
    this.store = options.store;
    this.queue = options.queue;
    this.kinds = options.kinds;
    this.webhooks = options.webhooks;
    this.now = options.now ?? Date.now;
    trackQueuePositions(this, () => this.queue.waitingIds());
  }

  /**
   * Replaces how a job type validates and maps its request: the sync route registers its own preparation here
   * (infotext, ControlNet units, image decoding …), so that v2 and OpenAI jobs mean exactly what the route means.
   */
  definePrepare(type: JobType, prepare: JobKind['prepare']): void {
    const kind = this.kinds[type];
    if (kind) this.kinds[type] = { ...kind, prepare };
  }

  /** The shared queue when this node is part of a cluster (issue 15). */
  get cluster(): ClusterQueue | undefined {
    return this.options.cluster;
  }

  /** Job types this server runs. */
  types(): JobType[] {
    return Object.keys(this.kinds) as JobType[];
  }

  /** Opens the store and puts back what survived the last run (see `recover`); starts the retention sweep. */
  async start(): Promise<void> {
    const { jobs, lastEventId, lastSeq } = await this.store.open();
    this.lastEventId = lastEventId;
    this.lastSeq = lastSeq;
    const webhooks = this.webhooks;
    if (webhooks) {
      this.webhookListener = { job: '*', fn: (event, record) => webhooks.notify(event, record) };
      this.listeners.add(this.webhookListener);
    }
    // In a cluster the shared queue holds the waiting jobs and BullMQ re-runs stalled ones: nothing to restore here.
    const restored: [JobRecord, unknown][] = [];
    for (const record of this.options.cluster ? [] : jobs) {
      const prepared = await this.recover(record);
      if (prepared) restored.push([record, prepared.value]);
    }
    // Enqueued in one synchronous pass, so that the queue orders them all by priority before the first starts.
    for (const [record, prepared] of restored) {
      this.enqueue(record, prepared, record.attempts > 0 ? 'the server stopped while the job was running; it runs once more' : 'restored after a restart');
    }
    await this.sweep();
    const every = this.options.sweepIntervalMs ?? 10 * 60_000;
    this.sweepTimer = setInterval(() => void this.sweep().catch((e) => this.options.log?.(`job retention sweep failed: ${e}`)), every);
    this.sweepTimer.unref();
  }

  /**
   * Validates and queues a job; resolves once its queued record is durable. Throws the sync route's 422 for bad
   * params, 409 for a used id, 503 when the queue is full.
   */
  async submit<O = unknown>(spec: SubmitSpec): Promise<JobHandle<O>> {
    const kind = this.kind(spec.type);
    const prepared = spec.prepared ?? (await kind.prepare(spec.request));
    // From the id check to the store write nothing awaits: two submissions cannot both take one id.
    const id = this.newId(spec);
    if (this.options.cluster) this.options.cluster.assertAvailable();
    else this.queue.assertRoom();
    const record: JobRecord = {
      id,
      seq: this.store.nextSeq?.() ?? ++this.lastSeq,
      type: spec.type,
      source: spec.source,
      status: 'queued',
      priority: spec.priority ?? 0,
      createdAt: this.now(),
      startedAt: null,
      finishedAt: null,
      attempts: 0,
      preview: spec.preview ?? 0,
      webhook: spec.webhook ?? null,
      request: spec.request,
      progress: { step: 0, steps: 0, fraction: 0, eta_seconds: null },
      result: null,
      error: null,
    };
    if (this.options.cluster) return this.submitToCluster<O>(record, this.options.cluster);
    const written = this.store.put(record, true);
    const done = this.enqueue(record, prepared);
    try {
      await written;
    } catch (error) {
      this.queue.cancel(id, 'the job could not be stored');
      throw error;
    }
    return { record, done: done as Promise<JobOutcome<O>> };
  }

  get(id: string): JobRecord | undefined {
    return this.store.get(id);
  }

  /** 1-based place among the waiting jobs, or null when the job is not waiting. */
  queuePosition(id: string): number | null {
    const index = this.pendingIds().indexOf(id);
    return index < 0 ? null : index + 1;
  }

  /** Ids of the jobs waiting to run, next first (A1111's pending tasks). */
  pendingIds(): string[] {
    return this.options.cluster?.waitingIds() ?? this.queue.waitingIds();
  }

  /**
   * Cancels a job: a waiting one at once, a running one at the engine's next step check (it ends `cancelled`
   * when the engine returns). 404 unknown, 409 finished.
   */
  async cancel(id: string): Promise<JobRecord> {
    const record = this.requireJob(id);
    if (FINISHED_STATUSES.includes(record.status)) {
      throw new ApiError('CONFLICT', `job ${id} has already finished (status: ${record.status}); only queued or running jobs can be cancelled`);
    }
    const live = this.live.get(id);
    if (this.options.cluster && !live) {
      if (await this.options.cluster.cancel(record)) await this.finishCancelled(record, 'cancelled while queued');
      return record;
    }
    if (record.status === 'running') {
      if (live) live.cancelRequested = true;
      if (this.queue.runningId() === id) this.queue.interrupt();
      return record;
    }
    this.queue.cancel(id, `job ${id} was cancelled while it waited`);
    await this.finishCancelled(record, 'cancelled while queued');
    return record;
  }

  /** Subscribes to the events of one job, or of all jobs with `'*'`; returns the unsubscribe function. */
  subscribe(job: string, fn: JobListener): () => void {
    const entry = { job, fn };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  /** The stored bytes of image `index` of a finished job, with its metadata. */
  async image(id: string, index: number): Promise<{ image: StoredImage; bytes: Uint8Array } | undefined> {
    const record = this.store.get(id);
    const image = record?.result?.images[index];
    if (!record || !image) return undefined;
    const bytes = await this.store.readImage(record, index);
    return bytes && { image, bytes };
  }

  /** Removes finished jobs beyond the retention policy. */
  async sweep(): Promise<string[]> {
    if (this.closing) return [];
    return this.store.sweep(this.options.retention ?? DEFAULT_RETENTION, this.now());
  }

  /**
   * Graceful stop: waiting jobs stay queued in the store (their sync callers get 503), the running job is
   * interrupted and put back in the queue without counting the attempt, then the store is closed.
   */
  async shutdown(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.sweepTimer);
    const stopping = new ApiError('SHUTTING_DOWN', 'the server is shutting down; the job stays queued and runs after the restart');
    this.queue.close(stopping);
    const runningId = this.queue.runningId();
    const running = runningId ? this.store.get(runningId) : undefined;
    if (running && running.status === 'running') {
      this.queue.interrupt();
      running.status = 'queued';
      running.attempts = Math.max(0, running.attempts - 1);
      running.startedAt = null;
      await this.store.put(running, true);
      await this.emit(running, 'queued', { position: null, reason: 'the server shut down while the job ran; it runs again after the restart' }, true);
      const live = this.live.get(running.id);
      live?.reject(stopping);
      await Promise.race([live?.settled, new Promise((r) => setTimeout(r, SHUTDOWN_WAIT_MS).unref())]);
    }
    this.webhooks?.close();
    await this.store.close();
  }

  /**
   * Cluster workers: runs a stored job that the shared queue handed to this process, in this process's queue;
   * resolves when it has ended (its outcome is in the record and the events).
   */
  async runStored(record: JobRecord): Promise<void> {
    let prepared: unknown;
    try {
      prepared = await this.kind(record.type).prepare(record.request);
    } catch (error) {
      return this.fail(record, error);
    }
    record.worker = this.options.cluster?.workerId ?? null;
    this.enqueue(record, prepared, record.attempts > 0 ? 'its worker stopped while the job ran; it runs once more' : undefined);
    await this.live.get(record.id)?.settled;
  }

  /** Cluster: an event that another process emitted (and stored), passed to this process's subscribers. */
  deliver(event: JobEvent): void {
    // The emitting process sends the webhook.
    this.notifyListeners(event, this.store.get(event.job), this.webhookListener);
  }

  /** Emits one event to the store and the subscribers. */
  async emit(record: JobRecord, event: JobEventType, data: Partial<JobEvent>, durable: boolean): Promise<void> {
    const full: JobEvent = { id: this.store.nextEventId?.() ?? ++this.lastEventId, job: record.id, event, time: new Date(this.now()).toISOString(), ...data };
    // Previews are live only: kept out of the store, so the journal stays small and a replay has none.
    const { preview: _preview, ...stored } = full;
    const written = this.store.appendEvent(full.preview === undefined ? full : stored, durable);
    this.notifyListeners(full, record);
    await written;
  }

  /** Passes one event to the subscribers of its job and of `'*'` (but `skip`); a throwing listener is logged. */
  private notifyListeners(event: JobEvent, record: JobRecord | undefined, skip?: { job: string; fn: JobListener }): void {
    for (const listener of this.listeners) {
      if (listener === skip || (listener.job !== '*' && listener.job !== event.job)) continue;
      try {
        listener.fn(event, record);
      } catch (error) {
        this.options.log?.(`job event listener failed: ${error}`);
      }
    }
  }

  /**
   * Cluster: the queued record is stored, then handed to the shared queue; `done` settles on the job's terminal
   * event, whichever worker ran it (the output is REMOTE_OUTPUT: routes answer from the stored record).
   */
  private async submitToCluster<O>(record: JobRecord, cluster: ClusterQueue): Promise<JobHandle<O>> {
    const done = new Promise<JobOutcome<O>>((resolve, reject) => {
      const unsubscribe = this.subscribe(record.id, (event) => {
        if (!FINISHED_STATUSES.includes(event.event as JobStatus)) return;
        unsubscribe();
        const stored = this.store.get(record.id) ?? record;
        if (event.event === 'succeeded') return resolve({ record: stored, output: REMOTE_OUTPUT as O });
        const error = stored.error ?? { code: event.event === 'cancelled' ? 'CANCELLED' : 'INTERNAL', message: `job ${record.id} ${event.event}` };
        reject(Object.assign(new Error(error.message), { code: error.code }));
      });
    });
    done.catch(() => undefined); // v2 jobs have no awaiting caller; the error is in the job record
    await this.store.put(record, true);
    await cluster.dispatch(record);
    void this.emit(record, 'queued', { position: this.queuePosition(record.id) }, false).catch(() => undefined);
    return { record, done };
  }

  private kind(type: JobType): JobKind {
    const kind = this.kinds[type];
    if (!kind) throw new ApiError('UNSUPPORTED_PARAM', `${type} jobs are not supported by this server yet; supported job types: ${this.types().join(', ')}`);
    return kind;
  }

  private requireJob(id: string): JobRecord {
    const record = this.store.get(id);
    if (!record) throw new ApiError('NOT_FOUND', `no job with id ${JSON.stringify(id)} (it may have been removed by the retention sweep)`);
    return record;
  }

  private newId(spec: SubmitSpec): string {
    const id = jobId(spec.id ?? null, spec.source, spec.type);
    const existing = this.store.get(id);
    if (existing)
      throw new ApiError('CONFLICT', `job id ${JSON.stringify(id)} is already used (by a ${existing.status} ${existing.type} job); choose another id`);
    if (this.live.has(id)) throw new ApiError('CONFLICT', `job id ${JSON.stringify(id)} is already used; choose another id`);
    return id;
  }

  /** Puts a stored job into the queue; the returned promise is the job's `done`. */
  private enqueue(record: JobRecord, prepared: unknown, reason?: string): Promise<JobOutcome> {
    const kind = this.kind(record.type);
    let live!: LiveJob;
    const done = new Promise<JobOutcome>((resolve, reject) => {
      live = { prepared, cancelRequested: false, resolve, reject, settled: Promise.resolve() };
    });
    done.catch(() => undefined); // v2 jobs have no awaiting caller; the error is in the job record
    this.live.set(record.id, live);
    const run = this.queue.submit({
      id: record.id,
      priority: record.priority,
      name: kind.progressName,
      jobCount: kind.jobCount(prepared),
      run: (hooks) => this.execute(record, kind, live, hooks),
    });
    // Nobody awaits `settled` but shutdown, so its writes must not reject: a job that ends just as the server
    // closes finds the journal closed (its `failed` record may be in, its event not); log that, never throw it.
    live.settled = run
      .then(
        (output) => this.complete(record, kind, live, output),
        (error) => this.fail(record, error, live),
      )
      .catch((error) => this.lateWriteFailed(record, error));
    const position = this.queuePosition(record.id);
    const data = reason ? { position, queue_position: position, reason } : { position, queue_position: position };
    void this.emit(record, 'queued', data, false).catch(() => undefined);
    return done;
  }

  /** Inside the queue: the job starts (durably, so that a crash from here on is seen on restart). */
  private async execute(record: JobRecord, kind: JobKind, live: LiveJob, hooks: GenerationHooks): Promise<unknown> {
    record.status = 'running';
    record.attempts += 1;
    record.startedAt = this.now();
    await this.store.put(record, true);
    await this.emit(record, 'started', { attempt: record.attempts }, false);
    const onProgress = (p: GenerationProgress) => {
      hooks.onProgress?.(p);
      this.progress(record, p, live);
    };
    return kind.run(live.prepared, { ...hooks, onProgress });
  }

  private progress(record: JobRecord, p: GenerationProgress, live: LiveJob): void {
    const steps = Math.max(0, p.jobCount) * p.samplingSteps;
    const step = Math.min(steps, Math.max(0, p.jobNo) * p.samplingSteps + p.samplingStep);
    const fraction = steps > 0 ? step / steps : 0;
    if (fraction < record.progress.fraction) return; // events only ever move forward
    const elapsed = (this.now() - (record.startedAt ?? this.now())) / 1000;
    const eta = fraction > 0 ? elapsed / fraction - elapsed : null;
    record.progress = { step, steps, fraction, eta_seconds: eta };
    const data: Partial<JobEvent> = { ...record.progress };
    if (record.preview > 0 && p.latent && step - (live.previewStep ?? Number.NEGATIVE_INFINITY) >= record.preview) {
      live.previewStep = step;
      data.preview = this.options.preview?.(p) ?? null;
    }
    void this.emit(record, 'progress', data, false).catch(() => undefined);
  }

  /** After the queue: images stored, then the record, then `image` events and `succeeded`. */
  private async complete(record: JobRecord, kind: JobKind, live: LiveJob, output: unknown): Promise<void> {
    if (this.closing) return; // shutdown already put the job back in the queue
    this.live.delete(record.id);
    if (live.cancelRequested) {
      await this.finishCancelled(record, 'cancelled while running');
      return live.reject(new ApiError('CANCELLED', `job ${record.id} was cancelled while it ran`));
    }
    try {
      const out = kind.finish(live.prepared, output);
      const images: StoredImage[] = [];
      for (const [index, img] of out.images.entries()) {
        await this.store.writeImage(record, index, img.png);
        const { png, ...meta } = img;
        images.push({ ...meta, index, mime: 'image/png', etag: etagOf(png), size: png.length });
      }
      record.result = { images, parameters: out.parameters, info: out.info, interrupted: out.interrupted };
      record.inputs = await keepInputs(this.store, record, kind.inputs?.(live.prepared) ?? []);
      record.request = kind.retainedRequest?.(record.request) ?? record.request;
      this.setFinished(record, 'succeeded');
      record.progress = { ...record.progress, step: record.progress.steps, fraction: 1, eta_seconds: 0 };
      await this.store.put(record, true);
      for (const image of images) await this.emit(record, 'image', { image: imageView(record.id, image) }, false);
      await this.emit(record, 'succeeded', { images: images.length }, true);
      live.resolve({ record, output });
    } catch (error) {
      await this.fail(record, error, live);
    }
    await this.sweep().catch(() => undefined);
  }

  private async fail(record: JobRecord, error: unknown, live?: LiveJob): Promise<void> {
    live?.reject(error);
    if (this.closing || FINISHED_STATUSES.includes(record.status)) return;
    this.live.delete(record.id);
    const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'INTERNAL';
    record.error = { code, message: (error as Error)?.message ?? String(error) };
    this.setFinished(record, 'failed');
    await this.store.put(record, true);
    await this.emit(record, 'failed', { error: record.error }, true);
  }

  /** A write of a job's outcome that failed after the queue was done with it (the store closed, a full disk). */
  private lateWriteFailed(record: JobRecord, error: unknown): void {
    const message = (error as Error)?.message ?? String(error);
    this.options.log?.(`job ${record.id}: storing its ${record.status} outcome failed${this.closing ? ' during shutdown' : ''}: ${message}`);
  }

  private async finishCancelled(record: JobRecord, reason: string): Promise<void> {
    this.live.get(record.id)?.reject(new ApiError('CANCELLED', `job ${record.id} was ${reason}`));
    this.live.delete(record.id);
    this.setFinished(record, 'cancelled');
    await this.store.put(record, true);
    await this.emit(record, 'cancelled', { reason }, true);
  }

  private setFinished(record: JobRecord, status: JobStatus): void {
    record.status = status;
    record.finishedAt = this.now();
  }

  /**
   * A job found in the store at start-up: finished ones stay as they are, queued ones are prepared to go back
   * into the queue; one that was running when the process died runs once more (attempts 1), and fails with the
   * reason if it was already such a retry.
   */
  private async recover(record: JobRecord): Promise<{ value: unknown } | undefined> {
    if (FINISHED_STATUSES.includes(record.status)) return undefined;
    if (record.status === 'running') {
      if (record.attempts >= 2) {
        record.error = { code: 'INTERRUPTED', message: `the server stopped while this job was running, ${record.attempts} times; it is not retried again` };
        this.setFinished(record, 'failed');
        await this.store.put(record, true);
        await this.emit(record, 'failed', { error: record.error }, true);
        return undefined;
      }
      record.status = 'queued';
      record.startedAt = null;
      await this.store.put(record, true);
    }
    try {
      return { value: await this.kind(record.type).prepare(record.request) };
    } catch (error) {
      await this.fail(record, error);
      return undefined;
    }
  }
}
