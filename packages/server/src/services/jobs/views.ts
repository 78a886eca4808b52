/**
 * Pure mappings between the `/sdapi/v2/jobs` wire and the job service: a create request → a submit spec, a
 * stored record → the Job object, list queries and their opaque cursors.
 */
import {
  JOB_EVENT_TYPES,
  JOB_STATUSES,
  JOB_TYPES,
  type Job,
  type JobCreateRequest,
  type JobEventType,
  type JobListQuery,
  type JobStatus,
  type JobType,
} from '@sdapi/protocol';
import { ApiError, RequestValidationError } from '../errors.ts';
import { imageView } from './ids.ts';
import { inputView } from './inputs.ts';
import type { SubmitSpec } from './job-service.ts';
import type { JobFilter, JobRecord } from './types.ts';

/** Webhook events sent when `webhook.events` is not given: all but the chatty `progress`. */
export const DEFAULT_WEBHOOK_EVENTS: JobEventType[] = JOB_EVENT_TYPES.filter((e) => e !== 'progress');
const MAX_PRIORITY = 1_000_000;
const MAX_PAGE = 500;

const invalid = (field: string, value: unknown, choices: readonly string[]) =>
  new RequestValidationError([
    {
      loc: ['body', field],
      msg: `unexpected value ${JSON.stringify(value)}; permitted: ${choices.map((c) => `'${c}'`).join(', ')}`,
      type: 'value_error.const',
      ctx: { given: value, permitted: [...choices] },
    },
  ]);

/**
 * A validated `POST /sdapi/v2/jobs` body → what the job service takes (params are validated there, by the
 * route's own schema). `previewEvery` is the step interval that `preview: true` stands for.
 */
export function toSubmitSpec(body: JobCreateRequest, previewEvery: number): SubmitSpec {
  if (!(JOB_TYPES as readonly string[]).includes(body.type)) throw invalid('type', body.type, JOB_TYPES);
  const priority = body.priority ?? 0;
  if (Math.abs(priority) > MAX_PRIORITY) throw new ApiError('INVALID_PARAMS', `priority must be between -${MAX_PRIORITY} and ${MAX_PRIORITY}, got ${priority}`);
  const preview = body.preview === true ? previewEvery : body.preview === false || body.preview === undefined ? 0 : body.preview;
  if (preview < 0) throw new ApiError('INVALID_PARAMS', `preview must be true, false or a step interval ≥ 1, got ${preview}`);
  let webhook: SubmitSpec['webhook'] = null;
  if (body.webhook) {
    const events = body.webhook.events ?? DEFAULT_WEBHOOK_EVENTS;
    for (const e of events) if (!(JOB_EVENT_TYPES as readonly string[]).includes(e)) throw invalid('webhook.events', e, JOB_EVENT_TYPES);
    webhook = { url: body.webhook.url, events: events as JobEventType[] };
  }
  return { type: body.type as JobType, request: body.params, id: body.id, priority, preview, webhook, source: 'v2' };
}

/** The wire Job of a stored record. */
export function jobView(record: JobRecord, queuePosition: number | null): Job {
  const result = record.result && {
    images: record.result.images.map((image) => imageView(record.id, image)),
    parameters: record.result.parameters,
    info: record.result.info,
    interrupted: record.result.interrupted,
    ...(record.inputs ? { inputs: record.inputs.map((input) => inputView(record.id, input)) } : {}),
  };
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: record.id,
    type: record.type,
    status: record.status,
    queue_position: record.status === 'queued' ? queuePosition : null,
    priority: record.priority,
    created_at: new Date(record.createdAt).toISOString(),
    started_at: iso(record.startedAt),
    finished_at: iso(record.finishedAt),
    progress: record.progress,
    result: result ?? null,
    error: record.error,
    source: record.source,
    attempts: record.attempts,
    preview: record.preview,
    webhook: record.webhook,
    worker: record.worker ?? null,
  };
}

/** `?status=a,b&type=t&limit=n&cursor=c` → a store filter; unknown names are a 422 listing the choices. */
export function toJobFilter(query: JobListQuery): JobFilter {
  const split = (v: string | undefined) =>
    v
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined;
  const statuses = split(query.status);
  const types = split(query.type);
  const bad = (field: string, value: string, choices: readonly string[]) =>
    new RequestValidationError([
      { loc: ['query', field], msg: `unexpected value ${JSON.stringify(value)}; permitted: ${choices.join(', ')}`, type: 'value_error.const' },
    ]);
  for (const s of statuses ?? []) if (!(JOB_STATUSES as readonly string[]).includes(s)) throw bad('status', s, JOB_STATUSES);
  for (const t of types ?? []) if (!(JOB_TYPES as readonly string[]).includes(t)) throw bad('type', t, JOB_TYPES);
  const limit = query.limit ?? 50;
  if (limit < 1 || limit > MAX_PAGE) {
    throw new RequestValidationError([{ loc: ['query', 'limit'], msg: `limit must be between 1 and ${MAX_PAGE}, got ${limit}`, type: 'value_error.number' }]);
  }
  return { statuses: statuses as JobStatus[] | undefined, types, limit, beforeSeq: query.cursor ? decodeCursor(query.cursor) : undefined };
}

/** Cursors are opaque to clients: base64url of the last job's sequence number. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`seq:${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^seq:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match)
    throw new RequestValidationError([{ loc: ['query', 'cursor'], msg: 'invalid cursor: pass the next_cursor of the previous page', type: 'value_error' }]);
  return Number(match[1]);
}
