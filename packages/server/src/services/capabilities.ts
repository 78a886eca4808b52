/**
 * GET /sdapi/v2/capabilities in one call: what this server is, which models, samplers and job types it has, which
 * features are on, and the limits it enforces (null = not limited). Clients use it instead of probing routes.
 */
import type { Capabilities } from '@sdapi/protocol';
import { checkpointTitle } from './checkpoints.ts';
import { capabilityLimitFields, type RequestLimits } from './limits.ts';
import type { SdService } from './sd-service.ts';

export interface CapabilityLists {
  /** Upscaler names a request may use (`hr_upscaler`): latent modes and the built-in ones. */
  upscalers: string[];
}

export interface CapabilityLimits {
  maxQueued: number | null;
  retentionCount: number;
  retentionAgeSeconds: number;
  webhooks: boolean;
  /** The `--max-*` limits enforced before any work (services/limits.ts). */
  request: RequestLimits;
}

/** The package version reported as `version`. */
export const SERVER_VERSION = '0.1.0';

export async function capabilities(sd: SdService, limits: CapabilityLimits, lists: CapabilityLists): Promise<Capabilities> {
  const files = await sd.generator.listCheckpoints();
  const loaded = sd.generator.currentCheckpoint();
  return {
    version: SERVER_VERSION,
    a1111_version: sd.version,
    models: { loaded: loaded ? checkpointTitle(loaded) : null, available: files.map(checkpointTitle) },
    samplers: sd.catalog.samplers.map((s) => s.name),
    schedulers: sd.catalog.schedulers.map((s) => s.label),
    upscalers: lists.upscalers,
    // Extra networks by name: the LoRA/LyCORIS files found (`<lora:name:weight>` in a prompt).
    networks: sd.loras().map((l) => l.name),
    job_types: sd.jobs.types(),
    features: {
      jobs: true,
      sse: true,
      websocket: true,
      webhooks: limits.webhooks,
      openai_images: true,
      // `preview: N` on a job: the cheap latent→RGB map every N steps in its progress events.
      previews: true,
      durable_jobs: sd.jobs.store.durable,
      priorities: true,
    },
    limits: {
      // Enforced before any work (services/limits.ts); max_batch_size is batch_size × n_iter. null = unlimited.
      ...capabilityLimitFields(limits.request),
      body_limit_bytes: limits.request.maxBodyBytes,
      max_queued: limits.maxQueued,
      jobs_retention_count: limits.retentionCount,
      jobs_retention_age_seconds: limits.retentionAgeSeconds,
    },
  };
}
