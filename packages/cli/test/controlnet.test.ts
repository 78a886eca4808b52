/** `sdapi generate --controlnet MODEL:IMAGE[:WEIGHT]` on the tiny fixtures, and the spec parser. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodePng } from '@sdapi/engine';
import { parseControlNetSpec } from '../src/commands/generate-controlnet.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(repo, 'packages/cli/bin/sdapi.js');
const FIXTURES = resolve(process.env.SDAPI_SHARED ?? join(repo, '../shared'), 'fixtures');
const skip = existsSync(join(FIXTURES, 'controlnet', 'e2e_controlnet.png')) ? false : `fixtures under ${FIXTURES} are absent`;
const dir = mkdtempSync(join(tmpdir(), 'sdapi-cli-cn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const sdapi = (args: string[]) =>
  new Promise<{ code: number; stderr: string }>((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir, timeout: 120_000, env: { ...process.env, SDAPI_REMOTE: '' } }, (error, _stdout, stderr) => {
      done({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stderr });
    });
  });

test('parseControlNetSpec splits MODEL:IMAGE[:WEIGHT]', () => {
  assert.deepEqual(parseControlNetSpec('canny:edges.png'), { model: 'canny', image: 'edges.png', weight: 1 });
  assert.deepEqual(parseControlNetSpec('tiny-controlnet [8dba536e]:hint.png:0.5'), { model: 'tiny-controlnet [8dba536e]', image: 'hint.png', weight: 0.5 });
  assert.throws(() => parseControlNetSpec('canny'), /MODEL:IMAGE/);
  assert.throws(() => parseControlNetSpec('canny:a.png:3'), /within 0..2/);
});

test('sdapi generate --controlnet reproduces the Balanced oracle image (e2e_controlnet)', { skip }, async () => {
  const out = join(dir, 'cn.png');
  const cn = join(FIXTURES, 'controlnet');
  const { code, stderr } = await sdapi([
    'generate',
    '--ckpt',
    join(FIXTURES, 'tiny-sd15', 'model.safetensors'),
    '--prompt',
    'a photograph of an astronaut riding a horse',
    '--seed',
    '1234',
    '--steps',
    '10',
    '--width',
    '64',
    '--height',
    '64',
    '--sampler',
    'Euler a',
    '--scheduler',
    'Karras',
    '--rng',
    'CPU',
    '--controlnet',
    `${join(cn, 'tiny-controlnet.safetensors')}:${join(cn, 'hint.png')}:1`,
    '-q',
    '-o',
    out,
  ]);
  assert.equal(code, 0, stderr);
  const actual = decodePng(readFileSync(out));
  const expected = decodePng(readFileSync(join(cn, 'e2e_controlnet.png'))).rgb;
  let sum = 0;
  for (let i = 0; i < expected.length; i++) sum += Math.abs(actual.rgb[i] - expected[i]);
  console.log(`# CLI e2e_controlnet: mean abs pixel error ${(sum / expected.length).toFixed(4)}`);
  assert.ok(sum / expected.length <= 0.25);
  assert.match(actual.text.parameters, /ControlNet 0: "Module: none, Model: tiny-controlnet \[8dba536e\], Weight: 1.0, /);
});

test('an unknown --controlnet model is a one-line error with a hint', { skip }, async () => {
  const { code, stderr } = await sdapi([
    'generate',
    '--ckpt',
    join(FIXTURES, 'tiny-sd15', 'model.safetensors'),
    '--controlnet',
    `nope:${join(FIXTURES, 'controlnet', 'hint.png')}`,
    '-o',
    join(dir, 'x.png'),
  ]);
  assert.notEqual(code, 0);
  assert.match(stderr, /--controlnet model 'nope' is neither a file nor in/);
});
