/**
 * `generate --remote` on an sdapi server: the body is submitted as a `/sdapi/v2` job, the progress bar follows
 * that job's own events (SSE, resumed after a dropped connection) instead of polling the global /progress, the
 * PNGs are fetched by their URLs, and Ctrl-C cancels this job rather than whatever runs. A server without the
 * jobs API (A1111) answers 404, and the caller falls back to its polling path.
 */
import { type Img2ImgRequest, type Job, NotFoundError, type SDClient, type Txt2ImgRequest } from '@sdapi/client';
import { CliError, EXIT } from '../output.ts';
import type { ProgressBar } from '../progress-bar.ts';

export type JobRequest = { type: 'txt2img'; body: Txt2ImgRequest } | { type: 'img2img'; body: Img2ImgRequest };

export interface JobOutcome {
  /** The images as base64 (what the sync routes answer) and the `info` JSON text. */
  images: string[];
  info: string;
}

/** The finished job's images and info; 'interrupted' after Ctrl-C (the job is cancelled); null without a jobs API. */
export async function generateViaJob(client: SDClient, request: JobRequest, bar: ProgressBar, signal: AbortSignal): Promise<JobOutcome | 'interrupted' | null> {
  let job: Job;
  try {
    job = await client.jobs.create({ type: request.type, params: request.body as Record<string, unknown> }, { signal });
  } catch (error) {
    if (error instanceof NotFoundError) return null; // A1111 and older servers: no /sdapi/v2/jobs
    throw error;
  }
  try {
    for await (const e of client.jobs.events(job.id, { signal })) {
      if (e.event === 'progress') bar.update({ fraction: e.fraction ?? 0, step: e.step, steps: e.steps, etaSeconds: e.eta_seconds ?? undefined });
    }
  } catch (error) {
    if (!signal.aborted) throw error;
    bar.done();
    await client.jobs.cancel(job.id, { maxRetries: 0, timeout: 5000 }).catch(() => undefined);
    return 'interrupted';
  }
  bar.done();
  const done = await client.jobs.retrieve(job.id);
  if (done.status !== 'succeeded' || !done.result) {
    throw new CliError(`job ${job.id} ${done.status}: ${done.error?.message ?? 'no result'}`, done.status === 'cancelled' ? EXIT.INTERRUPTED : EXIT.SERVER);
  }
  const bytes = await Promise.all(done.result.images.map((image) => client.jobs.content(job.id, image.index)));
  return { images: bytes.map((b) => Buffer.from(b).toString('base64')), info: JSON.stringify(done.result.info ?? {}) };
}
