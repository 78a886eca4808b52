/** GET /sdapi/v1/samplers and /sdapi/v1/schedulers (spec §3.11): the catalog's tables, verbatim. */
import { SamplerList, SchedulerList } from '@sdapi/protocol';
import type { SdApiInstance } from '../../types.ts';

export function samplerRoutes(app: SdApiInstance): void {
  app.get('/sdapi/v1/samplers', { schema: { response: { 200: SamplerList } } }, async () => [...app.sd.catalog.samplers]);
  app.get('/sdapi/v1/schedulers', { schema: { response: { 200: SchedulerList } } }, async () => [...app.sd.catalog.schedulers]);
}
