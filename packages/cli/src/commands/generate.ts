/** `sdapi generate`: txt2img in-process, PNGs with the A1111 infotext in their `parameters` chunk. */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultTxt2ImgParams, encodePng, StableDiffusion } from '@sdapi/engine';
import { resolveCheckpoint } from '../checkpoint.ts';

const HELP = `usage: sdapi generate --prompt TEXT [options] -o out.png

  --prompt TEXT            what to draw
  --negative-prompt TEXT   what to avoid
  --seed N                 -1 = random (default -1)
  --steps N                sampling steps (default 20)
  --width N / --height N   multiples of 8 (default 512)
  --sampler NAME           an A1111 sampler name (default "Euler a")
  --scheduler NAME         Automatic, Karras, Exponential, ... (default Automatic)
  --cfg-scale C            classifier-free guidance scale (default 7)
  --batch-size N / --n-iter N
  --clip-skip N            A1111 CLIP_stop_at_last_layers (default 1)
  --rng SOURCE             GPU (= NV, what A1111 on NVIDIA draws), CPU or NV (default GPU)
  --ckpt FILE              a .safetensors checkpoint (default: the first in <data-dir>/models/Stable-diffusion)
  --data-dir DIR           where models/ live (default: the current directory)
  -o, --output FILE        output PNG; with several images, -1, -2 … are inserted before .png`;

const OPTIONS = {
  prompt: { type: 'string', default: '' },
  'negative-prompt': { type: 'string', default: '' },
  seed: { type: 'string', default: '-1' },
  steps: { type: 'string', default: '20' },
  width: { type: 'string', default: '512' },
  height: { type: 'string', default: '512' },
  sampler: { type: 'string', default: 'Euler a' },
  scheduler: { type: 'string', default: 'Automatic' },
  'cfg-scale': { type: 'string', default: '7' },
  'batch-size': { type: 'string', default: '1' },
  'n-iter': { type: 'string', default: '1' },
  'clip-skip': { type: 'string', default: '1' },
  rng: { type: 'string', default: 'GPU' },
  ckpt: { type: 'string' },
  'data-dir': { type: 'string', default: '.' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses a numeric flag, naming it in the error. */
function num(values: Record<string, unknown>, name: string): number {
  const value = Number(values[name]);
  if (!Number.isFinite(value)) throw new Error(`--${name} must be a number, got '${String(values[name])}'`);
  return value;
}

export async function generate(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.output) throw new Error('-o/--output is required (where to write the PNG)');
  const rng = values.rng.toUpperCase();
  if (!['GPU', 'CPU', 'NV'].includes(rng)) throw new Error(`--rng must be GPU, CPU or NV, got '${values.rng}'`);
  const ckpt = await resolveCheckpoint({ ckpt: values.ckpt, dataDir: values['data-dir'] });
  const sd = StableDiffusion.open(ckpt);
  const params = defaultTxt2ImgParams({
    prompt: values.prompt, negativePrompt: values['negative-prompt'], seed: num(values, 'seed'), steps: num(values, 'steps'),
    width: num(values, 'width'), height: num(values, 'height'), samplerName: values.sampler, scheduler: values.scheduler,
    cfgScale: num(values, 'cfg-scale'), batchSize: num(values, 'batch-size'), nIter: num(values, 'n-iter'),
  });
  params.options.CLIP_stop_at_last_layers = num(values, 'clip-skip');
  params.options.randn_source = rng as 'GPU' | 'CPU' | 'NV';
  const result = await sd.txt2img(params);
  result.images.forEach((image, i) => {
    const path = result.images.length === 1 ? values.output as string : (values.output as string).replace(/(\.png)?$/i, `-${i + 1}.png`);
    writeFileSync(path, encodePng(image.rgb, image.width, image.height, { parameters: image.infotext }));
    console.log(`${path}  seed ${image.seed}`);
  });
  await sd.release();
  return 0;
}
