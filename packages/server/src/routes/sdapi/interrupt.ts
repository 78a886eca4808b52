/** POST /sdapi/v1/interrupt (→ `{}`) and /sdapi/v1/skip (→ `null`), spec §3.7: no body, no lock, always 200. */
import type { SdApiInstance } from '../../types.ts';

export function interruptRoutes(app: SdApiInstance): void {
  app.post('/sdapi/v1/interrupt', async () => {
    app.sd.queue.interrupt();
    return {};
  });
  app.post('/sdapi/v1/skip', async () => {
    app.sd.queue.skip();
    return null;
  });
}
