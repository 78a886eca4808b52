/**
 * `sdapi worker --redis URL` (issue 15): takes jobs from the cluster's queue and runs them, with no HTTP. The app is
 * built (not listened on) so that jobs are prepared exactly as the API routes prepare them. SIGTERM drains: the
 * running job finishes, no new one is taken, then the process exits.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp, WorkerGenerator } from '@sdapi/server';
import { connectCluster } from './cluster.ts';
import { ONNX_CACHE_FLAG, onnxCacheHelp, onnxCacheMaxBytes, positiveFlag, retentionFlag } from '../flags.ts';
import { CliError } from '../output.ts';

const HELP = `usage: sdapi worker --redis URL [options]

  --redis URL            the cluster's Redis (redis://host:port/db), the same URL as the API nodes' --redis
  --ckpt FILE            a .safetensors checkpoint, listed first and loaded by default
  --ckpt-dir DIR         another folder of checkpoints
  --data-dir DIR         config.json, cache.json, models/ live here (default: current directory)
  --jobs-retention N[,A] image TTL in Redis follows A (default 7d); use the API nodes' value
  --threads N            threads per ONNX operator (default: all cores)
  --low-memory           release the UNet before each VAE decode (peak memory: the UNet's alone; it loads
                         again from the ONNX cache, about a second for SD1.5, at the next job)
  --engine-thread        run the engine in a worker thread of this process. Without it the engine runs in a
                         child process of its own, which gives all its memory back on /unload-checkpoint and
                         whose crash fails only the job in flight
${onnxCacheHelp()}`;

const OPTIONS = {
  redis: { type: 'string' },
  ckpt: { type: 'string' },
  'ckpt-dir': { type: 'string' },
  'data-dir': { type: 'string', default: '.' },
  'jobs-retention': { type: 'string' },
  threads: { type: 'string' },
  'engine-thread': { type: 'boolean' },
  'low-memory': { type: 'boolean' },
  ...ONNX_CACHE_FLAG,
  help: { type: 'boolean', short: 'h' },
} as const;

export async function worker(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.redis) throw new CliError('sdapi worker needs --redis redis://host:port/db (the URL the API nodes were given)');
  const dataDir = resolve(values['data-dir']);
  const retention = retentionFlag(values['jobs-retention']);
  const generator = new WorkerGenerator({
    dataDir,
    isolation: values['engine-thread'] ? 'thread' : 'process',
    lowMemory: values['low-memory'],
    ckpt: values.ckpt ? resolve(values.ckpt) : null,
    ckptDir: values['ckpt-dir'] ? resolve(values['ckpt-dir']) : null,
    threads: positiveFlag('--threads', values.threads),
    cacheMaxBytes: onnxCacheMaxBytes(values['onnx-cache-max-gb']),
    log: (line) => console.log(line),
  });
  await generator.listCheckpoints();
  const cluster = await connectCluster(values.redis, true, generator, retention);
  const app = await buildApp({ generator, dataDir, cluster, jobsRetention: retention });
  await app.ready();
  // Loaded at start, as `serve` does: the heartbeat advertises it and the first job does not wait for it.
  app.sd.reloadCheckpoint().catch((error: Error) => console.error(`error: loading the checkpoint at start failed: ${error.message}`));
  console.log(`sdapi worker ${cluster?.workerId} is taking jobs from ${values.redis}`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  console.log('sdapi worker: draining (finishing the running job, taking no new one)');
  await cluster?.close();
  await app.close();
  await generator.close();
  return 0;
}
