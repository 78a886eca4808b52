/**
 * The job model behind every generation route, and the store interface it lives in. The embedded store
 * (embedded-store.ts: memory + an fsync'd journal under `<data-dir>/jobs/`) is the one implementation today; a
 * Redis/BullMQ store (issue 15) implements the same interface: ids are client-visible strings without `:` (BullMQ
 * forbids it in custom ids), priorities are plain integers (higher first; BullMQ's 1 = highest maps onto them),
 * and events carry one increasing id (a Redis stream id later).
 */
import type { JobError, JobEvent, JobEventType, JobProgress, JobStatus, JobType } from '@sdapi/protocol';

export type JobSource = 'v2' | 'sdapi' | 'openai';

/** One stored image of a finished job (the bytes live in the store, under `file`). */
export interface StoredImage {
  index: number;
  width: number;
  height: number;
  seed: number;
  subseed: number;
  infotext: string;
  mime: string;
  /** Strong ETag (quoted), from the bytes' SHA-256. */
  etag: string;
  size: number;
}

/**
 * One input image of a job (img2img's `init_images[i]` and `mask`, extras' `image` and `imageList[i]`), kept with
 * the job so that `result.parameters` plus these bytes replay it exactly. Stored as a lossless PNG of the decoded
 * pixels (what the engine saw, EXIF orientation applied; an http(s) image as it was fetched then), under the
 * store key `inputKey(field, index)`.
 */
export interface StoredInput {
  field: 'init_images' | 'mask' | 'image' | 'imageList';
  /** Position in `init_images` (0 for the mask). */
  index: number;
  width: number;
  height: number;
  mime: string;
  etag: string;
  size: number;
}

/** The store key of an input image: `init_images-0`, `mask-0` (safe as a file name and a Redis key part). */
export function inputKey(field: StoredInput['field'], index: number): string {
  return `${field}-${index}`;
}

export interface StoredResult {
  images: StoredImage[];
  parameters: Record<string, unknown>;
  info: Record<string, unknown> | null;
  interrupted: boolean;
}

/** What the store keeps per job (times in ms since the epoch). */
export interface JobRecord {
  id: string;
  /** Creation order: FIFO tie-break after a restart and the list cursor. */
  seq: number;
  type: JobType;
  source: JobSource;
  status: JobStatus;
  priority: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Times the job was started; a crash while running re-queues it once (attempts 1 → run again → 2). */
  attempts: number;
  /** Preview every N steps (0 = no previews). */
  preview: number;
  webhook: { url: string; events: JobEventType[] } | null;
  /** The A1111 request body as the client sent it (only the fields it carried), re-validated on replay. */
  request: Record<string, unknown>;
  progress: JobProgress;
  /** Input images kept with the job (img2img); absent for jobs without any and records from older versions. */
  inputs?: StoredInput[];
  result: StoredResult | null;
  error: JobError | null;
  /** The worker that ran (or runs) the job: `host:pid` id of a cluster worker (issue 15); absent when embedded. */
  worker?: string | null;
}

export interface JobFilter {
  statuses?: readonly JobStatus[];
  types?: readonly string[];
  /** Only jobs created before this `seq` (the cursor of the previous page). */
  beforeSeq?: number;
  limit: number;
}

export interface RetentionPolicy {
  /** Finished jobs kept (the newest by finish time). */
  maxCount: number;
  /** Finished jobs older than this are removed (ms). */
  maxAgeMs: number;
}

/**
 * Where jobs, their events and their images live. Writes marked durable have reached the disk when the promise
 * resolves; event appends are durable only when asked (progress events ride along with the next durable write).
 */
export interface JobStore {
  /** Whether jobs survive a restart (false for the in-memory store). */
  readonly durable: boolean;
  /** Jobs and events that survived the last run (call once, before anything else). */
  open(): Promise<{ jobs: JobRecord[]; lastEventId: number; lastSeq: number }>;
  get(id: string): JobRecord | undefined;
  /** Newest first. */
  list(filter: JobFilter): JobRecord[];
  /** Writes the whole record (create or state change). */
  put(record: JobRecord, durable: boolean): Promise<void>;
  appendEvent(event: JobEvent, durable: boolean): Promise<void>;
  /** Events of one job with `id > afterId`, in order. */
  events(jobId: string, afterId?: number): JobEvent[];
  /** Stores the image bytes durably (idempotent: a re-run overwrites the same slot). */
  writeImage(record: JobRecord, index: number, bytes: Uint8Array): Promise<void>;
  readImage(record: JobRecord, index: number): Promise<Uint8Array | undefined>;
  /**
   * Stores an input image durably under `key` (`inputKey(...)`), before the queued record that lists it is put;
   * removed with the job's images by `sweep`.
   */
  writeInput(record: JobRecord, key: string, bytes: Uint8Array): Promise<void>;
  readInput(record: JobRecord, key: string): Promise<Uint8Array | undefined>;
  /**
   * Cluster stores (issue 15) hand out sequence numbers and event ids that stay increasing across processes; the
   * job service counts on its own when these are absent (the embedded store: one process owns the folder).
   */
  nextSeq?(): number;
  nextEventId?(): number;
  /** Removes finished jobs beyond the policy; returns their ids. */
  sweep(policy: RetentionPolicy, now: number): Promise<string[]>;
  close(): Promise<void>;
}
