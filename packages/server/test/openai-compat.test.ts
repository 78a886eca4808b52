/**
 * The OpenAI-compatible routes driven by the official `openai` npm client, unmodified, against a server on port 0
 * with `--api-keys`: images.generate (b64_json and url), models.list, and errors in OpenAI's shape.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePng } from '@sdapi/engine';
import OpenAI from 'openai';
import { fakePixels } from './helpers/fake-generator.ts';
import { startTestServer } from './helpers/http.ts';

const server = await startTestServer({ apiKeys: 'sk-local-1,sk-local-2', apiAuth: 'me:pw' });
const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-local-2', maxRetries: 0 });
// The client's size type lists OpenAI's sizes only; any "WxH" is valid here.
const size = (s: string) => s as '256x256';

test('images.generate b64_json: a decodable 64×64 PNG with its infotext, made by a job in the one queue', async () => {
  const { data, response } = await openai.images
    .generate({ prompt: 'a red fox', size: size('64x64'), response_format: 'b64_json', seed: 42, steps: 3 } as OpenAI.ImageGenerateParamsNonStreaming)
    .withResponse();
  assert.equal(data.data?.length, 1);
  const png = decodePng(Buffer.from(data.data?.[0].b64_json ?? '', 'base64'));
  assert.deepEqual([png.width, png.height], [64, 64]);
  assert.deepEqual(png.rgb, fakePixels(42, 64, 64));
  assert.match(png.text.parameters, /^a red fox\nSteps: 3, Sampler: Euler, .*Seed: 42, Size: 64x64, /);
  assert.ok(Math.abs((data.created ?? 0) - Date.now() / 1000) < 60);
  const jobId = response.headers.get('x-job-id') ?? '';
  const job = await server.request(`/sdapi/v2/jobs/${jobId}`, { headers: { authorization: 'Bearer sk-local-1' } });
  assert.deepEqual([(await job.json()).source, job.status], ['openai', 200]);
});

test('images.generate url + n: absolute image URLs that serve the PNGs (with the same auth)', async () => {
  const res = await openai.images.generate({ prompt: 'two', n: 2, size: size('32x16'), seed: 7 } as OpenAI.ImageGenerateParamsNonStreaming);
  assert.equal(res.data?.length, 2);
  for (const [i, item] of (res.data ?? []).entries()) {
    assert.match(item.url ?? '', new RegExp(`^${server.url}/sdapi/v2/jobs/[0-9a-f-]{36}/images/${i}$`));
    assert.equal((await fetch(item.url ?? '')).status, 401, 'the image URL is behind the same auth');
    const img = await fetch(item.url ?? '', { headers: { authorization: 'Bearer sk-local-2' } });
    assert.deepEqual(decodePng(Buffer.from(await img.arrayBuffer())).rgb, fakePixels(7 + i, 32, 16));
  }
});

test('models.list gives the checkpoints; model picks one for the job', async () => {
  const models = [];
  for await (const m of openai.models.list()) models.push(m);
  assert.deepEqual(
    models.map((m) => [m.id, m.object, m.owned_by]),
    [
      ['v1-5-pruned-emaonly.safetensors', 'model', 'sdapi'],
      ['sub/other.safetensors', 'model', 'sdapi'],
    ],
  );
  await openai.images.generate({
    prompt: 'other model',
    model: 'sub/other.safetensors',
    size: size('8x8'),
    steps: 1,
  } as OpenAI.ImageGenerateParamsNonStreaming);
  assert.equal(server.generator.loads.at(-1), 'sub/other.safetensors');
});

test("errors come in OpenAI's shape and classes: bad key 401, bad size 400, unknown model 404", async () => {
  const wrongKey = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-nope', maxRetries: 0 });
  await assert.rejects(wrongKey.models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError && e.code === 'invalid_api_key');
  await assert.rejects(
    openai.images.generate({ prompt: 'x', size: size('big') }),
    (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'size' && /WIDTHxHEIGHT/.test(e.message),
  );
  await assert.rejects(
    openai.images.generate({ prompt: 'x', model: 'dall-e-3' }),
    (e: unknown) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found' && /available models: v1-5-pruned-emaonly\.safetensors/.test(e.message),
  );
  await assert.rejects(
    openai.images.generate({ prompt: 'x', size: size('8x8'), sampler_name: 'Euler z' } as OpenAI.ImageGenerateParamsNonStreaming),
    (e: unknown) => e instanceof OpenAI.BadRequestError && /Euler z/.test(e.message),
  );
  const raw = await server.request('/v1/images/generations', { method: 'POST', json: { n: 1 }, headers: { authorization: 'Bearer sk-local-1' } });
  assert.equal(raw.status, 400);
  assert.deepEqual(await raw.json(), { error: { message: 'body.prompt: field required', type: 'invalid_request_error', param: 'prompt', code: null } });
  const basic = await server.request('/v1/models', { headers: { authorization: `Basic ${Buffer.from('me:pw').toString('base64')}` } });
  assert.equal(basic.status, 200, 'Basic credentials work here too');
});

test('--api-keys also guards the A1111 and v2 routes (Bearer besides Basic)', async () => {
  assert.equal((await server.request('/sdapi/v1/sd-models')).status, 401);
  assert.equal((await server.request('/sdapi/v1/sd-models', { headers: { authorization: 'Bearer sk-local-1' } })).status, 200);
  const bad = await server.request('/sdapi/v2/capabilities', { headers: { authorization: 'Bearer wrong' } });
  assert.deepEqual([bad.status, (await bad.json()).detail], [401, 'Invalid API key']);
});
