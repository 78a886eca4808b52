/**
 * Broken model files on a real server (issue 13 §7): a truncated safetensors, a pickle renamed `.safetensors`, a
 * `.ckpt` and a corrupt LoRA sit beside a good checkpoint. They are listed with the reason (`error`), naming one is
 * a 422 that names the file and the reason, nothing is unpickled, and the server keeps generating with the good one.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodePng } from '@sdapi/engine';
import { buildApp } from '../src/app.ts';
import { EngineGenerator } from '../src/services/engine-generator.ts';
import type { SdApiInstance } from '../src/types.ts';
import { needFiles, TINY_SD15_CKPT } from './helpers/tiny-engine.ts';

const skip = needFiles();
if (skip) console.log(`# skipped: ${skip}`);

let app: SdApiInstance | undefined;
let generator: EngineGenerator | undefined;
let base = '';
const PICKLE = Buffer.concat([Buffer.from([0x80, 0x02, 0x63]), Buffer.from('posix\nsystem\nq\x00X\x05\x00\x00\x00touch q\x01\x85q\x02Rq\x03.', 'latin1')]);

before(async () => {
  if (skip) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-model-files-'));
  const sd = join(dataDir, 'models', 'Stable-diffusion');
  const lora = join(dataDir, 'models', 'Lora');
  mkdirSync(sd, { recursive: true });
  mkdirSync(lora, { recursive: true });
  copyFileSync(TINY_SD15_CKPT, join(sd, 'a-good.safetensors'));
  const whole = readFileSync(TINY_SD15_CKPT);
  writeFileSync(join(sd, 'b-truncated.safetensors'), whole.subarray(0, Math.floor(whole.length / 2)));
  writeFileSync(join(sd, 'c-pickle.safetensors'), PICKLE);
  writeFileSync(join(sd, 'd-old.ckpt'), PICKLE);
  const header = Buffer.from('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(join(sd, 'e-not-a-model.safetensors'), Buffer.concat([length, header, Buffer.alloc(4)])); // sound file, no model
  writeFileSync(join(lora, 'broken.safetensors'), Buffer.concat([Buffer.from([5, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a":')]));
  const controlnet = join(dataDir, 'models', 'ControlNet');
  mkdirSync(controlnet, { recursive: true });
  writeFileSync(join(controlnet, 'control_broken.safetensors'), whole.subarray(0, 100));
  writeFileSync(join(controlnet, 'control_old.pth'), PICKLE);
  generator = new EngineGenerator({ dataDir, placeholder: false });
  app = await buildApp({ generator, dataDir });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await app?.close();
  await generator?.close();
});

const post = async (path: string, body: unknown) => {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

test('/sd-models lists every file, the unusable ones with the reason naming the file', { skip }, async () => {
  const models = (await (await fetch(`${base}/sdapi/v1/sd-models`)).json()) as Array<{ title: string; filename: string; error?: string }>;
  const byTitle = Object.fromEntries(models.map((m) => [m.title.replace(/ \[.*$/, ''), m]));
  assert.deepEqual(Object.keys(byTitle), ['a-good.safetensors', 'b-truncated.safetensors', 'c-pickle.safetensors', 'd-old.ckpt', 'e-not-a-model.safetensors']);
  assert.equal(byTitle['e-not-a-model.safetensors'].error, undefined, 'a sound header: the layout is checked on load');
  assert.equal(byTitle['a-good.safetensors'].error, undefined);
  assert.match(byTitle['b-truncated.safetensors'].error ?? '', /b-truncated\.safetensors: .*truncated/);
  assert.match(byTitle['c-pickle.safetensors'].error ?? '', /c-pickle\.safetensors: is a Python pickle \(protocol 2\), not safetensors: it is never loaded/);
  assert.match(byTitle['d-old.ckpt'].error ?? '', /d-old\.ckpt: a pickled checkpoint/);
});

test('selecting an unusable checkpoint is a 422 naming the file and the reason; the server keeps working', { skip }, async () => {
  for (const name of ['b-truncated', 'c-pickle', 'd-old', 'e-not-a-model']) {
    const viaOptions = await post('/sdapi/v1/options', { sd_model_checkpoint: name });
    assert.equal(viaOptions.status, 422, JSON.stringify(viaOptions.body));
    assert.match(viaOptions.body.detail, new RegExp(`cannot be loaded: .*${name}`));
    const viaOverride = await post('/sdapi/v1/txt2img', { prompt: 'x', steps: 1, width: 64, height: 64, override_settings: { sd_model_checkpoint: name } });
    assert.equal(viaOverride.status, 422, JSON.stringify(viaOverride.body));
  }
  const ok = await post('/sdapi/v1/txt2img', { prompt: 'a cat', steps: 1, width: 64, height: 64, seed: 1 });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.match(JSON.parse(ok.body.info).infotexts[0], /Model: a-good/);
  assert.equal((await fetch(`${base}/sdapi/v1/progress`)).status, 200);
});

test('/loras lists a corrupt LoRA with the reason, and a prompt naming it still generates (skipped with a warning)', { skip }, async () => {
  const loras = (await (await fetch(`${base}/sdapi/v1/loras`)).json()) as Array<{ name: string; error?: string }>;
  assert.match(loras.find((l) => l.name === 'broken')?.error ?? '', /broken\.safetensors: .*not valid JSON/);
  const res = await post('/sdapi/v1/txt2img', { prompt: 'a cat <lora:broken:1>', steps: 1, width: 64, height: 64, seed: 1 });
  assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
  assert.match(JSON.parse(res.body.info).infotexts[0], /Model: a-good/);
});

test('a broken or pickled ControlNet model is a 422 naming the file and the reason', { skip }, async () => {
  const png = `data:image/png;base64,${encodePng(new Uint8Array(64 * 64 * 3).fill(90), 64, 64).toString('base64')}`;
  for (const [model, reason] of [
    ['control_broken', /control_broken\.safetensors: .*(truncated|does not fit)/],
    ['control_old', /control_old\.pth: pickled checkpoints .* never loaded/],
  ] as const) {
    const res = await post('/sdapi/v1/txt2img', {
      prompt: 'x',
      steps: 1,
      width: 64,
      height: 64,
      alwayson_scripts: { controlnet: { args: [{ enabled: true, model, module: 'none', image: png }] } },
    });
    assert.equal(res.status, 422, JSON.stringify(res.body).slice(0, 300));
    assert.match(JSON.stringify(res.body), reason);
  }
  assert.equal((await post('/sdapi/v1/txt2img', { prompt: 'x', steps: 1, width: 64, height: 64 })).status, 200);
});
