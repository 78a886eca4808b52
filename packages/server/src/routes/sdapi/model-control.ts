/**
 * POST /sdapi/v1/refresh-checkpoints, /refresh-vae (spec §3.17: rescan under the queue lock, answer `null`) and
 * /unload-checkpoint, /reload-checkpoint (§3.21: free the model / load it again, answer `{}`).
 */
import type { SdApiInstance } from '../../types.ts';

export function modelControlRoutes(app: SdApiInstance): void {
  app.post('/sdapi/v1/refresh-checkpoints', async () => {
    await app.sd.refreshCheckpoints();
    return null;
  });
  app.post('/sdapi/v1/refresh-vae', async () => {
    await app.sd.refreshVae();
    return null;
  });
  app.post('/sdapi/v1/unload-checkpoint', async () => {
    await app.sd.unloadCheckpoint();
    return {};
  });
  app.post('/sdapi/v1/reload-checkpoint', async () => {
    await app.sd.reloadCheckpoint();
    return {};
  });
}
