/**
 * img2img and inpainting end to end on the tiny SD1.5 checkpoint (64×64, few steps): sizes per resize mode,
 * the `Denoising strength` infotext, A1111's step arithmetic (how many steps run), the VAE round trip at
 * strength 0, inpainting leaving unmasked pixels untouched and changing the masked ones, a 9-channel
 * inpainting checkpoint, and clear errors for bad parameters.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TINY_SD15_CONFIG, writeRandomCheckpoint } from '../src/checkpoint/random.ts';
import { InvalidParamsError } from '../src/errors.ts';
import { fromRgbBytes, toRgbBytes } from '../src/image/convert.ts';
import { encodeLatents } from '../src/pipeline/img2img-latents.ts';
import type { Img2ImgParams, RgbaImage } from '../src/pipeline/types.ts';
import { ImageRNG } from '../src/rng/image-rng.ts';
import { alphasCumprodLinear } from '../src/sampling/discrete-schedule.ts';
import { getTimesteps } from '../src/sampling/samplers-timesteps.ts';
import { defaultImg2ImgParams, defaultTxt2ImgParams, StableDiffusion } from '../src/stable-diffusion.ts';
import type { Tensor } from '../src/tensor.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';

const skip = needFixture('tiny-sd15', 'model.safetensors');
let sd: StableDiffusion;
let init: RgbaImage;
let initRgb: Uint8Array;

/** An opaque RGBA image from RGB bytes. */
function rgbaOf(rgb: Uint8Array, width: number, height: number): RgbaImage {
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    rgba.set(rgb.subarray(p * 3, p * 3 + 3), p * 4);
    rgba[p * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

/** A white-on-black mask of the box [x1, x2) × [y1, y2). */
function boxMask(width: number, height: number, [x1, y1, x2, y2]: readonly number[]): RgbaImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = y1; y < y2; y++) rgb.fill(255, (y * width + x1) * 3, (y * width + x2) * 3);
  return rgbaOf(rgb, width, height);
}

const params = (overrides: Partial<Img2ImgParams>): Img2ImgParams =>
  defaultImg2ImgParams({ prompt: 'a dog', seed: 2, steps: 6, width: 64, height: 64, initImages: [init], ...overrides });

before(async () => {
  if (skip) return;
  sd = StableDiffusion.open(fixturePath('tiny-sd15', 'model.safetensors'));
  const first = await sd.txt2img(defaultTxt2ImgParams({ prompt: 'a cat', seed: 1, steps: 4, width: 64, height: 64 }));
  initRgb = first.images[0].rgb;
  init = rgbaOf(initRgb, 64, 64);
});

for (const resizeMode of [0, 1, 2, 3] as const) {
  test(`img2img resize mode ${resizeMode}: 64x64 → 96x64 with a Denoising strength infotext`, { skip }, async () => {
    const result = await sd.img2img(params({ width: 96, height: 64, resizeMode, denoisingStrength: 0.5 }));
    assert.equal(result.images.length, 1);
    const [image] = result.images;
    assert.deepEqual([image.width, image.height, image.rgb.length], [96, 64, 96 * 64 * 3]);
    assert.match(image.infotext, /Size: 96x64, .*Denoising strength: 0\.5/);
    assert.deepEqual([result.width, result.height, result.denoisingStrength, result.isUsingInpaintingConditioning], [96, 64, 0.5, false]);
  });
}

test('img2img runs t_enc + 1 sampler steps (A1111 int(min(strength, 0.999) × steps)); img2img_fix_steps runs all', { skip }, async () => {
  const stepsSeen = async (p: Img2ImgParams) => {
    let last = { samplingStep: -1, samplingSteps: -1 };
    await sd.img2img(p, { onProgress: (s) => (last = s) });
    return [last.samplingStep, last.samplingSteps];
  };
  assert.deepEqual(await stepsSeen(params({ steps: 10, denoisingStrength: 0.35 })), [4, 4]); // t_enc = 3
  assert.deepEqual(await stepsSeen(params({ steps: 10, denoisingStrength: 1 })), [10, 10]); // t_enc = 9
  const fixed = params({ steps: 5, denoisingStrength: 0.35 });
  fixed.options.img2img_fix_steps = true;
  assert.deepEqual(await stepsSeen(fixed), [5, 5]);
});

test('denoising strength 0 returns (nearly) the VAE round trip: DDIM exactly re-noised to t=1, Euler one step at the smallest sigma', { skip }, async () => {
  const model = sd.model;
  const initLatent = await encodeLatents(model, fromRgbBytes(initRgb, 64, 64));
  // DDIM: t_enc = 0 runs no step; x = √ᾱ·init + √(1 − ᾱ)·noise at ᾱ = alphas_cumprod[timesteps[0] = 1].
  const a = alphasCumprodLinear(0.00085, 0.012, 1000)[getTimesteps(20)[0]];
  const noise = new ImageRNG({ shape: [4, 8, 8], seeds: [2], source: 'GPU' }).first();
  const expected = toRgbBytes(await model.decode(initLatent.mul(Math.fround(Math.sqrt(a))).add(noise.mul(Math.fround(Math.sqrt(Math.fround(1 - a)))))), 0);
  const ddim = (await sd.img2img(params({ steps: 20, denoisingStrength: 0, samplerName: 'DDIM' }))).images[0].rgb;
  const diff = ddim.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i])), 0);
  console.log(`# strength 0, DDIM: max ${diff} levels from decode(√ᾱ₁·init + √(1−ᾱ₁)·noise), √(1−ᾱ₁) = ${Math.sqrt(1 - a).toFixed(4)}`);
  assert.ok(diff <= 1, `DDIM strength 0 is ${diff} levels from the re-noised init latent`);
  // Euler: one step from σ_min (≈ 0.029 for 20 steps): denoised = init + σ·(noise − ε) stays at the init latent.
  const seen: Tensor[] = [];
  await sd.img2img(params({ steps: 20, denoisingStrength: 0 }), { onProgress: (p) => p.latent && seen.push(p.latent) });
  assert.equal(seen.length, 1);
  const meanAbs = seen[0].data.reduce((s, v, i) => s + Math.abs(v - initLatent.data[i]), 0) / seen[0].size;
  const latentScale = initLatent.data.reduce((s, v) => s + Math.abs(v), 0) / initLatent.size;
  console.log(`# strength 0, Euler: mean |latent − init latent| ${meanAbs.toExponential(3)} (init latent mean |x| ${latentScale.toFixed(4)})`);
  assert.ok(meanAbs < 0.06, `one step at σ_min moved the latent by ${meanAbs} on average (bound 2·σ_min ≈ 0.06)`);
});

test('inpainting with mask_blur 0 keeps every unmasked pixel and changes the masked area (whole picture and only masked)', { skip }, async () => {
  const mask = boxMask(64, 64, [16, 8, 48, 40]);
  for (const inpaintFullRes of [false, true]) {
    for (const inpaintingFill of [0, 1, 2, 3] as const) {
      const result = await sd.img2img(params({ mask, maskBlurX: 0, maskBlurY: 0, inpaintFullRes, inpaintingFill, denoisingStrength: 0.8 }));
      const out = result.images[0].rgb;
      let kept = 0;
      let changed = 0;
      for (let p = 0; p < 64 * 64; p++) {
        const [x, y] = [p % 64, Math.floor(p / 64)];
        const same = [0, 1, 2].every((c) => out[p * 3 + c] === initRgb[p * 3 + c]);
        const inside = x >= 16 && x < 48 && y >= 8 && y < 40;
        if (!inside) assert.ok(same, `full res ${inpaintFullRes}, fill ${inpaintingFill}: unmasked pixel (${x}, ${y}) changed`);
        if (!inside) kept += 1;
        else if (!same) changed += 1;
      }
      console.log(`# inpaint full res ${inpaintFullRes}, fill ${inpaintingFill}: ${kept}/3072 unmasked kept, ${changed}/1024 masked changed`);
      assert.ok(changed > 0.9 * 1024, `only ${changed} of 1024 masked pixels changed`);
      assert.equal(result.images[0].infotext.includes('Inpaint area: Only masked, Masked area padding: 0'), inpaintFullRes);
      const content = ['Masked content: fill', null, 'Masked content: latent noise', 'Masked content: latent nothing'][inpaintingFill];
      if (content) assert.ok(result.images[0].infotext.includes(content), result.images[0].infotext);
    }
  }
});

test('inverted mask with blur: the box is kept, the outside repainted; infotext Mask mode / Mask blur', { skip }, async () => {
  const mask = boxMask(64, 64, [16, 16, 48, 48]);
  const result = await sd.img2img(params({ mask, maskBlurX: 2, maskBlurY: 2, inpaintingMaskInvert: true, inpaintFullRes: false }));
  const out = result.images[0].rgb;
  // mask_for_overlay = clip(2·blurred mask): pixels well inside the (inverted-away) box stay exact.
  for (let y = 24; y < 40; y++)
    for (let x = 24; x < 40; x++) for (let c = 0; c < 3; c++) assert.equal(out[(y * 64 + x) * 3 + c], initRgb[(y * 64 + x) * 3 + c]);
  assert.match(result.images[0].infotext, /Denoising strength: 0\.75, Mask mode: Inpaint not masked, Mask blur: 2, Masked content: fill/);
});

test('a 9-channel inpainting checkpoint is detected and conditioned with [mask, masked-image latent]', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdapi-inpaint-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'tiny-inpainting.safetensors');
  writeRandomCheckpoint(path, { ...TINY_SD15_CONFIG, unet: { ...TINY_SD15_CONFIG.unet, in_channels: 9 } }, 99);
  const inpaint = StableDiffusion.open(path);
  try {
    assert.equal(inpaint.model.config.unet.in_channels, 9);
    const mask = boxMask(64, 64, [0, 0, 32, 64]);
    const result = await inpaint.img2img(params({ mask, maskBlurX: 0, maskBlurY: 0, inpaintFullRes: false }));
    assert.equal(result.isUsingInpaintingConditioning, true);
    assert.match(result.images[0].infotext, /Denoising strength: 0\.75, Conditional mask weight: 1\.0/);
    const out = result.images[0].rgb;
    for (let y = 0; y < 64; y++) for (let x = 32; x < 64; x++) assert.equal(out[(y * 64 + x) * 3], initRgb[(y * 64 + x) * 3]);
    const t2i = await inpaint.txt2img(defaultTxt2ImgParams({ prompt: 'a dog', seed: 3, steps: 3, width: 64, height: 64 }));
    assert.equal(t2i.images[0].rgb.length, 64 * 64 * 3);
  } finally {
    await inpaint.release();
  }
});

test('bad img2img parameters are refused with the field named', { skip }, async () => {
  const refused = async (p: Img2ImgParams, param: string, message: RegExp) => {
    await assert.rejects(sd.img2img(p), (e: unknown) => e instanceof InvalidParamsError && e.param === param && message.test(e.message));
  };
  await refused(params({ initImages: [init, init], batchSize: 1 }), 'init_images', /bad number of images passed: 2; expecting 1 or less/);
  await refused(params({ initImages: [] }), 'init_images', /at least one image/);
  await refused(params({ resizeMode: 4 as 0 }), 'resize_mode', /0 \(just resize\).*3 \(latent upscale\), got 4/);
  await refused(params({ denoisingStrength: 1.5 }), 'denoising_strength', /from 0 to 1, got 1\.5/);
  await refused(params({ initImages: [{ width: 64, height: 64, rgba: new Uint8Array(10) }] }), 'init_images[0]', /needs 16384 bytes, got 10/);
  await refused(
    params({ mask: boxMask(32, 32, [0, 0, 8, 8]) }),
    'mask',
    /inpaint_full_res needs the mask \(32x32\) to be the size of init_images\[0\] \(64x64\)/,
  );
  await refused(params({ mask: boxMask(64, 64, [0, 0, 8, 8]), inpaintingFill: 7 as 0 }), 'inpainting_fill', /got 7/);
  const taesd = params({});
  taesd.options.sd_vae_encode_method = 'TAESD';
  await refused(taesd, 'sd_vae_encode_method', /valid choices: Full/);
});

test('two init images with batch size 3 make a batch of 2 (A1111: the batch shrinks to the images)', { skip }, async () => {
  const result = await sd.img2img(
    params({
      initImages: [
        init,
        rgbaOf(
          initRgb.map((v) => 255 - v),
          64,
          64,
        ),
      ],
      batchSize: 3,
    }),
  );
  assert.equal(result.batchSize, 2);
  assert.equal(result.images.length, 2);
  assert.deepEqual(result.allSeeds, [2, 3, 4]); // seeds are set up for batch_size × n_iter before the batch shrinks
  assert.notDeepEqual(result.images[0].rgb, result.images[1].rgb);
});
