/** GET and POST /sdapi/v1/options (spec §3.8, §3.9). */
import { Options, OptionsUpdate } from '@sdapi/protocol';
import type { SdApiInstance } from '../../types.ts';

export function optionsRoutes(app: SdApiInstance): void {
  app.get('/sdapi/v1/options', { schema: { response: { 200: Options } } }, async () => {
    await app.sd.refreshOptions(); // a cluster's settings may have changed on another node
    return app.sd.optionsBody();
  });
  app.post('/sdapi/v1/options', { schema: { body: OptionsUpdate } }, async (req) => {
    await app.sd.updateOptions(req.body);
    return null;
  });
}
