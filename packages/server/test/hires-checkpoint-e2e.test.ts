/**
 * hr_checkpoint_name over real HTTP on the tiny SD1.5 engine (spec §3.1.3, §8.3): the second pass runs on another
 * checkpoint. `baked.safetensors` is the fixture with its decoder changed, so whatever decodes with it shows. With a
 * latent upscaler nothing is decoded before the switch, so the job equals a plain hires job on `baked`; with Lanczos
 * the first pass is decoded by the job's model, so it differs from both. Infotext `Hires checkpoint: baked [hash]`.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodePng, SafetensorsFile } from '@sdapi/engine';
import { float32Bytes, writeSafetensors } from '../../engine/src/checkpoint/safetensors.ts';
import { needFiles, startTinyEngineServer, TINY_SD15_CKPT, type TinyEngineServer } from './helpers/tiny-engine.ts';

const skip = needFiles();
if (skip) console.log(`# skipping the hires checkpoint e2e tests: ${skip}`);

let server: TinyEngineServer;
before(async () => {
  if (skip) return;
  server = await startTinyEngineServer('hires-ckpt');
  const source = SafetensorsFile.open(TINY_SD15_CKPT);
  const tensors = new Map(
    source.keys().map((k) => {
      const info = source.info(k);
      if (k !== 'first_stage_model.decoder.conv_out.bias') return [k, { dtype: info.dtype, shape: info.shape, data: source.readBytes(k) }];
      const values = source.readFloat32(k).map((v, i) => v + 0.3 * (i + 1));
      return [k, { dtype: 'F32' as const, shape: info.shape, data: float32Bytes(values) }];
    }),
  );
  mkdirSync(join(server.dataDir, 'models', 'Stable-diffusion'), { recursive: true });
  writeSafetensors(join(server.dataDir, 'models', 'Stable-diffusion', 'baked.safetensors'), tensors);
  source.close();
});
after(async () => server?.close());

async function hires(extra: Record<string, unknown>): Promise<{ status: number; rgb?: Uint8Array; width?: number; infotext?: string; body: unknown }> {
  const request = {
    prompt: 'a tower',
    steps: 2,
    width: 64,
    height: 64,
    seed: 21,
    sampler_name: 'Euler',
    enable_hr: true,
    hr_scale: 2,
    denoising_strength: 0.6,
    ...extra,
  };
  const res = await fetch(`${server.base}/sdapi/v1/txt2img`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  const body = (await res.json()) as { images: string[]; info: string };
  if (res.status !== 200) return { status: res.status, body };
  const png = decodePng(Buffer.from(body.images[0], 'base64'));
  return { status: 200, rgb: png.rgb, width: png.width, infotext: JSON.parse(body.info).infotexts[0], body };
}

const maxDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

test('an unknown hr_checkpoint_name is a 422 naming it and the checkpoints there are', { skip }, async () => {
  const res = await hires({ hr_checkpoint_name: 'nope' });
  assert.equal(res.status, 422);
  assert.match((res.body as { detail: string }).detail, /hr_checkpoint_name: Could not find checkpoint with name "nope"; checkpoints: .*baked\.safetensors/);
});

test('hr_checkpoint_name with a latent upscaler: the job equals a hires job on that checkpoint; infotext Hires checkpoint', { skip }, async () => {
  const plain = await hires({ hr_upscaler: 'Latent' });
  const same = await hires({ hr_upscaler: 'Latent', hr_checkpoint_name: 'model' });
  assert.equal(maxDiff(plain.rgb as Uint8Array, same.rgb as Uint8Array), 0, 'naming the job checkpoint changes no pixel');
  assert.match(same.infotext as string, /Hires checkpoint: model \[[0-9a-f]{10}\]/, 'A1111 writes the key whenever a name is given');

  const switched = await hires({ hr_upscaler: 'Latent', hr_checkpoint_name: 'baked' });
  assert.equal(switched.status, 200, JSON.stringify(switched.body));
  assert.equal(switched.width, 128);
  assert.match(switched.infotext as string, /Model: model, .*Denoising strength: 0\.6, Hires checkpoint: baked \[[0-9a-f]{10}\], /);
  const options = (await (await fetch(`${server.base}/sdapi/v1/options`)).json()) as { sd_model_checkpoint: string };
  assert.match(options.sd_model_checkpoint, /^model\.safetensors/, 'the job model is still the loaded one');
  const onBaked = await hires({ hr_upscaler: 'Latent', override_settings: { sd_model_checkpoint: 'baked.safetensors' } });
  const diff = maxDiff(switched.rgb as Uint8Array, onBaked.rgb as Uint8Array);
  console.log(
    `# hires on model → baked vs hires on baked: max pixel difference ${diff}; vs plain: ${maxDiff(switched.rgb as Uint8Array, plain.rgb as Uint8Array)}`,
  );
  assert.equal(diff, 0);
  assert.ok(maxDiff(switched.rgb as Uint8Array, plain.rgb as Uint8Array) > 20, 'the second pass decoded with baked');
});

test('hr_checkpoint_name with Lanczos: the first pass is decoded by the job model, so the result differs from both', { skip }, async () => {
  const plain = await hires({ hr_upscaler: 'Lanczos' });
  const onBaked = await hires({ hr_upscaler: 'Lanczos', override_settings: { sd_model_checkpoint: 'baked.safetensors' } });
  const switched = await hires({ hr_upscaler: 'Lanczos', hr_checkpoint_name: 'baked.safetensors' });
  assert.ok(maxDiff(switched.rgb as Uint8Array, plain.rgb as Uint8Array) > 0);
  assert.ok(maxDiff(switched.rgb as Uint8Array, onBaked.rgb as Uint8Array) > 0);
});
