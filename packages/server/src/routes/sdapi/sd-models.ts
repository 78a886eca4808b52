/** GET /sdapi/v1/sd-models (spec §3.13). */
import { SDModelList } from '@sdapi/protocol';
import type { SdApiInstance } from '../../types.ts';

export function sdModelsRoute(app: SdApiInstance): void {
  app.get('/sdapi/v1/sd-models', { schema: { response: { 200: SDModelList } } }, async () => app.sd.listModels());
}
