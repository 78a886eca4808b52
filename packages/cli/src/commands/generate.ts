/**
 * `sdapi generate`: txt2img, img2img and inpainting, in-process (generate-local.ts) or on a server with --remote
 * (generate-remote.ts); PNGs with the A1111 infotext in their `parameters` chunk.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodePng, type GenerationHooks, StableDiffusion, sweepOnnxCache } from '@sdapi/engine';
import { resolveCheckpoint } from '../checkpoint.ts';
import { CliError, EXIT, EXIT_CODES_HELP, printJson } from '../output.ts';
import { ProgressBar } from '../progress-bar.ts';
import { REMOTE_HELP, REMOTE_OPTIONS, remoteURL } from '../remote.ts';
import { controlNetUnits } from './generate-controlnet.ts';
import { loraCatalog, withLoraTags } from './generate-lora.ts';
import { localJob } from './generate-local.ts';
import { generateRemote } from './generate-remote.ts';
import { ONNX_CACHE_FLAG, onnxCacheHelp, onnxCacheMaxBytes } from '../flags.ts';

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
  --data-dir DIR           where models/ live (default: the current directory); compiled models are cached in
                           <data-dir>/cache/onnx (the server's cache), so the second run starts in seconds
  --low-memory             release the UNet before every VAE decode, reloaded from the ONNX cache when sampling
                           goes on; with an F16 checkpoint its 3×3 conv weights are held as float16 too
  --int8                   the UNet's Linear layers and convolutions in int8: about 1.9× faster, slightly different images (see README)
${onnxCacheHelp(27)}
  -o, --output FILE        output PNG; with several images, -1, -2 … are inserted before .png

img2img / inpainting (in-process or with --remote):
  --init-image FILE        start from this image, any format (repeat the flag for one image per batch item)
  --denoising-strength X   0..1, how much to change it (A1111 default 0.75; hires fix: 0.7)
  --resize-mode N          0 resize, 1 crop and resize, 2 resize and fill, 3 latent upscale (default 0)
  --mask FILE              inpaint the white area of this mask (or the transparent area of an RGBA mask)
  --mask-blur N            mask blur radius (default 4)
  --inpainting-fill MODE   fill, original, latent-noise or latent-nothing (default fill)
  --inpaint-full-res       inpaint only the masked area at full resolution

hires fix (txt2img, in-process):
  --hires-scale S          upscale the first pass by S, then refine it (default 2 when another --hires flag is given)
  --hires-steps N          second-pass steps (default 0 = --steps)
  --hires-upscaler NAME    Latent (default), Latent (antialiased|bicubic|bicubic antialiased|nearest|nearest-exact),
                           Lanczos, Nearest or None

LoRA / LyCORIS:
  --lora NAME[:TE[:UNET]]  add the tag <lora:NAME:TE[:UNET]> to the prompt (TE default 1, UNET default TE); repeatable
  --lora-dir DIR           in-process: LoRA files besides <data-dir>/models/Lora and models/LyCORIS

ControlNet (in-process):
  --controlnet MODEL:IMAGE[:WEIGHT]
                           a ControlNet unit: MODEL a file or a name in <data-dir>/models/ControlNet, IMAGE the control
                           map used as is (module none, Crop and Resize, Balanced), WEIGHT 0..2 (default 1); repeatable

output:
  --json                   print one JSON document ({images: [{path, seed, infotext, ...}]}) instead of lines
  -q, --quiet              no progress bar (it is drawn on stderr only when that is a terminal)

${REMOTE_HELP}

${EXIT_CODES_HELP}`;

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
  int8: { type: 'boolean' },
  ...ONNX_CACHE_FLAG,
  'low-memory': { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  'init-image': { type: 'string', multiple: true },
  'denoising-strength': { type: 'string' },
  mask: { type: 'string' },
  'mask-blur': { type: 'string' },
  'inpainting-fill': { type: 'string' },
  'inpaint-full-res': { type: 'boolean' },
  'resize-mode': { type: 'string' },
  'hires-scale': { type: 'string' },
  'hires-steps': { type: 'string' },
  'hires-upscaler': { type: 'string' },
  controlnet: { type: 'string', multiple: true },
  lora: { type: 'string', multiple: true },
  'lora-dir': { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  ...REMOTE_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

export type GenerateValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>['values'];

/** Parses a numeric flag, naming it in the error. */
export function num(values: Record<string, unknown>, name: string): number {
  const value = Number(values[name]);
  if (!Number.isFinite(value)) throw new CliError(`--${name} must be a number, got '${String(values[name])}'`);
  return value;
}

/** `out.png` for one image, `out-1.png`, `out-2.png`, … for several. */
export function outputPath(output: string, index: number, count: number): string {
  return count === 1 ? output : output.replace(/(\.png)?$/i, `-${index + 1}.png`);
}

export async function generate(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.output) throw new CliError('-o/--output is required (where to write the PNG)', EXIT.USAGE, 'e.g. -o out.png');
  const rng = values.rng.toUpperCase();
  if (!['GPU', 'CPU', 'NV'].includes(rng)) throw new CliError(`--rng must be GPU, CPU or NV, got '${values.rng}'`);
  const prompt = withLoraTags(values.prompt, values.lora);
  const remote = remoteURL(values);
  if (remote && values.controlnet)
    throw new CliError('--controlnet runs in-process only for now', EXIT.USAGE, 'drop --remote, or send alwayson_scripts.controlnet with the client');
  // The engine's settings belong to the server a --remote run talks to: refused rather than silently unused.
  const engineFlag = remote && ['int8', 'low-memory', 'onnx-cache-max-gb'].find((flag) => values[flag as keyof typeof values] !== undefined);
  if (engineFlag)
    throw new CliError(
      `--${engineFlag} sets up the in-process engine; with --remote the server's own settings apply`,
      EXIT.USAGE,
      'drop --remote, or start the server with the flag',
    );
  if (remote) return generateRemote(remote, { ...values, prompt });
  const job = await localJob(values, {
    prompt,
    negativePrompt: values['negative-prompt'],
    seed: num(values, 'seed'),
    steps: num(values, 'steps'),
    width: num(values, 'width'),
    height: num(values, 'height'),
    samplerName: values.sampler,
    scheduler: values.scheduler,
    cfgScale: num(values, 'cfg-scale'),
    batchSize: num(values, 'batch-size'),
    nIter: num(values, 'n-iter'),
  });
  job.params.options.CLIP_stop_at_last_layers = num(values, 'clip-skip');
  job.params.options.randn_source = rng as 'GPU' | 'CPU' | 'NV';
  job.params.controlNet = await controlNetUnits(values.controlnet, values['data-dir']);
  const ckpt = await resolveCheckpoint({ ckpt: values.ckpt, dataDir: values['data-dir'] });
  const cacheDir = join(values['data-dir'], 'cache', 'onnx');
  const cacheMaxBytes = onnxCacheMaxBytes(values['onnx-cache-max-gb']);
  // As the server's engine does at start: entries of deleted or changed checkpoints go, and the cap holds.
  sweepOnnxCache(cacheDir, { maxBytes: cacheMaxBytes });
  const sd = StableDiffusion.open(ckpt, { cacheDir, quantize: values.int8 ? 'int8' : undefined, lowMemory: values['low-memory'], cacheMaxBytes });
  sd.loras = loraCatalog(values['data-dir'], values['lora-dir']);
  const bar = new ProgressBar(process.stderr, Boolean(process.stderr.isTTY) && !values.quiet && !values.json);
  const hooks: GenerationHooks = {
    onProgress: (p) =>
      bar.update({
        fraction: (p.jobNo + (p.samplingSteps ? p.samplingStep / p.samplingSteps : 0)) / Math.max(1, p.jobCount),
        step: p.samplingStep,
        steps: p.samplingSteps,
        job: p.jobNo,
        jobs: p.jobCount,
      }),
  };
  const result = job.kind === 'img2img' ? await sd.img2img(job.params, hooks) : await sd.txt2img(job.params, hooks);
  bar.done();
  for (const warning of result.warnings ?? []) console.error(`warning: ${warning}`);
  const first = result.images[0];
  if (job.kind === 'txt2img' && job.params.hires && job.params.hires.scale > 1 && first && first.width === job.params.width) {
    // Guards against an engine build whose txt2img does not run the hires pass yet: never a silent 1× image.
    throw new CliError('the engine returned first-pass-sized images: hires fix is not available in this build', EXIT.USAGE, 'drop the --hires-* flags');
  }
  const written = result.images.map((image, i) => {
    const path = outputPath(values.output as string, i, result.images.length);
    writeFileSync(path, encodePng(image.rgb, image.width, image.height, { parameters: image.infotext }));
    return { path, seed: image.seed, subseed: image.subseed, width: image.width, height: image.height, infotext: image.infotext };
  });
  await sd.release();
  if (values.json) printJson({ images: written });
  else for (const w of written) console.log(`${w.path}  seed ${w.seed}`);
  return EXIT.OK;
}
