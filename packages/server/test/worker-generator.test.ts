/**
 * The engine in its own process (issue 13 §8; `sdapi serve` uses it; engine-host.ts): same pixels and infotext as
 * the engine in the server's thread, progress and the live preview come through, interrupt stops a running job,
 * error codes keep their statuses (an unusable checkpoint is a 422), embeddings list, a crash of the engine's
 * process fails only the job in flight, close() ends the process; the worker-thread variant gives the same image.
 * How long /progress waits with and without the worker is measured by scripts/event-loop-probe.ts, not here.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildApp } from '../src/app.ts';
import { WorkerGenerator } from '../src/services/worker-generator.ts';
import type { SdApiInstance } from '../src/types.ts';
import { needFiles, startTinyEngineServer, TINY_SD15_CKPT, type TinyEngineServer } from './helpers/tiny-engine.ts';

const skip = needFiles();
if (skip) console.log(`# skipped: ${skip}`);

let inline: TinyEngineServer | undefined;
let app: SdApiInstance | undefined;
let generator: WorkerGenerator | undefined;
let base = '';

before(async () => {
  if (skip) return;
  inline = await startTinyEngineServer('inline');
  const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-worker-'));
  mkdirSync(join(dataDir, 'models', 'Stable-diffusion'), { recursive: true });
  writeFileSync(join(dataDir, 'models', 'Stable-diffusion', 'broken.safetensors'), readFileSync(TINY_SD15_CKPT).subarray(0, 5000));
  generator = new WorkerGenerator({ dataDir, ckpt: TINY_SD15_CKPT, placeholder: false });
  app = await buildApp({ generator, dataDir });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await app?.close();
  await generator?.close();
  await inline?.close();
});

const post = async (url: string, body: unknown) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

/**
 * Long enough that a loaded CI machine cannot finish it between the test seeing step 1 and the interrupt or kill
 * (150 steps at 64², about 150 ms here, once did); both tests stop it early, so the length costs no time.
 */
const LONG_JOB = { prompt: 'a cat', seed: 1, steps: 1000, width: 128, height: 128, sampler_name: 'Euler' };

/** The `info` JSON text without the job's start time (the only field two runs may differ in). */
const infoText = (info: string) => info.replace(/"job_timestamp": "\d+"/, '"job_timestamp": ""');

test('same image and info as the engine in the server thread, hires fix included (its infotext callbacks and Python floats cross the process boundary)', {
  skip,
}, async () => {
  const request = {
    prompt: 'a lighthouse',
    negative_prompt: 'fog',
    seed: 7,
    subseed: 5,
    steps: 4,
    width: 64,
    height: 64,
    sampler_name: 'Euler a',
    batch_size: 2,
  };
  const hires = {
    ...request,
    batch_size: 1,
    steps: 2,
    enable_hr: true,
    hr_scale: 1.5,
    denoising_strength: 0.55,
    hr_upscaler: 'Lanczos',
    hr_prompt: 'a lighthouse at night',
  };
  for (const body of [request, hires]) {
    const inWorker = await post(`${base}/sdapi/v1/txt2img`, body);
    const inThread = await post(`${inline?.base}/sdapi/v1/txt2img`, body);
    assert.equal(inWorker.status, 200, JSON.stringify(inWorker.body).slice(0, 300));
    assert.deepEqual(inWorker.body.images, inThread.body.images);
    // The whole info, as text: `Denoising strength` must stay a Python float (0.55), not an object.
    assert.equal(infoText(inWorker.body.info), infoText(inThread.body.info));
  }
  const options = (await (await fetch(`${base}/sdapi/v1/options`)).json()) as { sd_model_checkpoint: string };
  assert.match(options.sd_model_checkpoint, /^model\.safetensors/);
});

test('progress comes through while a job runs, and /interrupt stops it early', { skip }, async () => {
  const running = post(`${base}/sdapi/v1/txt2img`, LONG_JOB);
  let seen: Record<string, any> | undefined;
  for (let i = 0; i < 2000 && !seen; i++) {
    const p = (await (await fetch(`${base}/sdapi/v1/progress`)).json()) as Record<string, any>;
    if (p.state.sampling_step > 2) seen = p;
    else await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(seen, 'no progress seen while the job ran');
  assert.ok(seen.progress > 0 && seen.state.sampling_steps === LONG_JOB.steps, JSON.stringify(seen.state));
  assert.equal((await fetch(`${base}/sdapi/v1/interrupt`, { method: 'POST' })).status, 200);
  const result = await running;
  assert.equal(result.status, 200);
  const after = (await (await fetch(`${base}/sdapi/v1/progress`)).json()) as Record<string, any>;
  assert.ok(after.state.sampling_step < LONG_JOB.steps, `the job ran to step ${after.state.sampling_step} of ${LONG_JOB.steps} after the interrupt`);
});

test('an unusable checkpoint is still a 422 naming the file; embeddings list; the worker keeps serving', { skip }, async () => {
  const res = await post(`${base}/sdapi/v1/txt2img`, { prompt: 'x', steps: 1, width: 64, height: 64, override_settings: { sd_model_checkpoint: 'broken' } });
  assert.equal(res.status, 422, JSON.stringify(res.body));
  assert.match(res.body.detail, /broken\.safetensors/);
  const embeddings = await fetch(`${base}/sdapi/v1/embeddings`);
  assert.equal(embeddings.status, 200);
  assert.deepEqual(Object.keys((await embeddings.json()) as object), ['loaded', 'skipped']);
  assert.equal((await post(`${base}/sdapi/v1/txt2img`, { prompt: 'x', steps: 1, width: 64, height: 64 })).status, 200);
});

test('close() ends the worker; later calls say the server is shutting down', { skip }, async () => {
  const g = new WorkerGenerator({ dataDir: mkdtempSync(join(tmpdir(), 'sdapi-worker-close-')), ckpt: TINY_SD15_CKPT, placeholder: false });
  assert.equal((await g.listCheckpoints()).length, 1);
  await g.close();
  await assert.rejects(g.listCheckpoints(), { code: 'SHUTTING_DOWN' });
});

test('kill -9 of the engine process mid-job: that request fails with a 500 naming the cause, the server goes on with a fresh engine', { skip }, async () => {
  const running = post(`${base}/sdapi/v1/txt2img`, LONG_JOB);
  for (let i = 0; i < 2000; i++) {
    const p = (await (await fetch(`${base}/sdapi/v1/progress?skip_current_image=true`)).json()) as { state: { sampling_step: number } };
    if (p.state.sampling_step > 0) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const pid = generator?.enginePid;
  assert.ok(pid && pid !== process.pid, 'the engine runs in a process of its own');
  process.kill(pid, 'SIGKILL');
  const crashed = await running;
  assert.equal(crashed.status, 500, JSON.stringify(crashed.body));
  assert.match(JSON.stringify(crashed.body), /generator process exited \(signal SIGKILL\)/);
  assert.equal((await fetch(`${base}/sdapi/v1/progress`)).status, 200);
  const next = await post(`${base}/sdapi/v1/txt2img`, { prompt: 'x', steps: 1, width: 64, height: 64 });
  assert.equal(next.status, 200, JSON.stringify(next.body));
  assert.notEqual(generator?.enginePid, pid, 'a fresh engine process');
});

test('the engine in a worker thread (isolation: thread) gives the same image as in a process', { skip }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-worker-thread-'));
  const threaded = new WorkerGenerator({ dataDir, ckpt: TINY_SD15_CKPT, placeholder: false, isolation: 'thread' });
  const threadApp = await buildApp({ generator: threaded, dataDir });
  try {
    const threadBase = await threadApp.listen({ port: 0, host: '127.0.0.1' });
    const request = { prompt: 'a lighthouse', seed: 9, steps: 3, width: 64, height: 64, sampler_name: 'Euler a' };
    const a = await post(`${threadBase}/sdapi/v1/txt2img`, request);
    const b = await post(`${base}/sdapi/v1/txt2img`, request);
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(threaded.enginePid, null, 'a thread has no process of its own');
    assert.deepEqual(a.body.images, b.body.images);
  } finally {
    await threadApp.close();
    await threaded.close();
  }
});
