/**
 * `client.generate()`: a generation that reports progress while it runs. A1111's routes block until the images
 * are done and give no job id, so progress comes from polling GET /progress next to the POST (what the web UI
 * and webuiapi users do). The readings are the server's global state: if another client's job runs first, its
 * progress is what this reports until ours starts.
 * Partial: servers that advertise the /sdapi/v2 job events (sdapi's jobs API) could stream exact per-job events
 * instead; that path is not used yet.
 */
import type { ProgressResponse } from '@sdapi/protocol';
import type { SDClient } from '../client.ts';
import { delay } from './models.ts';

export interface GenerateOptions {
  /** Milliseconds between progress polls (default 1000). */
  interval?: number;
  /** Ask for the live preview (`current_image`) in progress events (default false). */
  previews?: boolean;
  /** Aborts the HTTP request (the server-side job goes on: call `interrupt()` to stop it). */
  signal?: AbortSignal;
}

export type GenerateEvent<R> = ({ type: 'progress' } & ProgressResponse) | { type: 'result'; result: R };

/**
 * Starts the POST with `start`, polls /progress until it settles and yields each new reading, then the result.
 * Leaving the loop early (break/return) aborts the POST's HTTP wait.
 */
export async function* generateWithProgress<R>(
  client: SDClient,
  start: (signal: AbortSignal) => PromiseLike<R>,
  opts: GenerateOptions = {},
): AsyncGenerator<GenerateEvent<R>, void, undefined> {
  const { interval = 1000, previews = false } = opts;
  const controller = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, controller.signal]) : controller.signal;
  let settled = false;
  const job = Promise.resolve(start(signal));
  const finished = job.then(
    () => void (settled = true),
    () => void (settled = true),
  );
  try {
    let lastKey = '';
    while (!settled) {
      await Promise.race([finished, delay(interval, signal).catch(() => undefined)]);
      if (settled || signal.aborted) break;
      const p = await client.progress.retrieve({ skip_current_image: !previews }, { signal, maxRetries: 0 }).catch(() => undefined);
      if (!p || p.state.job_count === 0 || settled) continue; // idle: ours has not started (or just ended)
      const key = `${p.state.job_no}/${p.state.sampling_step}/${p.progress}/${p.current_image?.length ?? 0}`;
      if (key === lastKey) continue;
      lastKey = key;
      yield { type: 'progress', ...p };
    }
    yield { type: 'result', result: await job };
  } finally {
    if (!settled) controller.abort();
  }
}
