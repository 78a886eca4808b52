/**
 * GET /sdapi/v1/loras and POST /sdapi/v1/refresh-loras (spec §3.26). A1111's builtin Lora extension mounts them
 * on the app itself, outside the `/sdapi` auth dependency, so app.ts registers them outside the auth scope.
 */
import { LoraList } from '@sdapi/protocol';
import type { SdApiInstance } from '../../types.ts';

export function lorasRoutes(app: SdApiInstance): void {
  app.get('/sdapi/v1/loras', { schema: { response: { 200: LoraList } } }, async () => app.sd.loras());
  app.post('/sdapi/v1/refresh-loras', async () => {
    app.sd.refreshLoras();
    return null;
  });
}
