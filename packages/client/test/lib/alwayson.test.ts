/** alwayson_scripts builders: what webuiapi sends for each extension (spec webuiapi-client.md, controlnet-api.md §2). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adetailer, adetailerUnit, alwaysOn, animateDiff, controlNet, controlNetUnit, reactor, roop, selfAttentionGuidance } from '../../src/index.ts';

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const RAW = Buffer.from(PNG).toString('base64');

test('controlNetUnit: webuiapi defaults, raw base64 images, numeric control modes mapped to labels', async () => {
  const unit = await controlNetUnit({ image: PNG, module: 'canny', model: 'control_v11p_sd15_canny [d14c016b]', control_mode: 2 });
  assert.deepEqual(unit, {
    image: RAW,
    mask: null,
    module: 'canny',
    model: 'control_v11p_sd15_canny [d14c016b]',
    weight: 1,
    resize_mode: 'Resize and Fill',
    low_vram: false,
    processor_res: 512,
    threshold_a: 64,
    threshold_b: 64,
    guidance_start: 0,
    guidance_end: 1,
    pixel_perfect: false,
    hr_option: 'Both',
    enabled: true,
    control_mode: 'ControlNet is more important',
  });
  assert.equal((await controlNetUnit()).image, null, 'no image → null (the unit then takes the img2img init image)');
  assert.deepEqual(controlNet([unit]), { ControlNet: { args: [unit] } });
  assert.deepEqual(controlNet([]), { ControlNet: { args: [] } });
  await assert.rejects(controlNetUnit({ control_mode: 3 as 0 }), /control_mode must be 0, 1, 2 or one of Balanced/);
  await assert.rejects(controlNetUnit({ weight: 2.5 }), /weight must be within 0..2/);
});

test('ADetailer: [true, ...units] with the ad_* defaults; [false] when unused', () => {
  const unit = adetailerUnit({ ad_model: 'face_yolov8n.pt', ad_prompt: 'a smile' });
  assert.equal(Object.keys(unit).length, 41);
  assert.deepEqual(
    [unit.ad_model, unit.ad_confidence, unit.ad_denoising_strength, unit.ad_sampler, unit.ad_checkpoint],
    ['face_yolov8n.pt', 0.3, 0.4, 'DPM++ 2M Karras', null],
  );
  assert.deepEqual(adetailer([unit]).ADetailer.args, [true, unit]);
  assert.deepEqual(adetailer([]), { ADetailer: { args: [false] } });
});

test('AnimateDiff: the txt2img keys, img2img latent keys, optional keys only when set', () => {
  const t2i = animateDiff({ fps: 12 }).animatediff.args[0] as Record<string, unknown>;
  assert.deepEqual(Object.keys(t2i), [
    'model',
    'enable',
    'video_length',
    'format',
    'fps',
    'loop_number',
    'closed_loop',
    'batch_size',
    'stride',
    'overlap',
    'interp',
    'interp_x',
    'freeinit_enable',
    'freeinit_filter',
    'freeinit_ds',
    'freeinit_dt',
    'freeinit_iters',
  ]);
  assert.equal(t2i.fps, 12);
  const i2i = animateDiff({ video_path: '/v.mp4' }, { img2img: true }).animatediff.args[0] as Record<string, unknown>;
  assert.equal(i2i.video_path, '/v.mp4');
  assert.equal(i2i.latent_scale, 32);
  assert.deepEqual(animateDiff(false), { animatediff: { args: [false] } });
});

test('Roop / ReActor positional lists start with the source image (data URL); SAG; alwaysOn merges', async () => {
  const r = await roop({ image: PNG });
  assert.deepEqual(r.roop.args, [`data:image/png;base64,${RAW}`, true, '0', null, 'GFPGAN', 1, 'R-ESRGAN 4x+', 1, 1, false, true]);
  const re = await reactor({ image: PNG, device: 'CPU' });
  assert.equal(re.reactor.args.length, 24);
  assert.deepEqual(re.reactor.args.slice(0, 5), [`data:image/png;base64,${RAW}`, true, '0', '0', 'inswapper_128.onnx']);
  assert.equal(re.reactor.args[20], 'CPU');
  assert.deepEqual(selfAttentionGuidance({ scale: 0.5 }), { 'Self Attention Guidance': { args: [true, 0.5, 1] } });
  const merged = alwaysOn(controlNet([]), selfAttentionGuidance());
  assert.deepEqual(Object.keys(merged), ['ControlNet', 'Self Attention Guidance']);
  assert.notEqual(alwaysOn(controlNet([])), alwaysOn(controlNet([])), 'a fresh object per call (webuiapi leaked keys between calls)');
});
