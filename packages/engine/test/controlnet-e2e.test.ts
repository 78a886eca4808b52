/**
 * txt2img with ControlNet units on the tiny SD1.5 model reproduces the five oracle images of
 * fixtures/controlnet/e2e_cases.json (no control, Balanced, weight 0.5 with guidance 0.2–0.6, both "more
 * important" modes) within the bounds, and returns the detected map the extension would append.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { decodePng } from '../src/image/png.ts';
import type { ControlNetUnitParams } from '../src/pipeline/control-units.ts';
import { defaultTxt2ImgParams, StableDiffusion } from '../src/stable-diffusion.ts';
import { tinyControlNetUnit } from './helpers/controlnet.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';
import { pixelAgreement } from './helpers/pixels.ts';

const skip = needFixture('controlnet', 'e2e_cases.json') || needFixture('tiny-sd15', 'model.safetensors');
let sd: StableDiffusion;

before(() => {
  if (skip) return;
  sd = StableDiffusion.open(fixturePath('tiny-sd15', 'model.safetensors'));
});

interface Case {
  id: string;
  png: string;
  request_txt2img: Record<string, unknown> & { alwayson_scripts?: { controlnet: { args: Record<string, unknown>[] } } };
}

const cases = (): Case[] => (skip ? [] : JSON.parse(readFileSync(fixturePath('controlnet', 'e2e_cases.json'), 'utf8')).cases);

const rgbOf = (png: Uint8Array) => decodePng(png).rgb;

function unitOf(u: Record<string, unknown>): ControlNetUnitParams {
  const { width, height, rgba } = decodePng(Buffer.from(u.image as string, 'base64'));
  return {
    modelPath: fixturePath('controlnet', 'tiny-controlnet.safetensors'),
    modelName: u.model as string,
    module: u.module as string,
    image: { width, height, rgba },
    weight: u.weight as number,
    resizeMode: 'Crop and Resize',
    processorRes: u.processor_res as number,
    thresholdA: u.threshold_a as number,
    thresholdB: u.threshold_b as number,
    guidanceStart: u.guidance_start as number,
    guidanceEnd: u.guidance_end as number,
    pixelPerfect: false,
    controlMode: u.control_mode as ControlNetUnitParams['controlMode'],
  };
}

for (const c of skip ? [{ id: 'e2e cases' } as Case] : cases()) {
  test(`ControlNet txt2img reproduces ${c.id}`, { skip }, async () => {
    const r = c.request_txt2img;
    const params = defaultTxt2ImgParams({
      prompt: r.prompt as string,
      seed: r.seed as number,
      steps: r.steps as number,
      cfgScale: r.cfg_scale as number,
      width: 64,
      height: 64,
      samplerName: r.sampler_name as string,
      scheduler: r.scheduler as string,
      controlNet: (r.alwayson_scripts?.controlnet.args ?? []).map(unitOf),
    });
    params.options.randn_source = 'CPU';
    const result = await sd.txt2img(params);
    const { mae, within3 } = pixelAgreement(result.images[0].rgb, rgbOf(readFileSync(fixturePath('controlnet', c.png))));
    console.log(`# ${c.id}: mean abs pixel error ${mae.toFixed(4)}, ${(within3 * 100).toFixed(2)}% within ±3`);
    assert.ok(mae <= 0.25 && within3 >= 0.99, `${c.id}: mean abs ${mae}, ${within3} within ±3`);
    if (params.controlNet?.length) {
      assert.equal(result.detectedMaps?.length, 1);
      assert.deepEqual(result.detectedMaps?.[0].rgb, rgbOf(readFileSync(fixturePath('controlnet', 'hint.png'))), 'detected map = hint.png');
      assert.match(String(result.extraGenerationParams['ControlNet 0']), /^Module: none, Model: tiny-controlnet \[8dba536e\], Weight: /);
    }
  });
}

test('img2img: a unit without an image uses the first init image (same pixels as sending it), and it changes the result', { skip }, async () => {
  const { defaultImg2ImgParams } = await import('../src/stable-diffusion.ts');
  const hint = decodePng(readFileSync(fixturePath('controlnet', 'hint.png')));
  const init = { width: hint.width, height: hint.height, rgba: hint.rgba };
  const unit = (image: typeof init | null) =>
    tinyControlNetUnit({ module: 'invert', image, resizeMode: 'Resize and Fill', processorRes: 512, thresholdA: 64, thresholdB: 64 });
  const run = async (controlNet: ControlNetUnitParams[]) => {
    const params = defaultImg2ImgParams({
      prompt: 'a horse',
      seed: 3,
      steps: 6,
      width: 64,
      height: 64,
      initImages: [init],
      denoisingStrength: 0.6,
      samplerName: 'Euler',
      controlNet,
    });
    params.options.randn_source = 'CPU';
    return sd.img2img(params);
  };
  const [fromInit, explicit, plain] = [await run([unit(null)]), await run([unit(init)]), await run([])];
  assert.deepEqual(fromInit.images[0].rgb, explicit.images[0].rgb);
  assert.deepEqual(
    fromInit.detectedMaps?.[0].rgb,
    Uint8Array.from(hint.rgb, (v) => 255 - v),
    'invert of the init image',
  );
  const { mae } = pixelAgreement(fromInit.images[0].rgb, plain.images[0].rgb);
  assert.ok(mae > 1, `control changes the img2img result (mean abs ${mae})`);
  assert.match(fromInit.images[0].infotext, /ControlNet 0: "Module: invert, /);
});

test('pixel perfect runs the preprocessor at the target resolution (canny on 32² for a 64² job: resolution 64)', { skip }, async () => {
  const { prepareControl } = await import('../src/pipeline/control-units.ts');
  const { detectMap } = await import('../src/image/preprocessors.ts');
  const rgba = new Uint8Array(32 * 32 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i >> 2) % 32 < 13 ? 20 : 230));
  const image = { width: 32, height: 32, rgba };
  const unit = (pixelPerfect: boolean) => tinyControlNetUnit({ module: 'canny', image, processorRes: 512, pixelPerfect });
  const perfect = await prepareControl(sd.model, [unit(true)], { width: 64, height: 64 });
  const direct = await detectMap('canny', image, 64, -1, -1);
  assert.deepEqual(perfect?.detectedMaps[0].data, direct.data);
  const at512 = await prepareControl(sd.model, [unit(false)], { width: 64, height: 64 });
  assert.equal(at512?.detectedMaps[0].width, 64, 'a 512² map is fitted to the job size');
  assert.notDeepEqual(at512?.detectedMaps[0].data, direct.data);
});

test('img2img "only masked": the control image is cropped like the init image (inpaint_crop_input_image)', { skip }, async () => {
  const { defaultImg2ImgParams } = await import('../src/stable-diffusion.ts');
  const { resizeImage } = await import('../src/image/resize.ts');
  const { crop } = await import('../src/image/compose.ts');
  const rgb = new Uint8Array(64 * 64 * 3).map((_, i) => (i * 7) % 251);
  const init = { width: 64, height: 64, rgba: new Uint8Array(64 * 64 * 4).map((_, i) => (i % 4 === 3 ? 255 : rgb[(i >> 2) * 3 + (i % 4)])) };
  // White square 16..47: with no blur and no padding the crop box is [16, 16, 48, 48] (already square like the job).
  const mask = {
    width: 64,
    height: 64,
    rgba: new Uint8Array(64 * 64 * 4).map((_, i) => {
      const p = i >> 2;
      const [x, y] = [p % 64, Math.floor(p / 64)];
      return i % 4 === 3 || (x >= 16 && x < 48 && y >= 16 && y < 48) ? 255 : 0;
    }),
  };
  const unit = (inpaintCropInputImage: boolean) => tinyControlNetUnit({ image: init, inpaintCropInputImage });
  const run = (controlNet: ControlNetUnitParams[]) =>
    sd.img2img(
      defaultImg2ImgParams({
        prompt: 'x',
        seed: 1,
        steps: 2,
        width: 64,
        height: 64,
        initImages: [init],
        mask,
        maskBlurX: 0,
        maskBlurY: 0,
        inpaintFullRes: true,
        inpaintFullResPadding: 0,
        denoisingStrength: 0.5,
        samplerName: 'Euler',
        controlNet,
      }),
    );
  const cropped = await run([unit(true)]);
  const expected = await resizeImage(2, crop({ width: 64, height: 64, channels: 3, data: rgb }, [16, 16, 48, 48]), 64, 64);
  assert.deepEqual(cropped.detectedMaps?.[0].rgb, expected.data);
  const whole = await run([unit(false)]);
  assert.deepEqual(whole.detectedMaps?.[0].rgb, rgb, 'inpaint_crop_input_image false: the whole image');
});
