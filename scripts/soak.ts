/**
 * `npm run soak`: the full load and memory figures of issue 13 §9–10 on the tiny model (two copies under different
 * names), with the engine in its worker thread as `sdapi serve` runs it:
 *   1. 200 checkpoint switches with a generation each, RSS (after a forced GC in both threads) at every switch;
 *   2. 64 clients × 10 min of mixed requests (packages/server/test/helpers/load.ts): txt2img naming a checkpoint,
 *      v2 jobs and cancels, options, switches, /progress, interrupts; then every acknowledged job is looked up.
 * Prints one markdown table: requests, 5xx, hangs, /progress p99, RSS at switch 2 and at the last switch, RSS cold and
 * after /unload-checkpoint (right after the switches, before the load adds job records), RSS sampled through the
 * load with its trend, jobs lost.
 *
 *   npm run soak                                   # 200 switches, 64 clients × 10 min, every job kept
 *   npm run soak -- --switches 30 --clients 16 --minutes 1      # a shortened run
 *   npm run soak -- --minutes 60 --retention 1000  # the 1-hour trend, the job store bounded as `sdapi serve` keeps it
 *   npm run soak -- --isolation thread             # the engine in a worker thread instead of its own process
 *
 * RSS is the server's process plus the engine's (engine-host.ts), after a forced GC in both.
 *
 * With `--retention N` the store sweeps all but the newest N finished jobs (sync txt2img ones count too), as in
 * production; the lost-job check then covers the jobs acknowledged after the oldest finish still kept (older ones
 * may rightly be swept: load.ts lostJobsUnderRetention).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildApp } from '../packages/server/src/app.ts';
import { WorkerGenerator } from '../packages/server/src/services/worker-generator.ts';
import { lostJobs, lostJobsUnderRetention, percentile, runLoad, switchModels } from '../packages/server/test/helpers/load.ts';
import { TINY_SD15_CKPT } from '../packages/server/test/helpers/tiny-engine.ts';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '64' },
    minutes: { type: 'string', default: '10' },
    switches: { type: 'string', default: '200' },
    retention: { type: 'string', default: 'all' },
    isolation: { type: 'string', default: 'process' },
    'sample-seconds': { type: 'string', default: '60' },
  },
});
const clients = Number(values.clients);
const minutes = Number(values.minutes);
const switches = Number(values.switches);
const isolation = values.isolation === 'thread' ? 'thread' : 'process';
if (values.isolation !== isolation) {
  console.error(`soak: --isolation is process or thread (got ${JSON.stringify(values.isolation)})`);
  process.exit(2);
}
const retention = values.retention === 'all' ? Number.POSITIVE_INFINITY : Number(values.retention);
const sampleMs = Number(values['sample-seconds']) * 1000;
for (const [name, v] of Object.entries({ clients, minutes, switches, retention, 'sample-seconds': sampleMs })) {
  if (!(v >= 0)) {
    console.error(`soak: --${name} must be a number ≥ 0 (got ${JSON.stringify(values[name as keyof typeof values])})`);
    process.exit(2);
  }
}

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
const generator = new WorkerGenerator({ dataDir, placeholder: false, isolation });
// Keep every job for the lost-job check (the default retention would sweep older ones during a long run).
const app = await buildApp({
  generator,
  dataDir,
  jobsRetention: { maxCount: Number.isFinite(retention) ? retention : 1_000_000_000, maxAgeMs: 7 * 86_400_000 },
});
const base = await app.listen({ port: 0, host: '127.0.0.1' });
/** RSS in MiB of the server's process and the engine's (a child process by default; 0 when it is a thread of this one), after a GC in both. */
const rssSplit = async () => {
  await generator.collectGarbage();
  gc();
  return { server: process.memoryUsage().rss / 2 ** 20, engine: (await generator.engineRss()) / 2 ** 20 };
};
const rssMiB = async () => {
  const { server, engine } = await rssSplit();
  return server + engine;
};

gc();
const coldServerRss = process.memoryUsage().rss / 2 ** 20; // no engine started yet
await generator.listCheckpoints(); // the engine is up, no model loaded yet
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
const rssUnloaded = await unloadedRss();

const loadStart = Date.now();
const samples: Array<{ minute: number; server: number; engine: number }> = [];
let sampling = Promise.resolve();
const sampler = setInterval(() => {
  sampling = sampling.then(async () => void samples.push({ minute: (Date.now() - loadStart) / 60_000, ...(await rssSplit()) }));
}, sampleMs);
const report = await runLoad({ base, clients, durationMs: minutes * 60_000, models: MODELS, requestTimeoutMs: 120_000, seed: 42 });
clearInterval(sampler);
await sampling;
const loadSeconds = (Date.now() - loadStart) / 1000;
const jobCheck = Number.isFinite(retention)
  ? await lostJobsUnderRetention(base, report.acknowledgedJobs, report.acknowledgedAt)
  : { lost: await lostJobs(base, report.acknowledgedJobs), swept: 0, checked: report.acknowledgedJobs.length };
const { lost } = jobCheck;
const rssAfterLoad = await rssMiB();
const rssUnloadedAfterLoad = await unloadedRss();
await app.close();
await generator.close();

/** POST /unload-checkpoint (it ends the worker thread), then RSS after a main-thread GC; NaN if the unload failed. */
async function unloadedRss(): Promise<number> {
  const unload = await fetch(`${base}/sdapi/v1/unload-checkpoint`, { method: 'POST' });
  // Main-thread GC only: asking the worker to collect would start a fresh one.
  await new Promise((r) => setTimeout(r, 500));
  gc();
  return unload.status === 200 ? process.memoryUsage().rss / 2 ** 20 : Number.NaN;
}

/** Least-squares slope of y over x (MiB per minute here); 0 for fewer than two points. */
function slope(points: ReadonlyArray<readonly [number, number]>): number {
  if (points.length < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / points.length;
  const my = points.reduce((a, [, y]) => a + y, 0) / points.length;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

const f0 = (x: number) => x.toFixed(0);
const secondHalf = samples.filter((x) => x.minute >= minutes / 2).map((x) => [x.minute, x.server + x.engine] as const);
const rssSeries = samples.map((x) => x.server + x.engine);
const rows: Array<[string, string]> = [
  [
    'run',
    `engine in a ${isolation}; ${switches} switches + ${clients} clients × ${minutes} min (load phase ${f0(loadSeconds)} s; total ${f0((Date.now() - started) / 1000)} s)`,
  ],
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
  [
    'RSS cold: server alone / with the idle engine; after unload-checkpoint (after the switches)',
    `${f0(coldServerRss)} / ${f0(coldRss)}; ${f0(rssUnloaded)} MiB`,
  ],
  [
    `RSS through the load (every ${sampleMs / 1000} s): first / max / last`,
    samples.length
      ? `${f0(rssSeries[0])} / ${f0(Math.max(...rssSeries))} / ${f0(rssSeries[rssSeries.length - 1])} MiB (${samples.length} samples)`
      : 'no samples',
  ],
  ['RSS trend, second half of the load (least squares)', `${(slope(secondHalf) * 60).toFixed(1)} MiB/hour over ${secondHalf.length} samples`],
  ['RSS after the load / after unload-checkpoint', `${f0(rssAfterLoad)} / ${f0(rssUnloadedAfterLoad)} MiB`],
  [
    'jobs acknowledged / checked / lost',
    `${report.acknowledgedJobs.length} / ${jobCheck.checked}${Number.isFinite(retention) ? ` (those acknowledged after the oldest finish still kept; ${jobCheck.swept} older ones swept by retention ${retention})` : ''} / ${lost.length}`,
  ],
];
console.log('| soak | figure |\n| --- | --- |');
if (samples.length) {
  console.error(`RSS samples (minute: server + engine MiB): ${samples.map((x) => `${x.minute.toFixed(1)}:${f0(x.server)}+${f0(x.engine)}`).join(' ')}`);
}
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
for (const failure of report.failures) console.log(`failure: ${failure}`);
for (const wrong of report.wrongModel) console.log(`wrong model: ${wrong}`);
const ok = report.status5xx === 0 && report.hangs === 0 && report.wrongModel.length === 0 && lost.length === 0 && report.failures.length === 0;
process.exit(ok ? 0 : 1);
