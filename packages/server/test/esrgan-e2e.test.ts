/**
 * Model upscalers over HTTP (Extras), with the engine in its own process as `sdapi serve` runs it: an
 * ESRGAN-family `.safetensors` in `models/ESRGAN` is listed by GET /sdapi/v1/upscalers after the built-in ones and
 * runs in POST /extra-single-image. The model is a ×4 RRDBNet whose weights copy each pixel (engine test helper),
 * so its result must equal the built-in Nearest upscale exactly, through the engine process, the tiling and
 * A1111's resize to a multiple of 8. A file that is not an RRDBNet is left out of the list and named on use.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodePng } from '@sdapi/engine';
import { writeCopyModel } from '../../engine/test/helpers/esrgan.ts';
import { needFiles, startTinyEngineServer, type TinyEngineServer } from './helpers/tiny-engine.ts';

const skip = needFiles();
if (skip) console.log(`# skipped: ${skip}`);

let server: TinyEngineServer | undefined;
let base = '';
let esrganDir = '';

before(async () => {
  if (skip) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-esrgan-e2e-'));
  esrganDir = join(dataDir, 'models', 'ESRGAN');
  mkdirSync(esrganDir, { recursive: true });
  writeCopyModel(join(esrganDir, 'Copy 4x.safetensors'));
  writeFileSync(join(esrganDir, 'broken.safetensors'), Buffer.from('{"not": "safetensors"}'));
  server = await startTinyEngineServer('esrgan', {}, { dataDir, engine: 'process' });
  base = server.base;
});
after(() => server?.close());

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

/** A 37×23 RGB PNG of varied colours, base64. */
function testPng(): string {
  const rgb = new Uint8Array(37 * 23 * 3).map((_, i) => (i * 97 + ((i / 3) | 0) * 13) & 0xff);
  return encodePng(rgb, 37, 23).toString('base64');
}

test('GET /upscalers lists the ESRGAN file after the built-in ones (its scale from the file); the broken one is left out', { skip }, async () => {
  const list = (await (await fetch(`${base}/sdapi/v1/upscalers`)).json()) as { name: string; scale: number; model_path: string | null }[];
  assert.deepEqual(
    list.map((u) => [u.name, u.scale]),
    [
      ['None', 4],
      ['Lanczos', 4],
      ['Nearest', 4],
      ['Copy 4x', 4],
    ],
  );
  assert.match(list[3].model_path ?? '', /models\/ESRGAN\/Copy 4x\.safetensors$/);
});

test('extra-single-image with the model upscaler: the same pixels as Nearest (the model copies pixels), tiled in the engine process', { skip }, async () => {
  const image = testPng();
  const request = { image, upscaling_resize: 4 };
  // Tiles of 16 px with 4 px overlap: the 37×23 image is cut into 3×2 tiles, each upscaled alone.
  assert.equal((await post('/sdapi/v1/options', { ESRGAN_tile: 16, ESRGAN_tile_overlap: 4 })).status, 200);
  const model = await post('/sdapi/v1/extra-single-image', { ...request, upscaler_1: 'Copy 4x' });
  const nearest = await post('/sdapi/v1/extra-single-image', { ...request, upscaler_1: 'Nearest' });
  assert.equal(model.status, 200, JSON.stringify(model.body));
  assert.equal(model.body.html_info, '<p>Postprocess upscale by: 4.0, Postprocess upscaler: Copy 4x</p>');
  const [a, b] = [model.body.image, nearest.body.image].map((s: string) => Buffer.from(s, 'base64'));
  // The PNG text differs (the upscaler's name); the pixels must not: compare the decoded images.
  const { decodePng } = await import('@sdapi/engine');
  const [pa, pb] = [decodePng(a), decodePng(b)];
  assert.deepEqual([pa.width, pa.height], [144, 88], '⌊37·4/8⌋·8 × ⌊23·4/8⌋·8');
  assert.deepEqual(pa.rgb, pb.rgb);
});

test('a broken model file is a 422 naming its problem; an unknown name lists the valid ones', { skip }, async () => {
  const broken = await post('/sdapi/v1/extra-single-image', { image: testPng(), upscaler_1: 'broken' });
  assert.equal(broken.status, 422);
  assert.match(broken.body.detail, /upscaler_1: upscaler "broken" cannot be used: .*broken\.safetensors/);
  const unknown = await post('/sdapi/v1/extra-single-image', { image: testPng(), upscaler_1: 'R-ESRGAN 4x+' });
  assert.equal(unknown.status, 422);
  assert.match(unknown.body.detail, /valid choices \(GET \/sdapi\/v1\/upscalers\): None, Lanczos, Nearest, Copy 4x$/);
});

test('a model file dropped in after the start is found when a request names it', { skip }, async () => {
  writeCopyModel(join(esrganDir, 'Late 4x.safetensors'));
  const res = await post('/sdapi/v1/extra-single-image', { image: testPng(), upscaler_1: 'Late 4x', upscaling_resize: 2 });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const list = (await (await fetch(`${base}/sdapi/v1/upscalers`)).json()) as { name: string }[];
  assert.ok(list.some((u) => u.name === 'Late 4x'));
});

test('hires fix with the model upscaler (hr_upscaler): the same image as Nearest at ×4, its name in the infotext', { skip }, async () => {
  const request = {
    prompt: 'a lighthouse',
    seed: 3,
    steps: 2,
    width: 64,
    height: 64,
    sampler_name: 'Euler',
    enable_hr: true,
    hr_scale: 4,
    denoising_strength: 0.5,
  };
  const model = await post('/sdapi/v1/txt2img', { ...request, hr_upscaler: 'Copy 4x' });
  const nearest = await post('/sdapi/v1/txt2img', { ...request, hr_upscaler: 'Nearest' });
  assert.equal(model.status, 200, JSON.stringify(model.body).slice(0, 300));
  const { decodePng } = await import('@sdapi/engine');
  const [a, b] = [model.body.images[0], nearest.body.images[0]].map((s: string) => decodePng(Buffer.from(s, 'base64')));
  assert.deepEqual([a.width, a.height], [256, 256]);
  assert.deepEqual(a.rgb, b.rgb, 'a model that copies pixels ×4 upscales the first pass exactly as Nearest ×4 does');
  assert.match(JSON.parse(model.body.info).infotexts[0], /Hires upscaler: Copy 4x/);
  const unknown = await post('/sdapi/v1/txt2img', { ...request, hr_upscaler: 'R-ESRGAN 4x+' });
  assert.equal(unknown.status, 422);
  assert.match(unknown.body.detail, /valid choices: .*Nearest, Copy 4x/);
});

test('the X/Y/Z "Hires upscaler" axis and the SD upscale script take the model upscaler too (same pixels as Nearest ×4)', { skip }, async () => {
  const hires = {
    prompt: 'a lighthouse',
    seed: 3,
    steps: 1,
    width: 64,
    height: 64,
    sampler_name: 'Euler',
    enable_hr: true,
    hr_scale: 4,
    denoising_strength: 0.5,
  };
  const plot = await post('/sdapi/v1/txt2img', {
    ...hires,
    scripts: { xyz_plot: { x: { axis: 'Hires upscaler', values: 'Nearest, Copy 4x' }, include_lone_images: true } },
  });
  assert.equal(plot.status, 200, JSON.stringify(plot.body).slice(0, 300));
  const { decodePng } = await import('@sdapi/engine');
  const [, viaNearest, viaModel] = (plot.body.images as string[]).map((s) => decodePng(Buffer.from(s, 'base64')));
  assert.deepEqual(viaModel.rgb, viaNearest.rgb);
  const init = encodePng(
    new Uint8Array(32 * 32 * 3).map((_, i) => (i * 41) & 0xff),
    32,
    32,
  ).toString('base64');
  const sdUpscale = (upscaler: string) =>
    post('/sdapi/v1/img2img', {
      init_images: [init],
      prompt: 'tiles',
      seed: 4,
      steps: 1,
      width: 64,
      height: 64,
      denoising_strength: 0.3,
      script_name: 'sd upscale',
      script_args: ['', 32, upscaler, 4],
    });
  const [a, b] = [await sdUpscale('Copy 4x'), await sdUpscale('Nearest')];
  assert.equal(a.status, 200, JSON.stringify(a.body).slice(0, 300));
  const [pa, pb] = [a.body.images[0], b.body.images[0]].map((s: string) => decodePng(Buffer.from(s, 'base64')));
  assert.deepEqual([pa.width, pa.height], [128, 128]);
  assert.deepEqual(pa.rgb, pb.rgb, 'the 128² source each tile is cut from is the same');
});
