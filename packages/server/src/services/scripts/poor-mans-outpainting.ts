/**
 * "Poor man's outpainting" (img2img, spec §5.6): the init image is placed on a black canvas enlarged by `pixels`
 * in each chosen direction (rounded up to multiples of 64), a mask covers the new border (reaching `mask_blur`·2
 * px into the image), and the canvas is cut into width × height tiles overlapping by `pixels`; every tile that
 * touches the border is inpainted (blur mask_blur·2, the chosen masked-content fill, seed + 1 per tile) and the
 * tiles are blended back. Deviation: A1111 also draws a second "latent mask" (reaching mask_blur/2 px in) for the
 * latent blend; this engine blends latents with the image mask itself. Checked before the job: directions, fill,
 * and that `pixels` is less than a tile.
 */
import {
  combineTiles,
  flatten,
  type GeneratedImage,
  type Img2ImgParams,
  type InpaintingFill,
  type Pixels,
  parseHexColor,
  pixels,
  splitTiles,
} from '@sdapi/engine';
import { ArgReader, emptyResult, imageLists, padArgs, rejectUnknown, ScriptProgress } from './args.ts';
import { rgbToRgba } from './loopback.ts';
import { arg, type ScriptDef, type ScriptResult } from './types.ts';

const TITLE = "Poor man's outpainting";
const NAMES = ['pixels', 'mask_blur', 'inpainting_fill', 'direction'];
const DIRECTIONS = ['left', 'right', 'up', 'down'] as const;
const FILLS = ['fill', 'original', 'latent noise', 'latent nothing'];
const DEFAULTS = [128, 4, 0, [...DIRECTIONS]];

/** A black (0) rectangle, corners inclusive as PIL draws them, on a white RGB mask. */
function maskWithHole(width: number, height: number, [x0, y0, x1, y1]: [number, number, number, number]): Pixels {
  const mask = pixels(width, height, 3);
  mask.data.fill(255);
  for (let y = Math.max(0, y0); y <= Math.min(height - 1, y1); y++)
    mask.data.fill(0, (y * width + Math.max(0, x0)) * 3, (y * width + Math.min(width - 1, x1) + 1) * 3);
  return mask;
}

export const poorMansOutpainting: ScriptDef = {
  title: TITLE,
  key: 'poor_mans_outpainting',
  tabs: ['img2img'],
  args: () => [
    arg('Pixels to expand', 128, { minimum: 8, maximum: 256, step: 8 }),
    arg('Mask blur', 4, { minimum: 0, maximum: 64, step: 1 }),
    arg('Masked content', 'fill', { choices: FILLS }),
    arg('Outpainting direction', [...DIRECTIONS], { choices: [...DIRECTIONS] }),
  ],
  fromTyped(t) {
    rejectUnknown('poor_mans_outpainting', t, NAMES);
    const fill = typeof t.inpainting_fill === 'string' ? FILLS.indexOf(t.inpainting_fill) : t.inpainting_fill;
    return [t.pixels ?? 128, t.mask_blur ?? 4, fill ?? 0, t.direction ?? [...DIRECTIONS]];
  },
  prepare(rawArgs, base, env) {
    const r = new ArgReader(TITLE, padArgs(rawArgs, DEFAULTS), NAMES);
    const params = base.params as Img2ImgParams;
    const px = r.int(0, 1, Math.min(params.width, params.height) - 1);
    const blur = r.int(1, 0, 256);
    // An index (A1111's radio of type index) or its label.
    const fillArg = r.raw(2);
    const fill = (typeof fillArg === 'string' && FILLS.includes(fillArg) ? FILLS.indexOf(fillArg) : r.int(2, 0, 3)) as InpaintingFill;
    const direction = r.strings(3);
    const unknown = direction.find((d) => !(DIRECTIONS as readonly string[]).includes(d));
    if (unknown !== undefined) throw r.error(3, `has ${JSON.stringify(unknown)}; directions are ${DIRECTIONS.join(', ')}`);
    const init = params.initImages?.[0];
    if (!init) throw r.error(0, 'needs an init image (init_images)');
    let [left, right, up, down] = DIRECTIONS.map((d) => (direction.includes(d) ? px : 0));
    const targetW = Math.ceil((init.width + left + right) / 64) * 64;
    const targetH = Math.ceil((init.height + up + down) / 64) * 64;
    if (left > 0) left = Math.floor((left * (targetW - init.width)) / (left + right));
    if (right > 0) right = targetW - init.width - left;
    if (up > 0) up = Math.floor((up * (targetH - init.height)) / (up + down));
    if (down > 0) down = targetH - init.height - up;
    if (targetW < params.width || targetH < params.height) {
      throw r.error(0, `makes a ${targetW}x${targetH} canvas, smaller than one ${params.width}x${params.height} tile; lower width/height`);
    }
    const seed0 = params.seed === -1 ? Math.floor(Math.random() * 4294967294) : params.seed;
    const background = parseHexColor(String(env.options.img2img_background_color ?? '#ffffff'));
    const inside = (x: number, y: number) => x >= left && x + params.width <= targetW - right && y >= up && y + params.height <= targetH - down;
    // The tile layout is known now: /progress can count the tiles that will be redrawn.
    const layout = splitTiles(pixels(targetW, targetH, 3), params.width, params.height, px);
    const count = layout.rows.flat().filter((t) => !inside(t.x, t.y)).length;
    return {
      title: TITLE,
      jobCount: count,
      async run(exec, hooks) {
        const canvas = pixels(targetW, targetH, 3);
        const source = flatten(pixels(init.width, init.height, 4, init.rgba), background);
        for (let y = 0; y < source.height; y++)
          canvas.data.set(source.data.subarray(y * source.width * 3, (y + 1) * source.width * 3), ((y + up) * targetW + left) * 3);
        const d = blur * 2;
        const mask = maskWithHole(targetW, targetH, [
          left + (left > 0 ? d : 0),
          up + (up > 0 ? d : 0),
          targetW - right - (right > 0 ? d : 0),
          targetH - down - (down > 0 ? d : 0),
        ]);
        const grid = splitTiles(canvas, params.width, params.height, px);
        const maskTiles = splitTiles(mask, params.width, params.height, px).rows.flat();
        const work = grid.rows.flat().flatMap((tile, i) => (inside(tile.x, tile.y) ? [] : [{ tile, mask: maskTiles[i].image }]));
        const progress = new ScriptProgress(hooks, work.length);
        let template: ScriptResult | null = null;
        let seed = seed0;
        for (const [k, w] of work.entries()) {
          if (progress.interrupted) break;
          const job: Img2ImgParams = {
            ...params,
            initImages: [rgbToRgba({ width: w.tile.image.width, height: w.tile.image.height, rgb: w.tile.image.data })],
            mask: rgbToRgba({ width: w.mask.width, height: w.mask.height, rgb: w.mask.data }),
            maskBlurX: d,
            maskBlurY: d,
            inpaintingFill: fill,
            inpaintFullRes: false,
            batchSize: 1,
            nIter: 1,
            seed,
          };
          const result = await exec.generate(job, base.checkpointOverride, progress.forRun(k));
          progress.done(k);
          template ??= { ...result, indexOfFirstImage: 0 };
          const im = result.images[0];
          if (im && im.width === params.width && im.height === params.height) w.tile.image = pixels(im.width, im.height, 3, im.rgb);
          seed = (result.allSeeds[0] ?? seed) + 1;
          if (result.interrupted) break;
        }
        if (!template) return emptyResult(base, true);
        const combined = combineTiles(grid);
        const first = template.images[0];
        const image: GeneratedImage = {
          width: combined.width,
          height: combined.height,
          rgb: combined.data,
          seed: seed0,
          subseed: first?.subseed ?? -1,
          prompt: first?.prompt ?? params.prompt,
          negativePrompt: first?.negativePrompt ?? params.negativePrompt,
          infotext: first?.infotext ?? '',
        };
        return {
          ...template,
          images: [image],
          ...imageLists([image]),
          interrupted: progress.interrupted,
          detectedMaps: undefined,
          indexOfFirstImage: 0,
        };
      },
    };
  },
};
