/**
 * LoRA over real HTTP with the real engine (fixtures/lora): the six network files in `<data-dir>/models/Lora`
 * (one in a subfolder), the README's end-to-end request reproducing A1111's `e2e_lora` pixels, the alias giving
 * the same image, the plain prompt afterwards giving `e2e_base`, infotext `Lora hashes`, warnings in `info`,
 * and GET /sdapi/v1/loras (behind `--api-auth` like every route, unlike A1111: issue 13) with POST /sdapi/v1/refresh-loras.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodePng, SafetensorsFile } from '@sdapi/engine';
import { buildApp } from '../src/app.ts';
import { EngineGenerator } from '../src/services/engine-generator.ts';
import type { SdApiInstance } from '../src/types.ts';
import { postJson } from './helpers/http.ts';
import { SHARED_DIR } from './helpers/spec.ts';

const fixtures = join(SHARED_DIR, 'fixtures');
const ckpt = join(fixtures, 'tiny-sd15', 'model.safetensors');
const loraFixtures = join(fixtures, 'lora');
const skip =
  existsSync(ckpt) && existsSync(join(loraFixtures, 'expected.safetensors'))
    ? false
    : `fixtures under ${fixtures} are absent (../shared is not beside this clone)`;
const FILES: [string, string][] = [
  ['lora_kohya', 'tinyKohyaLora_v1'],
  ['locon_kohya', 'tinyLoCon_v1'],
  ['loha', 'tinyLoHa'],
  ['lokr', 'tinyLoKr'],
  ['lora_diffusers', 'lora_diffusers'],
  ['lora_unmatched', 'lora_unmatched'],
];
const AUTH = { authorization: `Basic ${Buffer.from('me:secret').toString('base64')}` };

let app: SdApiInstance;
let base: string;
let generator: EngineGenerator;
let loraDir: string;
const log: string[] = [];

before(async () => {
  if (skip) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-lora-e2e-'));
  loraDir = join(dataDir, 'models', 'Lora');
  mkdirSync(join(loraDir, 'styles'), { recursive: true });
  for (const [name] of FILES) copyFileSync(join(loraFixtures, `${name}.safetensors`), join(loraDir, name === 'loha' ? 'styles' : '', `${name}.safetensors`));
  generator = new EngineGenerator({ dataDir, ckpt, placeholder: false, log: (line) => log.push(line) });
  app = await buildApp({ generator, dataDir, apiAuth: 'me:secret' });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await app?.close();
  await generator?.close();
});

async function txt2img(prompt: string) {
  const body = {
    prompt,
    negative_prompt: '',
    seed: 1234,
    sampler_name: 'Euler a',
    scheduler: 'Karras',
    steps: 10,
    cfg_scale: 7,
    width: 64,
    height: 64,
    override_settings: { randn_source: 'CPU' },
  };
  const { status, body: json } = await postJson(`${base}/sdapi/v1/txt2img`, body, AUTH);
  assert.equal(status, 200, JSON.stringify(json));
  return { rgb: decodePng(Buffer.from(json.images[0], 'base64')).rgb, info: JSON.parse(json.info) };
}

/** The e2e tolerance of the other fixtures: mean abs ≤ 0.25 and ≥ 99% of the values within ±3. */
function checkPixels(rgb: Uint8Array, key: string) {
  const expected = SafetensorsFile.open(join(loraFixtures, 'expected.safetensors')).readIntegers(key);
  let sum = 0;
  let close = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(rgb[i] - expected[i]);
    sum += d;
    close += d <= 3 ? 1 : 0;
  }
  const mae = sum / expected.length;
  console.log(`# ${key}: mean abs pixel error ${mae.toFixed(4)}, ${((100 * close) / expected.length).toFixed(2)}% within ±3`);
  assert.ok(mae <= 0.25 && close / expected.length >= 0.99, `${key}: mean abs ${mae}`);
}

test("<lora:lora_kohya:0.8> reproduces A1111's e2e_lora; the alias gives the same image; the plain prompt gives e2e_base", { skip }, async () => {
  const lora = await txt2img('a photograph of an astronaut riding a horse <lora:lora_kohya:0.8>');
  checkPixels(lora.rgb, 'e2e_lora.pixels_uint8_hwc');
  assert.equal(lora.info.prompt, 'a photograph of an astronaut riding a horse <lora:lora_kohya:0.8>', 'info keeps the tag, as A1111');
  assert.match(lora.info.infotexts[0], /, Lora hashes: "lora_kohya: b233a8628c02", /);
  assert.equal(lora.info.warnings, undefined);
  const alias = await txt2img('a photograph of an astronaut riding a horse <lora:tinyKohyaLora_v1:0.8>');
  assert.deepEqual(alias.rgb, lora.rgb, 'alias and file name give the same pixels');
  const plain = await txt2img('a photograph of an astronaut riding a horse');
  checkPixels(plain.rgb, 'e2e_base.pixels_uint8_hwc');
  assert.doesNotMatch(plain.info.infotexts[0], /Lora hashes/);
});

test('an unknown LoRA is generated without and said in info.warnings and the log; skipped modules are reported', { skip }, async () => {
  const missing = await txt2img('a photograph of an astronaut riding a horse <lora:no_such_lora:1>');
  checkPixels(missing.rgb, 'e2e_base.pixels_uint8_hwc');
  assert.deepEqual(missing.info.warnings, ['Lora not found: no_such_lora']);
  assert.ok(log.includes('warning: Lora not found: no_such_lora'), log.join('\n'));
  const unmatched = await txt2img('a photograph of an astronaut riding a horse <lora:lora_unmatched:0.8:0.6>');
  const warnings: string[] = unmatched.info.warnings;
  assert.ok(
    warnings.some((w) => /4 modules matched no layer/.test(w)),
    warnings.join('\n'),
  );
  assert.ok(warnings.includes('Networks with errors: lora_unmatched (1)'), warnings.join('\n'));
});

test('GET /sdapi/v1/loras lists the six files with aliases and metadata (401 without credentials); refresh-loras rescans', { skip }, async () => {
  assert.equal((await fetch(`${base}/sdapi/v1/loras`)).status, 401);
  const list = (await (await fetch(`${base}/sdapi/v1/loras`, { headers: AUTH })).json()) as {
    name: string;
    alias: string;
    path: string;
    metadata: Record<string, unknown>;
    error?: string;
  }[];
  assert.deepEqual(list.map((l) => [l.name, l.alias]).sort(), [...FILES].sort());
  const kohya = list.find((l) => l.name === 'lora_kohya');
  assert.equal(kohya?.path, join(loraDir, 'lora_kohya.safetensors'));
  assert.equal(kohya?.metadata.ss_output_name, 'tinyKohyaLora_v1');
  assert.ok(list.every((l) => l.error === undefined));
  writeFileSync(join(loraDir, 'broken.safetensors'), Buffer.from('not a safetensors file at all'));
  const refresh = await fetch(`${base}/sdapi/v1/refresh-loras`, { method: 'POST', headers: AUTH });
  assert.equal(refresh.status, 200);
  assert.equal(await refresh.text(), 'null');
  const after = (await (await fetch(`${base}/sdapi/v1/loras`, { headers: AUTH })).json()) as { name: string; error?: string }[];
  const broken = after.find((l) => l.name === 'broken');
  assert.match(broken?.error ?? '', /header length|too short/);
  const used = await txt2img('a photograph of an astronaut riding a horse <lora:broken:1>');
  assert.ok(
    (used.info.warnings as string[]).some((w) => w.startsWith('Lora broken (') && w.includes('cannot be used')),
    JSON.stringify(used.info.warnings),
  );
});
