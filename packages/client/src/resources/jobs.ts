/**
 * `client.jobs`: the sdapi `/sdapi/v2/jobs` API (not in A1111): submit any generation as an async job, follow
 * it, cancel it, and read its events as an async iterator over Server-Sent Events (resumed with Last-Event-ID
 * after a dropped connection, until the job's terminal event).
 */
import type { Job, JobCreateRequest, JobEvent, JobList } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIConnectionError, APIUserAbortError } from '../core/errors.ts';
import { APIResource } from '../core/resource.ts';
import { parseSse } from '../internal/sse.ts';

export interface JobListParams {
  /** Comma-separated or a list: queued, running, succeeded, failed, cancelled. */
  status?: string | string[];
  type?: string | string[];
  limit?: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
}

export interface JobEventsOptions {
  /** Resume after this event id (what the last run saw). */
  lastEventId?: number;
  signal?: AbortSignal;
  /** Reconnections in a row without a new event before giving up (default 5). */
  maxReconnects?: number;
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const path = (id: string) => `/sdapi/v2/jobs/${encodeURIComponent(id)}`;

export class JobsResource extends APIResource {
  /**
   * POST /sdapi/v2/jobs: `{type, params, id?, priority?, preview?, webhook?}` → the queued job (202). Params are
   * the A1111 route's body; invalid ones are the same 422 as the sync route.
   * @example const job = await sd.jobs.create({ type: 'txt2img', params: { prompt: 'a cat', steps: 20 } });
   */
  create(body: JobCreateRequest, options?: RequestOptions): APIPromise<Job> {
    return this._client.post('/sdapi/v2/jobs', { body, ...options });
  }

  /** GET /sdapi/v2/jobs/{id}. */
  retrieve(id: string, options?: RequestOptions): APIPromise<Job> {
    return this._client.get(path(id), options);
  }

  /** GET /sdapi/v2/jobs: newest first; pass `next_cursor` back as `cursor` for the next page. */
  list(params: JobListParams = {}, options?: RequestOptions): APIPromise<JobList> {
    const join = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);
    return this._client.get('/sdapi/v2/jobs', {
      query: { status: join(params.status), type: join(params.type), limit: params.limit, cursor: params.cursor },
      ...options,
    });
  }

  /** DELETE /sdapi/v2/jobs/{id}: a queued job is cancelled at once, a running one at its next step; 409 once finished. */
  cancel(id: string, options?: RequestOptions): APIPromise<Job> {
    return this._client.delete(path(id), options);
  }

  /** The bytes of image `index` of a finished job (`result.images[index].url`). */
  async content(id: string, index: number, options?: RequestOptions): Promise<Uint8Array> {
    const response = await this._client
      .get<unknown>(`${path(id)}/images/${index}`, { ...options, headers: { accept: 'image/*', ...options?.headers } })
      .asResponse();
    return new Uint8Array(await response.arrayBuffer());
  }

  /**
   * The job's events (`queued`, `started`, `progress`, `image`, then `succeeded` | `failed` | `cancelled`), live,
   * from GET /sdapi/v2/jobs/{id}/events. A finished job replays its history. Ends after the terminal event.
   * @example for await (const e of sd.jobs.events(job.id)) if (e.event === 'progress') console.log(e.fraction);
   */
  async *events(id: string, opts: JobEventsOptions = {}): AsyncGenerator<JobEvent, void, undefined> {
    let last = opts.lastEventId ?? 0;
    let idle = 0;
    for (;;) {
      let progressed = false;
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream', 'last-event-id': String(last) };
        const response = await this._client.get<unknown>(`${path(id)}/events`, { headers, signal: opts.signal, maxRetries: 0 }).asResponse();
        if (!response.body) throw new APIConnectionError('the event stream has no body');
        for await (const message of parseSse(response.body)) {
          const event = JSON.parse(message.data) as JobEvent;
          if (event.id <= last) continue;
          last = event.id;
          progressed = true;
          yield event;
          if (TERMINAL.has(event.event)) return;
        }
      } catch (error) {
        if (opts.signal?.aborted) throw new APIUserAbortError();
        if (!(error instanceof APIConnectionError) && !isStreamError(error)) throw error;
      }
      // The stream ended before the terminal event (a proxy cut it, the server restarted): resume after `last`.
      idle = progressed ? 0 : idle + 1;
      if (idle > (opts.maxReconnects ?? 5)) throw new APIConnectionError(`the event stream of job ${id} keeps closing without new events`);
      await new Promise((r) => setTimeout(r, Math.min(8000, 250 * 2 ** idle)));
    }
  }

  /** Follows the job's events to the end and returns the finished job. */
  async wait(id: string, opts: Omit<JobEventsOptions, 'lastEventId'> = {}): Promise<Job> {
    for await (const _event of this.events(id, opts)) {
      // drain: only the end matters here
    }
    return this.retrieve(id, { signal: opts.signal });
  }
}

/** A body read that failed mid-stream (connection reset, timeout): worth a resume. */
function isStreamError(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === 'TypeError' || name === 'AbortError' || name === 'TimeoutError';
}
