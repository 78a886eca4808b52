/** The cheap GET lists clients call at start-up (spec §3.12, §3.14, §3.20, §3.22–§3.24), over HTTP. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { naturalCompare } from '../src/services/vae-files.ts';
import { startTestServer } from './helpers/http.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-lists-'));
for (const f of [
  'models/VAE/vae10.safetensors',
  'models/VAE/vae9.pt',
  'models/VAE/sub/Anime.ckpt',
  'models/VAE/sub/Bright.safetensors',
  'models/VAE/notes.txt',
  'models/Stable-diffusion/m.vae.safetensors',
  'models/Stable-diffusion/m.safetensors',
]) {
  mkdirSync(join(dataDir, f, '..'), { recursive: true });
  writeFileSync(join(dataDir, f), 'x');
}
const server = await startTestServer({ dataDir });
const get = async (path: string) => {
  const res = await server.request(path);
  assert.equal(res.status, 200, path);
  return { text: await res.text() };
};
const json = async (path: string) => JSON.parse((await get(path)).text);

test('/upscalers: only what this server has (None, Lanczos, Nearest), A1111 item shape with float scale', async () => {
  const { text } = await get('/sdapi/v1/upscalers');
  assert.equal(
    text,
    '[{"name":"None","model_name":null,"model_path":null,"model_url":null,"scale":4.0},{"name":"Lanczos","model_name":null,"model_path":null,"model_url":null,"scale":4.0},{"name":"Nearest","model_name":null,"model_path":null,"model_url":null,"scale":4.0}]',
  );
});

test('/latent-upscale-modes: the six latent modes in A1111 order', async () => {
  assert.deepEqual(
    await json('/sdapi/v1/latent-upscale-modes'),
    ['Latent', 'Latent (antialiased)', 'Latent (bicubic)', 'Latent (bicubic antialiased)', 'Latent (nearest)', 'Latent (nearest-exact)'].map((name) => ({
      name,
    })),
  );
});

test('/sd-vae: models/VAE/** and *.vae.safetensors beside checkpoints, natural-sorted by file name; pickles (.ckpt/.pt) never listed', async () => {
  const list = (await json('/sdapi/v1/sd-vae')) as { model_name: string; filename: string }[];
  assert.deepEqual(
    list.map((v) => v.model_name),
    ['Bright.safetensors', 'm.vae.safetensors', 'vae10.safetensors'],
  );
  assert.equal(list[0].filename, join(dataDir, 'models/VAE/sub/Bright.safetensors'));
  assert.ok(naturalCompare('a2', 'a10') < 0 && naturalCompare('B', 'a') > 0);
});

test('lists of what this server does not have are empty: hypernetworks, face restorers, Real-ESRGAN, extensions', async () => {
  for (const path of ['hypernetworks', 'face-restorers', 'realesrgan-models', 'extensions']) assert.deepEqual(await json(`/sdapi/v1/${path}`), [], path);
});

test('scripts: the selectable ones we run, then the always-on ControlNet, one argument per unit slot (webuiapi looks for it here)', async () => {
  assert.deepEqual(await json('/sdapi/v1/scripts'), {
    txt2img: ['prompt matrix', 'prompts from file or textbox', 'x/y/z plot', 'controlnet'],
    img2img: [
      'loopback',
      'outpainting mk2',
      "poor man's outpainting",
      'prompt matrix',
      'prompts from file or textbox',
      'sd upscale',
      'x/y/z plot',
      'controlnet',
    ],
  });
  const info = await json('/sdapi/v1/script-info');
  assert.deepEqual(
    info.map((s: { name: string; is_alwayson: boolean; is_img2img: boolean }) => [s.name, s.is_alwayson, s.is_img2img]),
    [
      ['prompt matrix', false, false],
      ['prompts from file or textbox', false, false],
      ['x/y/z plot', false, false],
      ['controlnet', true, false],
      ['loopback', false, true],
      ['outpainting mk2', false, true],
      ["poor man's outpainting", false, true],
      ['prompt matrix', false, true],
      ['prompts from file or textbox', false, true],
      ['sd upscale', false, true],
      ['x/y/z plot', false, true],
      ['controlnet', true, true],
    ],
  );
  const controlNet = info.find((s: { name: string }) => s.name === 'controlnet');
  assert.equal(controlNet.args.length, 3, 'control_net_unit_count default');
  assert.deepEqual(
    [controlNet.args[0].value.enabled, controlNet.args[0].value.module, controlNet.args[0].value.model, controlNet.args[0].value.weight],
    [false, 'none', 'None', 1],
  );
});

test('/memory: process RSS as used, system memory as total, cuda unavailable', async () => {
  const { text } = await get('/sdapi/v1/memory');
  assert.match(text, /^\{"ram":\{"free":\d+\.0,"used":\d+,"total":\d+\.0\},"cuda":/, 'free and total are floats, used an int');
  const { ram, cuda } = JSON.parse(text);
  assert.deepEqual(Object.keys(ram), ['free', 'used', 'total']);
  assert.ok(Number.isInteger(ram.used) && ram.used > 10e6 && ram.used < ram.total, `used ${ram.used}`);
  assert.equal(ram.total, totalmem());
  assert.equal(ram.free, ram.total - ram.used);
  assert.deepEqual(cuda, { error: 'unavailable' });
});
