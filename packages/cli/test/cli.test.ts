/**
 * The `sdapi` CLI as a child process: in-process generation on the tiny SD1.5 fixture, --remote work against the
 * real server (buildApp + the fake generator), png-info, models, upscale against a minimal A1111 double, and the
 * exit codes and one-line errors.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodePng, encodePng } from '@sdapi/engine';
import { buildApp } from '@sdapi/server';
import { FakeGenerator } from '../../server/test/helpers/fake-generator.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const BIN = join(repo, 'packages/cli/bin/sdapi.js');
const TINY = resolve(process.env.SDAPI_SHARED ?? join(repo, '../shared'), 'fixtures/tiny-sd15/model.safetensors');
const dir = mkdtempSync(join(tmpdir(), 'sdapi-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `sdapi ...args` (or `npx sdapi` with npx: true) and resolves with its exit code and output. */
function sdapi(args: string[], { npx = false } = {}): Promise<Run> {
  // npx resolves the workspace's bin from the repository root, as a user would run it there.
  const [cmd, argv, cwd] = npx ? ['npx', ['--no-install', 'sdapi', ...args], repo] : [process.execPath, [BIN, ...args], dir];
  return new Promise((done) => {
    execFile(cmd, argv, { cwd, timeout: 120_000, env: { ...process.env, SDAPI_REMOTE: '' } }, (error, stdout, stderr) => {
      done({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr: stderr.replace(/^npm warn .*\n/gm, '') });
    });
  });
}

describe('in-process generate on the tiny SD1.5 checkpoint', { skip: existsSync(TINY) ? false : `${TINY} is absent` }, () => {
  test('npx sdapi generate writes a 64×64 PNG whose infotext holds Seed: 9', async () => {
    const out = join(dir, 'x.png');
    const run = await sdapi(['generate', '--ckpt', TINY, '--prompt', 'P', '--seed', '9', '--steps', '3', '--width', '64', '--height', '64', '-o', out], {
      npx: true,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${out}  seed 9\n`);
    const png = decodePng(readFileSync(out));
    assert.deepEqual([png.width, png.height], [64, 64]);
    assert.match(png.text.parameters, /^P\nSteps: 3, Sampler: Euler a, .*Seed: 9, Size: 64x64/);
  });

  test('--json prints the written files with seeds and infotexts; png-info reads them back', async () => {
    const run = await sdapi([
      'generate',
      '--ckpt',
      TINY,
      '--prompt',
      'P',
      '--seed',
      '9',
      '--steps',
      '2',
      '--width',
      '64',
      '--height',
      '64',
      '--batch-size',
      '2',
      '-o',
      'b.png',
      '--json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { images: { path: string; seed: number; infotext: string }[] };
    assert.deepEqual(
      out.images.map((i) => [i.path, i.seed]),
      [
        ['b-1.png', 9],
        ['b-2.png', 10],
      ],
    );
    const info = await sdapi(['png-info', 'b-2.png', '--json']);
    assert.equal(info.code, 0, info.stderr);
    const parsed = JSON.parse(info.stdout) as { info: string; parameters: Record<string, unknown> };
    assert.equal(parsed.info, out.images[1].infotext);
    assert.equal(String(parsed.parameters.Seed), '10');
  });
});

describe('--remote against the server', async () => {
  const generator = new FakeGenerator();
  const app = await buildApp({ generator });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  after(() => app.close());

  test('generate --remote writes the server PNGs (txt2img body with A1111 names)', async () => {
    const run = await sdapi([
      'generate',
      '--remote',
      url,
      '--prompt',
      'a cat',
      '--seed',
      '5',
      '--steps',
      '2',
      '--width',
      '8',
      '--height',
      '8',
      '--sampler',
      'DPM++ 2M',
      '--clip-skip',
      '2',
      '-o',
      'r.png',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'r.png  seed 5\n');
    const png = decodePng(readFileSync(join(dir, 'r.png')));
    assert.deepEqual([png.width, png.height], [8, 8]);
    assert.match(png.text.parameters, /^a cat\nSteps: 2, Sampler: DPM\+\+ 2M, .*Seed: 5, .*Clip skip: 2/);
    const call = generator.calls.at(-1);
    assert.deepEqual([call?.prompt, call?.seed, call?.samplerName, call?.options.CLIP_stop_at_last_layers], ['a cat', 5, 'DPM++ 2M', 2]);
  });

  test('generate --remote --json, and a 422 from the server is exit 4 with one line', async () => {
    const run = await sdapi([
      'generate',
      '--remote',
      url,
      '--seed',
      '1',
      '--steps',
      '1',
      '--width',
      '8',
      '--height',
      '8',
      '--n-iter',
      '2',
      '-o',
      'j.png',
      '--json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { images: { path: string; seed: number }[]; info: { all_seeds: number[] } };
    assert.deepEqual(
      out.images.map((i) => i.path),
      ['j-1.png', 'j-2.png'],
    );
    assert.deepEqual(out.info.all_seeds, [1, 2]);
    const bad = await sdapi(['generate', '--remote', url, '--sampler', 'nope', '--steps', '1', '-o', 'n.png']);
    assert.equal(bad.code, 4);
    // On sdapi the body goes out as a v2 job (generate-job.ts): the same 422, from POST /sdapi/v2/jobs.
    assert.match(bad.stderr, /^error: 422 POST http:\/\/127\.0\.0\.1:\d+\/sdapi\/v2\/jobs: Sampler not found.*\(hint: check the named field/);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
  });

  test('generate --remote --init-image: img2img through the client (or one clear line while the server cannot)', async () => {
    rmSync(join(dir, 'i.png'), { force: true });
    const init = join(dir, 'init.png');
    await import('node:fs').then((fs) => fs.writeFileSync(init, encodePng(new Uint8Array(8 * 8 * 3).fill(90), 8, 8)));
    const run = await sdapi([
      'generate',
      '--remote',
      url,
      '--init-image',
      init,
      '--denoising-strength',
      '0.5',
      '--steps',
      '2',
      '--width',
      '8',
      '--height',
      '8',
      '-o',
      'i.png',
    ]);
    if (run.code === 0) {
      assert.ok(existsSync(join(dir, 'i.png')));
      assert.equal(run.stdout.split('  ')[0], 'i.png');
    } else {
      // The route or the fake generator's img2img may not exist yet: a 4xx, reported on one line.
      assert.equal(run.code, 4, run.stderr);
      assert.match(run.stderr, /^error: 4\d\d POST http:\/\/127\.0\.0\.1:\d+\/sdapi\/v1\/img2img: .*\n$/);
    }
  });

  test('models --remote lists the titles, --json the sd-models items', async () => {
    const run = await sdapi(['models', '--remote', url]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^\* v1-5-pruned-emaonly\.safetensors \[[0-9a-f]{10}\]$/, 'the loaded one is marked');
    assert.equal(lines[1], '  sub/other.safetensors');
    const json = JSON.parse((await sdapi(['models', '--remote', url, '--json'])).stdout) as { model_name: string }[];
    assert.deepEqual(
      json.map((m) => m.model_name),
      ['v1-5-pruned-emaonly', 'sub_other'],
    );
  });
});

describe('upscale against a minimal A1111 double', async () => {
  const seen: { auth?: string; body: Record<string, unknown> }[] = [];
  const double = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      seen.push({ auth: req.headers.authorization, body: JSON.parse(text) });
      const out = Buffer.from(encodePng(new Uint8Array(16 * 16 * 3).fill(7), 16, 16)).toString('base64');
      res.setHeader('content-type', 'application/json');
      res.end(
        req.url === '/sdapi/v1/extra-single-image' ? JSON.stringify({ html_info: '<p>Postprocess upscale by: 2</p>', image: out }) : '{"detail":"Not Found"}',
      );
    });
  });
  await new Promise<void>((r) => double.listen(0, '127.0.0.1', r));
  after(() => double.close());
  const port = (double.address() as { port: number }).port;

  test('sends extra-single-image with the image as a data URL and writes the result; credentials from the URL', async () => {
    const input = join(dir, 'small.png');
    await import('node:fs').then((fs) => fs.writeFileSync(input, encodePng(new Uint8Array(8 * 8 * 3).fill(1), 8, 8)));
    const run = await sdapi([
      'upscale',
      input,
      '-o',
      'up.png',
      '--remote',
      `http://me:s%C3%A9cret@127.0.0.1:${port}`,
      '--upscaler',
      'Nearest',
      '--scale',
      '2',
      '--json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { path: 'up.png', html_info: '<p>Postprocess upscale by: 2</p>' });
    assert.deepEqual(decodePng(readFileSync(join(dir, 'up.png'))).width, 16);
    const { auth, body } = seen[0];
    assert.equal(auth, `Basic ${Buffer.from('me:sécret').toString('base64')}`);
    assert.deepEqual({ ...body, image: String(body.image).slice(0, 22) }, { upscaler_1: 'Nearest', upscaling_resize: 2, image: 'data:image/png;base64,' });
  });
});

/** A port nothing listens on (bound, then released). */
const CLOSED_PORT = await new Promise<number>((done) => {
  const probe = createServer();
  probe.listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number };
    probe.close(() => done(port));
  });
});

describe('errors: one line, a hint, a meaningful exit code', { concurrency: true }, () => {
  const cases: [string, string[], number, RegExp][] = [
    ['unknown command', ['paint'], 2, /^error: unknown command 'paint' \(hint: valid commands: serve, worker, generate, upscale, xyz, png-info, models, inspect\)$/],
    ['unknown flag', ['generate', '--bogus'], 2, /^error: Unknown option '--bogus'.*\(hint: run with --help for the options\)$/],
    ['missing output', ['generate', '--prompt', 'x'], 2, /^error: -o\/--output is required .*\(hint: e\.g\. -o out\.png\)$/],
    [
      'bad number',
      ['generate', '--steps', 'many', '-o', 'a.png', '--remote', `http://127.0.0.1:${CLOSED_PORT}`],
      2,
      /^error: --steps must be a number, got 'many'$/,
    ],
    ['upscale of a missing file', ['upscale', 'a.png', '-o', 'b.png'], 3, /^error: ENOENT: no such file or directory, open 'a\.png' \(hint: check the file path\)$/],
    ['missing file', ['png-info', 'nope.png'], 3, /^error: ENOENT: no such file or directory, open 'nope\.png' \(hint: check the file path\)$/],
    [
      'unreachable server',
      ['models', '--remote', `http://127.0.0.1:${CLOSED_PORT}`],
      6,
      /^error: GET http:\/\/127\.0\.0\.1:\d+\/sdapi\/v1\/(sd-models|options) failed: ECONNREFUSED \(hint: is the server running\? check the --remote URL\)$/,
    ],
  ];
  for (const [name, args, code, message] of cases) {
    test(`${name} → exit ${code}`, async () => {
      const run = await sdapi(args);
      assert.equal(run.code, code, run.stderr);
      assert.match(run.stderr.trimEnd(), message);
      assert.equal(run.stderr.trimEnd().split('\n').length, 1);
    });
  }

  test('--help lists the commands and the exit codes', async () => {
    const run = await sdapi(['--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /png-info/);
    assert.match(run.stdout, /4 the server rejected the request \(4xx\)/);
  });
});
