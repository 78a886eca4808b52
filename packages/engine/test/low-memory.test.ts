/**
 * LoadOptions.lowMemory: the UNet's sessions are released before the VAE decodes and loaded again by the next job;
 * the images are the same as without it. (What it saves is measured by `npm run bench`, not here.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TINY_SD15_CONFIG, writeRandomCheckpoint } from '../src/checkpoint/random.ts';
import { defaultTxt2ImgParams, StableDiffusion } from '../src/stable-diffusion.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdapi-low-memory-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('lowMemory: the UNet is released before decoding and loaded again next time; same images', async () => {
  const ckpt = join(dir, 'tiny.safetensors');
  writeRandomCheckpoint(ckpt, TINY_SD15_CONFIG, 11, { dtype: 'F16' });
  const cacheDir = join(dir, 'onnx');
  const low = StableDiffusion.open(ckpt, { cacheDir, lowMemory: true });
  const normal = StableDiffusion.open(ckpt, { cacheDir });
  const params = defaultTxt2ImgParams({ prompt: 'a red fox', seed: 5, steps: 3, width: 64, height: 64, samplerName: 'Euler a' });
  try {
    const images: Uint8Array[][] = [];
    for (let job = 0; job < 2; job++) {
      const a = await low.txt2img(params);
      assert.ok(!low.model.loadedSessions.some((k) => k.startsWith('unet')), `after job ${job + 1} no UNet session is loaded: ${low.model.loadedSessions}`);
      assert.ok(low.model.loadedSessions.includes('vaeDecoder'));
      images.push(a.images.map((i) => i.rgb));
    }
    const b = await normal.txt2img(params);
    assert.ok(normal.model.loadedSessions.includes('unet'), 'without lowMemory the UNet stays');
    assert.deepEqual(images[1], images[0], 'a reloaded UNet gives the same image');
    // With an F16 checkpoint lowMemory also feeds the 3×3 conv weights (float16, widened exactly), which ORT runs
    // with its plain Conv instead of the NCHWc one: the same arithmetic up to summation order.
    let worst = 0;
    for (const [i, image] of b.images.entries()) for (let p = 0; p < image.rgb.length; p++) worst = Math.max(worst, Math.abs(image.rgb[p] - images[0][i][p]));
    console.log(`# lowMemory vs normal: max pixel difference ${worst}`);
    assert.ok(worst <= 2, `pixels differ by up to ${worst}`);
  } finally {
    await Promise.all([low.release(), normal.release()]);
  }
});
