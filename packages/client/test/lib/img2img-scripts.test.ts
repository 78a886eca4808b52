/** The img2img script builders' argument vectors, and the script builders against sdapi's own scripts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodePng } from '@sdapi/engine';
import { loopback, outpaintingMk2, poorMansOutpainting, promptMatrix, SDClient, sdUpscale, xyzPlot } from '../../src/index.ts';
import { startServer } from '../helpers/server.ts';

test('img2img script builders: A1111 positions and defaults', () => {
  assert.deepEqual(sdUpscale({ overlap: 8, upscaler: 'Lanczos' }), { script_name: 'SD upscale', script_args: ['', 8, 'Lanczos', 2.0] });
  assert.deepEqual(loopback().script_args, [4, 0.5, 'Linear', 'None']);
  assert.deepEqual(poorMansOutpainting({ direction: ['left'] }).script_args, [128, 4, 0, ['left']]);
  assert.deepEqual(outpaintingMk2().script_args, ['', 128, 8, ['left', 'right', 'up', 'down'], 1.0, 0.05]);
});

test('xyzPlot, promptMatrix and sdUpscale run on an sdapi server', async () => {
  const { url, generator } = await startServer();
  const sd = new SDClient({ baseURL: url });
  const base = { steps: 2, width: 8, height: 8 };
  const plot = await sd.txt2img({
    ...base,
    ...xyzPlot({ x: { axis: 'Steps', values: [1, 2] }, y: { axis: 'CFG Scale', values: '3-4' }, includeLoneImages: true }),
  });
  assert.equal(plot.images?.length, 5);
  assert.equal(generator.calls.length, 4);
  const matrix = await sd.txt2img({ ...base, prompt: 'a|b', ...promptMatrix() });
  assert.equal(matrix.images?.length, 3);
  const init = encodePng(new Uint8Array(8 * 8 * 3).fill(90), 8, 8).toString('base64');
  const up = await sd.img2img({ ...base, init_images: [init], ...sdUpscale({ overlap: 2, upscaler: 'Nearest' }) });
  assert.equal(up.images?.length, 1);
});
