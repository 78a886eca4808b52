/**
 * How long generation blocks the server's event loop (issue 13 §8). A real server (EngineGenerator) runs in this
 * process; a worker thread (its own event loop, so its clock is not held up by the server's) polls
 * `/sdapi/v1/progress?skip_current_image=true` every 20 ms while the scenarios run, and the server's own loop delay
 * is sampled with `monitorEventLoopDelay`. Prints, per scenario: wall time, /progress latency p50/p99/max and the
 * loop's longest stall.
 *
 *   node --import tsx scripts/event-loop-probe.ts [--sizes 64,512] [--steps 20] [--sdxl] [--engine process|thread|inline]
 *
 * --engine: where the engine runs: its own process (`sdapi serve`'s default), a worker thread (`--engine-thread`),
 * or inline in the server's thread (what the worker avoids). `--inline` is the old spelling of `--engine inline`.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { buildApp } from '../packages/server/src/app.ts';
import { EngineGenerator } from '../packages/server/src/services/engine-generator.ts';
import { WorkerGenerator } from '../packages/server/src/services/worker-generator.ts';
import { percentile } from '../packages/server/test/helpers/load.ts';
import { SHARED_DIR } from '../packages/server/test/helpers/spec.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '64,512' },
    steps: { type: 'string', default: '20' },
    sdxl: { type: 'boolean', default: false },
    engine: { type: 'string', default: 'process' },
    inline: { type: 'boolean', default: false },
  },
});
const engine = values.inline ? 'inline' : values.engine;
if (engine !== 'process' && engine !== 'thread' && engine !== 'inline') {
  console.error(`event-loop-probe: --engine is process, thread or inline (got ${JSON.stringify(engine)})`);
  process.exit(2);
}
const fixtures = join(SHARED_DIR, 'fixtures');
const tiny = join(fixtures, 'tiny-sd15', 'model.safetensors');
if (!existsSync(tiny)) {
  console.log(`skipped: ${tiny} is absent (../shared is not beside this clone)`);
  process.exit(0);
}
const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-probe-'));
const sd = join(dataDir, 'models', 'Stable-diffusion');
mkdirSync(sd, { recursive: true });
copyFileSync(tiny, join(sd, 'tiny-a.safetensors'));
copyFileSync(tiny, join(sd, 'tiny-b.safetensors'));
const sdxl = join(fixtures, 'tiny-sdxl', 'model.safetensors');
if (values.sdxl && existsSync(sdxl)) copyFileSync(sdxl, join(sd, 'tiny-sdxl.safetensors'));

const generator =
  engine === 'inline' ? new EngineGenerator({ dataDir, placeholder: false }) : new WorkerGenerator({ dataDir, placeholder: false, isolation: engine });
console.log(`engine: ${{ inline: 'inline (server thread)', thread: 'worker thread', process: 'its own process' }[engine]}`);
const app = await buildApp({ generator, dataDir });
const base = await app.listen({ port: 0, host: '127.0.0.1' });

const POLLER = `
const { parentPort, workerData } = require('node:worker_threads');
let on = true, lat = [];
parentPort.on('message', (m) => { if (m === 'take') { parentPort.postMessage(lat); lat = []; } if (m === 'stop') on = false; });
(async () => {
  while (on) {
    const t = performance.now();
    try { await (await fetch(workerData + '/sdapi/v1/progress?skip_current_image=true')).arrayBuffer(); } catch {}
    lat.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 20));
  }
})();`;
const poller = new Worker(POLLER, { eval: true, workerData: base });
const take = () =>
  new Promise<number[]>((resolve) => {
    poller.once('message', resolve);
    poller.postMessage('take');
  });

const post = async (path: string, body: unknown) => {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
};

const rows: string[][] = [];
async function scenario(name: string, run: () => Promise<unknown>) {
  await take();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const t = performance.now();
  await run();
  const wall = performance.now() - t;
  loop.disable();
  const lat = await take();
  const f = (x: number) => x.toFixed(0);
  // A scenario shorter than one poll has no latencies to show.
  const stat = (x: number) => (lat.length === 0 ? '–' : f(x));
  rows.push([name, f(wall), String(lat.length), stat(percentile(lat, 0.5)), stat(percentile(lat, 0.99)), stat(Math.max(...lat)), f(loop.max / 1e6)]);
}

const steps = Number(values.steps);
await scenario('first load + compile tiny-a (64², 1 step)', () =>
  post('/sdapi/v1/txt2img', { prompt: 'warm', steps: 1, width: 64, height: 64, override_settings: { sd_model_checkpoint: 'tiny-a' } }),
);
for (const size of values.sizes.split(',').map(Number)) {
  await scenario(`txt2img tiny ${size}², ${steps} steps`, () => post('/sdapi/v1/txt2img', { prompt: 'a cat', steps, width: size, height: size, seed: 1 }));
}
await scenario('switch to tiny-b (POST /options; cached graphs)', () => post('/sdapi/v1/options', { sd_model_checkpoint: 'tiny-b' }));
await scenario('switch back to tiny-a', () => post('/sdapi/v1/options', { sd_model_checkpoint: 'tiny-a' }));
if (values.sdxl && existsSync(sdxl)) {
  await scenario('first load + compile tiny-sdxl (128², 1 step)', () =>
    post('/sdapi/v1/txt2img', { prompt: 'warm', steps: 1, width: 128, height: 128, override_settings: { sd_model_checkpoint: 'tiny-sdxl' } }),
  );
  await scenario(`txt2img tiny-sdxl 256², ${steps} steps`, () =>
    post('/sdapi/v1/txt2img', { prompt: 'a cat', steps, width: 256, height: 256, seed: 1, override_settings: { sd_model_checkpoint: 'tiny-sdxl' } }),
  );
}
poller.postMessage('stop');
await poller.terminate();
await app.close();
await generator.close();

const head = ['scenario', 'wall ms', 'polls', 'p50 ms', 'p99 ms', 'max ms', 'loop stall max ms'];
console.log(`| ${head.join(' | ')} |\n|${head.map(() => ' --- ').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
