/**
 * One cluster process for the Redis tests (issue 15): `node --import tsx cluster-node-child.ts <redis-url> <api|worker>
 * <ms-per-step> [max-queued-per-client]`. An `api` node serves HTTP with no worker (`--no-worker`), a `worker` runs jobs with no HTTP. The
 * engine is the real one on the tiny SD1.5 fixture when SDAPI_TINY is set (else the fake one, `ms-per-step` per step).
 * Prints one JSON line once ready: `{"url"}` or `{"worker"}`. BullMQ's lock and stalled check are shortened so that
 * a kill -9 is noticed within seconds. SDAPI_RESULTS_DIR set: images go to that shared folder (`--results-dir`).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/index.ts';
import { EngineGenerator } from '../../src/services/engine-generator.ts';
import type { Generator } from '../../src/services/generator.ts';
import { RedisCluster } from '../../src/services/jobs/redis/cluster.ts';
import { FakeGenerator } from './fake-generator.ts';
import { TINY_SD15_CKPT } from './tiny-engine.ts';

const [url, role, stepMs, maxQueuedPerClient] = process.argv.slice(2);
const dataDir = mkdtempSync(join(tmpdir(), `sdapi-cluster-${role}-`));
let generator: Generator;
if (process.env.SDAPI_TINY) generator = new EngineGenerator({ dataDir, ckpt: TINY_SD15_CKPT, placeholder: false });
else {
  const fake = new FakeGenerator();
  fake.stepDelayMs = Number(stepMs);
  generator = fake;
}
const cluster = new RedisCluster({
  url,
  worker: role === 'worker',
  imageTtlMs: 3600_000,
  resultsDir: process.env.SDAPI_RESULTS_DIR || undefined,
  lockDurationMs: 2000,
  stalledIntervalMs: 1000,
  maxStalledCount: 1,
  heartbeatMs: 500,
  loadedModel: () => generator.currentCheckpoint()?.name ?? null,
  log: (line) => process.stderr.write(`[${role} ${process.pid}] ${line}\n`),
});
await cluster.connect();
const limits = maxQueuedPerClient ? { maxQueuedPerClient: Number(maxQueuedPerClient) } : undefined;
const app = await buildApp({ generator, dataDir, cluster, limits });
process.once('SIGTERM', async () => {
  await cluster.close();
  await app.close();
  process.exit(0);
});
if (role === 'worker') {
  await app.ready();
  process.stdout.write(`${JSON.stringify({ worker: cluster.workerId })}\n`);
} else {
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`${JSON.stringify({ url: base })}\n`);
}
