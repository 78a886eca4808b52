import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePng } from '@sdapi/engine';
import { fakePixels } from './helpers/fake-generator.ts';
import { startTestServer } from './helpers/http.ts';

const server = await startTestServer();
const SMALL = { width: 16, height: 8, steps: 2 };

async function txt2img(body: unknown) {
  const res = await server.request('/sdapi/v1/txt2img', { method: 'POST', json: body });
  const text = await res.text();
  return { res, text, json: JSON.parse(text) };
}

test('returns images, parameters and info in A1111 key order', async () => {
  const { res, json } = await txt2img({ prompt: 'a cat', seed: 5, ...SMALL });
  assert.equal(res.status, 200);
  assert.deepEqual(Object.keys(json), ['images', 'parameters', 'info']);
  assert.equal(json.images.length, 1);
  assert.equal(typeof json.info, 'string');
});

test('images are bare base64 PNGs whose parameters chunk is info.infotexts[i]', async () => {
  const { json } = await txt2img({ prompt: 'ünïcode 猫', negative_prompt: 'blurry', seed: 7, batch_size: 2, ...SMALL });
  const info = JSON.parse(json.info);
  assert.equal(json.images.length, 2);
  json.images.forEach((b64: string, i: number) => {
    assert.doesNotMatch(b64, /^data:/);
    const png = decodePng(Buffer.from(b64, 'base64'));
    assert.equal(png.text.parameters, info.infotexts[i]);
    assert.deepEqual(png.rgb, fakePixels(7 + i, 16, 8));
  });
  assert.match(
    info.infotexts[1],
    /^ünïcode 猫\nNegative prompt: blurry\nSteps: 2, Sampler: Euler, Schedule type: Automatic, CFG scale: 7.0, Seed: 8, Size: 16x8, /,
  );
});

test('info is Python json.dumps text: spaced separators, ASCII escapes, floats keep .0, §4.6 key order', async () => {
  const { json } = await txt2img({ prompt: 'ü', seed: 3, cfg_scale: 5, ...SMALL });
  assert.match(json.info, /^\{"prompt": "\\u00fc", "all_prompts": \["\\u00fc"\], "negative_prompt": "", /);
  assert.match(json.info, /"subseed_strength": 0, "width": 16, "height": 8, "sampler_name": "Euler", "cfg_scale": 5\.0, "steps": 2, /);
  assert.deepEqual(Object.keys(JSON.parse(json.info)), [
    'prompt',
    'all_prompts',
    'negative_prompt',
    'all_negative_prompts',
    'seed',
    'all_seeds',
    'subseed',
    'all_subseeds',
    'subseed_strength',
    'width',
    'height',
    'sampler_name',
    'cfg_scale',
    'steps',
    'batch_size',
    'restore_faces',
    'face_restoration_model',
    'sd_model_name',
    'sd_model_hash',
    'sd_vae_name',
    'sd_vae_hash',
    'seed_resize_from_w',
    'seed_resize_from_h',
    'denoising_strength',
    'extra_generation_params',
    'index_of_first_image',
    'infotexts',
    'styles',
    'job_timestamp',
    'clip_skip',
    'is_using_inpainting_conditioning',
    'version',
  ]);
  assert.match(json.info, /"denoising_strength": null, .*"version": "v1\.10\.1"\}$/);
});

test('parameters echoes every model field in order with coerced values and Python number types', async () => {
  const { text, json } = await txt2img({ ...SMALL, steps: '2', cfg_scale: 7, subseed_strength: 0, unknown_field: 1, prompt: 12 });
  const keys = Object.keys(json.parameters);
  assert.equal(keys.length, 55);
  assert.deepEqual(keys.slice(0, 3), ['prompt', 'negative_prompt', 'styles']);
  assert.equal(keys.at(-1), 'infotext');
  assert.equal(json.parameters.prompt, '12');
  assert.equal(json.parameters.unknown_field, undefined);
  // Sent floats are floats; the unsent float hr_scale keeps its 2.0; sent subseed_strength 0 becomes 0.0.
  assert.match(text, /"subseed_strength":0\.0,/);
  assert.match(text, /"steps":2,"cfg_scale":7\.0,/);
  assert.match(text, /"hr_scale":2\.0,/);
  assert.match(text, /"sampler_name":null,"scheduler":null,/);
});

test('sampler resolution: legacy "<sampler> <scheduler>" names and aliases reach the engine resolved', async () => {
  await txt2img({ ...SMALL, sampler_name: 'DPM++ 2M Karras' });
  assert.deepEqual(pick(server.generator.calls.at(-1)), ['DPM++ 2M', 'Karras']);
  await txt2img({ ...SMALL, sampler_name: 'k_euler_a', scheduler: 'karras' });
  assert.deepEqual(pick(server.generator.calls.at(-1)), ['Euler a', 'Karras']);
  await txt2img({ ...SMALL, sampler_index: 'Heun' });
  assert.deepEqual(pick(server.generator.calls.at(-1)), ['Heun', 'Automatic']);
});

const pick = (p: { samplerName: string; scheduler: string } | undefined) => [p?.samplerName, p?.scheduler];

test('an unknown sampler is a 422 naming the valid choices (deviation: A1111 1.10 silently uses DPM++ 2M)', async () => {
  const calls = server.generator.calls.length;
  const { res, json } = await txt2img({ ...SMALL, sampler_name: 'Euler b' });
  assert.equal(res.status, 422);
  assert.equal(json.error, 'HTTPException');
  assert.match(json.detail, /"Euler b".*Valid choices: DPM\+\+ 2M, DPM\+\+ SDE, .*Euler a, Euler, /);
  assert.deepEqual([json.body, json.errors], ['', '']);
  assert.equal(server.generator.calls.length, calls, 'nothing was generated');
});

test('unsupported features and nulls are refused with 422 that names the field', async () => {
  for (const [body, pattern] of [
    [{ enable_hr: true }, /enable_hr/],
    [{ steps: null }, /steps must be a number, got null/],
    [{ width: 0 }, /width must be at least 1, got 0/],
  ] as const) {
    const { res, json } = await txt2img({ ...SMALL, ...body });
    assert.equal(res.status, 422, JSON.stringify(body));
    assert.match(json.detail, pattern);
  }
});

test('override_settings apply to the job only; send_images: false returns no images but all infotexts', async () => {
  const { json } = await txt2img({
    ...SMALL,
    override_settings: { CLIP_stop_at_last_layers: 2, eta_noise_seed_delta: 31337 },
    sampler_name: 'Euler a',
    send_images: false,
  });
  assert.deepEqual(json.images, []);
  const info = JSON.parse(json.info);
  assert.equal(info.clip_skip, 2);
  assert.match(info.infotexts[0], /Clip skip: 2, ENSD: 31337/);
  assert.equal(server.generator.calls.at(-1)?.options.CLIP_stop_at_last_layers, 2);
  await txt2img(SMALL);
  assert.equal(server.generator.calls.at(-1)?.options.CLIP_stop_at_last_layers, 1);
});

test('the first job loads the first checkpoint (hashing it) and reports it in info and infotext', async () => {
  const { json } = await txt2img(SMALL);
  const info = JSON.parse(json.info);
  assert.equal(info.sd_model_name, 'v1-5-pruned-emaonly');
  assert.match(info.sd_model_hash, /^[0-9a-f]{10}$/);
  assert.match(info.infotexts[0], new RegExp(`Model hash: ${info.sd_model_hash}, Model: v1-5-pruned-emaonly`));
});
