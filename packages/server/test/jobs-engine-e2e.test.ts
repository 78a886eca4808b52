/**
 * Jobs with the real engine (tiny SD1.5 fixture): a v2 job's image URL serves the exact PNG the sync route
 * returns for the same request, with A1111's pixels (oracle `e2e.euler_a.karras.10`) and the infotext chunk; the
 * official openai client gets a decodable 64×64 PNG from the engine.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodePng, SafetensorsFile } from '@sdapi/engine';
import OpenAI from 'openai';
import { postJson } from './helpers/http.ts';
import { SHARED_DIR } from './helpers/spec.ts';
import { needFiles, startTinyEngineServer, type TinyEngineServer } from './helpers/tiny-engine.ts';

const oraclePath = join(SHARED_DIR, 'fixtures', 'samplers', 'tiny_sd15_cfg7.safetensors');
const skip = needFiles(oraclePath);

let base: string;

let server: TinyEngineServer | undefined;

before(async () => {
  if (skip) return;
  server = await startTinyEngineServer('jobs-e2e');
  ({ base } = server);
});

after(() => server?.close());

const ASTRONAUT = {
  prompt: 'a photograph of an astronaut riding a horse',
  seed: 1234,
  steps: 10,
  cfg_scale: 7,
  width: 64,
  height: 64,
  sampler_name: 'Euler a',
  scheduler: 'Karras',
  override_settings: { randn_source: 'CPU' },
};

const post = (path: string, body: unknown) => postJson(base + path, body);

test('a v2 job on the engine: its image URL serves the exact PNG of the sync route, with A1111 pixels', { skip }, async () => {
  const sync = await post('/sdapi/v1/txt2img', ASTRONAUT);
  assert.equal(sync.status, 200, JSON.stringify(sync.body));
  const { body: queued } = await post('/sdapi/v2/jobs', { type: 'txt2img', params: ASTRONAUT });
  let job: Record<string, any> = queued;
  for (const deadline = Date.now() + 60_000; !['succeeded', 'failed'].includes(job.status) && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 50));
    job = (await (await fetch(`${base}/sdapi/v2/jobs/${queued.id}`)).json()) as Record<string, any>;
  }
  assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
  const bytes = Buffer.from(await (await fetch(base + job.result.images[0].url)).arrayBuffer());
  assert.equal(bytes.toString('base64'), sync.body.images[0], 'byte-identical to the sync response');
  const png = decodePng(bytes);
  assert.equal(png.text.parameters, job.result.images[0].infotext);
  assert.equal(png.text.parameters, JSON.parse(sync.body.info).infotexts[0]);
  const expected = SafetensorsFile.open(oraclePath).readIntegers('e2e.euler_a.karras.10.pixels_uint8_hwc');
  let sum = 0;
  for (let i = 0; i < expected.length; i++) sum += Math.abs(png.rgb[i] - expected[i]);
  const mae = sum / expected.length;
  console.log(`# v2 job euler_a.karras.10: mean abs pixel error ${mae.toFixed(4)} vs A1111`);
  assert.ok(mae <= 0.25);
  assert.match(job.result.parameters.override_settings.sd_model_checkpoint, /^model\.safetensors \[[0-9a-f]{10}\]$/);
});

test('the official openai client gets a decodable 64×64 PNG from the engine', { skip }, async () => {
  const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0 });
  const res = await openai.images.generate({
    prompt: 'a cat',
    size: '64x64' as '256x256',
    response_format: 'b64_json',
    steps: 2,
  } as OpenAI.ImageGenerateParamsNonStreaming);
  const png = decodePng(Buffer.from(res.data?.[0].b64_json ?? '', 'base64'));
  assert.deepEqual([png.width, png.height, png.rgb.length], [64, 64, 64 * 64 * 3]);
  assert.match(png.text.parameters, /^a cat\nSteps: 2, Sampler: Euler, .*Size: 64x64, Model hash: [0-9a-f]{10}, Model: model, /);
});

test('preview: N puts a latent preview (PNG data URL) in every Nth progress event, live only', { skip }, async () => {
  const ws = await import('ws');
  const client = new ws.default(`${base.replace('http', 'ws')}/sdapi/v2/ws`);
  const events: Record<string, any>[] = [];
  // The id is chosen here, so an event that comes before the POST's answer is still recognised as this job's.
  const id = `preview-${process.pid}`;
  // Subscribed before the job exists: previews are live only, a late subscriber's replay has none.
  await new Promise<void>((resolve, reject) => {
    client.on('open', () => client.send(JSON.stringify({ op: 'subscribe', jobs: ['*'] })));
    client.on('message', async (data) => {
      const m = JSON.parse(String(data));
      if (m.op === 'subscribe') {
        const res = await post('/sdapi/v2/jobs', { type: 'txt2img', params: { ...ASTRONAUT, steps: 6 }, preview: 2, id });
        if (res.status !== 202) reject(new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`));
      }
      if (m.job) events.push(m);
      if (m.job === id && (m.event === 'succeeded' || m.event === 'failed')) resolve();
    });
    client.on('error', reject);
  });
  client.close();
  const previews = events.filter((e) => e.job === id && e.event === 'progress' && typeof e.preview === 'string');
  assert.ok(previews.length >= 2 && previews.length <= 4, `${previews.length} previews for 6 steps every 2`);
  const png = decodePng(Buffer.from(previews[0].preview.replace(/^data:image\/png;base64,/, ''), 'base64'));
  assert.deepEqual([png.width, png.height], [8, 8], 'latent size (64 / 8)');
  const replay = await (await fetch(`${base}/sdapi/v2/jobs/${id}/events`)).text();
  assert.doesNotMatch(replay, /"preview"/, 'previews are not stored');
});
