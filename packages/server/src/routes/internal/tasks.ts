/**
 * A1111's task routes (spec §3.27) answered from the jobs: GET /internal/pending-tasks lists the waiting job ids
 * in queue order, POST /internal/progress reports one task by id (`force_task_id` or the `X-Job-Id` of a route).
 * Deviation: behind `--api-auth`/`--api-keys` like every route here (A1111 exempts them; ids are not public).
 */

import { withDefault } from '@sdapi/protocol';
import Type from 'typebox';
import type { SdApiInstance } from '../../types.ts';

const ProgressBody = Type.Object({
  id_task: Type.Optional(Type.Union([Type.String(), Type.Null()], { default: null })),
  id_live_preview: withDefault(Type.Integer(), -1),
  live_preview: withDefault(Type.Boolean(), true),
});

export function internalTaskRoutes(app: SdApiInstance): void {
  app.get('/internal/pending-tasks', { schema: { tags: ['internal'], summary: 'Waiting job ids in queue order (A1111)' } }, async () => {
    const tasks = app.sd.jobs.pendingIds();
    return { size: tasks.length, tasks };
  });

  app.post('/internal/progress', { schema: { tags: ['internal'], summary: 'Progress of one task by id (A1111)', body: ProgressBody } }, async (req) => {
    const id = req.body.id_task ?? '';
    const jobs = app.sd.jobs;
    const record = jobs.get(id);
    const pending = jobs.pendingIds();
    const queued = pending.includes(id);
    const completed = record !== undefined && ['succeeded', 'failed', 'cancelled'].includes(record.status);
    if (record?.status !== 'running' || app.sd.queue.runningId() !== id) {
      const textinfo = queued ? `In queue: ${pending.indexOf(id) + 1}/${pending.length}` : 'Waiting...';
      return { active: false, queued, completed, progress: null, eta: null, live_preview: null, id_live_preview: -1, textinfo };
    }
    // A1111's formula here has no 0.01 floor (unlike /sdapi/v1/progress); ETA from the elapsed time.
    const { state } = app.sd.queue.progress();
    let progress = 0;
    if (state.job_count > 0) progress += state.job_no / state.job_count;
    if (state.sampling_steps > 0 && state.job_count > 0) progress += (1 / state.job_count) * (state.sampling_step / state.sampling_steps);
    progress = Math.min(progress, 1);
    const elapsed = (Date.now() - (record.startedAt ?? Date.now())) / 1000;
    const eta = progress > 0 ? elapsed / progress - elapsed : null;
    return { active: true, queued: false, completed: false, progress, eta, live_preview: null, id_live_preview: req.body.id_live_preview, textinfo: null };
  });
}
