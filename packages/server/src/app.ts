/**
 * `buildApp(deps)`: the Fastify app for the A1111 `/sdapi/v1` API, without listening (fastify's testing pattern).
 * The engine comes in as a `Generator`; everything else (queue, options store, catalog) is built here unless given.
 */

import { join, resolve } from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyServerOptions } from 'fastify';
import { type Credentials, parseApiAuth, parseApiKeys } from './plugins/auth.ts';
import { registerControlNet } from './plugins/controlnet.ts';
import { registerEngine } from './plugins/engine.ts';
import { registerErrorHandling } from './plugins/errors.ts';
import { registerOpenApi } from './plugins/openapi.ts';
import { clientErrorHandler, frameworkErrorHandler, healthRoute, hostCheckFor, registerSecurity } from './plugins/security.ts';
import { registerLimits } from './plugins/limits.ts';
import { type RequestLimits, resolveLimits } from './services/limits.ts';
import { registerWebPage } from './plugins/web.ts';
import { registerWire } from './plugins/wire.ts';
import { controlNetRoutes } from './routes/controlnet.ts';
import { cmdFlagsRoute } from './routes/sdapi/cmd-flags.ts';
import { registerJobsApi } from './routes/v2/index.ts';
import { embeddingsRoutes } from './routes/sdapi/embeddings.ts';
import { interruptRoutes } from './routes/sdapi/interrupt.ts';
import { optionsRoutes } from './routes/sdapi/options.ts';
import { progressRoute } from './routes/sdapi/progress.ts';
import { promptStylesRoute } from './routes/sdapi/prompt-styles.ts';
import { samplerRoutes } from './routes/sdapi/samplers.ts';
import { sdModelsRoute } from './routes/sdapi/sd-models.ts';
import { txt2imgRoute } from './routes/sdapi/txt2img.ts';
import { img2imgRoute } from './routes/sdapi/img2img.ts';
import { listRoutes } from './routes/sdapi/lists.ts';
import { lorasRoutes } from './routes/sdapi/loras.ts';
import { pngInfoRoute } from './routes/sdapi/png-info.ts';
import { extrasRoutes } from './routes/sdapi/extras.ts';
import { registerApiLog } from './plugins/api-log.ts';
import { transportOptions } from './plugins/transport.ts';
import { modelControlRoutes } from './routes/sdapi/model-control.ts';
import { type ServerControl, serverControlRoutes } from './routes/sdapi/server-control.ts';
import { type Catalog, engineCatalog } from './services/catalog.ts';
import { systemRoutes } from './routes/sdapi/system.ts';
import { unavailableRoutes } from './routes/sdapi/unavailable.ts';
import { cmdFlagsBody } from './services/cmd-flags.ts';
import { GenerationQueue } from './services/generation-queue.ts';
import { ControlNetService } from './services/controlnet.ts';
import { EmbeddedJobStore } from './services/jobs/embedded-store.ts';
import type { RedisCluster } from './services/jobs/redis/cluster.ts';
import { workersRoute } from './routes/v2/workers.ts';
import { DEFAULT_RETENTION } from './services/jobs/job-service.ts';
import type { RetentionPolicy } from './services/jobs/types.ts';
import { type WebhookOptions, WebhookSender } from './services/jobs/webhooks.ts';
import type { Generator } from './services/generator.ts';
import { OptionsStore } from './services/options-store.ts';
import { SdService } from './services/sd-service.ts';
import { PromptStyles } from './services/styles.ts';
import type { SdApiInstance } from './types.ts';

export interface AppDeps {
  generator: Generator;
  /** Sampler/scheduler tables (default: the engine's registry, A1111 v1.10.1's tables, spec §3.11). */
  catalog?: Catalog;
  /** Where `config.json` lives; without it settings are kept in memory only. */
  dataDir?: string;
  /** An already-open store (overrides dataDir). */
  options?: OptionsStore;
  /** `--api-auth` value: `"user:pass,user2:pass2"`. */
  apiAuth?: string;
  /**
   * `Version:` in infotexts and `info.version`. Default `v1.10.1`: infotext readers (A1111's paste, X/Y/Z) apply
   * back-compat rules to older versions, and our output follows v1.10.1's semantics.
   */
  version?: string | null;
  /** Waiting generation jobs before QUEUE_FULL (503); default unbounded like A1111. */
  maxQueued?: number;
  /** Fastify logger option (default off). */
  logger?: FastifyServerOptions['logger'];
  /** Largest request body in bytes (default 256 MiB; img2img bodies carry base64 images). */
  bodyLimit?: number;
  /** `--controlnet-dir`: ControlNet models besides `<data-dir>/models/ControlNet`. */
  controlnetDir?: string | null;
  /** Flag values to report at GET /cmd-flags (A1111 destinations: `port`, `listen`, `ckpt_dir`, …; ours under `sdapi`). */
  cmdFlags?: Record<string, unknown>;
  /** `--styles-file` paths (`*`/`?` allowed in the file name); default `<data-dir>/styles.csv`, none without a data dir. */
  stylesFiles?: string[];
  /** Finished jobs kept under `<data-dir>/jobs/` (default 1000 jobs, 7 days). */
  jobsRetention?: RetentionPolicy;
  /** `--api-keys "k1,k2"`: `Authorization: Bearer <key>` accepted besides `--api-auth`'s Basic pairs. */
  apiKeys?: string;
  /** `--webhook-secret`, `--webhook-allow-local`, and retry timing (tests shorten it). */
  webhooks?: WebhookOptions;
  /** Milliseconds between SSE keep-alive comments (default 15 s) and websocket pings (default 30 s). */
  sseKeepAliveMs?: number;
  wsPingMs?: number;
  /** Serve the browser page (packages/web/dist, or `{dist}`) at `/`; default off (`sdapi serve` turns it on unless --nowebui). */
  webui?: boolean | { dist?: string };
  /** `--api-log`: one A1111-format line per /sdapi request (true: to stdout; a function: to it). */
  apiLog?: boolean | ((line: string) => void);
  /** `--api-server-stop`: serve /sdapi/v1/server-kill|restart|stop with these hooks (absent: the routes are 404). */
  serverControl?: ServerControl;
  /** `--tls-keyfile` / `--tls-certfile`: serve HTTPS (both needed; unreadable files stop the start). */
  tls?: { keyFile?: string | null; certFile?: string | null } | null;
  /** `--subpath`: answer under `/<subpath>/…` only (A1111's root_path). */
  subpath?: string | null;
  /** `--cors-allow-origins` (comma-separated, `*` = any) and `--cors-allow-origins-regex`: foreign origins allowed to call (plugins/security.ts). */
  corsAllowOrigins?: string;
  corsAllowOriginsRegex?: string;
  /** `--allowed-hosts a,b`: `Host` names answered besides the loopback ones (the DNS-rebinding guard, plugins/security.ts). */
  allowedHosts?: string;
  /** The address the server will listen on (startServer sets it): a non-loopback one turns the Host check off unless `allowedHosts` is given. Absent: loopback. */
  listenHost?: string;
  /** `--max-*` flags: request limits checked before any work (services/limits.ts; defaults DEFAULT_LIMITS). The body size is `bodyLimit`. */
  limits?: Partial<RequestLimits>;
  /** `--redis` (issue 15): jobs, events and images in Redis, run by the cluster's workers; connect() it first. */
  cluster?: RedisCluster;
}

/**
 * Builds the app; `await app.ready()` or `listen()` it.
 * @example const app = await buildApp({ generator, dataDir: '/var/lib/sdapi', apiAuth: 'me:secret' });
 */
export async function buildApp(deps: AppDeps): Promise<SdApiInstance> {
  // The cast: with `https` fastify types a different server; routes and hooks are the same either way.
  const transport = transportOptions({ tls: deps.tls, subpath: deps.subpath }) as FastifyServerOptions;
  const limits = resolveLimits(deps.limits, deps.bodyLimit);
  const credentials = appCredentials(deps);
  const cors = {
    corsAllowOrigins: deps.corsAllowOrigins,
    corsAllowOriginsRegex: deps.corsAllowOriginsRegex,
    allowedHosts: hostCheckFor(deps.listenHost, deps.allowedHosts),
  };
  const frameworkErrors = frameworkErrorHandler({ credentials, ...cors });
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: limits.maxBodyBytes,
    frameworkErrors,
    clientErrorHandler,
    ...transport,
  }).withTypeProvider<TypeBoxTypeProvider>();
  // First, before any route: origin check, auth on every route (one allow-list), nosniff, /health.
  const origins = registerSecurity(app, { credentials, ...cors });
  const options = deps.options ?? (await OptionsStore.open(deps.dataDir));
  const service = new SdService({
    generator: deps.generator,
    queue: new GenerationQueue({ maxPending: deps.maxQueued }),
    options,
    sharedOptions: await deps.cluster?.shareOptions(options),
    catalog: deps.catalog ?? engineCatalog(),
    version: deps.version === undefined ? 'v1.10.1' : deps.version,
    cmdFlags: reportedFlags(deps),
    styles: new PromptStyles(stylesFiles(deps)),
    limits, // --max-image-pixels reaches every decoded request image (services/image-input.ts)
    jobs: {
      store: deps.cluster?.store ?? new EmbeddedJobStore(deps.dataDir ? join(deps.dataDir, 'jobs') : undefined),
      cluster: deps.cluster,
      retention: deps.jobsRetention,
      webhooks: new WebhookSender({
        log: (line) => app.log.warn(line),
        outboxPath: deps.dataDir && join(deps.dataDir, 'jobs', 'webhooks.jsonl'),
        ...deps.webhooks,
      }),
      log: (line) => app.log.info(line),
    },
  });
  await service.jobs.webhooks?.start(); // first: deliveries the last run left pending go out before new ones
  await service.jobs.start();
  registerLimits(app, limits, () => service.jobs);
  // preClose, before the server waits for open requests: sync callers of waiting jobs get their 503 first.
  app.addHook('preClose', () => service.jobs.shutdown());
  registerWire(app);
  if (deps.apiLog) registerApiLog(app, typeof deps.apiLog === 'function' ? deps.apiLog : undefined);
  registerErrorHandling(app);
  registerEngine(app, service);
  await registerOpenApi(app, '0.1.0');
  healthRoute(app);
  lorasRoutes(app); // A1111 mounts these outside its auth (spec §3.26); here registerSecurity covers every route
  registerControlNet(app, new ControlNetService(ControlNetService.dirsFor(deps.dataDir, deps.controlnetDir), limits.maxImagePixels));
  if (deps.webui) registerWebPage(app, { dist: typeof deps.webui === 'object' ? deps.webui.dist : undefined, credentials });
  await app.register(async (api: SdApiInstance) => {
    controlNetRoutes(app); // the extension's routes sit at the root (spec controlnet-api.md §8); auth as every route
    await registerJobsApi(api, { credentials, origins, limits: capabilityLimits(deps, limits), sseKeepAliveMs: deps.sseKeepAliveMs, wsPingMs: deps.wsPingMs });
    for (const routes of [
      txt2imgRoute,
      optionsRoutes,
      sdModelsRoute,
      samplerRoutes,
      progressRoute,
      interruptRoutes,
      cmdFlagsRoute,
      promptStylesRoute,
      embeddingsRoutes,
    ])
      routes(api);
    for (const routes of [img2imgRoute, pngInfoRoute, listRoutes, systemRoutes]) routes(api);
    extrasRoutes(api);
    workersRoute(api, deps.cluster);
    modelControlRoutes(api);
    if (deps.serverControl) serverControlRoutes(api, deps.serverControl);
    unavailableRoutes(api);
  });
  // After the routes: a worker takes jobs only once every job type has its route's preparation.
  deps.cluster?.attach(service.jobs);
  return app;
}

function appCredentials(deps: AppDeps): Credentials | undefined {
  if (!deps.apiAuth && !deps.apiKeys) return undefined;
  return { basic: deps.apiAuth ? parseApiAuth(deps.apiAuth) : undefined, apiKeys: deps.apiKeys ? parseApiKeys(deps.apiKeys) : undefined };
}

function capabilityLimits(deps: AppDeps, request: RequestLimits) {
  const retention = deps.jobsRetention ?? DEFAULT_RETENTION;
  return {
    maxQueued: deps.maxQueued ?? null,
    retentionCount: retention.maxCount,
    retentionAgeSeconds: retention.maxAgeMs / 1000,
    webhooks: true,
    request,
  };
}

function stylesFiles(deps: AppDeps): string[] {
  return deps.stylesFiles ?? (deps.dataDir ? [join(deps.dataDir, 'styles.csv')] : []);
}

/** What this server reports as its flags: the API (`--api`), with or without the page, rooted at the data dir. */
function reportedFlags(deps: AppDeps): Record<string, unknown> {
  const root = resolve(deps.dataDir ?? '.');
  // A1111 echoes the credentials here (#17411); we only say whether auth is on: '***' when set, else null.
  return cmdFlagsBody(root, {
    api: true,
    nowebui: !deps.webui,
    styles_file: deps.stylesFiles?.map((p) => resolve(p)) ?? [join(root, 'styles.csv')],
    ui_settings_file: join(root, 'config.json'),
    ...deps.cmdFlags,
    api_auth: deps.apiAuth || deps.apiKeys ? '***' : null,
  });
}
