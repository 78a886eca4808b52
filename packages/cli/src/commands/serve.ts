/**
 * `sdapi serve` (what `npm start` runs): the A1111-compatible API on 127.0.0.1:7860, taking A1111's flags.
 * Flags A1111 has that make no sense here (--xformers, --medvram, ...) are refused as unknown rather than ignored.
 * GET /cmd-flags reports the A1111 flags under their A1111 names and ours under `sdapi`, secrets as '***'.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isA1111Flag, startServer, WorkerGenerator } from '@sdapi/server';
import { ENGINE_HELP, ENGINE_OPTIONS, engineSettings } from '../engine-flags.ts';
import { countFlag, maskPassword, positiveFlag, retentionFlag } from '../flags.ts';
import { CliError } from '../output.ts';
import { connectCluster, RESULTS_DIR_HELP, resultsDirFlag } from './cluster.ts';

const HELP = `usage: sdapi serve [options]      (npm start -- [options])

  --port N               listening port (default 7860)
  --listen               bind 0.0.0.0 instead of 127.0.0.1
  --server-name HOST     bind this address (wins over --listen)
  --api-auth U:P[,U:P]   HTTP Basic credentials for every /sdapi route
  --api-keys K[,K]       API keys accepted as \`Authorization: Bearer K\` (OpenAI clients) on every route
                         (with either, every route needs credentials except GET /health and the web page's shell)
  --cors-allow-origins O[,O]  browser pages on these origins may call the API (\`*\`: any); a request from any other
                         page (an Origin header that is neither listed nor this server's own, \`null\` included) is 403
  --cors-allow-origins-regex RE  the same, for origins fully matching RE
  --allowed-hosts H[,H]  Host names answered besides localhost, 127.0.0.1 and [::1]: on loopback (the default) any
                         other Host header is 403 (DNS rebinding); with --listen the Host check is off unless this is given
  --webhook-secret S     sign job webhooks: X-Sdapi-Signature: sha256=<HMAC-SHA256 of the body>
  --webhook-allow-local  let webhooks reach loopback and private addresses (refused by default)
  --jobs-retention N[,A] keep N finished jobs (and their images), none older than A (default 1000,7d)
  --redis URL            jobs, events and images in Redis (redis://host:port/db): API nodes and workers share one queue
  --no-worker            with --redis: an API-only node that runs no generation (start \`sdapi worker\` elsewhere)
${RESULTS_DIR_HELP}
  --nowebui              API only: no web page at / (the API is always on)
  --skip-load-model-at-start  load the checkpoint on first use instead of right after start
  --queue-max N          at most N generation jobs may wait; more get 503 with Retry-After (default: no limit)
  --max-queued-per-client N  at most N jobs waiting or running per client address; more get 429 + Retry-After
                         (with --redis: counted across every API node, in Redis)
  Limits checked before any work (422, or 413 for sizes of bodies and images; shown in /sdapi/v2/capabilities):
  --max-width N, --max-height N  largest image side made, hires target included (default 8192 each)
  --max-pixels N         largest width × height made (default 16777216 = 4096²)
  --max-steps N          largest steps (default 1000)
  --max-batch N          largest batch_size × n_iter (default 800)
  --max-prompt-length N  longest prompt or negative prompt in characters (default 100000)
  --max-image-pixels N   largest input image, read from its header before decoding (default 67108864 = 8192²)
  --max-body-size N      largest request body in bytes; K, M, G suffixes (default 256M)
  --api-log              print one line per /sdapi request (A1111's format: time, status, method, path, client, seconds)
  --api-server-stop      serve POST /sdapi/v1/server-stop (clean stop), server-kill (exit now), server-restart (501)
  --tls-keyfile FILE     HTTPS with this key ...
  --tls-certfile FILE    ... and this certificate (both needed)
  --subpath P            serve under /P/ (behind a reverse proxy that keeps the prefix)
  --api                  accepted for A1111 compatibility (the API is always on)

models and engine (the same on \`sdapi worker\`):
${ENGINE_HELP}`;

const OPTIONS = {
  ...ENGINE_OPTIONS,
  port: { type: 'string' },
  listen: { type: 'boolean' },
  'server-name': { type: 'string' },
  'api-auth': { type: 'string' },
  'api-keys': { type: 'string' },
  'webhook-secret': { type: 'string' },
  'webhook-allow-local': { type: 'boolean' },
  'jobs-retention': { type: 'string' },
  redis: { type: 'string' },
  'no-worker': { type: 'boolean' },
  'results-dir': { type: 'string' },
  api: { type: 'boolean' },
  nowebui: { type: 'boolean' },
  'skip-load-model-at-start': { type: 'boolean' },
  'queue-max': { type: 'string' },
  'api-log': { type: 'boolean' },
  'api-server-stop': { type: 'boolean' },
  'tls-keyfile': { type: 'string' },
  'tls-certfile': { type: 'string' },
  subpath: { type: 'string' },
  'cors-allow-origins': { type: 'string' },
  'cors-allow-origins-regex': { type: 'string' },
  'allowed-hosts': { type: 'string' },
  'max-queued-per-client': { type: 'string' },
  'max-width': { type: 'string' },
  'max-height': { type: 'string' },
  'max-pixels': { type: 'string' },
  'max-steps': { type: 'string' },
  'max-batch': { type: 'string' },
  'max-prompt-length': { type: 'string' },
  'max-image-pixels': { type: 'string' },
  'max-body-size': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Flags whose value is a path: reported resolved, as A1111 does. */
const PATH_FLAGS = new Set(['ckpt', 'ckpt-dir', 'embeddings-dir', 'controlnet-dir', 'lora-dir', 'data-dir', 'vae-dir', 'tls-keyfile', 'tls-certfile']);
/** Flags that hold a secret: GET /cmd-flags says whether they are set ('***'), never what they are. */
const SECRET_FLAGS = new Set(['api-auth', 'api-keys', 'webhook-secret']);

/**
 * The GET /cmd-flags report: A1111's flags under their destinations (`ckpt-dir` → `ckpt_dir`), and under `sdapi`
 * every flag of ours, given or not (null / false when not). `--redis` shows its URL with the password masked.
 */
function reportedFlags(values: Record<string, string | boolean | string[] | undefined>): Record<string, unknown> {
  const reported: Record<string, unknown> = {};
  const own: Record<string, unknown> = {};
  for (const flag of Object.keys(OPTIONS)) {
    if (flag === 'help') continue;
    const dest = flag.replaceAll('-', '_');
    let value = values[flag];
    if (value !== undefined && SECRET_FLAGS.has(flag)) value = '***';
    else if (typeof value === 'string' && PATH_FLAGS.has(flag)) value = resolve(value);
    else if (Array.isArray(value) && flag === 'styles-file') value = value.map((p) => resolve(p));
    else if (typeof value === 'string' && flag === 'redis') value = maskPassword(value);
    if (isA1111Flag(dest)) {
      if (value !== undefined) reported[dest] = value;
    } else own[dest] = value ?? (OPTIONS[flag as keyof typeof OPTIONS].type === 'boolean' ? false : null);
  }
  return { ...reported, sdapi: own };
}

/** The `--max-*` flags as buildApp's `limits` (absent ones keep their defaults). */
function limitFlags(values: Record<string, string | boolean | string[] | undefined>) {
  const get = (flag: string) => positiveFlag(`--${flag}`, values[flag] as string | undefined);
  const limits = {
    maxWidth: get('max-width'),
    maxHeight: get('max-height'),
    maxPixels: get('max-pixels'),
    maxSteps: get('max-steps'),
    maxBatch: get('max-batch'),
    maxPromptLength: get('max-prompt-length'),
    maxImagePixels: get('max-image-pixels'),
    maxQueuedPerClient: get('max-queued-per-client'),
  };
  return {
    limits: Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)),
    bodyLimit: positiveFlag('--max-body-size', values['max-body-size'] as string | undefined, true),
    corsAllowOrigins: values['cors-allow-origins'] as string | undefined,
    corsAllowOriginsRegex: values['cors-allow-origins-regex'] as string | undefined,
    allowedHosts: values['allowed-hosts'] as string | undefined,
  };
}

function port(text: string | undefined): number {
  if (text === undefined) return 7860;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`--port must be an integer from 0 to 65535, got '${text}'`);
  return n;
}

export async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  // Bad values are refused before anything is written.
  const limits = limitFlags(values);
  const engine = engineSettings(values, (line) => console.log(line));
  const jobsRetention = retentionFlag(values['jobs-retention']);
  const maxQueued = values['queue-max'] === undefined ? undefined : countFlag('--queue-max', values['queue-max']);
  const listenPort = port(values.port);
  const resultsDir = resultsDirFlag(values['results-dir'], values.redis);
  const { dataDir, controlnetDir, stylesFiles } = engine;
  // The engine runs in its own process (or a worker thread): ORT's native runs would otherwise stall /progress,
  // interrupt and health.
  const generator = new WorkerGenerator(engine.generator);
  const host = values['server-name'] ?? (values.listen ? '0.0.0.0' : '127.0.0.1');
  const jobs = {
    apiKeys: values['api-keys'],
    webhooks: { secret: values['webhook-secret'], allowLocal: values['webhook-allow-local'] },
    jobsRetention,
  };
  let stopServer = () => {};
  const stopped = new Promise<void>((done) => {
    stopServer = done;
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  const control = {
    apiLog: values['api-log'],
    maxQueued,
    serverControl: values['api-server-stop'] ? { kill: () => process.exit(0), stop: () => stopServer() } : undefined,
    tls: { keyFile: values['tls-keyfile'], certFile: values['tls-certfile'] },
    subpath: values.subpath,
    ...limits,
  };
  const cluster = await connectCluster(values.redis, !values['no-worker'], generator, jobs.jobsRetention, resultsDir);
  const { app, url } = await startServer({
    cluster,
    generator,
    dataDir,
    controlnetDir,
    apiAuth: values['api-auth'],
    port: listenPort,
    host,
    stylesFiles,
    webui: !values.nowebui,
    cmdFlags: reportedFlags(values),
    ...jobs,
    ...control,
  });
  // Listed after the app is built, so that a setting it refuses (TLS files, the CORS regex) has written nothing:
  // this writes the placeholder model now (with its notice) when there is none.
  await generator.listCheckpoints();
  const root = `${url}${values.subpath ? `/${values.subpath.replace(/^\/+|\/+$/g, '')}` : ''}`;
  console.log(`sdapi listening on ${root} (${values.nowebui ? '' : `web page: ${root}/, `}API docs: ${root}/docs)`);
  // A1111 loads the checkpoint right after start (API mode) unless --skip-load-model-at-start; requests meanwhile
  // wait for it in the queue. Loading is hashing and opening the file; sessions compile on first use.
  if (!values['skip-load-model-at-start'] && !values['no-worker'])
    app.sd.reloadCheckpoint().catch((error: Error) => console.error(`error: loading the checkpoint at start failed: ${error.message}`));
  await stopped;
  await cluster?.close(); // a worker drains: it finishes its job and takes no new one
  await app.close();
  await generator.close();
  return 0;
}
