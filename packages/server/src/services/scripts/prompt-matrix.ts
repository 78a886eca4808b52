/**
 * "Prompt matrix" (spec §5.4): the prompt's `|` parts after the first are switched on and off, 2^k prompts, one
 * image each, then a grid whose legends list the parts (struck through and grey where off). Each prompt runs as
 * its own one-image generation with its seed (A1111 batches them with per-image seeds: the same images); the
 * seed is fixed first, `different_seeds` adds the prompt's index. Output `[grid, images…]`,
 * `index_of_first_image` 1, the grid carrying the first image's infotext.
 */
import { drawGridAnnotations, type GeneratedImage, gridColor, imageGrid, type Txt2ImgResult } from '@sdapi/engine';
import { ArgReader, emptyResult, gridImage, imageLists, padArgs, rejectUnknown, ScriptProgress } from './args.ts';
import { arg, type ScriptDef, type ScriptResult } from './types.ts';

const TITLE = 'Prompt matrix';
const NAMES = ['put_at_start', 'different_seeds', 'prompt_type', 'variations_delimiter', 'margin_size'];
const DEFAULTS = [false, false, 'positive', 'comma', 0];

/** The 2^k prompts: bit n of the combination switches part n+1 on; parts after the first are stripped of spaces and commas. */
export function matrixPrompts(prompt: string, putAtStart: boolean, delimiter: string): string[] {
  const parts = prompt.split('|');
  const out: string[] = [];
  for (let c = 0; c < 1 << (parts.length - 1); c++) {
    const selected = parts.slice(1).flatMap((text, n) => (c & (1 << n) ? [text.trim().replace(/^,+|,+$/g, '')] : []));
    out.push((putAtStart ? [...selected, parts[0]] : [parts[0], ...selected]).join(delimiter));
  }
  return out;
}

export const promptMatrix: ScriptDef = {
  title: TITLE,
  key: 'prompt_matrix',
  tabs: ['txt2img', 'img2img'],
  args: () => [
    arg('Put variable parts at start of prompt', false),
    arg('Use different seed for each picture', false),
    arg('Select prompt', 'positive', { choices: ['positive', 'negative'] }),
    arg('Select joining char', 'comma', { choices: ['comma', 'space'] }),
    arg('Grid margins (px)', 0, { minimum: 0, maximum: 500, step: 2 }),
  ],
  fromTyped(t) {
    rejectUnknown('prompt_matrix', t, NAMES);
    return NAMES.map((name, i) => t[name] ?? DEFAULTS[i]);
  },
  prepare(rawArgs, base, env) {
    const r = new ArgReader(TITLE, padArgs(rawArgs, DEFAULTS), NAMES);
    const putAtStart = r.bool(0);
    const differentSeeds = r.bool(1);
    const type = r.choice(2, ['positive', 'negative'] as const);
    const delimiter = r.choice(3, ['comma', 'space'] as const) === 'comma' ? ', ' : ' ';
    const margin = r.int(4, 0, 500);
    const source = type === 'positive' ? base.params.prompt : base.params.negativePrompt;
    const parts = source.split('|');
    if (parts.length > 13)
      throw r.error(2, `selects a prompt with ${parts.length - 1} variable parts (2^${parts.length - 1} images); at most 12 are allowed here`);
    const prompts = matrixPrompts(source, putAtStart, delimiter);
    const seed = base.params.seed === -1 ? Math.floor(Math.random() * 4294967294) : base.params.seed;
    const background = gridColor(String(env.options.grid_background_color ?? '#ffffff'));
    return {
      title: TITLE,
      jobCount: prompts.length,
      async run(exec, hooks) {
        const progress = new ScriptProgress(hooks, prompts.length);
        const made: { image: GeneratedImage; result: Txt2ImgResult }[] = [];
        let interrupted = false;
        for (const [i, prompt] of prompts.entries()) {
          if (progress.interrupted) break;
          const params = { ...base.params, batchSize: 1, nIter: 1, seed: seed + (differentSeeds ? i : 0) };
          if (type === 'positive') params.prompt = prompt;
          else params.negativePrompt = prompt;
          const result = await exec.generate(params, base.checkpointOverride, progress.forRun(i));
          if (result.images[0]) made.push({ image: result.images[0], result });
          interrupted ||= result.interrupted;
          progress.done(i);
        }
        if (made.length === 0) return emptyResult(base, true);
        const { width, height } = made[0].image;
        const rows = 1 << Math.floor((parts.length - 1) / 2);
        const cells = prompts.map((_, i) => made[i]?.image ?? null);
        const variable = parts.slice(1);
        const boundary = Math.ceil(variable.length / 2);
        const annotations = (list: string[]) =>
          Array.from({ length: 1 << list.length }, (_, pos) => list.map((text, i) => ({ text, active: (pos & (1 << i)) !== 0 })));
        const grid = await drawGridAnnotations(
          imageGrid(cells, rows, background),
          width,
          height,
          annotations(variable.slice(0, boundary)),
          annotations(variable.slice(boundary)),
          margin,
        );
        const images = made.map((m) => m.image);
        const out: ScriptResult = {
          ...made[0].result,
          images: [gridImage(grid, images[0], images[0].infotext), ...images],
          ...imageLists(images),
          interrupted: interrupted || made.length < prompts.length,
          indexOfFirstImage: 1,
        };
        return out;
      },
    };
  },
};
