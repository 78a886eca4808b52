/**
 * The walking skeleton over real HTTP with the real engine: the tiny SD1.5 fixture checkpoint served by
 * EngineGenerator, a txt2img request as A1111 clients send it, and the oracle pixels of A1111's own pipeline
 * (fixtures/samplers/tiny_sd15_cfg7.safetensors `e2e.*.pixels_uint8_hwc`).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodePng, SafetensorsFile } from '@sdapi/engine';
import { postJson } from './helpers/http.ts';
import { SHARED_DIR } from './helpers/spec.ts';
import { needFiles, startTinyEngineServer, type TinyEngineServer } from './helpers/tiny-engine.ts';

const oraclePath = join(SHARED_DIR, 'fixtures', 'samplers', 'tiny_sd15_cfg7.safetensors');
const skip = needFiles(oraclePath);

let base: string;

let server: TinyEngineServer | undefined;

before(async () => {
  if (skip) return;
  server = await startTinyEngineServer('e2e');
  ({ base } = server);
});

after(() => server?.close());

const txt2img = (body: Record<string, unknown>) => postJson(`${base}/sdapi/v1/txt2img`, body);

const ASTRONAUT = {
  prompt: 'a photograph of an astronaut riding a horse',
  negative_prompt: '',
  seed: 1234,
  steps: 10,
  cfg_scale: 7,
  width: 64,
  height: 64,
  override_settings: { randn_source: 'CPU' },
};

for (const [run, sampler_name, scheduler] of [
  ['euler_a.karras.10', 'Euler a', 'Karras'],
  ['dpmpp_2m.karras.10', 'DPM++ 2M', 'Karras'],
  ['euler.uniform.10', 'Euler', 'Uniform'],
  ['ddim.eta0.10', 'DDIM', null],
] as const) {
  test(`POST /sdapi/v1/txt2img reproduces A1111's pixels: ${run}`, { skip }, async () => {
    const { status, body } = await txt2img({ ...ASTRONAUT, sampler_name, scheduler });
    assert.equal(status, 200, JSON.stringify(body));
    const png = decodePng(Buffer.from(body.images[0], 'base64'));
    const expected = SafetensorsFile.open(oraclePath).readIntegers(`e2e.${run}.pixels_uint8_hwc`);
    let sum = 0;
    let close = 0;
    for (let i = 0; i < expected.length; i++) {
      const d = Math.abs(png.rgb[i] - expected[i]);
      sum += d;
      close += d <= 3 ? 1 : 0;
    }
    const mae = sum / expected.length;
    console.log(`# HTTP ${run}: mean abs pixel error ${mae.toFixed(4)}, ${((100 * close) / expected.length).toFixed(2)}% within ±3`);
    assert.ok(mae <= 0.25 && close / expected.length >= 0.99);
    const info = JSON.parse(body.info);
    assert.equal(png.text.parameters, info.infotexts[0], 'the PNG parameters chunk is the infotext');
    assert.deepEqual(info.all_seeds, [1234]);
    const escaped = sampler_name.replace(/[+]/g, '\\+');
    assert.match(
      info.infotexts[0],
      new RegExp(
        `^a photograph of an astronaut riding a horse\nSteps: 10, Sampler: ${escaped}, .*Seed: 1234, Size: 64x64, Model hash: [0-9a-f]{10}, Model: model, RNG: CPU, Version: v1\\.10\\.1$`,
      ),
    );
  });
}

test('a 2×2 batch gives 4 images with seeds s…s+3 and a 120-word prompt works', { skip }, async () => {
  const prompt = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
  const { status, body } = await txt2img({ prompt, seed: 10, steps: 2, width: 64, height: 64, batch_size: 2, n_iter: 2, sampler_name: 'Euler' });
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.images.length, 4);
  assert.deepEqual(JSON.parse(body.info).all_seeds, [10, 11, 12, 13]);
});

test('an unknown sampler is a 422 naming the valid choices; GET lists answer', { skip }, async () => {
  const { status, body } = await txt2img({ prompt: 'x', sampler_name: 'Euler z', steps: 1, width: 64, height: 64 });
  assert.equal(status, 422);
  assert.match(body.detail, /Euler a/);
  const models = (await (await fetch(`${base}/sdapi/v1/sd-models`)).json()) as { title: string; sha256: string | null }[];
  assert.equal(models.length, 1);
  assert.match(models[0].title, /^model\.safetensors \[[0-9a-f]{10}\]$/, 'hashed once loaded');
});
