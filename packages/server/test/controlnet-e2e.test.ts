/**
 * ControlNet over real HTTP with the real engine: tiny-controlnet.safetensors in `<data-dir>/models/ControlNet`,
 * the five requests of fixtures/controlnet/e2e_cases.json as sent, and their PNGs (issue bounds: mean abs ≤ 0.25,
 * ≥ 99% within ±3); the extension's model list, detected map and infotext.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodePng } from '@sdapi/engine';
import { buildApp } from '../src/app.ts';
import { EngineGenerator } from '../src/services/engine-generator.ts';
import type { SdApiInstance } from '../src/types.ts';
import { postJson } from './helpers/http.ts';
import { SHARED_DIR } from './helpers/spec.ts';

const fixtures = join(SHARED_DIR, 'fixtures');
const ckpt = join(fixtures, 'tiny-sd15', 'model.safetensors');
const cnDir = join(fixtures, 'controlnet');
const skip =
  existsSync(ckpt) && existsSync(join(cnDir, 'e2e_cases.json')) ? false : `fixtures under ${fixtures} are absent (../shared is not beside this clone)`;

let app: SdApiInstance;
let base: string;
let generator: EngineGenerator;

before(async () => {
  if (skip) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-cn-e2e-'));
  mkdirSync(join(dataDir, 'models', 'ControlNet'), { recursive: true });
  copyFileSync(join(cnDir, 'tiny-controlnet.safetensors'), join(dataDir, 'models', 'ControlNet', 'tiny-controlnet.safetensors'));
  generator = new EngineGenerator({ dataDir, ckpt, placeholder: false });
  app = await buildApp({ generator, dataDir });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await app?.close();
  await generator?.close();
});

const post = (path: string, body: unknown) => postJson(`${base}${path}`, body);

const agreement = (actual: Uint8Array, expected: Uint8Array) => {
  let sum = 0;
  let close = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    sum += d;
    close += d <= 3 ? 1 : 0;
  }
  return { mae: sum / expected.length, within3: close / expected.length };
};

test('GET /controlnet/model_list shows the tiny ControlNet as `stem [hash8]`', { skip }, async () => {
  const response = await fetch(`${base}/controlnet/model_list`);
  assert.deepEqual(await response.json(), { model_list: ['tiny-controlnet [8dba536e]'] });
});

const cases: { id: string; png: string; request_txt2img: Record<string, any> }[] = skip
  ? []
  : JSON.parse(readFileSync(join(cnDir, 'e2e_cases.json'), 'utf8')).cases;

for (const c of skip ? [{ id: 'e2e cases', png: '', request_txt2img: {} }] : cases) {
  test(`POST /sdapi/v1/txt2img with ControlNet reproduces ${c.id}`, { skip }, async () => {
    const request: Record<string, any> = { ...c.request_txt2img, override_settings: { randn_source: 'CPU' } };
    const { status, body } = await post('/sdapi/v1/txt2img', request);
    assert.equal(status, 200, JSON.stringify(body).slice(0, 400));
    const expected = decodePng(readFileSync(join(cnDir, c.png))).rgb;
    const { mae, within3 } = agreement(decodePng(Buffer.from(body.images[0], 'base64')).rgb, expected);
    console.log(`# ${c.id}: mean abs pixel error ${mae.toFixed(4)}, ${(within3 * 100).toFixed(2)}% within ±3`);
    assert.ok(mae <= 0.25 && within3 >= 0.99, `${c.id}: mean abs ${mae}, ${within3} within ±3`);
    const controlled = Boolean(request.alwayson_scripts);
    assert.equal(body.images.length, controlled ? 2 : 1, 'the detected map follows the image');
    if (controlled) {
      assert.deepEqual(decodePng(Buffer.from(body.images[1], 'base64')).rgb, decodePng(readFileSync(join(cnDir, 'hint.png'))).rgb);
      const unit = request.alwayson_scripts.controlnet.args[0];
      const info = JSON.parse(body.info);
      const f = (v: number) => (Number.isInteger(v) ? `${v}.0` : String(v));
      assert.equal(
        info.extra_generation_params['ControlNet 0'],
        `Module: none, Model: tiny-controlnet [8dba536e], Weight: ${f(unit.weight)}, Resize Mode: Crop and Resize, Processor Res: 512, Threshold A: 0.5, Threshold B: 0.5, Guidance Start: ${f(unit.guidance_start)}, Guidance End: ${f(unit.guidance_end)}, Pixel Perfect: False, Control Mode: ${unit.control_mode}`,
      );
      assert.match(info.infotexts[0], /ControlNet 0: "Module: none, Model: tiny-controlnet \[8dba536e\], /);
    }
  });
}

test('the typed top-level `controlnet` field is the same unit (webuiapi-style "ControlNet" key too)', { skip }, async () => {
  const c = cases.find((x) => x.id === 'e2e_controlnet');
  assert.ok(c);
  const { alwayson_scripts, ...rest } = c.request_txt2img;
  const typed = await post('/sdapi/v1/txt2img', { ...rest, controlnet: alwayson_scripts.controlnet.args, override_settings: { randn_source: 'CPU' } });
  const keyed = await post('/sdapi/v1/txt2img', {
    ...rest,
    alwayson_scripts: { ControlNet: alwayson_scripts.controlnet },
    override_settings: { randn_source: 'CPU' },
  });
  assert.equal(typed.status, 200, JSON.stringify(typed.body).slice(0, 300));
  assert.equal(typed.body.images[0], keyed.body.images[0]);
  const expected = decodePng(readFileSync(join(cnDir, c.png))).rgb;
  assert.ok(agreement(decodePng(Buffer.from(typed.body.images[0], 'base64')).rgb, expected).mae <= 0.25);
});

test('hires fix with a unit: both passes run, hr_option is honoured, and the hires map precedes the first-pass map', { skip }, async () => {
  const c = cases.find((x) => x.id === 'e2e_controlnet');
  assert.ok(c);
  const unit = c.request_txt2img.alwayson_scripts.controlnet.args[0];
  const job = (hr_option: string) => ({
    ...c.request_txt2img,
    steps: 3,
    enable_hr: true,
    hr_scale: 2,
    hr_second_pass_steps: 2,
    denoising_strength: 0.5,
    alwayson_scripts: { controlnet: { args: [{ ...unit, hr_option }] } },
    override_settings: { randn_source: 'CPU' },
  });
  const both = await post('/sdapi/v1/txt2img', job('Both'));
  const low = await post('/sdapi/v1/txt2img', job('Low res only'));
  assert.equal(both.status, 200, JSON.stringify(both.body).slice(0, 300));
  assert.equal(low.status, 200, JSON.stringify(low.body).slice(0, 300));
  const sizes = both.body.images.map((b64: string) => {
    const png = decodePng(Buffer.from(b64, 'base64'));
    return `${png.width}x${png.height}`;
  });
  assert.deepEqual(sizes, ['128x128', '128x128', '64x64'], 'image, hires map, first-pass map');
  assert.notEqual(both.body.images[0], low.body.images[0], '"Low res only" leaves the hires pass uncontrolled');
  const bad = await post('/sdapi/v1/txt2img', job('Sometimes'));
  assert.equal(bad.status, 422);
  assert.match(JSON.stringify(bad.body), /hr_option/);
});

test('a unit naming an unknown model is a 422 naming the unit and field, not a silently dropped control', { skip }, async () => {
  const c = cases.find((x) => x.id === 'e2e_controlnet');
  assert.ok(c);
  const unit = { ...c.request_txt2img.alwayson_scripts.controlnet.args[0], model: 'tiny-controlnet [deadbeef]' };
  const { status, body } = await post('/sdapi/v1/txt2img', { ...c.request_txt2img, alwayson_scripts: { controlnet: { args: [unit] } } });
  assert.equal(status, 422);
  assert.deepEqual(body.detail[0].loc, ['body', 'alwayson_scripts', 'controlnet', 'args', 0, 'model']);
  assert.match(body.detail[0].msg, /model not found: tiny-controlnet \[deadbeef\]; available: tiny-controlnet \[8dba536e\]/);
});

test('progress and interrupt keep working while a ControlNet unit runs', { skip }, async () => {
  const c = cases.find((x) => x.id === 'e2e_controlnet');
  assert.ok(c);
  const pending = post('/sdapi/v1/txt2img', { ...c.request_txt2img, steps: 400 });
  // Wait until sampling is under way (steps counted), so the interrupt lands inside the ControlNet-driven loop.
  // The state keeps the previous job's step counters until this one starts, so also wait for its 400 steps.
  let progress = { progress: 0, state: { sampling_step: 0, sampling_steps: 0, job_count: 0 } };
  const running = () => progress.state.job_count > 0 && progress.state.sampling_steps === 400 && progress.state.sampling_step >= 2;
  for (let i = 0; i < 400 && !running(); i++) {
    await new Promise((r) => setTimeout(r, 25));
    progress = (await (await fetch(`${base}/sdapi/v1/progress`)).json()) as typeof progress;
  }
  assert.ok(
    running() && progress.progress > 0 && progress.progress < 1,
    `progress ${JSON.stringify(progress).slice(0, 200)} while sampling`,
  );
  assert.equal((await fetch(`${base}/sdapi/v1/interrupt`, { method: 'POST' })).status, 200);
  const { status, body } = await pending;
  assert.equal(status, 200);
  assert.equal(body.images.length, 2, 'the interrupted image, then the detected map');
});

test("a unit mask that is not uniform replaces the control image (the extension's canvas-scribble rule); save_detected_map false drops the map", {
  skip,
}, async () => {
  const c = cases.find((x) => x.id === 'e2e_controlnet');
  assert.ok(c);
  const rgb = new Uint8Array(64 * 64 * 3).map((_, i) => (Math.floor(i / 3) % 64 < 20 ? 255 : 0));
  const { encodePng } = await import('@sdapi/engine');
  const mask = encodePng(rgb, 64, 64).toString('base64');
  const unit = { ...c.request_txt2img.alwayson_scripts.controlnet.args[0], mask };
  const masked = await post('/sdapi/v1/txt2img', { ...c.request_txt2img, steps: 2, alwayson_scripts: { controlnet: { args: [unit] } } });
  assert.equal(masked.status, 200);
  assert.deepEqual(decodePng(Buffer.from(masked.body.images[1], 'base64')).rgb, rgb);
  const unsaved = await post('/sdapi/v1/txt2img', {
    ...c.request_txt2img,
    steps: 2,
    alwayson_scripts: { controlnet: { args: [{ ...unit, save_detected_map: false }] } },
  });
  assert.equal(unsaved.body.images.length, 1);
});

test('v2 jobs take the same units (typed `controlnet` field); a bad unit is refused at submit', { skip }, async () => {
  const c = cases.find((x) => x.id === 'e2e_controlnet');
  assert.ok(c);
  const { alwayson_scripts, ...rest } = c.request_txt2img;
  const params = { ...rest, controlnet: alwayson_scripts.controlnet.args, override_settings: { randn_source: 'CPU' } };
  const submitted = await post('/sdapi/v2/jobs', { type: 'txt2img', params });
  assert.ok(submitted.status === 200 || submitted.status === 201 || submitted.status === 202, JSON.stringify(submitted.body).slice(0, 300));
  let job = submitted.body;
  for (let i = 0; i < 400 && !['succeeded', 'failed', 'cancelled'].includes(job.status); i++) {
    await new Promise((r) => setTimeout(r, 50));
    job = (await (await fetch(`${base}/sdapi/v2/jobs/${job.id}`)).json()) as Record<string, any>;
  }
  assert.equal(job.status, 'succeeded', JSON.stringify(job).slice(0, 300));
  const png = new Uint8Array(await (await fetch(`${base}/sdapi/v2/jobs/${job.id}/images/0`)).arrayBuffer());
  const { mae } = agreement(decodePng(png).rgb, decodePng(readFileSync(join(cnDir, c.png))).rgb);
  assert.ok(mae <= 0.25, `v2 job image mean abs ${mae}`);
  const bad = await post('/sdapi/v2/jobs', { type: 'txt2img', params: { ...params, controlnet: [{ ...params.controlnet[0], module: 'nope' }] } });
  assert.equal(bad.status, 422);
});
