/**
 * The single queue that serialises GPU work (A1111's `queue_lock`, spec §1.7) and owns the progress state
 * that GET /progress reports and /interrupt and /skip act on (A1111's `shared.state`, §3.5, §3.7).
 * A1111's lock is FIFO; jobs here may also carry a priority (higher first, FIFO within a priority: the order
 * BullMQ gives) and an id, so that a waiting job can be cancelled and the waiting order listed.
 */
import type { GenerationHooks, GenerationProgress } from '@sdapi/engine';
import type { ProgressResponse, ProgressState } from '@sdapi/protocol';
import { ApiError } from './errors.ts';

export interface QueueJob<T> {
  /** Progress `job` text while the job runs (`scripts_txt2img`). */
  name: string;
  /** Batches (n_iter); `job` becomes `Batch k out of n` when more than one. */
  jobCount: number;
  run(hooks: GenerationHooks): Promise<T>;
  /** Job id: lets `cancel(id)` remove it while it waits and `waitingIds()` list it. */
  id?: string;
  /** Higher runs first (default 0). */
  priority?: number;
}

export interface GenerationQueueOptions {
  /** Jobs allowed to wait behind the running one; more are refused with QUEUE_FULL (default: unbounded, as A1111). */
  maxPending?: number;
  /** Seconds suggested in `Retry-After` when the queue is full. */
  retryAfterSeconds?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** Something waiting for the lock: kept in start order (priority desc, then arrival). */
interface Waiting {
  id?: string;
  priority: number;
  start(): void;
  reject(error: Error): void;
}

export class GenerationQueue {
  private readonly waiting: Waiting[] = [];
  private busy = false;
  private paused = false;
  private runningJobId: string | null = null;
  private timeStart = 0;
  private interruptCtl = new AbortController();
  private skipCtl = new AbortController();
  private readonly state: ProgressState = {
    skipped: false,
    interrupted: false,
    stopping_generation: false,
    job: '',
    job_count: 0,
    job_timestamp: '0',
    job_no: 0,
    sampling_step: 0,
    sampling_steps: 0,
  };
  private readonly now: () => number;

  constructor(private readonly options: GenerationQueueOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** Runs `job` after every job ahead of it (priority, then FIFO); progress state is reset when it starts, as A1111 does. */
  submit<T>(job: QueueJob<T>): Promise<T> {
    return this.enqueue(() => this.runJob(job), job.id, job.priority ?? 0);
  }

  /** Runs other GPU work (a checkpoint load) under the same lock, without touching progress state. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.enqueue(work, undefined, 0);
  }

  /** Removes a waiting job; its `submit` promise rejects with CANCELLED. False when it is not waiting. */
  cancel(id: string, reason = `job ${id} was cancelled while it waited`): boolean {
    const index = this.waiting.findIndex((w) => w.id === id);
    if (index < 0) return false;
    const [entry] = this.waiting.splice(index, 1);
    entry.reject(new ApiError('CANCELLED', reason));
    return true;
  }

  /** Ids of the waiting jobs, next to start first (checkpoint loads have no id and are left out). */
  waitingIds(): string[] {
    return this.waiting.flatMap((w) => (w.id === undefined ? [] : [w.id]));
  }

  /** Id of the running job, or null (idle, a job without id, or a checkpoint load). */
  runningId(): string | null {
    return this.runningJobId;
  }

  /**
   * Stops starting waiting work (shutdown): each waiting entry is rejected with `error`, and later submissions
   * with SHUTTING_DOWN. The running job is left to its caller.
   */
  close(error: Error = new ApiError('SHUTTING_DOWN', 'the server is shutting down')): void {
    this.paused = true;
    for (const entry of this.waiting.splice(0)) entry.reject(error);
  }

  /** Throws QUEUE_FULL (with `Retry-After`) or SHUTTING_DOWN when a new job would be refused now. */
  assertRoom(): void {
    if (this.paused) throw new ApiError('SHUTTING_DOWN', 'the server is shutting down; retry against the restarted server');
    const limit = this.options.maxPending ?? Number.POSITIVE_INFINITY;
    const pending = this.waiting.length + (this.busy ? 1 : 0);
    if (pending >= limit + 1) {
      const retryAfter = String(this.options.retryAfterSeconds ?? 5);
      const message = `the generation queue is full (${pending} jobs running or waiting, at most ${limit} may wait); retry later`;
      throw new ApiError('QUEUE_FULL', message, { headers: { 'Retry-After': retryAfter } });
    }
  }

  private enqueue<T>(work: () => Promise<T>, id: string | undefined, priority: number): Promise<T> {
    try {
      this.assertRoom();
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<T>((resolve, reject) => {
      const entry: Waiting = {
        id,
        priority,
        reject,
        start: () => {
          this.runningJobId = id ?? null;
          work()
            .then(resolve, reject)
            .finally(() => this.release());
        },
      };
      // Insert after every entry of the same or higher priority: FIFO within a priority.
      const at = this.waiting.findIndex((w) => w.priority < priority);
      this.waiting.splice(at < 0 ? this.waiting.length : at, 0, entry);
      // Started on a microtask, as A1111's lock hands over: jobs submitted in the same tick are ordered by
      // priority first, and the submitter sees its job waiting before it runs.
      queueMicrotask(() => this.pump());
    });
  }

  private pump(): void {
    if (this.busy || this.paused) return;
    const next = this.waiting.shift();
    if (!next) return;
    this.busy = true;
    next.start();
  }

  private release(): void {
    this.busy = false;
    this.runningJobId = null;
    this.pump();
  }

  /** Sets the interrupted flag and stops the running job; the partial result is still returned (§3.7). */
  interrupt(): void {
    this.state.interrupted = true;
    this.interruptCtl.abort();
  }

  /** Sets the skipped flag and ends the running batch early; the next batch continues. */
  skip(): void {
    this.state.skipped = true;
    this.skipCtl.abort();
  }

  /** GET /progress without the live preview (`current_image` is filled by the caller when it has one). */
  progress(): ProgressResponse {
    const state = { ...this.state };
    if (state.job_count === 0) return { progress: 0, eta_relative: 0, state, current_image: null, textinfo: null };
    // A1111's formula, 0.01 floor included (spec §3.5).
    let progress = 0.01;
    if (state.job_count > 0) progress += state.job_no / state.job_count;
    if (state.sampling_steps > 0) progress += (1 / state.job_count) * (state.sampling_step / state.sampling_steps);
    const elapsed = (this.now() - this.timeStart) / 1000;
    const eta = elapsed / progress;
    return { progress: Math.min(progress, 1), eta_relative: eta - elapsed, state, current_image: null, textinfo: null };
  }

  private async runJob<T>(job: QueueJob<T>): Promise<T> {
    this.begin(job);
    const hooks: GenerationHooks = {
      signal: this.interruptCtl.signal,
      skipSignal: () => this.batchSkipSignal(),
      onProgress: (p) => this.onProgress(job, p),
    };
    try {
      return await job.run(hooks);
    } finally {
      this.state.job_count = 0;
      this.state.job = '';
    }
  }

  private begin(job: QueueJob<unknown>): void {
    this.interruptCtl = new AbortController();
    this.skipCtl = new AbortController();
    Object.assign(this.state, {
      skipped: false,
      interrupted: false,
      stopping_generation: false,
      job: job.name,
      job_count: job.jobCount,
      job_timestamp: jobTimestamp(new Date(this.now())),
      job_no: 0,
      sampling_step: 0,
      sampling_steps: 0,
    });
    this.timeStart = this.now();
  }

  /**
   * The engine asks for the skip signal once per batch; a skip applies to the batch that was running, so a new
   * batch after a skip gets a fresh signal and the flag is cleared (A1111 clears it at the next batch).
   */
  private batchSkipSignal(): AbortSignal {
    if (this.skipCtl.signal.aborted) {
      this.skipCtl = new AbortController();
      this.state.skipped = false;
    }
    return this.skipCtl.signal;
  }

  private onProgress(job: QueueJob<unknown>, p: GenerationProgress): void {
    Object.assign(this.state, {
      job_no: p.jobNo,
      job_count: p.jobCount,
      sampling_step: p.samplingStep,
      sampling_steps: p.samplingSteps,
      job: p.jobCount > 1 ? `Batch ${Math.min(p.jobNo + 1, p.jobCount)} out of ${p.jobCount}` : job.name,
    });
  }
}

/** `YYYYmmddHHMMSS` in local time, like A1111's `datetime.now().strftime("%Y%m%d%H%M%S")`. */
export function jobTimestamp(d: Date): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p2(d.getMonth() + 1)}${p2(d.getDate())}${p2(d.getHours())}${p2(d.getMinutes())}${p2(d.getSeconds())}`;
}
