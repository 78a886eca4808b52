/**
 * `sdapi generate --remote` through the jobs API: on an sdapi server the txt2img body becomes a v2 job and the
 * progress bar is fed by that job's events; Ctrl-C cancels the job; an A1111 server (no /sdapi/v2) falls back
 * to the polling path.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SDClient } from '@sdapi/client';
import { decodePng, encodePng } from '@sdapi/engine';
import { buildApp } from '@sdapi/server';
import { FakeGenerator } from '../../server/test/helpers/fake-generator.ts';
import { generateViaJob } from '../src/commands/generate-job.ts';
import type { ProgressBar, ProgressReading } from '../src/progress-bar.ts';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../bin/sdapi.js');
const dir = mkdtempSync(join(tmpdir(), 'sdapi-cli-jobs-'));
const generator = new FakeGenerator();
generator.stepDelayMs = 5;
const app = await buildApp({ generator });
const url = await app.listen({ port: 0, host: '127.0.0.1' });
after(() => app.close());

function sdapi(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir, timeout: 60_000, env: { ...process.env, SDAPI_REMOTE: '' } }, (error, stdout, stderr) => {
      done({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A ProgressBar stand-in that records what it is given. */
function recordingBar() {
  const readings: ProgressReading[] = [];
  return { readings, bar: { update: (p: ProgressReading) => readings.push(p), done: () => undefined } as unknown as ProgressBar };
}

test('generate --remote on sdapi runs a v2 job and writes its PNG', async () => {
  const run = await sdapi([
    'generate',
    '--remote',
    url,
    '--prompt',
    'via a job',
    '--seed',
    '3',
    '--steps',
    '4',
    '--width',
    '8',
    '--height',
    '8',
    '-o',
    'j.png',
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'j.png  seed 3\n');
  const png = decodePng(readFileSync(join(dir, 'j.png')));
  assert.match(png.text.parameters, /^via a job\nSteps: 4, .*Seed: 3, Size: 8x8/);
  const jobs = (await (await fetch(`${url}/sdapi/v2/jobs?limit=1`)).json()) as { jobs: { source: string; status: string }[] };
  assert.deepEqual([jobs.jobs[0].source, jobs.jobs[0].status], ['v2', 'succeeded']);
});

test('the progress bar is fed by the job events: fractions rise to 1 with steps', async () => {
  const { readings, bar } = recordingBar();
  const client = new SDClient({ baseURL: url });
  const out = await generateViaJob(
    client,
    { type: 'txt2img', body: { prompt: 'bar', steps: 6, width: 8, height: 8, batch_size: 2, n_iter: 2 } },
    bar,
    new AbortController().signal,
  );
  assert.ok(out && out !== 'interrupted');
  assert.equal(out.images.length, 4);
  assert.ok(readings.length >= 12);
  for (let i = 1; i < readings.length; i++) assert.ok(readings[i].fraction >= readings[i - 1].fraction);
  assert.deepEqual([readings.at(-1)?.fraction, readings.at(-1)?.steps], [1, 12], 'steps over both batches');
});

test('an abort (Ctrl-C) cancels this job on the server', async () => {
  const { readings, bar } = recordingBar();
  const controller = new AbortController();
  const client = new SDClient({ baseURL: url });
  const waiting = generateViaJob(client, { type: 'txt2img', body: { prompt: 'stop me', steps: 500, width: 8, height: 8 } }, bar, controller.signal);
  while (readings.length < 2) await new Promise((r) => setTimeout(r, 10));
  controller.abort();
  assert.equal(await waiting, 'interrupted');
  const last = (await (await fetch(`${url}/sdapi/v2/jobs?limit=1`)).json()) as { jobs: { status: string }[] };
  const deadline = Date.now() + 5000;
  let status = last.jobs[0].status;
  while (status !== 'cancelled' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    status = ((await (await fetch(`${url}/sdapi/v2/jobs?limit=1`)).json()) as { jobs: { status: string }[] }).jobs[0].status;
  }
  assert.equal(status, 'cancelled');
});

test('against A1111 (no /sdapi/v2/jobs) generate --remote falls back to the sync route', async () => {
  const png = encodePng(new Uint8Array(8 * 8 * 3).fill(90), 8, 8, { parameters: 'from a1111' }).toString('base64');
  const paths: string[] = [];
  const a1111 = createServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    req.resume();
    res.setHeader('content-type', 'application/json');
    if (req.method === 'POST' && req.url === '/sdapi/v1/txt2img') {
      return res.end(JSON.stringify({ images: [png], parameters: {}, info: JSON.stringify({ seed: 77, all_seeds: [77], infotexts: ['from a1111'] }) }));
    }
    if (req.url?.startsWith('/sdapi/v1/progress')) {
      const state = { job_count: 0, sampling_step: 0, sampling_steps: 0, job_no: 0 };
      return res.end(JSON.stringify({ progress: 0, eta_relative: 0, state, current_image: null, textinfo: null }));
    }
    res.statusCode = 404;
    res.end('{"detail":"Not Found"}');
  });
  await new Promise<void>((r) => a1111.listen(0, '127.0.0.1', r));
  after(() => a1111.close());
  const run = await sdapi(['generate', '--remote', `http://127.0.0.1:${(a1111.address() as AddressInfo).port}`, '--prompt', 'x', '-o', 'a.png']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'a.png  seed 77\n');
  assert.ok(paths.includes('POST /sdapi/v2/jobs') && paths.includes('POST /sdapi/v1/txt2img'), paths.join(', '));
});
