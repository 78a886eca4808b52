/**
 * "SD upscale" (img2img, spec §5.6): the init image is enlarged with a pixel upscaler (None, Lanczos, Nearest:
 * the ones this server has), cut into width × height tiles overlapping by `overlap` px, each tile redrawn by
 * img2img (batches of batch_size tiles, seed + batch index), and the tiles blended back together; n_iter
 * repeats the whole pass with seed + n. Arguments `[info (ignored), overlap=64, upscaler (index into
 * /upscalers or a name), scale_factor=2.0]`. Checked before the job: the upscaler, the overlap (less than a
 * tile) and that the enlarged image holds at least one tile (A1111 pads with black or divides by zero).
 */
import { combineTiles, flatten, type GeneratedImage, type Img2ImgParams, type Pixels, parseHexColor, pixels, splitTiles, upscaleBy } from '@sdapi/engine';
import { UPSCALERS } from '../upscalers.ts';
import { ArgReader, emptyResult, imageLists, padArgs, rejectUnknown, ScriptProgress, withInfotextKeys } from './args.ts';
import { rgbToRgba } from './loopback.ts';
import { arg, type ScriptDef, type ScriptResult } from './types.ts';

const TITLE = 'SD upscale';
const NAMES = ['info', 'overlap', 'upscaler_index', 'scale_factor'];
const DEFAULTS = ['', 64, 'None', 2.0];
const UPSCALER_NAMES = UPSCALERS.map((u) => u.name);

export function upscaledSize(width: number, height: number, scale: number, upscaler: string): [number, number] {
  return upscaler === 'None' ? [width, height] : [Math.floor((width * scale) / 8) * 8, Math.floor((height * scale) / 8) * 8];
}

export const sdUpscale: ScriptDef = {
  title: TITLE,
  key: 'sd_upscale',
  tabs: ['img2img'],
  args: () => [
    arg('', ''),
    arg('Tile overlap', 64, { minimum: 0, maximum: 256, step: 16 }),
    arg('Upscaler', 'None', { choices: UPSCALER_NAMES }), // the built-in ones; model files are taken by name too
    arg('Scale Factor', 2.0, { minimum: 1, maximum: 4, step: 0.05 }),
  ],
  fromTyped(t) {
    rejectUnknown('sd_upscale', t, ['overlap', 'upscaler', 'scale_factor']);
    return ['', t.overlap ?? 64, t.upscaler ?? 'None', t.scale_factor ?? 2.0];
  },
  prepare(rawArgs, base, env) {
    const r = new ArgReader(TITLE, padArgs(rawArgs, DEFAULTS), NAMES);
    const params = base.params as Img2ImgParams;
    const overlap = r.int(1, 0, Math.min(params.width, params.height) - 1);
    const u = r.raw(2);
    const names = env.upscalers; // GET /upscalers order: built-in, then model files
    const upscaler = typeof u === 'number' ? names[u] : names.find((n) => typeof u === 'string' && n.toLowerCase() === u.toLowerCase());
    if (!upscaler) throw r.error(2, `is not an upscaler here (an index into /sdapi/v1/upscalers or a name: ${names.map((n, i) => `${i} ${n}`).join(', ')})`);
    const scale = r.number(3, 0.05, 16);
    const init = params.initImages?.[0];
    if (!init) throw r.error(0, 'needs an init image (init_images)');
    const [w, h] = upscaledSize(init.width, init.height, scale, upscaler);
    if (w < params.width || h < params.height) {
      throw r.error(
        3,
        `makes a ${w}x${h} image, smaller than one ${params.width}x${params.height} tile (width × height of the request); lower width/height or raise the scale`,
      );
    }
    const seed = params.seed === -1 ? Math.floor(Math.random() * 4294967294) : params.seed;
    const background = parseHexColor(String(env.options.img2img_background_color ?? '#ffffff'));
    const tilesPerPass = (() => {
      const n = (size: number, tile: number) => Math.max(1, Math.ceil((size - overlap) / (tile - overlap)));
      return n(w, params.width) * n(h, params.height);
    })();
    const batches = Math.ceil(tilesPerPass / params.batchSize);
    return {
      title: TITLE,
      jobCount: batches * params.nIter,
      async run(exec, hooks) {
        const progress = new ScriptProgress(hooks, batches * params.nIter);
        const source = await upscaleBy(flatten(pixels(init.width, init.height, 4, init.rgba), background), scale, upscaler, env.modelUpscale, hooks.signal);
        const results: GeneratedImage[] = [];
        let template: ScriptResult | null = null;
        let interrupted = false;
        let k = 0;
        for (let n = 0; n < params.nIter && !interrupted; n++) {
          const grid = splitTiles(source, params.width, params.height, overlap);
          const tiles = grid.rows.flat();
          const redrawn: Pixels[] = [];
          for (let b = 0; b < batches; b++, k++) {
            if (progress.interrupted) {
              interrupted = true;
              break;
            }
            const batch = tiles.slice(b * params.batchSize, (b + 1) * params.batchSize);
            const job: Img2ImgParams = {
              ...params,
              initImages: batch.map((t) => rgbToRgba({ width: t.image.width, height: t.image.height, rgb: t.image.data })),
              mask: null,
              batchSize: batch.length,
              nIter: 1,
              seed: seed + n + b,
            };
            const result = await exec.generate(job, base.checkpointOverride, progress.forRun(k));
            template ??= { ...result, indexOfFirstImage: 0 };
            redrawn.push(...result.images.map((im) => pixels(im.width, im.height, 3, im.rgb)));
            interrupted ||= result.interrupted;
            progress.done(k);
          }
          // Tiles not redrawn (interrupt) keep the upscaled source, so a partial result is still the whole picture.
          tiles.forEach((t, i) => {
            const im = redrawn[i];
            if (im && im.width === params.width && im.height === params.height) t.image = im;
          });
          const combined = combineTiles(grid);
          const first = template?.images[0];
          results.push({
            width: combined.width,
            height: combined.height,
            rgb: combined.data,
            seed: seed + n,
            subseed: first?.subseed ?? -1,
            prompt: first?.prompt ?? params.prompt,
            negativePrompt: first?.negativePrompt ?? params.negativePrompt,
            infotext: withInfotextKeys(first?.infotext ?? '', [
              ['SD upscale overlap', overlap],
              ['SD upscale upscaler', upscaler],
            ]),
          });
        }
        if (!template) return emptyResult(base, true);
        return {
          ...template,
          images: results,
          ...imageLists(results),
          width: params.width,
          height: params.height,
          interrupted,
          detectedMaps: undefined,
          indexOfFirstImage: 0,
        };
      },
    };
  },
};
