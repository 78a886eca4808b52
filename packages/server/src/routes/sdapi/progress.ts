/** GET /sdapi/v1/progress (spec §3.5); answers at once, also while a job runs, with its live preview. */
import { ProgressRequest, ProgressResponse } from '@sdapi/protocol';
import type { SdApiInstance } from '../../types.ts';

export function progressRoute(app: SdApiInstance): void {
  app.get('/sdapi/v1/progress', { schema: { querystring: ProgressRequest, response: { 200: ProgressResponse } } }, async (req) => {
    // A cluster node whose own queue is idle reports the caller's job on whichever worker runs it (issue 15).
    const remote = app.sd.queue.runningId() === null ? app.sd.jobs.cluster?.callerProgress?.() : null;
    return remote ?? app.sd.progress(req.query.skip_current_image);
  });
}
