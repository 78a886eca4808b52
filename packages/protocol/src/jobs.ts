/**
 * The `/sdapi/v2` jobs contract (our extension, not A1111's): every generation is a job in the one queue, with an
 * id, a status, progress, results by URL and live events in one vocabulary (SSE, WebSocket, webhooks).
 * Field names are snake_case like the rest of the wire.
 */
import Type, { type Static } from 'typebox';

const Str = Type.String();
const Int = Type.Integer();
const NullableStr = Type.Union([Str, Type.Null()]);

export const JOB_TYPES = ['txt2img', 'img2img', 'extra-single-image', 'extra-batch-images'] as const;
export type JobType = (typeof JOB_TYPES)[number];

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Terminal statuses: the job will not change any more. */
export const FINISHED_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

export const JOB_EVENT_TYPES = ['queued', 'started', 'progress', 'image', 'succeeded', 'failed', 'cancelled'] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

export const JobProgress = Type.Object(
  {
    step: Int,
    steps: Int,
    fraction: Type.Number({ description: '0 … 1 over the whole job (all batches)' }),
    eta_seconds: Type.Union([Type.Number(), Type.Null()]),
  },
  { title: 'JobProgress' },
);
export type JobProgress = Static<typeof JobProgress>;

export const JobImage = Type.Object(
  {
    index: Int,
    url: Type.String({ description: 'Path of the image bytes, relative to the server root' }),
    width: Int,
    height: Int,
    seed: Int,
    subseed: Int,
    infotext: Str,
    mime: Str,
  },
  { title: 'JobImage' },
);
export type JobImage = Static<typeof JobImage>;

export const JobInput = Type.Object(
  {
    field: Type.String({ description: '`init_images` or `mask` (img2img), `image` or `imageList` (extras)' }),
    index: Int,
    url: Type.String({ description: 'Path of the lossless PNG (RGBA) the engine saw, relative to the server root' }),
    width: Int,
    height: Int,
    mime: Str,
  },
  { title: 'JobInput' },
);
export type JobInput = Static<typeof JobInput>;

export const JobResult = Type.Object(
  {
    images: Type.Array(JobImage),
    parameters: Type.Record(Str, Type.Any(), { description: 'The full effective request: post it again to replay the job' }),
    info: Type.Union([Type.Record(Str, Type.Any()), Type.Null()], { description: 'The `info` object of the A1111 route' }),
    interrupted: Type.Boolean({ description: 'Stopped early by /sdapi/v1/interrupt: the images are the partial result' }),
    inputs: Type.Optional(
      Type.Array(JobInput, {
        description: 'Input images kept with the job (img2img init_images and mask, extras images): put them back into parameters to replay it, or POST …/replay',
      }),
    ),
  },
  { title: 'JobResult' },
);
export type JobResult = Static<typeof JobResult>;

export const JobError = Type.Object({ code: Str, message: Str }, { title: 'JobError' });
export type JobError = Static<typeof JobError>;

export const JobWebhook = Type.Object(
  {
    url: Type.String({ description: 'http(s) URL that receives each event as a signed JSON POST' }),
    events: Type.Optional(Type.Union([Type.Array(Str), Type.Null()], { description: 'Event types to send (default: all but progress)' })),
  },
  { title: 'JobWebhook' },
);
export type JobWebhook = Static<typeof JobWebhook>;

export const Job = Type.Object(
  {
    id: Str,
    type: Str,
    status: Str,
    queue_position: Type.Union([Int, Type.Null()], { description: '1 = the next job to start; null once it left the queue' }),
    priority: Int,
    created_at: Str,
    started_at: NullableStr,
    finished_at: NullableStr,
    progress: JobProgress,
    result: Type.Optional(Type.Union([JobResult, Type.Null()])),
    error: Type.Optional(Type.Union([JobError, Type.Null()])),
    source: Type.String({ description: 'Where the job came from: v2, sdapi (an A1111 route) or openai' }),
    attempts: Type.Integer({ description: 'Times the job was started (2 after a crash re-queued it)' }),
    preview: Type.Integer({ description: 'A progress preview every N steps (0 = none)' }),
    webhook: Type.Union([JobWebhook, Type.Null()]),
    worker: Type.Optional(Type.Union([Str, Type.Null()], { description: 'The cluster worker (host:pid) that ran the job (--redis); null when embedded' })),
  },
  { $id: 'Job', title: 'Job' },
);
export type Job = Static<typeof Job>;

export const JobCreateRequest = Type.Object(
  {
    type: Type.String({ description: `One of ${JOB_TYPES.join(', ')}` }),
    params: Type.Record(Str, Type.Any(), { description: "The A1111 route's request body, validated by the same schema" }),
    id: Type.Optional(Type.Union([Str, Type.Null()], { default: null, description: 'Client-chosen id (409 when already used)' })),
    priority: Type.Optional(Type.Integer({ default: 0, description: 'Higher runs first; FIFO within a priority' })),
    preview: Type.Optional(Type.Union([Type.Boolean(), Int], { default: false, description: 'true or N: preview images in progress events' })),
    webhook: Type.Optional(Type.Union([JobWebhook, Type.Null()], { default: null })),
  },
  { $id: 'JobCreateRequest', title: 'JobCreateRequest' },
);
export type JobCreateRequest = Static<typeof JobCreateRequest>;

export const JobListQuery = Type.Object(
  {
    status: Type.Optional(Type.String({ description: 'Comma-separated statuses' })),
    type: Type.Optional(Type.String({ description: 'Comma-separated job types' })),
    limit: Type.Optional(Type.Integer({ default: 50 })),
    cursor: Type.Optional(Type.String({ description: '`next_cursor` of the previous page' })),
  },
  { title: 'JobListQuery' },
);
export type JobListQuery = Static<typeof JobListQuery>;

export const JobList = Type.Object({ jobs: Type.Array(Job), next_cursor: NullableStr }, { $id: 'JobList', title: 'JobList' });
export type JobList = Static<typeof JobList>;

/**
 * One event, the same on SSE (`data:`), WebSocket and webhooks. `id` increases over the whole server; the other
 * fields depend on `event`: queued → position; started → attempt; progress → step, steps, fraction, eta_seconds,
 * preview; image → image; succeeded → images; failed → error; cancelled → reason.
 */
export interface JobEvent {
  id: number;
  job: string;
  event: JobEventType;
  /** ISO time the event happened. */
  time: string;
  position?: number | null;
  /** queued: the same as `position` (the name the Job object uses); sent again whenever the position changes. */
  queue_position?: number | null;
  reason?: string;
  attempt?: number;
  step?: number;
  steps?: number;
  fraction?: number;
  eta_seconds?: number | null;
  /** A preview image as a data URL, when the job asked for previews and the engine has one. */
  preview?: string | null;
  image?: JobImage;
  images?: number;
  error?: JobError;
}

export const WsTicket = Type.Object({ ticket: Str, expires_at: Str }, { title: 'WsTicket' });
export type WsTicket = Static<typeof WsTicket>;

export const Capabilities = Type.Object(
  {
    version: Str,
    a1111_version: NullableStr,
    models: Type.Object({ loaded: NullableStr, available: Type.Array(Str) }),
    samplers: Type.Array(Str),
    schedulers: Type.Array(Str),
    upscalers: Type.Array(Str),
    networks: Type.Array(Str),
    job_types: Type.Array(Str),
    features: Type.Record(Str, Type.Boolean()),
    limits: Type.Record(Str, Type.Union([Type.Number(), Type.Null()])),
  },
  { $id: 'Capabilities', title: 'Capabilities' },
);
export type Capabilities = Static<typeof Capabilities>;
