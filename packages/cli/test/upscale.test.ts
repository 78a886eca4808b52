/**
 * `sdapi upscale` in-process and with --remote against the real server (buildApp): both write the same PNG,
 * byte for byte (Pillow-exact Lanczos, the input's `parameters` and the `postprocessing` chunk); in-process
 * it also runs the ESRGAN files of `--data-dir`, and refuses what it does not have (other upscalers, face
 * restoration) with a usage error.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodePng, encodePng, encodePngRgba } from '@sdapi/engine';
import { buildApp } from '@sdapi/server';
import { writeCopyModel } from '../../engine/test/helpers/esrgan.ts';
import { FakeGenerator } from '../../server/test/helpers/fake-generator.ts';

const BIN = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../..'), 'packages/cli/bin/sdapi.js');
const dir = mkdtempSync(join(tmpdir(), 'sdapi-cli-upscale-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function sdapi(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir, timeout: 120_000, env: { ...process.env, SDAPI_REMOTE: '' } }, (error, stdout, stderr) => {
      done({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const W = 20;
const H = 12;
writeFileSync(
  join(dir, 'in-rgba.png'),
  encodePngRgba(
    new Uint8Array(W * H * 4).map((_, i) => (i % 4 === 3 ? (i * 5) & 0xff : (i * 37) & 0xff)),
    W,
    H,
  ),
);
writeFileSync(
  join(dir, 'in.png'),
  encodePng(
    new Uint8Array(W * H * 3).map((_, i) => (i * 37) & 0xff),
    W,
    H,
    { parameters: 'a cat\nSteps: 3' },
  ),
);

test('in-process and --remote upscales give the same file', async () => {
  const local = await sdapi(['upscale', 'in.png', '-o', 'local.png', '--upscaler', 'Lanczos', '--scale', '2.5', '--json']);
  assert.equal(local.code, 0, local.stderr);
  assert.deepEqual(JSON.parse(local.stdout), { path: 'local.png', html_info: '<p>Postprocess upscale by: 2.5, Postprocess upscaler: Lanczos</p>' });
  const png = decodePng(readFileSync(join(dir, 'local.png')));
  assert.deepEqual([png.width, png.height], [48, 24]);
  assert.deepEqual(png.text, { parameters: 'a cat\nSteps: 3', postprocessing: 'Postprocess upscale by: 2.5, Postprocess upscaler: Lanczos' });

  const app = await buildApp({ generator: new FakeGenerator() });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  after(() => app.close());
  const remote = await sdapi(['upscale', 'in.png', '-o', 'remote.png', '--remote', url, '--upscaler', 'Lanczos', '--scale', '2.5']);
  assert.equal(remote.code, 0, remote.stderr);
  assert.deepEqual(readFileSync(join(dir, 'remote.png')), readFileSync(join(dir, 'local.png')));

  const boxed = await sdapi(['upscale', 'in.png', '-o', 'box.png', '--remote', url, '--width', '64', '--height', '32', '--upscaler', 'Nearest']);
  assert.equal(boxed.code, 0, boxed.stderr);
  assert.deepEqual([decodePng(readFileSync(join(dir, 'box.png'))).width, decodePng(readFileSync(join(dir, 'box.png'))).height], [64, 32]);
  // RGBA stays RGBA, the same way on both sides.
  const rgbaLocal = await sdapi(['upscale', 'in-rgba.png', '-o', 'rgba-local.png', '--upscaler', 'Lanczos']);
  const rgbaRemote = await sdapi(['upscale', 'in-rgba.png', '-o', 'rgba-remote.png', '--remote', url, '--upscaler', 'Lanczos']);
  assert.equal(rgbaLocal.code + rgbaRemote.code, 0, rgbaLocal.stderr + rgbaRemote.stderr);
  assert.equal(decodePng(readFileSync(join(dir, 'rgba-local.png'))).hasAlpha, true);
  assert.deepEqual(readFileSync(join(dir, 'rgba-remote.png')), readFileSync(join(dir, 'rgba-local.png')));
  const unknown = await sdapi(['upscale', 'in.png', '-o', 'x.png', '--remote', url, '--upscaler', 'R-ESRGAN 4x+']);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /could not find upscaler named "R-ESRGAN 4x\+"/);
});

test('in-process: an ESRGAN file in --data-dir runs (a pixel-copying ×4 model gives Nearest ×4); an unknown name and face restoration are usage errors', async () => {
  const models = join(dir, 'data', 'models', 'ESRGAN');
  mkdirSync(models, { recursive: true });
  writeCopyModel(join(models, 'Copy 4x.safetensors'));
  const viaModel = await sdapi(['upscale', 'in.png', '-o', 'model.png', '--upscaler', 'Copy 4x', '--scale', '4', '--data-dir', 'data', '--json']);
  assert.equal(viaModel.code, 0, viaModel.stderr);
  assert.match(JSON.parse(viaModel.stdout).html_info, /Postprocess upscaler: Copy 4x/);
  assert.equal((await sdapi(['upscale', 'in.png', '-o', 'nearest.png', '--upscaler', 'Nearest', '--scale', '4'])).code, 0);
  const [a, b] = ['model.png', 'nearest.png'].map((f) => decodePng(readFileSync(join(dir, f))));
  assert.deepEqual([a.width, a.height], [80, 48]);
  assert.deepEqual(a.rgb, b.rgb);
  const model = await sdapi(['upscale', 'in.png', '-o', 'x.png', '--upscaler', 'R-ESRGAN 4x+']);
  assert.equal(model.code, 2);
  assert.match(model.stderr, /unknown upscaler 'R-ESRGAN 4x\+' in-process \(valid: None, Lanczos, Nearest\)/);
  assert.match(model.stderr, /models\/ESRGAN \(--data-dir\), or use --remote URL/);
  const face = await sdapi(['upscale', 'in.png', '-o', 'x.png', '--gfpgan', '0.5']);
  assert.equal(face.code, 2);
  assert.match(face.stderr, /face restoration .* not available in-process/);
});
