/** show_progress_type "TAESD": with models/VAE-approx/taesd_decoder.safetensors, /progress shows full-size TAESD previews. */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeImage } from '@sdapi/engine';
import { writeRandomTaesdDecoder } from '../../engine/test/helpers/taesd.ts';
import { needFiles, startTinyEngineServer } from './helpers/tiny-engine.ts';

test('TAESD previews are image-sized (Approx cheap is latent-sized) once its weights are in models/VAE-approx', { skip: needFiles() }, async () => {
  const server = await startTinyEngineServer('taesd');
  try {
    mkdirSync(join(server.dataDir, 'models', 'VAE-approx'), { recursive: true });
    writeRandomTaesdDecoder(join(server.dataDir, 'models', 'VAE-approx', 'taesd_decoder.safetensors'));
    const post = (path: string, body: unknown) =>
      fetch(server.base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await post('/sdapi/v1/options', { show_progress_type: 'TAESD', show_progress_every_n_steps: 1 })).status, 200);
    const job = post('/sdapi/v1/txt2img', { prompt: 'a cat', steps: 40, width: 64, height: 64, seed: 1 });
    let size = '';
    for (let i = 0; i < 600 && size !== '64x64'; i++) {
      const p = (await (await fetch(`${server.base}/sdapi/v1/progress`)).json()) as { current_image: string | null };
      if (p.current_image) {
        const image = await decodeImage(Buffer.from(p.current_image, 'base64'));
        size = `${image.width}x${image.height}`;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await post('/sdapi/v1/interrupt', {});
    assert.equal((await job).status, 200);
    assert.equal(size, '64x64', 'a TAESD preview (8× the 8×8 latent) reached /progress');
  } finally {
    await server.close();
  }
});
