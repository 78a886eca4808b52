/**
 * `generate --remote` on an sdapi server: the txt2img body is submitted as a `/sdapi/v2` job, the progress bar
 * follows that job's own events (SSE, resumed after a dropped connection) instead of polling the global
 * /progress, the PNGs are fetched by their URLs, and Ctrl-C cancels this job rather than whatever runs. A server
 * without the jobs API (A1111) answers 404, and the caller falls back to the polling path.
 */
import { type Job, NotFoundError, type SDClient, type Txt2ImgRequest } from '@sdapi/client';
import { CliError, EXIT } from '../output.ts';
import type { ProgressBar } from '../progress-bar.ts';

export interface JobRun {
  bar: ProgressBar;
  signal: AbortSignal;
}

/** The finished job's images and its `info` object, or null when the server has no jobs API. */
export async function generateViaJob(client: SDClient, body: Txt2ImgRequest, run: JobRun): Promise<{ images: Uint8Array[]; info: Record<string, unknown> } | null> {
  let job: Job;
  try {
    job = await client.jobs.create({ type: 'txt2img', params: body as Record<string, unknown> }, { signal: run.signal });
  } catch (error) {
    if (error instanceof NotFoundError) return null; // A1111 and older servers: no /sdapi/v2/jobs
    throw error;
  }
  try {
    for await (const e of client.jobs.events(job.id, { signal: run.signal })) {
      if (e.event === 'progress') run.bar.update({ fraction: e.fraction ?? 0, step: e.step, steps: e.steps, etaSeconds: e.eta_seconds ?? undefined });
    }
  } catch (error) {
    if (run.signal.aborted) {
      await client.jobs.cancel(job.id, { maxRetries: 0, timeout: 5000 }).catch(() => undefined);
      throw new CliError(`interrupted: cancelled job ${job.id} on the server`, EXIT.INTERRUPTED);
    }
    throw error;
  }
  run.bar.done();
  const done = await client.jobs.retrieve(job.id);
  if (done.status !== 'succeeded' || !done.result) {
    throw new CliError(`job ${job.id} ${done.status}: ${done.error?.message ?? 'no result'}`, done.status === 'cancelled' ? EXIT.INTERRUPTED : EXIT.SERVER);
  }
  const images = await Promise.all(done.result.images.map((image) => client.jobs.content(job.id, image.index)));
  return { images, info: done.result.info ?? {} };
}
