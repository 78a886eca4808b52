/**
 * "Outpainting mk2" (img2img, spec §5.6): the image grows one direction at a time (left, right, up, down, those
 * chosen), each step by its share of the extra size (rounded up to multiples of 64): the new strip is filled with
 * spectrally matched noise (engine/image/matched-noise.ts), masked (reaching mask_blur px into the old image, blur
 * mask_blur·4 along that axis), and the edge region of at most width × height px is redrawn by img2img with
 * "original" masked content, batch_size images at once; n_iter repeats from the original image. Output: a grid of
 * all results (when there are several, or option grid_only_if_multiple is off, and return_grid is on) first, then
 * the images. Deviations: the matched noise comes from our own seeded generator (A1111: numpy default_rng(0)), so
 * pixels differ; A1111's narrower "latent mask" is not drawn (latents blend with the image mask);
 * `index_of_first_image` is 1 when the grid comes first (A1111: 0).
 */
import { flatten, type GeneratedImage, gridColor, type Img2ImgParams, imageGrid, matchedNoise, type Pixels, parseHexColor, pixels } from '@sdapi/engine';
import { ArgReader, emptyResult, gridImage, imageLists, padArgs, rejectUnknown, ScriptProgress } from './args.ts';
import { rgbToRgba } from './loopback.ts';
import { arg, type ScriptDef, type ScriptResult } from './types.ts';

const TITLE = 'Outpainting mk2';
const NAMES = ['info', 'pixels', 'mask_blur', 'direction', 'noise_q', 'color_variation'];
const DIRECTIONS = ['left', 'right', 'up', 'down'] as const;
type Direction = (typeof DIRECTIONS)[number];
const DEFAULTS = ['', 128, 8, [...DIRECTIONS], 1.0, 0.05];

const ceil64 = (v: number) => Math.ceil(v / 64) * 64;

function crop(img: Pixels, x: number, y: number, w: number, h: number): Pixels {
  const out = pixels(w, h, 3);
  for (let row = 0; row < h; row++) out.data.set(img.data.subarray(((y + row) * img.width + x) * 3, ((y + row) * img.width + x + w) * 3), row * w * 3);
  return out;
}

function paste(dst: Pixels, src: Pixels, x: number, y: number): void {
  for (let row = 0; row < src.height; row++) dst.data.set(src.data.subarray(row * src.width * 3, (row + 1) * src.width * 3), ((y + row) * dst.width + x) * 3);
}

export const outpaintingMk2: ScriptDef = {
  title: TITLE,
  key: 'outpainting_mk2',
  tabs: ['img2img'],
  args: () => [
    arg('', ''),
    arg('Pixels to expand', 128, { minimum: 8, maximum: 256, step: 8 }),
    arg('Mask blur', 8, { minimum: 0, maximum: 64, step: 1 }),
    arg('Outpainting direction', [...DIRECTIONS], { choices: [...DIRECTIONS] }),
    arg('Fall-off exponent (lower=higher detail)', 1.0, { minimum: 0, maximum: 4, step: 0.01 }),
    arg('Color variation', 0.05, { minimum: 0, maximum: 1, step: 0.01 }),
  ],
  fromTyped(t) {
    rejectUnknown('outpainting_mk2', t, NAMES.slice(1));
    return ['', t.pixels ?? 128, t.mask_blur ?? 8, t.direction ?? [...DIRECTIONS], t.noise_q ?? 1.0, t.color_variation ?? 0.05];
  },
  prepare(rawArgs, base, env) {
    const r = new ArgReader(TITLE, padArgs(rawArgs, DEFAULTS), NAMES);
    const params = base.params as Img2ImgParams;
    const px = r.int(1, 1, 2048);
    const blur = r.int(2, 0, 256);
    const direction = r.strings(3);
    const unknown = direction.find((d) => !(DIRECTIONS as readonly string[]).includes(d));
    if (unknown !== undefined) throw r.error(3, `has ${JSON.stringify(unknown)}; directions are ${DIRECTIONS.join(', ')}`);
    if (direction.length === 0) throw r.error(3, 'names no direction to expand');
    const noiseQ = r.number(4, 0, 16);
    const colorVariation = r.number(5, 0, 1);
    const init = params.initImages?.[0];
    if (!init) throw r.error(0, 'needs an init image (init_images)');
    const amount: Record<Direction, number> = { left: 0, right: 0, up: 0, down: 0 };
    for (const d of DIRECTIONS) if (direction.includes(d)) amount[d] = px;
    const targetW = ceil64(init.width + amount.left + amount.right);
    const targetH = ceil64(init.height + amount.up + amount.down);
    if (amount.left > 0) amount.left = Math.floor((amount.left * (targetW - init.width)) / (amount.left + amount.right));
    if (amount.right > 0) amount.right = targetW - init.width - amount.left;
    if (amount.up > 0) amount.up = Math.floor((amount.up * (targetH - init.height)) / (amount.up + amount.down));
    if (amount.down > 0) amount.down = targetH - init.height - amount.up;
    const steps = DIRECTIONS.filter((d) => amount[d] > 0);
    const blurX = amount.left > 0 || amount.right > 0 ? blur : 0;
    const blurY = amount.up > 0 || amount.down > 0 ? blur : 0;
    const background = parseHexColor(String(env.options.img2img_background_color ?? '#ffffff'));
    const count = params.batchSize;
    return {
      title: TITLE,
      jobCount: params.nIter * steps.length,
      async run(exec, hooks) {
        const progress = new ScriptProgress(hooks, params.nIter * steps.length);
        const source = flatten(pixels(init.width, init.height, 4, init.rgba), background);
        const results: GeneratedImage[] = [];
        let template: ScriptResult | null = null;
        let k = 0;
        outer: for (let n = 0; n < params.nIter; n++) {
          let images: Pixels[] = Array.from({ length: count }, () => source);
          let last: GeneratedImage[] = [];
          for (const d of steps) {
            if (progress.interrupted) break outer;
            const expandBy = amount[d];
            const [isLeft, isRight, isTop, isBottom] = [d === 'left', d === 'right', d === 'up', d === 'down'];
            const horizontal = isLeft || isRight;
            const prepared = images.map((img) => {
              const resW = img.width + (horizontal ? expandBy : 0);
              const resH = img.height + (horizontal ? 0 : expandBy);
              const [procW, procH] = [ceil64(resW), ceil64(resH)];
              const canvas = pixels(procW, procH, 3);
              paste(canvas, img, isLeft ? expandBy : 0, isTop ? expandBy : 0);
              // White (1) = to paint; the kept rectangle (inclusive corners, as PIL draws it) is black.
              const mask = new Float64Array(procW * procH).fill(1);
              const [x0, y0] = [isLeft ? expandBy + blurX : 0, isTop ? expandBy + blurY : 0];
              const [x1, y1] = [isRight ? procW - expandBy - blurX : resW, isBottom ? procH - expandBy - blurY : resH];
              for (let y = Math.max(0, y0); y <= Math.min(procH - 1, y1); y++)
                mask.fill(0, y * procW + Math.max(0, x0), y * procW + Math.min(procW - 1, x1) + 1);
              const noised = matchedNoise(
                Float64Array.from(canvas.data, (v) => v / 255),
                mask,
                procH,
                procW,
                noiseQ,
                colorVariation,
              );
              const filled = pixels(
                procW,
                procH,
                3,
                Uint8Array.from(noised, (v) => Math.round(Math.min(255, Math.max(0, v * 255)))),
              );
              const tw = horizontal ? Math.min(params.width, resW) : procW;
              const th = horizontal ? procH : Math.min(params.height, resH);
              const cx = isLeft ? 0 : procW - tw;
              const cy = isTop ? 0 : procH - th;
              const maskRgb = pixels(
                procW,
                procH,
                3,
                Uint8Array.from({ length: procW * procH * 3 }, (_, i) => mask[Math.floor(i / 3)] * 255),
              );
              return { filled, resW, resH, tw, th, cx, cy, region: crop(filled, cx, cy, tw, th), mask: crop(maskRgb, cx, cy, tw, th) };
            });
            const { tw, th } = prepared[0];
            const job: Img2ImgParams = {
              ...params,
              width: tw,
              height: th,
              initImages: prepared.map((p) => rgbToRgba({ width: p.region.width, height: p.region.height, rgb: p.region.data })),
              mask: rgbToRgba({ width: tw, height: th, rgb: prepared[0].mask.data }),
              maskBlurX: blurX * 4,
              maskBlurY: blurY * 4,
              inpaintingFill: 1,
              inpaintFullRes: false,
              batchSize: count,
              nIter: 1,
            };
            const result = await exec.generate(job, base.checkpointOverride, progress.forRun(k));
            progress.done(k++);
            template ??= { ...result, indexOfFirstImage: 0 };
            last = result.images;
            images = prepared.map((p, i) => {
              const out = result.images[i];
              if (out)
                paste(p.filled, pixels(out.width, out.height, 3, out.rgb), isLeft ? 0 : p.filled.width - out.width, isTop ? 0 : p.filled.height - out.height);
              return crop(p.filled, 0, 0, p.resW, p.resH);
            });
            if (result.interrupted) break outer;
          }
          for (const [i, img] of images.entries()) {
            const like = last[i] ?? last[0];
            results.push({
              width: img.width,
              height: img.height,
              rgb: img.data,
              seed: like?.seed ?? -1,
              subseed: like?.subseed ?? -1,
              prompt: like?.prompt ?? params.prompt,
              negativePrompt: like?.negativePrompt ?? params.negativePrompt,
              infotext: like?.infotext ?? '',
            });
          }
        }
        if (!template || results.length === 0) return emptyResult(base, true);
        const wantGrid = env.options.return_grid !== false && (results.length >= 2 || env.options.grid_only_if_multiple === false);
        const rows = Math.max(1, Math.round(Math.sqrt(results.length)));
        const grid = wantGrid ? imageGrid(results, rows, gridColor(String(env.options.grid_background_color ?? '#ffffff'))) : null;
        return {
          ...template,
          images: grid ? [gridImage(grid, results[0], results[0].infotext), ...results] : results,
          ...imageLists(results),
          width: params.width,
          height: params.height,
          interrupted: progress.interrupted,
          detectedMaps: undefined,
          indexOfFirstImage: grid ? 1 : 0,
        };
      },
    };
  },
};
