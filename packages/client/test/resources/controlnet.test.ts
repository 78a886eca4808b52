/** `client.controlnet.*` and the `controlNetUnit()` builder against our server (buildApp + fake engine). */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodePng } from '@sdapi/engine';
import { controlNet, controlNetUnit, SDClient, UnprocessableEntityError } from '../../src/index.ts';
import { startServer } from '../helpers/server.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-client-cn-'));
mkdirSync(join(dataDir, 'models', 'ControlNet'), { recursive: true });
writeFileSync(join(dataDir, 'models', 'ControlNet', 'control_v11p_sd15_canny.safetensors'), 'x');
const { url, generator } = await startServer({ dataDir });
const sd = new SDClient({ baseURL: url });
const rgb = new Uint8Array(16 * 16 * 3).map((_, i) => ((i / 3) % 16 < 8 ? 0 : 255));
const PNG = new Uint8Array(encodePng(rgb, 16, 16));

test('version, model_list, module_list, settings', async () => {
  assert.equal(await sd.controlnet.version(), 3);
  assert.deepEqual(await sd.controlnet.modelList(), ['control_v11p_sd15_canny [e3b0c442]']);
  const modules = await sd.controlnet.moduleList({ alias_names: true });
  assert.ok(modules.module_list.includes('t2ia_color_grid'));
  assert.deepEqual(await sd.controlnet.settings(), { control_net_unit_count: 3 });
});

test('detectFrom sends the images as data URLs; the map comes back at the module size', async () => {
  const res = await sd.controlnet.detectFrom([PNG], { controlnet_module: 'canny', controlnet_processor_res: 64 });
  assert.equal(res.info, 'Success');
  assert.equal(res.images?.length, 1);
});

test('a controlNetUnit() built unit reaches the engine; a bad one is an UnprocessableEntityError', async () => {
  const unit = await controlNetUnit({ image: PNG, module: 'canny', model: 'control_v11p_sd15_canny [e3b0c442]', weight: 0.7, control_mode: 2 });
  await sd.txt2img({ width: 16, height: 16, steps: 1, alwayson_scripts: controlNet([unit]) });
  const [u] = generator.calls.at(-1)?.controlNet ?? [];
  assert.deepEqual([u?.module, u?.weight, u?.controlMode, u?.resizeMode], ['canny', 0.7, 'ControlNet is more important', 'Resize and Fill']);
  const bad = await controlNetUnit({ image: PNG, module: 'canny', model: 'missing' });
  await assert.rejects(
    async () => sd.txt2img({ width: 16, height: 16, steps: 1, alwayson_scripts: controlNet([bad]) }),
    (e: unknown) => e instanceof UnprocessableEntityError && e.status === 422,
  );
});
