/**
 * `sdapi generate --lora NAME[:TE[:UNET]]`: the flag's tag syntax, and an in-process run on the tiny SD1.5
 * fixture with the fixture LoRA that reproduces A1111's `e2e_lora` pixels (fixtures/lora/README.md).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodePng, SafetensorsFile } from '@sdapi/engine';
import { loraTag, withLoraTags } from '../src/commands/generate-lora.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURES = resolve(process.env.SDAPI_SHARED ?? join(repo, '../shared'), 'fixtures');
const TINY = join(FIXTURES, 'tiny-sd15', 'model.safetensors');
const LORA = join(FIXTURES, 'lora');
const skip = existsSync(TINY) && existsSync(join(LORA, 'expected.safetensors')) ? false : `fixtures under ${FIXTURES} are absent`;
const dir = mkdtempSync(join(tmpdir(), 'sdapi-cli-lora-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('--lora NAME[:TE[:UNET]] becomes an A1111 tag appended to the prompt; bad values are usage errors', () => {
  assert.equal(loraTag('style'), '<lora:style>');
  assert.equal(loraTag('style:0.8'), '<lora:style:0.8>');
  assert.equal(loraTag('style:0.8:-0.5'), '<lora:style:0.8:-0.5>');
  assert.equal(withLoraTags('a cat', ['x:0.8', 'y']), 'a cat <lora:x:0.8> <lora:y>');
  assert.equal(withLoraTags('', ['x']), '<lora:x>');
  assert.equal(withLoraTags('a cat', undefined), 'a cat');
  for (const bad of ['', ':0.8', 'x:big', 'x:1:2:3', 'a>b:1']) assert.throws(() => loraTag(bad), /--lora must be NAME\[:TE\[:UNET\]\]/, bad);
});

function sdapi(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(repo, 'packages/cli/bin/sdapi.js'), ...args],
      { cwd: dir, timeout: 120_000, env: { ...process.env, SDAPI_REMOTE: '' } },
      (error, stdout, stderr) => {
        done({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

test("in-process --lora lora_kohya:0.8 reproduces A1111's e2e_lora; an unknown name is a warning on stderr", { skip }, async () => {
  const out = join(dir, 'lora.png');
  const common = [
    'generate',
    '--ckpt',
    TINY,
    '--lora-dir',
    LORA,
    '--seed',
    '1234',
    '--steps',
    '10',
    '--sampler',
    'Euler a',
    '--scheduler',
    'Karras',
    '--rng',
    'CPU',
    '--width',
    '64',
    '--height',
    '64',
  ];
  const run = await sdapi([
    ...common,
    '--prompt',
    'a photograph of an astronaut riding a horse',
    '--lora',
    'lora_kohya:0.8',
    '--lora',
    'no_such_lora',
    '-q',
    '-o',
    out,
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /warning: Lora not found: no_such_lora/);
  const png = decodePng(readFileSync(out));
  assert.match(
    png.text.parameters,
    /^a photograph of an astronaut riding a horse <lora:lora_kohya:0\.8> <lora:no_such_lora>\n.*Lora hashes: "lora_kohya: b233a8628c02"/,
  );
  const expected = SafetensorsFile.open(join(LORA, 'expected.safetensors')).readIntegers('e2e_lora.pixels_uint8_hwc');
  const mae = expected.reduce((sum, v, i) => sum + Math.abs(png.rgb[i] - v), 0) / expected.length;
  console.log(`# sdapi generate --lora: mean abs pixel error ${mae.toFixed(4)} vs A1111's e2e_lora`);
  assert.ok(mae <= 0.25, `mean abs ${mae}`);
});
