/**
 * Registers the jobs API (issue 12) on the authenticated scope: `/sdapi/v2/jobs` and its images, SSE events,
 * the websocket and its tickets, capabilities, A1111's task routes, and the OpenAI-compatible image routes.
 */
import type { Credentials } from '../../plugins/auth.ts';
import type { OriginPolicy } from '../../plugins/security.ts';
import type { CapabilityLimits } from '../../services/capabilities.ts';
import { TicketStore } from '../../services/jobs/tickets.ts';
import type { SdApiInstance } from '../../types.ts';
import { internalTaskRoutes } from '../internal/tasks.ts';
import { openaiRoutes } from '../openai/images.ts';
import { capabilitiesRoute } from './capabilities.ts';
import { eventRoutes } from './events.ts';
import { jobRoutes } from './jobs.ts';
import { websocketRoutes } from './ws.ts';

export interface JobsApiOptions {
  credentials?: Credentials;
  origins?: OriginPolicy;
  limits: CapabilityLimits;
  sseKeepAliveMs?: number;
  wsPingMs?: number;
}

export async function registerJobsApi(api: SdApiInstance, options: JobsApiOptions): Promise<void> {
  jobRoutes(api);
  eventRoutes(api, { keepAliveMs: options.sseKeepAliveMs });
  websocketRoutes(api, { credentials: options.credentials, origins: options.origins, tickets: new TicketStore(), pingMs: options.wsPingMs });
  capabilitiesRoute(api, options.limits);
  internalTaskRoutes(api);
  await openaiRoutes(api);
}
