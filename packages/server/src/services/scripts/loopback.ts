/**
 * "Loopback" (img2img, spec §5.6): each output is fed back as the next init image, `loops` times; the denoising
 * strength moves from the request's to `final_denoising_strength` along a curve (Linear, Aggressive = sine ease
 * out, Lazy = cosine ease in); the seed advances by one per loop; after the first loop "masked content" becomes
 * "original". n_iter repeats the whole loop from the original image. Output: a one-row grid of the loop results
 * (single batch) or of each batch's last image (several), when there is more than one and option return_grid is
 * on, then the images. `append_interrogation` other than "None" is refused (no CLIP/DeepBooru interrogator
 * here); option img2img_color_correction is not applied (not implemented). Infotexts carry `Final denoising
 * strength` and `Denoising curve`. Unlike A1111 (0), `index_of_first_image` is 1 when a grid comes first.
 */
import { type GeneratedImage, gridColor, type Img2ImgParams, imageGrid } from '@sdapi/engine';
import { ArgReader, emptyResult, gridImage, imageLists, padArgs, rejectUnknown, ScriptProgress, withInfotextKeys } from './args.ts';
import { arg, type ScriptDef, type ScriptResult } from './types.ts';

const TITLE = 'Loopback';
const NAMES = ['loops', 'final_denoising_strength', 'denoising_curve', 'append_interrogation'];
const DEFAULTS = [4, 0.5, 'Linear', 'None'];
const CURVES = ['Aggressive', 'Linear', 'Lazy'] as const;

/** The strength used after loop `loop` (1-based) of `loops`. */
export function loopbackStrength(initial: number, final: number, loops: number, loop: number, curve: (typeof CURVES)[number]): number {
  if (loops === 1) return initial;
  const progress = loop / (loops - 1);
  const shape = curve === 'Aggressive' ? Math.sin(progress * Math.PI * 0.5) : curve === 'Lazy' ? 1 - Math.cos(progress * Math.PI * 0.5) : progress;
  return initial + (final - initial) * shape;
}

export const rgbToRgba = (im: { width: number; height: number; rgb: Uint8Array }) => {
  const rgba = new Uint8Array(im.width * im.height * 4);
  for (let i = 0, j = 0; i < im.rgb.length; i += 3, j += 4) rgba.set([im.rgb[i], im.rgb[i + 1], im.rgb[i + 2], 255], j);
  return { width: im.width, height: im.height, rgba };
};

export const loopback: ScriptDef = {
  title: TITLE,
  key: 'loopback',
  tabs: ['img2img'],
  args: () => [
    arg('Loops', 4, { minimum: 1, maximum: 32, step: 1 }),
    arg('Final denoising strength', 0.5, { minimum: 0, maximum: 1, step: 0.01 }),
    arg('Denoising strength curve', 'Linear', { choices: [...CURVES] }),
    arg('Append interrogated prompt at each iteration', 'None', { choices: ['None', 'CLIP', 'DeepBooru'] }),
  ],
  fromTyped(t) {
    rejectUnknown('loopback', t, NAMES);
    return NAMES.map((name, i) => t[name] ?? DEFAULTS[i]);
  },
  prepare(rawArgs, base, env) {
    const r = new ArgReader(TITLE, padArgs(rawArgs, DEFAULTS), NAMES);
    const loops = r.int(0, 1, 1000);
    const final = r.number(1, 0, 1);
    const curve = r.choice(2, CURVES);
    if (r.choice(3, ['None', 'CLIP', 'DeepBooru'] as const) !== 'None')
      throw r.error(3, 'asks for an interrogator, which this server does not have; use "None"');
    const params = base.params as Img2ImgParams;
    if (!params.initImages?.length) throw r.error(0, 'needs an init image (init_images)');
    const batches = params.nIter;
    const seed0 = params.seed === -1 ? Math.floor(Math.random() * 4294967294) : params.seed;
    const keys: [string, unknown][] = [
      ['Final denoising strength', final],
      ['Denoising curve', curve],
    ];
    return {
      title: TITLE,
      jobCount: loops * batches,
      async run(exec, hooks) {
        const progress = new ScriptProgress(hooks, loops * batches);
        const history: GeneratedImage[] = [];
        const all: GeneratedImage[] = [];
        let template: ScriptResult | null = null;
        let seed = seed0;
        let k = 0;
        outer: for (let n = 0; n < batches; n++) {
          let init = params.initImages;
          let strength = params.denoisingStrength;
          let fill = params.inpaintingFill;
          let last: GeneratedImage | null = null;
          for (let i = 0; i < loops; i++, k++) {
            if (progress.interrupted) break outer;
            const job: Img2ImgParams = { ...params, initImages: init, denoisingStrength: strength, inpaintingFill: fill, seed, batchSize: 1, nIter: 1 };
            const result = await exec.generate(job, base.checkpointOverride, progress.forRun(k));
            progress.done(k);
            if (result.interrupted || !result.images[0]) break outer;
            template ??= { ...result, indexOfFirstImage: 0 };
            seed = result.allSeeds[0] + 1;
            strength = loopbackStrength(params.denoisingStrength, final, loops, i + 1, curve);
            last = { ...result.images[0], infotext: withInfotextKeys(result.images[0].infotext, keys) };
            init = [rgbToRgba(last)];
            fill = 1;
            if (batches === 1) {
              history.push(last);
              all.push(last);
            }
          }
          if (batches > 1 && last) {
            history.push(last);
            all.push(last);
          }
        }
        if (!template) return emptyResult(base, true);
        const grid =
          history.length > 1 && env.options.return_grid !== false
            ? imageGrid(history, 1, gridColor(String(env.options.grid_background_color ?? '#ffffff')))
            : null;
        const images = grid ? [gridImage(grid, history[0], history[0].infotext), ...all] : all;
        return {
          ...template,
          images,
          ...imageLists(all),
          interrupted: progress.interrupted,
          detectedMaps: undefined,
          indexOfFirstImage: grid ? 1 : 0,
        };
      },
    };
  },
};
