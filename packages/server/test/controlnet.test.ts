/**
 * The sd-webui-controlnet surface with a fake generator: the /controlnet/* routes, unit parsing and validation
 * (a unit that cannot be honoured is a 422 naming unit and field), model folders and name matching.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodePng, encodePng } from '@sdapi/engine';
import { startTestServer } from './helpers/http.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-cn-'));
const extraDir = mkdtempSync(join(tmpdir(), 'sdapi-cn-extra-'));
mkdirSync(join(dataDir, 'models', 'ControlNet', 'sub'), { recursive: true });
// Contents are irrelevant to listing: names come from the stem and the bytes at 1 MiB (none here → e3b0c442).
writeFileSync(join(dataDir, 'models', 'ControlNet', 'control_v11p_sd15_canny.safetensors'), 'x');
writeFileSync(join(dataDir, 'models', 'ControlNet', 'sub', 'control_v11p_sd15_canny_extra.safetensors'), 'y');
writeFileSync(join(dataDir, 'models', 'ControlNet', 'None.safetensors'), 'z');
writeFileSync(join(dataDir, 'models', 'ControlNet', 'notes.txt'), 'not a model');
writeFileSync(join(extraDir, 'control_v11f1p_sd15_depth.pth'), 'w');
const server = await startTestServer({ dataDir, controlnetDir: extraDir });

const png = (w: number, h: number, fn: (x: number, y: number) => number) => {
  const rgb = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) rgb.fill(fn(p % w, Math.floor(p / w)), 3 * p, 3 * p + 3);
  return encodePng(rgb, w, h).toString('base64');
};
const IMAGE = png(16, 16, (x) => (x < 8 ? 0 : 255));

const get = async (path: string) => (await server.request(path)).json();
const txt2img = async (body: Record<string, unknown>) => {
  const res = await server.request('/sdapi/v1/txt2img', { method: 'POST', json: { width: 16, height: 16, steps: 1, ...body } });
  return { status: res.status, json: await res.json() };
};
const unit = (fields: Record<string, unknown> = {}) => ({ enabled: true, module: 'canny', model: 'control_v11p_sd15_canny', image: IMAGE, ...fields });

test('GET /controlnet/version, /settings', async () => {
  assert.deepEqual(await get('/controlnet/version'), { version: 3 });
  assert.deepEqual(await get('/controlnet/settings'), { control_net_unit_count: 3 });
});

test('GET /controlnet/model_list: both folders, sorted, `stem [hash8]`, no None.*', async () => {
  assert.deepEqual(await get('/controlnet/model_list?update=true'), {
    model_list: ['control_v11p_sd15_canny [e3b0c442]', 'control_v11p_sd15_canny_extra [e3b0c442]', 'control_v11f1p_sd15_depth [e3b0c442]'],
  });
});

test('GET /controlnet/control_types: All and every type; models fitting the type by name, a v1.1 model as default', async () => {
  const { control_types: types } = await get('/controlnet/control_types');
  assert.deepEqual(Object.keys(types).slice(0, 3), ['All', 'Canny', 'Depth']);
  assert.equal(Object.keys(types).length, 21);
  assert.deepEqual(types.All.model_list, ['None', 'control_v11p_sd15_canny [e3b0c442]', 'control_v11p_sd15_canny_extra [e3b0c442]', 'control_v11f1p_sd15_depth [e3b0c442]']);
  assert.deepEqual([types.All.default_option, types.All.default_model], ['none', 'None']);
  assert.ok(types.All.module_list.includes('invert (from white bg & black line)'));
  assert.deepEqual(types.Canny, {
    module_list: ['canny', 'invert (from white bg & black line)'],
    model_list: ['None', 'control_v11p_sd15_canny [e3b0c442]', 'control_v11p_sd15_canny_extra [e3b0c442]'],
    default_option: 'canny',
    default_model: 'control_v11p_sd15_canny [e3b0c442]',
  });
  assert.deepEqual(types.Depth.model_list, ['None', 'control_v11f1p_sd15_depth [e3b0c442]']);
  assert.deepEqual(types.Shuffle, { module_list: ['shuffle'], model_list: ['None'], default_option: 'shuffle', default_model: 'None' });
  assert.deepEqual(types.OpenPose.module_list, [], 'modules that need annotator weights are not listed');
});

test('GET /controlnet/module_list: names or labels in the extension order, visible sliders', async () => {
  const list = await get('/controlnet/module_list');
  assert.deepEqual(list.module_list.slice(0, 5), ['none', 'tile_resample', 'recolor_luminance', 'lineart_standard', 'canny']);
  assert.deepEqual(list.module_detail.canny, {
    model_free: false,
    sliders: [
      { name: 'Resolution', value: 512, min: 64, max: 2048, step: 8 },
      { name: 'Low Threshold', value: 100, min: 1, max: 255, step: 1 },
      { name: 'High Threshold', value: 200, min: 1, max: 255, step: 1 },
    ],
  });
  const aliases = await get('/controlnet/module_list?alias_names=true');
  assert.ok(aliases.module_list.includes('invert (from white bg & black line)'));
  assert.ok(!aliases.module_list.includes('invert'));
});

test('POST /controlnet/detect returns the map at the module size; errors as the extension words them', async () => {
  const detect = (body: unknown) => server.request('/controlnet/detect', { method: 'POST', json: body });
  const res = await detect({ controlnet_module: 'invert', controlnet_input_images: [IMAGE] });
  const json = await res.json();
  assert.equal(json.info, 'Success');
  const map = decodePng(Buffer.from(json.images[0], 'base64'));
  assert.deepEqual([map.width, map.height, map.rgb[0], map.rgb[3 * 15]], [16, 16, 255, 0]);
  const canny = await (await detect({ controlnet_module: 'canny', controlnet_images: [IMAGE], controlnet_processor_res: 64 })).json();
  assert.equal(decodePng(Buffer.from(canny.images[0], 'base64')).width, 64, 'processor_res 64 scales the 16² input to 64²');
  for (const [body, detail] of [
    [{ controlnet_module: 'nope', controlnet_input_images: [IMAGE] }, 'Module not available'],
    [{ controlnet_module: 'clip_vision', controlnet_input_images: [IMAGE] }, 'Module not supported'],
    [{ controlnet_module: 'canny' }, 'No image selected'],
  ] as const) {
    const r = await detect(body);
    assert.equal(r.status, 422);
    assert.equal((await r.json()).detail, detail);
  }
});

test('units are validated before the job: each refusal is a 422 whose loc names the unit and field', async () => {
  const cases: [unknown[], (string | number)[], RegExp][] = [
    [[unit({ module: 'canny_typo' })], [0, 'module'], /module\(canny_typo\) not found in supported modules/],
    [[unit({ module: 'openpose' })], [0, 'module'], /module 'openpose' runs an annotator network .*no annotator weights/],
    [[unit({ module: 'reference_only' })], [0, 'module'], /module 'reference_only' needs no weights but .*not implemented here/],
    [[unit({ model: 'None' })], [0, 'model'], /You have not selected any ControlNet Model/],
    [[unit({ model: 'control_v11p_sd15_canny [deadbeef]' })], [0, 'model'], /model not found/],
    [[unit({ weight: 2.5 })], [0, 'weight'], /weight must be within \[0, 2\]/],
    [[unit({ guidance_start: 0.8, guidance_end: 0.2 })], [0, 'guidance_start'], /guidance_start\(0.8\) > guidance_end\(0.2\)/],
    [[unit({ control_mode: 'Strong' })], [0, 'control_mode'], /not one of Balanced/],
    [[unit({ resize_mode: 'Stretch' })], [0, 'resize_mode'], /not one of Just Resize/],
    [[unit({ image: 'not-an-image' })], [0, 'image'], /Invalid encoded image/],
    [[unit({ image: null })], [0, 'image'], /no input image is given/],
    [[{ enabled: false }, unit({ image: '' })], [1, 'image'], /expected a base64 image/],
    [[true, 'canny', 'control_v11p_sd15_canny', 1.0], [0], /positional form/],
    [[unit(), unit(), unit(), unit()], [3], /control_net_unit_count is 3/],
    [[unit({ input_image: IMAGE })], [0, 'input_image'], /both input_image and image/],
  ];
  for (const [args, at, msg] of cases) {
    const { status, json } = await txt2img({ alwayson_scripts: { controlnet: { args } } });
    assert.equal(status, 422, JSON.stringify(args).slice(0, 80));
    assert.deepEqual(json.detail[0].loc, ['body', 'alwayson_scripts', 'controlnet', 'args', ...at]);
    assert.match(json.detail[0].msg, msg);
  }
  const typed = await txt2img({ controlnet: [unit({ weight: -1 })] });
  assert.deepEqual(typed.json.detail[0].loc, ['body', 'controlnet', 0, 'weight']);
});

test('accepted units reach the engine resolved: model file, module name, extension defaults, legacy numbers', async () => {
  const args = [
    { enabled: false, module: 'bogus' },
    unit({ model: 'canny', module: 'invert (from white bg & black line)', resize_mode: 2, control_mode: 2, guidance: 0.5 }),
    null,
  ];
  const { status } = await txt2img({ alwayson_scripts: { ControlNet: { args } } });
  assert.equal(status, 200);
  const units = server.generator.calls.at(-1)?.controlNet;
  assert.equal(units?.length, 1);
  const [u] = units ?? [];
  assert.equal(u.modelName, 'control_v11p_sd15_canny [e3b0c442]', 'the shortest stem containing "canny"');
  assert.match(u.modelPath, /control_v11p_sd15_canny\.safetensors$/);
  assert.equal(u.module, 'invert');
  assert.deepEqual([u.resizeMode, u.controlMode, u.guidanceStart, u.guidanceEnd, u.weight], ['Resize and Fill', 'ControlNet is more important', 0, 0.5, 1]);
  assert.deepEqual([u.processorRes, u.thresholdA, u.thresholdB, u.pixelPerfect, u.saveDetectedMap], [-1, -1, -1, false, true]);
  assert.deepEqual([u.image?.width, u.image?.height], [16, 16]);
  const none = await txt2img({ alwayson_scripts: { controlnet: { args: [] } } });
  assert.equal(none.status, 200);
  assert.deepEqual(server.generator.calls.at(-1)?.controlNet, [], 'webuiapi sends [] when it has no unit');
});

test('effective_region_mask is decoded and handed to the engine; an undecodable one is a 422 on that field', async () => {
  const ok = await txt2img({ controlnet: [unit({ effective_region_mask: IMAGE })] });
  assert.equal(ok.status, 200);
  assert.deepEqual([server.generator.calls.at(-1)?.controlNet?.[0].effectiveRegionMask?.width], [16]);
  const bad = await txt2img({ controlnet: [unit({ effective_region_mask: 'garbage' })] });
  assert.deepEqual(bad.json.detail[0].loc, ['body', 'controlnet', 0, 'effective_region_mask']);
});
