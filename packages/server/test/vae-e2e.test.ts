/**
 * Separate VAE files over real HTTP on the tiny SD1.5 engine (spec §3.14, §4.3, §8.3): a VAE made by perturbing the
 * fixture's own VAE weights changes the decoded pixels, and they equal those of a checkpoint that carries the same
 * VAE weights; `sd_vae` by POST /options and by override_settings (restored afterwards); unknown names are 422s
 * that change nothing; the infotext has A1111's `VAE hash` / `VAE` and `info` its sd_vae_name/hash.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodePng, SafetensorsFile } from '@sdapi/engine';
import { float32Bytes, writeSafetensors } from '../../engine/src/checkpoint/safetensors.ts';
import { needFiles, startTinyEngineServer, TINY_SD15_CKPT, type TinyEngineServer } from './helpers/tiny-engine.ts';

const skip = needFiles();
if (skip) console.log(`# skipping the VAE e2e tests: ${skip}`);

const PREFIX = 'first_stage_model.';
let server: TinyEngineServer;
let vaeSha256 = '';

/** The fixture's VAE with the decoder's output layer changed enough to move every pixel. */
function perturbedVae(file: SafetensorsFile): Map<string, Float32Array> {
  const vae = new Map<string, Float32Array>();
  for (const key of file.keys()) {
    if (!key.startsWith(PREFIX)) continue;
    const values = file.readFloat32(key).slice();
    if (key === `${PREFIX}decoder.conv_out.bias`) for (let i = 0; i < values.length; i++) values[i] += 0.25 * (i + 1);
    if (key === `${PREFIX}decoder.conv_out.weight`) for (let i = 0; i < values.length; i++) values[i] *= 1.5;
    vae.set(key, values);
  }
  return vae;
}

const f32 = (shape: readonly number[], values: Float32Array) => ({ dtype: 'F32' as const, shape, data: float32Bytes(values) });

before(async () => {
  if (skip) return;
  server = await startTinyEngineServer('vae');
  const source = SafetensorsFile.open(TINY_SD15_CKPT);
  const vae = perturbedVae(source);
  const vaeDir = join(server.dataDir, 'models', 'VAE');
  mkdirSync(join(vaeDir, 'sub'), { recursive: true });
  // bare keys (the usual layout of VAE files) and, in a subfolder, the checkpoint's prefixed layout
  const bare = new Map([...vae].map(([k, v]) => [k.slice(PREFIX.length), f32(source.info(k).shape, v)]));
  writeSafetensors(join(vaeDir, 'perturbed.safetensors'), bare);
  writeSafetensors(join(vaeDir, 'sub', 'prefixed.safetensors'), new Map([...vae].map(([k, v]) => [k, f32(source.info(k).shape, v)])));
  writeFileSync(join(vaeDir, 'pickled.pt'), 'not loaded, not listed');
  // a checkpoint whose own VAE is the perturbed one
  const original = (k: string) => ({ dtype: source.info(k).dtype, shape: source.info(k).shape, data: source.readBytes(k) });
  const baked = new Map(source.keys().map((k) => [k, vae.has(k) ? f32(source.info(k).shape, vae.get(k) as Float32Array) : original(k)]));
  mkdirSync(join(server.dataDir, 'models', 'Stable-diffusion'), { recursive: true });
  writeSafetensors(join(server.dataDir, 'models', 'Stable-diffusion', 'baked.safetensors'), baked);
  source.close();
  vaeSha256 = createHash('sha256')
    .update(await import('node:fs').then((fs) => fs.readFileSync(join(vaeDir, 'perturbed.safetensors'))))
    .digest('hex');
});
after(async () => server?.close());

const post = (path: string, body: unknown) =>
  fetch(server.base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

interface Generated {
  pixels: Uint8Array;
  infotext: string;
  info: { sd_vae_name: string | null; sd_vae_hash: string | null; infotexts: string[] };
}

async function generate(extra: Record<string, unknown> = {}): Promise<Generated> {
  const res = await post('/sdapi/v1/txt2img', { prompt: 'a lighthouse', steps: 2, width: 64, height: 64, seed: 11, sampler_name: 'Euler', ...extra });
  const body = (await res.json()) as { images: string[]; info: string };
  assert.equal(res.status, 200, JSON.stringify(body));
  const info = JSON.parse(body.info) as Generated['info'];
  return { pixels: decodePng(Buffer.from(body.images[0], 'base64')).rgb, infotext: info.infotexts[0], info };
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

test('GET /sd-vae lists the .safetensors VAE files (subfolders too), never the pickle', { skip }, async () => {
  const list = (await (await fetch(`${server.base}/sdapi/v1/sd-vae`)).json()) as { model_name: string; filename: string }[];
  assert.deepEqual(
    list.map((v) => v.model_name),
    ['perturbed.safetensors', 'prefixed.safetensors'],
  );
  assert.equal(list[0].filename, join(server.dataDir, 'models', 'VAE', 'perturbed.safetensors'));
});

test('override_settings.sd_vae decodes with the file: pixels change, equal a checkpoint carrying that VAE, and the setting is restored', { skip }, async () => {
  const own = await generate();
  assert.doesNotMatch(own.infotext, /VAE/);
  assert.equal(own.info.sd_vae_name, null);

  const separate = await generate({ override_settings: { sd_vae: 'perturbed.safetensors' } });
  const changed = maxDiff(own.pixels, separate.pixels);
  console.log(`# built-in VAE vs perturbed.safetensors: max pixel difference ${changed}`);
  assert.ok(changed > 20, `the separate VAE must change the image (max diff ${changed})`);
  const hash = vaeSha256.slice(0, 10);
  assert.match(separate.infotext, new RegExp(`Model: model, VAE hash: ${hash}, VAE: perturbed\\.safetensors, `));
  assert.equal(separate.info.sd_vae_name, 'perturbed.safetensors');
  assert.equal(separate.info.sd_vae_hash, hash);

  const baked = await generate({ override_settings: { sd_model_checkpoint: 'baked.safetensors' } });
  const same = maxDiff(baked.pixels, separate.pixels);
  console.log(`# perturbed.safetensors on model vs baked.safetensors: max pixel difference ${same}`);
  assert.equal(same, 0, 'a checkpoint with the same VAE weights draws the same pixels');

  const prefixed = await generate({ override_settings: { sd_vae: 'prefixed.safetensors' } });
  assert.equal(maxDiff(prefixed.pixels, separate.pixels), 0, 'first_stage_model.-prefixed keys load the same weights');

  const options = (await (await fetch(`${server.base}/sdapi/v1/options`)).json()) as { sd_vae: string };
  assert.equal(options.sd_vae, 'Automatic', 'override_settings are restored afterwards');
  const restored = await generate();
  assert.equal(maxDiff(restored.pixels, own.pixels), 0, 'the next job decodes with the checkpoint VAE again');
});

test('POST /options sd_vae: an unknown name is a 422 listing the choices and changes nothing; a file name applies to later jobs; None restores', {
  skip,
}, async () => {
  const bad = await post('/sdapi/v1/options', { CLIP_stop_at_last_layers: 2, sd_vae: 'pickled.pt' });
  assert.equal(bad.status, 422);
  const body = (await bad.json()) as { detail: string };
  assert.match(body.detail, /sd_vae "pickled\.pt".*"Automatic", "None", "perturbed\.safetensors", "prefixed\.safetensors"/);
  let options = (await (await fetch(`${server.base}/sdapi/v1/options`)).json()) as { sd_vae: string; CLIP_stop_at_last_layers: number };
  assert.equal(options.sd_vae, 'Automatic');
  assert.equal(options.CLIP_stop_at_last_layers, 1, 'the other key of the refused request was not applied');

  const badOverride = await post('/sdapi/v1/txt2img', { prompt: 'x', steps: 1, width: 64, height: 64, override_settings: { sd_vae: 'nope.safetensors' } });
  assert.equal(badOverride.status, 422);

  const own = await generate();
  assert.equal((await post('/sdapi/v1/options', { sd_vae: 'perturbed.safetensors' })).status, 200);
  options = (await (await fetch(`${server.base}/sdapi/v1/options`)).json()) as typeof options;
  assert.equal(options.sd_vae, 'perturbed.safetensors');
  const set = await generate();
  assert.ok(maxDiff(set.pixels, own.pixels) > 20);
  assert.match(set.infotext, /VAE: perturbed\.safetensors/);
  assert.equal((await post('/sdapi/v1/options', { sd_vae: 'None' })).status, 200);
  assert.equal(maxDiff((await generate()).pixels, own.pixels), 0);
});

test('Automatic picks a VAE whose name starts with the checkpoint name (A1111 <ckpt>.vae.safetensors)', { skip }, async () => {
  const own = await generate({ override_settings: { sd_model_checkpoint: 'baked.safetensors', sd_vae: 'None' } });
  const { copyFileSync } = await import('node:fs');
  const near = join(server.dataDir, 'models', 'Stable-diffusion', 'model.vae.safetensors');
  copyFileSync(join(server.dataDir, 'models', 'VAE', 'perturbed.safetensors'), near);
  try {
    const automatic = await generate({ override_settings: { sd_vae: 'Automatic' } });
    assert.match(automatic.infotext, /VAE: model\.vae\.safetensors/);
    assert.equal(maxDiff(automatic.pixels, own.pixels), 0, 'the near VAE is the perturbed one: same pixels as the baked checkpoint');
  } finally {
    (await import('node:fs')).rmSync(near);
  }
});

test('a VAE file that does not fit the model is a 422 naming it and its first missing tensor; the next job is unaffected', { skip }, async () => {
  const broken = join(server.dataDir, 'models', 'VAE', 'broken.safetensors');
  writeSafetensors(broken, { 'decoder.conv_in.weight': f32([1], new Float32Array(1)) });
  try {
    const res = await post('/sdapi/v1/txt2img', { prompt: 'x', steps: 1, width: 64, height: 64, override_settings: { sd_vae: 'broken.safetensors' } });
    assert.equal(res.status, 422);
    const body = (await res.json()) as { detail: string };
    assert.match(body.detail, /VAE file .*broken\.safetensors does not fit this model: .*tensor '(decoder|encoder|post_quant_conv|quant_conv)\./);
    assert.equal((await generate()).info.sd_vae_name, null);
  } finally {
    (await import('node:fs')).rmSync(broken);
  }
});
