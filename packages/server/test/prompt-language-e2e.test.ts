/**
 * The prompt language through the API with the real engine on the tiny SD1.5 fixture (issue 4): emphasis
 * weights, long prompts, styles from styles.csv, textual-inversion embeddings dropped into the embeddings
 * folder (listed, usable, hashed in the infotext), and the prompt options (clip skip, emphasis mode).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodePng } from '@sdapi/engine';
import { buildApp } from '../src/app.ts';
import { EngineGenerator } from '../src/services/engine-generator.ts';
import type { SdApiInstance } from '../src/types.ts';
import { SHARED_DIR } from './helpers/spec.ts';

const ckpt = join(SHARED_DIR, 'fixtures', 'tiny-sd15', 'model.safetensors');
const skip = existsSync(ckpt) ? false : `fixture ${ckpt} is absent (../shared is not beside this clone)`;

let app: SdApiInstance;
let base: string;
let generator: EngineGenerator;
let dataDir: string;

before(async () => {
  if (skip) return;
  dataDir = mkdtempSync(join(tmpdir(), 'sdapi-prompt-'));
  writeFileSync(join(dataDir, 'styles.csv'), 'name,prompt,negative_prompt\nfancy,"{prompt}, masterpiece",lowres\nplain,oil painting,\n');
  generator = new EngineGenerator({ dataDir, ckpt, placeholder: false });
  app = await buildApp({ generator, dataDir });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await app?.close();
  await generator?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const BASE = { seed: 77, steps: 4, cfg_scale: 7, width: 64, height: 64, sampler_name: 'Euler' };

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function generate(body: Record<string, unknown>) {
  const { status, body: out } = await call('POST', '/sdapi/v1/txt2img', { ...BASE, ...body });
  assert.equal(status, 200, JSON.stringify(out));
  const info = JSON.parse(out.info);
  return { rgb: decodePng(Buffer.from(out.images[0], 'base64')).rgb, info, infotext: info.infotexts[0] as string };
}

/** A one-tensor F32 safetensors embedding (8-byte header length, JSON header, data). */
function writeEmbedding(path: string, rows: number, width: number, scale: number): void {
  const data = Float32Array.from({ length: rows * width }, (_, i) => Math.sin(i * 0.37 + width) * scale);
  const header = Buffer.from(JSON.stringify({ emb_params: { dtype: 'F32', shape: [rows, width], data_offsets: [0, data.byteLength] } }));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(path, Buffer.concat([length, header, Buffer.from(data.buffer)]));
}

/** Mean absolute difference of two images' bytes. */
function mad(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

test('(text:1.0) is the same image as text; (text:1.6) is not', { skip }, async () => {
  const plain = await generate({ prompt: 'a photo of a red cat' });
  const unit = await generate({ prompt: '(a photo of a red cat:1.0)' });
  const heavy = await generate({ prompt: 'a photo of a (red:1.6) cat' });
  console.log(`# weight 1.0 vs plain: ${mad(plain.rgb, unit.rgb)}; weight 1.6 vs plain: ${mad(plain.rgb, heavy.rgb).toFixed(3)}`);
  assert.deepEqual(unit.rgb, plain.rgb);
  assert.ok(mad(plain.rgb, heavy.rgb) > 0.5, 'a 1.6 weight changes the image');
  assert.doesNotMatch(heavy.infotext, /Emphasis/, 'Original is the default and not written');
});

test('a 120-word prompt works and its second 75-token chunk reaches the UNet', { skip }, async () => {
  const words = Array.from({ length: 120 }, (_, i) => ['red', 'blue', 'green', 'cat', 'dog', 'tree'][i % 6]);
  const long = await generate({ prompt: words.join(' ') });
  const changedTail = await generate({ prompt: [...words.slice(0, 119), 'castle'].join(' ') });
  assert.ok(long.infotext.startsWith(words.join(' ')));
  console.log(`# changing word 120 (chunk 2): mean abs pixel difference ${mad(long.rgb, changedTail.rgb).toFixed(3)}`);
  assert.ok(mad(long.rgb, changedTail.rgb) > 0.1);
});

test('styles from styles.csv: listed, merged into all_prompts and the infotext, negatives too', { skip }, async () => {
  const styles = await call('GET', '/sdapi/v1/prompt-styles');
  assert.deepEqual(styles.body, [
    { name: 'fancy', prompt: '{prompt}, masterpiece', negative_prompt: 'lowres' },
    { name: 'plain', prompt: 'oil painting', negative_prompt: '' },
  ]);
  const styled = await generate({ prompt: 'a cat', negative_prompt: 'blurry', styles: ['fancy', 'plain', 'unknown'], batch_size: 2 });
  assert.deepEqual(styled.info.all_prompts, ['a cat, masterpiece, oil painting', 'a cat, masterpiece, oil painting']);
  assert.deepEqual(styled.info.all_negative_prompts, ['blurry, lowres', 'blurry, lowres'], 'a style text without {prompt} is appended with ", "');
  assert.deepEqual(styled.info.styles, ['fancy', 'plain', 'unknown']);
  assert.ok(styled.infotext.startsWith('a cat, masterpiece, oil painting\nNegative prompt: blurry, lowres\n'));
  const same = await generate({ prompt: 'a cat, masterpiece, oil painting', negative_prompt: 'blurry, lowres' });
  assert.deepEqual(same.rgb, styled.rgb, 'the styled prompt is what conditions the image');
});

test('an embedding dropped into the embeddings folder is listed, usable, and hashed in the infotext', { skip }, async () => {
  const prompt = 'a tinyemb riding a horse';
  const before = await generate({ prompt });
  assert.doesNotMatch(before.infotext, /TI hashes/);
  const dir = join(dataDir, 'embeddings');
  mkdirSync(join(dir, 'more'), { recursive: true });
  writeEmbedding(join(dir, 'tinyemb.safetensors'), 2, 32, 1);
  writeEmbedding(join(dir, 'more', 'wide.safetensors'), 1, 768, 0.05);
  writeFileSync(join(dir, 'old.pt'), 'PK pickle');
  const listed = await call('GET', '/sdapi/v1/embeddings');
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.loaded, { tinyemb: { step: null, sd_checkpoint: null, sd_checkpoint_name: null, shape: 32, vectors: 2 } });
  assert.deepEqual(Object.keys(listed.body.skipped).sort(), ['old', 'wide']);
  assert.equal(listed.body.skipped.wide.shape, 768);
  assert.match(listed.body.skipped.wide.reason, /width 768 does not match/);
  assert.equal(listed.body.skipped.old.reason, 'pickled embeddings are not loaded; convert to .safetensors');
  const used = await generate({ prompt });
  console.log(`# embedding vs the plain word: mean abs pixel difference ${mad(before.rgb, used.rgb).toFixed(3)}`);
  assert.ok(mad(before.rgb, used.rgb) > 0.5, 'the embedding changes the image');
  const hash = createHash('sha256')
    .update(readFileSync(join(dir, 'tinyemb.safetensors')))
    .digest('hex')
    .slice(0, 12);
  assert.match(used.infotext, new RegExp(`, TI hashes: "tinyemb: ${hash}", Version: `));
  const refreshed = await call('POST', '/sdapi/v1/refresh-embeddings');
  assert.deepEqual([refreshed.status, refreshed.body], [200, null]);
  const noHashes = await generate({ prompt, override_settings: { textual_inversion_add_hashes_to_infotext: false } });
  assert.doesNotMatch(noHashes.infotext, /TI hashes/);
  assert.deepEqual(noHashes.rgb, used.rgb);
});

test('prompt options: clip skip and the emphasis mode reach the encoder and the infotext; a bad mode is a 422', { skip }, async () => {
  const prompt = 'a (photo:1.4) of a [red] cat';
  const original = await generate({ prompt });
  const skip2 = await generate({ prompt, override_settings: { CLIP_stop_at_last_layers: 2 } });
  assert.match(skip2.infotext, /, Clip skip: 2, /);
  assert.equal(skip2.info.clip_skip, 2);
  assert.ok(mad(original.rgb, skip2.rgb) > 0.5, 'clip skip 2 changes the image');
  const noNorm = await generate({ prompt, override_settings: { emphasis: 'No norm' } });
  assert.match(noNorm.infotext, /, Emphasis: No norm, /);
  assert.notDeepEqual(noNorm.rgb, original.rgb);
  const ignore = await generate({ prompt, override_settings: { emphasis: 'Ignore' } });
  const unweighted = await generate({ prompt: 'a photo of a red cat' });
  assert.deepEqual(ignore.rgb, unweighted.rgb, 'Ignore parses brackets and drops the weights');
  const bad = await call('POST', '/sdapi/v1/txt2img', { ...BASE, prompt, override_settings: { emphasis: 'Loud' } });
  assert.equal(bad.status, 422);
  assert.match(bad.body.detail, /emphasis must be one of Original, No norm, Ignore, None, got "Loud"/);
});
