/**
 * `sdapi worker --redis URL` (issue 15): takes jobs from the cluster's queue and runs them, with no HTTP. The app is
 * built (not listened on) so that jobs are prepared exactly as the API routes prepare them. SIGTERM drains: the
 * running job finishes, no new one is taken, then the process exits.
 */
import { parseArgs } from 'node:util';
import { buildApp, WorkerGenerator } from '@sdapi/server';
import { ENGINE_HELP, ENGINE_OPTIONS, engineSettings } from '../engine-flags.ts';
import { maskPassword, retentionFlag } from '../flags.ts';
import { CliError } from '../output.ts';
import { connectCluster, RESULTS_DIR_HELP, resultsDirFlag } from './cluster.ts';

const HELP = `usage: sdapi worker --redis URL [options]

  --redis URL            the cluster's Redis (redis://host:port/db), the same URL as the API nodes' --redis
  --jobs-retention N[,A] image TTL in Redis follows A (default 7d); use the API nodes' value
${RESULTS_DIR_HELP}

models and engine (the same as \`sdapi serve\`'s; give the worker the folders the API nodes name):
${ENGINE_HELP}`;

const OPTIONS = {
  ...ENGINE_OPTIONS,
  redis: { type: 'string' },
  'jobs-retention': { type: 'string' },
  'results-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function worker(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.redis) throw new CliError('sdapi worker needs --redis redis://host:port/db (the URL the API nodes were given)');
  const engine = engineSettings(values, (line) => console.log(line));
  const retention = retentionFlag(values['jobs-retention']);
  const resultsDir = resultsDirFlag(values['results-dir'], values.redis);
  const { dataDir, controlnetDir, stylesFiles } = engine;
  const generator = new WorkerGenerator(engine.generator);
  await generator.listCheckpoints();
  const cluster = await connectCluster(values.redis, true, generator, retention, resultsDir);
  const app = await buildApp({ generator, dataDir, controlnetDir, stylesFiles, cluster, jobsRetention: retention });
  await app.ready();
  // Loaded at start, as `serve` does: the heartbeat advertises it and the first job does not wait for it.
  app.sd.reloadCheckpoint().catch((error: Error) => console.error(`error: loading the checkpoint at start failed: ${error.message}`));
  console.log(`sdapi worker ${cluster?.workerId} is taking jobs from ${maskPassword(values.redis)}`);
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
