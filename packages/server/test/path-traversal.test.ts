/**
 * Names never leave their folders (issue 13 §6; A1111 #12822 `/file=`, ComfyUI #12285 symlink escape). A
 * "secret" checkpoint (a working copy of the tiny model) and a LoRA sit OUTSIDE the data folder, and a symlink
 * inside models/Stable-diffusion points at the secret checkpoint. A corpus of traversal spellings (`../`, encoded,
 * double-encoded, backslashes, absolute paths, NUL, `file:`) is sent through every route and field that takes a
 * name: none reaches the secret files (they would load and show up as `Model: secret` or a Lora hash), no answer
 * carries a file's contents, and nothing is a 5xx except A1111's documented `POST /options` RuntimeError.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startTestServer } from './helpers/http.ts';
import { needFiles, startTinyEngineServer, TINY_SD15_CKPT, type TinyEngineServer } from './helpers/tiny-engine.ts';

const skip = needFiles();
if (skip) console.log(`# skipped: ${skip}`);

let server: TinyEngineServer | undefined;
let base = '';
const outside = mkdtempSync(join(tmpdir(), 'sdapi-outside-'));
const SECRET_CKPT = join(outside, 'secret.safetensors');
const SECRET_TEXT = 'SDAPI-SECRET-7f3a9c';

/** Every spelling of "the secret file" a client might try, relative to a models sub-folder of the data dir. */
function corpus(stem: string): string[] {
  const rel = `../../../${outside.split('/').pop()}/${stem}`;
  return [
    `${rel}.safetensors`,
    rel,
    `../${stem}`,
    `../../${stem}.safetensors`,
    encodeURIComponent(`${rel}.safetensors`),
    encodeURIComponent(encodeURIComponent(`${rel}.safetensors`)),
    `${rel}.safetensors`.replace(/\//g, '\\'),
    `..\\..\\${stem}`,
    join(outside, `${stem}.safetensors`),
    join(outside, stem),
    `file://${join(outside, `${stem}.safetensors`)}`,
    `${stem}\u0000.safetensors`,
    `../${stem}\u0000`,
    `....//....//${stem}`,
    '%2e%2e%2f%2e%2e%2fsecret',
    '..%c0%af..%c0%afsecret',
    '/etc/passwd',
    '../../../../../../etc/passwd',
    `link/../../../${outside.split('/').pop()}/${stem}`,
    'link', // the symlink to the secret checkpoint itself
    'link.safetensors',
  ];
}

before(async () => {
  if (skip) return;
  copyFileSync(TINY_SD15_CKPT, SECRET_CKPT);
  writeFileSync(join(outside, 'secret.txt'), SECRET_TEXT);
  server = await startTinyEngineServer('traversal');
  base = server.base;
  const sd = join(server.dataDir, 'models', 'Stable-diffusion');
  mkdirSync(sd, { recursive: true });
  mkdirSync(join(server.dataDir, 'models', 'Lora'), { recursive: true });
  mkdirSync(join(server.dataDir, 'embeddings'), { recursive: true });
  symlinkSync(SECRET_CKPT, join(sd, 'link.safetensors'));
  symlinkSync(join(outside, 'secret.txt'), join(server.dataDir, 'models', 'Lora', 'secret.safetensors'));
  symlinkSync(SECRET_CKPT, join(server.dataDir, 'embeddings', 'secret.safetensors'));
});
after(() => server?.close());

const post = async (path: string, body: unknown) => {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
};

/** A raw request: the path goes out byte for byte (fetch would normalise `..` and encodings). */
function raw(path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}/`, { path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('latin1') }));
    });
    req.on('error', reject);
    req.end();
  });
}

function assertNoLeak(what: string, res: { status: number; text: string }, allow5xx = false) {
  assert.ok(!res.text.includes(SECRET_TEXT) && !/root:x?:0:0:/.test(res.text), `${what}: the answer carries a file's contents`);
  assert.ok(!/Model: (secret|link)\b|Lora hashes|TI hashes/.test(res.text), `${what}: a secret file was used: ${res.text.slice(0, 300)}`);
  if (!allow5xx) assert.ok(res.status < 500, `${what}: ${res.status} ${res.text.slice(0, 300)}`);
}

test('the listings do not show the links that point outside', { skip }, async () => {
  const models = await (await fetch(`${base}/sdapi/v1/sd-models`)).text();
  assert.ok(!models.includes('link') && !models.includes('secret'), models);
  const loras = await (await fetch(`${base}/sdapi/v1/loras`)).text();
  assert.ok(!loras.includes('secret'), loras);
  const embeddings = await (await fetch(`${base}/sdapi/v1/embeddings`)).text();
  assert.ok(!embeddings.includes('secret'), embeddings);
});

test('checkpoint names: POST /options sd_model_checkpoint and override_settings refuse every spelling', { skip }, async () => {
  const small = { prompt: 'a cat', steps: 1, width: 64, height: 64, seed: 1 };
  for (const name of corpus('secret')) {
    const options = await post('/sdapi/v1/options', { sd_model_checkpoint: name });
    // A1111 answers an unknown checkpoint with its RuntimeError (500, kept for clients that match it).
    assert.notEqual(options.status, 200, name);
    assertNoLeak(`options ${name}`, options, true);
    const override = await post('/sdapi/v1/txt2img', { ...small, override_settings: { sd_model_checkpoint: name } });
    assertNoLeak(`override ${name}`, override);
  }
  const current = (await (await fetch(`${base}/sdapi/v1/options`)).json()) as { sd_model_checkpoint: string };
  assert.match(current.sd_model_checkpoint, /^model\.safetensors/);
});

test('LoRA, embedding, style, hires-checkpoint and ControlNet names refuse every spelling', { skip }, async () => {
  for (const name of corpus('secret')) {
    const fields = [
      { prompt: `a cat <lora:${name}:1>` },
      { prompt: `a cat ${name}` }, // an embedding is a word of the prompt
      { prompt: 'a cat', styles: [name] },
      { prompt: 'a cat', enable_hr: true, hr_scale: 1.5, hr_checkpoint_name: name },
      { prompt: 'a cat', alwayson_scripts: { controlnet: { args: [{ model: name, module: 'none', image: null }] } } },
    ];
    for (const extra of fields) {
      const res = await post('/sdapi/v1/txt2img', { steps: 1, width: 64, height: 64, seed: 1, ...extra });
      assertNoLeak(`${JSON.stringify(extra)}`, res);
    }
  }
});

test('job and task ids: v2 jobs, images, events and /internal/progress answer 4xx (or an empty progress)', { skip }, async () => {
  for (const id of corpus('secret')) {
    const e = encodeURIComponent(id);
    for (const path of [`/sdapi/v2/jobs/${e}`, `/sdapi/v2/jobs/${e}/images/0`, `/sdapi/v2/jobs/${e}/events`]) {
      const res = await raw(path);
      assertNoLeak(path, res);
      assert.ok(res.status >= 400, `${path}: ${res.status}`);
    }
    assertNoLeak(`internal/progress ${id}`, await post('/internal/progress', { id_task: id }));
    const submit = await post('/sdapi/v2/jobs', { type: 'txt2img', id, request: { prompt: 'x', steps: 1, width: 64, height: 64 } });
    assertNoLeak(`v2 submit id ${id}`, submit);
  }
});

test('raw URL paths: traversal through every prefix (static, docs, A1111 /file=) is a 4xx without contents', { skip }, async () => {
  const tails = [
    '../../../../../../etc/passwd',
    '..%2f..%2f..%2f..%2fetc%2fpasswd',
    '..%252f..%252f..%252fetc%252fpasswd',
    '%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '..\\..\\..\\..\\etc\\passwd',
    '..%5c..%5c..%5cetc%5cpasswd',
    '%2fetc%2fpasswd',
    '/etc/passwd',
    `..%2f..%2f..%2f..%2f..%2f..%2f..%2f..${encodeURIComponent(join(outside, 'secret.txt'))}`,
    'secret.txt%00.png',
  ];
  const prefixes = ['/', '/assets/', '/docs/', '/docs/static/', '/file=', '/sdapi/v1/', '/sdapi/v2/jobs/x/images/', '/outputs/', '/static/'];
  for (const prefix of prefixes) {
    for (const tail of tails) {
      const path = prefix + tail;
      const res = await raw(path);
      assertNoLeak(path, res);
      assert.ok(res.status >= 400 || res.status === 301 || res.status === 302, `${path}: ${res.status}`);
    }
  }
});

test('the web page static routes (webui on): traversal and symlinks out of dist are 404s', async () => {
  const dist = mkdtempSync(join(tmpdir(), 'sdapi-dist-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>ok</title>');
  writeFileSync(join(dist, 'assets', 'app-1.js'), 'console.log(1)');
  writeFileSync(join(outside, 'secret.txt'), SECRET_TEXT);
  symlinkSync(join(outside, 'secret.txt'), join(dist, 'assets', 'leak.js'));
  const web = await startTestServer({ webui: { dist } });
  const previous = base;
  base = web.url;
  try {
    assert.equal((await raw('/assets/app-1.js')).status, 200, 'the set-up serves a real asset');
    for (const tail of [
      'leak.js',
      '..%2findex.html',
      '..%2f..%2f..%2fetc%2fpasswd',
      '%2e%2e%2f%2e%2e%2fsecret.txt',
      '..\\..\\secret.txt',
      'app-1.js%00.png',
      '.%2e/.%2e/secret.txt',
    ]) {
      const res = await raw(`/assets/${tail}`);
      assertNoLeak(`/assets/${tail}`, res);
      assert.equal(res.status, 404, `/assets/${tail}`);
    }
  } finally {
    base = previous;
  }
});
