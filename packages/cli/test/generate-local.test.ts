/**
 * `sdapi generate` in-process img2img / inpainting on the tiny SD1.5 fixture (child process, as a user runs it),
 * and the flag checks of the local job builder.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeImage, encodeImage, encodePng } from '@sdapi/engine';
import { localJob } from '../src/commands/generate-local.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const BIN = join(repo, 'packages/cli/bin/sdapi.js');
const TINY = resolve(process.env.SDAPI_SHARED ?? join(repo, '../shared'), 'fixtures/tiny-sd15/model.safetensors');
const skip = existsSync(TINY) ? false : `fixture ${TINY} is absent (../shared is not beside this clone)`;
const dir = mkdtempSync(join(tmpdir(), 'sdapi-cli-local-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function sdapi(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir, timeout: 120_000, env: { ...process.env, SDAPI_REMOTE: '' } }, (error, stdout, stderr) => {
      done({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const gradient = (w: number, h: number) => new Uint8Array(w * h * 3).map((_, i) => (i % 3 === 0 ? ((i / 3) % w) * 4 : 100));
const BASE = { prompt: 'p', 'negative-prompt': '', sampler: 'Euler', scheduler: 'Automatic' };

test('sdapi generate --init-image JPEG --resize-mode 1 --denoising-strength: an img2img PNG of the requested size', { skip }, async () => {
  const init = join(dir, 'init.jpg');
  writeFileSync(init, await encodeImage(gradient(40, 24), 40, 24, { format: 'jpeg' }));
  const out = join(dir, 'img2img.png');
  const run = await sdapi([
    'generate',
    '--ckpt',
    TINY,
    '--init-image',
    init,
    '--resize-mode',
    '1',
    '--denoising-strength',
    '0.6',
    '--width',
    '64',
    '--height',
    '48',
    '--steps',
    '3',
    '--seed',
    '4',
    '-o',
    out,
  ]);
  assert.equal(run.code, 0, run.stderr);
  const png = await decodeImage(readFileSync(out));
  assert.deepEqual([png.width, png.height], [64, 48]);
  assert.match(png.text.parameters, /Seed: 4, Size: 64x48, .*Denoising strength: 0\.6/);
});

test('sdapi generate --init-image --mask: inpainting keeps the unmasked pixels', { skip }, async () => {
  const [w, h] = [64, 64];
  const pixels = gradient(w, h);
  writeFileSync(join(dir, 'in.png'), encodePng(pixels, w, h));
  const mask = new Uint8Array(w * h * 3);
  for (let y = 0; y < 32; y++) mask.fill(255, y * w * 3, y * w * 3 + 32 * 3);
  writeFileSync(join(dir, 'mask.png'), encodePng(mask, w, h));
  const out = join(dir, 'inpaint.png');
  const run = await sdapi([
    'generate',
    '--ckpt',
    TINY,
    '--init-image',
    join(dir, 'in.png'),
    '--mask',
    join(dir, 'mask.png'),
    '--mask-blur',
    '0',
    '--width',
    '64',
    '--height',
    '64',
    '--steps',
    '3',
    '-o',
    out,
  ]);
  assert.equal(run.code, 0, run.stderr);
  const png = await decodeImage(readFileSync(out));
  let changed = 0;
  for (let p = 0; p < w * h; p++) if (mask[p * 3] === 0) for (let c = 0; c < 3; c++) changed += png.rgba[p * 4 + c] !== pixels[p * 3 + c] ? 1 : 0;
  assert.equal(changed, 0, 'unmasked pixels as they were');
});

test('sdapi generate --hires-scale 2: a double-size PNG with the Hires infotext keys', { skip }, async () => {
  const out = join(dir, 'hires.png');
  const run = await sdapi([
    'generate',
    '--ckpt',
    TINY,
    '--hires-scale',
    '2',
    '--hires-steps',
    '2',
    '--hires-upscaler',
    'Latent (nearest)',
    '--denoising-strength',
    '0.5',
    '--width',
    '64',
    '--height',
    '32',
    '--steps',
    '2',
    '--seed',
    '8',
    '-o',
    out,
  ]);
  assert.equal(run.code, 0, run.stderr);
  const png = await decodeImage(readFileSync(out));
  assert.deepEqual([png.width, png.height], [128, 64]);
  assert.match(png.text.parameters, /Size: 64x32, .*Denoising strength: 0\.5, .*Hires upscale: 2(\.0)?, Hires steps: 2, Hires upscaler: Latent \(nearest\)/);
});

test('local job flags: hires flags map to the engine hires fix; bad values name the flag', async () => {
  const job = await localJob({ ...BASE, 'hires-scale': '1.5', 'hires-steps': '4', 'hires-upscaler': 'Latent (bicubic)' }, { width: 64, height: 64 });
  assert.equal(job.kind, 'txt2img');
  assert.deepEqual(
    [job.params.hires?.scale, job.params.hires?.secondPassSteps, job.params.hires?.upscaler, job.params.denoisingStrength],
    [1.5, 4, 'Latent (bicubic)', 0.7],
  );
  await assert.rejects(localJob({ ...BASE, mask: 'm.png' }, {}), /--mask needs --init-image/);
  await assert.rejects(localJob({ ...BASE, 'hires-scale': '0' }, {}), /--hires-scale must be > 0/);
  await assert.rejects(localJob({ ...BASE, 'init-image': [join(dir, 'nope.png')] }, {}), /--init-image .*nope\.png: ENOENT/);
  writeFileSync(join(dir, 'text.png'), 'not an image');
  await assert.rejects(localJob({ ...BASE, 'init-image': [join(dir, 'text.png')] }, {}), /is not an image/);
  writeFileSync(join(dir, 'ok.png'), encodePng(gradient(8, 8), 8, 8));
  await assert.rejects(localJob({ ...BASE, 'init-image': [join(dir, 'ok.png')], 'resize-mode': '7' }, {}), /--resize-mode must be one of 0, 1, 2, 3, got '7'/);
  await assert.rejects(localJob({ ...BASE, 'init-image': [join(dir, 'ok.png')], 'hires-scale': '2' }, {}), /txt2img only/);
  const two = await localJob({ ...BASE, 'init-image': [join(dir, 'ok.png'), join(dir, 'ok.png')], 'inpainting-fill': 'latent-noise' }, { batchSize: 1 });
  assert.ok(two.kind === 'img2img');
  assert.deepEqual([two.params.batchSize, two.params.inpaintingFill, two.params.denoisingStrength], [2, 2, 0.75]);
});
