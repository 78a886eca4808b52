/**
 * `npm run soak`: the full load and memory figures of issue 13 §9–10 on the tiny model (two copies under different
 * names), with the engine in its worker thread as `sdapi serve` runs it:
 *   1. 200 checkpoint switches with a generation each, RSS (after a forced GC in both threads) at every switch;
 *   2. 64 clients × 10 min of mixed requests (packages/server/test/helpers/load.ts): txt2img naming a checkpoint,
 *      v2 jobs and cancels, options, switches, /progress, interrupts; then every acknowledged job is looked up.
 * Prints one markdown table: requests, 5xx, hangs, /progress p99, RSS at switch 2 and at the last switch, RSS cold and
 * after /unload-checkpoint, jobs lost.
 *
 *   npm run soak                                   # 200 switches, 64 clients × 10 min
 *   npm run soak -- --switches 30 --clients 16 --minutes 1      # a shortened run
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildApp } from '../packages/server/src/app.ts';
import { WorkerGenerator } from '../packages/server/src/services/worker-generator.ts';
import { lostJobs, percentile, runLoad, switchModels } from '../packages/server/test/helpers/load.ts';
import { TINY_SD15_CKPT } from '../packages/server/test/helpers/tiny-engine.ts';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '64' },
    minutes: { type: 'string', default: '10' },
    switches: { type: 'string', default: '200' },
  },
});
const clients = Number(values.clients);
const minutes = Number(values.minutes);
const switches = Number(values.switches);

const tiny = TINY_SD15_CKPT;
if (!existsSync(tiny)) {
  console.log(`skipped: ${tiny} is absent (../shared is not beside this clone)`);
  process.exit(0);
}
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MODELS = ['tiny-a', 'tiny-b'];
const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-soak-'));
const sd = join(dataDir, 'models', 'Stable-diffusion');
mkdirSync(sd, { recursive: true });
for (const m of MODELS) copyFileSync(tiny, join(sd, `${m}.safetensors`));
const generator = new WorkerGenerator({ dataDir, placeholder: false });
// Keep every job for the lost-job check (the default retention would sweep older ones during a long run).
const app = await buildApp({ generator, dataDir, jobsRetention: { maxCount: 1_000_000, maxAgeMs: 7 * 86_400_000 } });
const base = await app.listen({ port: 0, host: '127.0.0.1' });
const rssMiB = async () => {
  await generator.collectGarbage();
  gc();
  return process.memoryUsage().rss / 2 ** 20;
};

await generator.listCheckpoints(); // the worker thread is up, no model loaded yet
const coldRss = await rssMiB();
const started = Date.now();
console.error(`soak: ${switches} switches, then ${clients} clients × ${minutes} min (data dir ${dataDir})`);
const series = await switchModels(base, MODELS, switches, rssMiB);
console.error(
  `switches done in ${((Date.now() - started) / 1000).toFixed(0)} s; RSS MiB every 10: ${series
    .filter((_, i) => i % 10 === 1)
    .map((x) => x.toFixed(0))
    .join(' ')}`,
);
const loadStart = Date.now();
const report = await runLoad({ base, clients, durationMs: minutes * 60_000, models: MODELS, requestTimeoutMs: 120_000, seed: 42 });
const loadSeconds = (Date.now() - loadStart) / 1000;
const lost = await lostJobs(base, report.acknowledgedJobs);
const rssAfterLoad = await rssMiB();
const unload = await fetch(`${base}/sdapi/v1/unload-checkpoint`, { method: 'POST' });
// Main-thread GC only: asking the worker to collect would start a fresh one (unloading ends the thread).
await new Promise((r) => setTimeout(r, 500));
gc();
const rssUnloaded = unload.status === 200 ? process.memoryUsage().rss / 2 ** 20 : Number.NaN;
await app.close();
await generator.close();

const f0 = (x: number) => x.toFixed(0);
const rows: Array<[string, string]> = [
  ['run', `${switches} switches + ${clients} clients × ${minutes} min (load phase ${f0(loadSeconds)} s; total ${f0((Date.now() - started) / 1000)} s)`],
  [
    'requests',
    `${report.requests} (${Object.entries(report.byAction)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})`,
  ],
  ['5xx', String(report.status5xx)],
  ['hangs (no answer in 120 s)', String(report.hangs)],
  ['other failures', String(report.failures.length)],
  ['images / naming another model', `${report.images} / ${report.wrongModel.length}`],
  [
    '/progress latency p50 / p99 / max',
    `${f0(percentile(report.progressLatenciesMs, 0.5))} / ${f0(percentile(report.progressLatenciesMs, 0.99))} / ${f0(Math.max(0, ...report.progressLatenciesMs))} ms`,
  ],
  ['RSS after switch 2 / 3 / last', `${f0(series[1] ?? 0)} / ${f0(series[2] ?? 0)} / ${f0(series[series.length - 1] ?? 0)} MiB (${switches} switches)`],
  ['RSS after the load', `${f0(rssAfterLoad)} MiB`],
  ['RSS cold (no model) / after unload-checkpoint', `${f0(coldRss)} / ${f0(rssUnloaded)} MiB`],
  ['jobs acknowledged / lost', `${report.acknowledgedJobs.length} / ${lost.length}`],
];
console.log('| soak | figure |\n| --- | --- |');
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
for (const failure of report.failures) console.log(`failure: ${failure}`);
for (const wrong of report.wrongModel) console.log(`wrong model: ${wrong}`);
const ok = report.status5xx === 0 && report.hangs === 0 && report.wrongModel.length === 0 && lost.length === 0 && report.failures.length === 0;
process.exit(ok ? 0 : 1);
