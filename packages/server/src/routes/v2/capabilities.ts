/** GET /sdapi/v2/capabilities: version, models, samplers, schedulers, job types, features and limits in one call. */
import { Capabilities } from '@sdapi/protocol';
import { type CapabilityLimits, capabilities } from '../../services/capabilities.ts';
import type { SdApiInstance } from '../../types.ts';
import { LATENT_UPSCALE_MODES, UPSCALERS } from '../../services/upscalers.ts';

export function capabilitiesRoute(app: SdApiInstance, limits: CapabilityLimits): void {
  app.get(
    '/sdapi/v2/capabilities',
    { schema: { tags: ['jobs'], summary: 'Version, models, samplers, job types, features and limits', response: { 200: Capabilities } } },
    async () => capabilities(app.sd, limits, { upscalers: [...LATENT_UPSCALE_MODES, ...UPSCALERS.map((u) => u.name)] }),
  );
}
