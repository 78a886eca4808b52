/** POST /sdapi/v1/interrupt (→ `{}`) and /sdapi/v1/skip (→ `null`), spec §3.7: no body, no lock, always 200. */
import type { SdApiInstance } from '../../types.ts';

export function interruptRoutes(app: SdApiInstance): void {
  // On a cluster node whose own queue is idle, the caller's job is signalled on the worker that runs it (issue 15).
  const remote = () => app.sd.queue.runningId() === null && app.sd.jobs.cluster?.signalCaller !== undefined;
  app.post('/sdapi/v1/interrupt', async () => {
    if (remote()) await app.sd.jobs.cluster?.signalCaller?.('interrupt');
    else app.sd.queue.interrupt();
    return {};
  });
  app.post('/sdapi/v1/skip', async () => {
    if (remote()) await app.sd.jobs.cluster?.signalCaller?.('skip');
    else app.sd.queue.skip();
    return null;
  });
}
