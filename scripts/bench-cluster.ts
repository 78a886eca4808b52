/**
 * Scale-out bench (issue 15), on the tiny SD1.5 fixture (64×64, 4 steps), each node a separate process:
 *   1. added latency of the Redis path: one sync /sdapi/v1/txt2img at a time, embedded (`serve`) vs an API-only node
 *      plus one worker on Redis (ms per job, mean of N after a warm-up);
 *   2. throughput: N v2 jobs submitted at once, jobs per minute with one worker and with two.
 * `node --import tsx scripts/bench-cluster.ts [N]`. Needs redis-server and ../shared. On one 2-core machine two
 * workers share the cores, so the second worker shows the queue's overhead more than a speed-up; on two machines it
 * is the speed-up.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { freePort, noRedis, startRedisServer } from '../packages/server/test/helpers/redis-server.ts';
import { SHARED_DIR } from '../packages/server/test/helpers/spec.ts';

/** Jobs per measurement (the CLI's argument, or benchCluster's). */
let N = 6;
const ROOT = join(import.meta.dirname, '..');
const CHILD = join(ROOT, 'packages/server/test/helpers/cluster-node-child.ts');
/** The tiny fixture the children load (tiny-engine.ts's TINY_SD15_CKPT, without loading the server here). */
const CKPT = join(SHARED_DIR, 'fixtures', 'tiny-sd15', 'model.safetensors');
const children: ChildProcess[] = [];
const BODY = { prompt: 'a cat', steps: 4, width: 64, height: 64, seed: 1 };

async function spawnLine(args: string[], env: Record<string, string> = {}, until = (l: string) => l.startsWith('{')): Promise<string> {
  const proc = spawn(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, ...env } });
  children.push(proc);
  for await (const line of createInterface({ input: proc.stdout as NodeJS.ReadableStream })) if (until(line)) return line;
  throw new Error(`${args.join(' ')} exited early`);
}

const node = async (url: string, role: string) =>
  JSON.parse(await spawnLine([process.execPath, '--import', 'tsx', CHILD, url, role, '0'], { SDAPI_TINY: '1' })) as { url?: string };

async function syncMs(base: string): Promise<number> {
  const post = () => fetch(`${base}/sdapi/v1/txt2img`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(BODY) });
  await (await post()).json(); // warm-up: sessions, checkpoint load
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await (await post()).json();
  return (performance.now() - t0) / N;
}

async function jobsPerMinute(base: string): Promise<number> {
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < N; i++) {
    const res = await fetch(`${base}/sdapi/v2/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'txt2img', params: { ...BODY, seed: i } }),
    });
    ids.push(((await res.json()) as { id: string }).id);
  }
  for (const id of ids) {
    for (;;) {
      const job = (await (await fetch(`${base}/sdapi/v2/jobs/${id}`)).json()) as { status: string };
      if (['succeeded', 'failed', 'cancelled'].includes(job.status)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return N / ((performance.now() - t0) / 60_000);
}

export interface ClusterBench {
  embeddedMs: number;
  redisMs: number;
  jobsPerMinute: { one: number; two: number };
  jobs: number;
}

/** Runs the bench (null when redis-server or the tiny fixture is missing, with the reason printed). */
export async function benchCluster(jobs = 6): Promise<ClusterBench | null> {
  if (noRedis || !existsSync(CKPT)) {
    console.log(`bench-cluster: skipped (${noRedis || `needs ${CKPT}`})`);
    return null;
  }
  try {
    N = jobs;
    return await measure();
  } finally {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  }
}

async function measure(): Promise<ClusterBench> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sdapi-bench-redis-'));
  children.push(await startRedisServer(port, dir, ['--appendonly', 'yes', '--appendfsync', 'always']));
  const url = `redis://127.0.0.1:${port}/0`;
  const embedded = JSON.parse(await spawnLine([process.execPath, '--import', 'tsx', join(ROOT, 'scripts', 'bench-embedded-child.ts')])) as {
    url: string;
  };
  const embeddedMs = await syncMs(embedded.url);
  children.pop()?.kill('SIGKILL');
  const [api] = await Promise.all([node(url, 'api'), node(url, 'worker')]);
  const redisMs = await syncMs(api.url as string);
  const one = await jobsPerMinute(api.url as string);
  await node(url, 'worker');
  await syncMs(api.url as string); // warms the second worker too (either may take it)
  const two = await jobsPerMinute(api.url as string);
  return { embeddedMs, redisMs, jobsPerMinute: { one, two }, jobs: N };
}

async function main(): Promise<void> {
  const r = await benchCluster(Number(process.argv[2] ?? 6));
  if (!r) return;
  const { embeddedMs, redisMs } = r;
  const { one, two } = r.jobsPerMinute;
  console.log(`| case | value |\n| --- | --- |`);
  console.log(`| sync txt2img, embedded (ms/job) | ${embeddedMs.toFixed(0)} |`);
  console.log(`| sync txt2img, API node + 1 worker on Redis (ms/job) | ${redisMs.toFixed(0)} |`);
  console.log(`| added latency of the Redis path (ms/job) | ${(redisMs - embeddedMs).toFixed(0)} |`);
  console.log(`| jobs/min, 1 worker (${N} jobs at once) | ${one.toFixed(1)} |`);
  console.log(`| jobs/min, 2 workers (${N} jobs at once) | ${two.toFixed(1)} |`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
