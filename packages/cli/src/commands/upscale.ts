/**
 * `sdapi upscale IN.png -o OUT.png [--remote URL]`: A1111's extras upscale (extra-single-image). With --remote
 * the server does it (sdapi or A1111, any of its upscalers); without, it runs in-process with the engine's
 * Pillow-exact Lanczos and Nearest and the ESRGAN files of `--data-dir` (no face restoration), writing the same PNG
 * chunks (`parameters` of the input, `postprocessing`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeImage, type ExtrasInput } from '@sdapi/client';
import {
  decodeImage as decodeImageFile,
  EXTRAS_UPSCALERS,
  encodePng,
  encodePngRgba,
  extrasUpscale,
  extrasUpscalePlan,
  type ModelUpscale,
  postprocessingText,
  tileOptions,
  UpscalerCatalog,
  upscalerDirs,
} from '@sdapi/engine';
import { CliError, EXIT, EXIT_CODES_HELP, printJson } from '../output.ts';
import { REMOTE_HELP, REMOTE_OPTIONS, remoteClient, remoteURL } from '../remote.ts';

const HELP = `usage: sdapi upscale IMAGE -o OUT.png [--remote URL] [options]

  --upscaler NAME          an upscaler of the server (\`GET /sdapi/v1/upscalers\`; default Lanczos);
                           in-process: Lanczos, Nearest, None or an ESRGAN / Real-ESRGAN .safetensors in
                           <data-dir>/models/ESRGAN or models/RealESRGAN, by file name without extension
  --data-dir DIR           in-process: where models/ lives (default: the current directory)
  --scale X                scale factor (default 2)
  --width N --height N     scale to this size instead (crops to fit unless --no-crop)
  --no-crop                with --width/--height: keep the aspect ratio, do not crop
  --upscaler-2 NAME        a second upscaler blended in
  --upscaler-2-visibility X  its weight 0..1 (default 0.5 when --upscaler-2 is given)
  --gfpgan X / --codeformer X  face restoration visibility 0..1
  -o, --output FILE        where to write the PNG
  --json                   print {path, html_info} as JSON

${REMOTE_HELP}

${EXIT_CODES_HELP}`;

const OPTIONS = {
  upscaler: { type: 'string', default: 'Lanczos' },
  scale: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  'no-crop': { type: 'boolean' },
  'upscaler-2': { type: 'string' },
  'upscaler-2-visibility': { type: 'string' },
  gfpgan: { type: 'string' },
  codeformer: { type: 'string' },
  output: { type: 'string', short: 'o' },
  json: { type: 'boolean' },
  'data-dir': { type: 'string', default: '.' },
  ...REMOTE_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

function num(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new CliError(`--${name} must be a number, got '${value}'`);
  return n;
}

/** The flags → A1111's extras fields (only those given; the server fills its defaults). */
function extrasFields(values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true; allowPositionals: true }>>['values']): ExtrasInput {
  const fields: ExtrasInput = { upscaler_1: values.upscaler };
  const [w, h] = [num(values.width, 'width'), num(values.height, 'height')];
  if ((w === undefined) !== (h === undefined)) throw new CliError('--width and --height go together');
  if (w !== undefined && values.scale !== undefined) throw new CliError('give either --scale or --width/--height, not both');
  if (w !== undefined) Object.assign(fields, { resize_mode: 1, upscaling_resize_w: w, upscaling_resize_h: h, upscaling_crop: !values['no-crop'] });
  else fields.upscaling_resize = num(values.scale, 'scale') ?? 2;
  if (values['upscaler-2']) {
    fields.upscaler_2 = values['upscaler-2'];
    fields.extras_upscaler_2_visibility = num(values['upscaler-2-visibility'], 'upscaler-2-visibility') ?? 0.5;
  }
  if (values.gfpgan !== undefined) fields.gfpgan_visibility = num(values.gfpgan, 'gfpgan');
  if (values.codeformer !== undefined) fields.codeformer_visibility = num(values.codeformer, 'codeformer');
  return fields;
}

export async function upscale(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  if (values.help) {
    console.log(HELP);
    return EXIT.OK;
  }
  if (positionals.length !== 1) throw new CliError('give exactly one input image', EXIT.USAGE, 'sdapi upscale in.png -o out.png --remote URL');
  if (!values.output) throw new CliError('-o/--output is required (where to write the PNG)');
  const url = remoteURL(values);
  const fields = extrasFields(values);
  const input = readFileSync(positionals[0]);
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const res = url ? await remoteClient(url, values).upscale(bytes, fields) : await localUpscale(bytes, fields, values['data-dir']);
  if (!res.image) throw new CliError('the server returned no image', EXIT.SERVER);
  writeFileSync(values.output, decodeImage(res.image));
  if (values.json) printJson({ path: values.output, html_info: res.html_info });
  else console.log(values.output);
  return EXIT.OK;
}

/** The extras upscale in this process (the server's extra-single-image without the HTTP). */
async function localUpscale(bytes: Uint8Array, fields: ExtrasInput, dataDir: string): Promise<{ image: string; html_info: string }> {
  const builtIn = EXTRAS_UPSCALERS as readonly string[];
  const wanted = [fields.upscaler_1, fields.upscaler_2].filter((n): n is string => n !== undefined);
  if (wanted.every((name) => builtIn.includes(name))) return upscaleWith(bytes, fields); // no model files to read
  const models = new UpscalerCatalog(upscalerDirs(resolve(dataDir)));
  const names = [...builtIn, ...models.usable()];
  for (const name of wanted) {
    if (!names.includes(name)) {
      throw new CliError(
        `unknown upscaler '${name}' in-process (valid: ${names.join(', ')})`,
        EXIT.USAGE,
        `put its .safetensors in ${join(dataDir, 'models', 'ESRGAN')} (--data-dir), or use --remote URL of a server that has it`,
      );
    }
  }
  try {
    return await upscaleWith(bytes, fields, (name, img, scale) => models.upscale(name, img, scale, tileOptions({})));
  } finally {
    await models.release();
  }
}

async function upscaleWith(bytes: Uint8Array, fields: ExtrasInput, model?: ModelUpscale): Promise<{ image: string; html_info: string }> {
  if ((fields.gfpgan_visibility ?? 0) > 0 || (fields.codeformer_visibility ?? 0) > 0) {
    throw new CliError('face restoration (GFPGAN, CodeFormer) is not available in-process', EXIT.USAGE, 'use --remote URL of a server that has it');
  }
  const scale = fields.upscaling_resize ?? 2;
  if (!(scale > 0)) throw new CliError(`--scale must be greater than 0, got ${scale}`);
  let decoded: Awaited<ReturnType<typeof decodeImageFile>>;
  try {
    decoded = await decodeImageFile(bytes);
  } catch (e) {
    throw new CliError(`cannot read the input image: ${(e as Error).message}`);
  }
  // RGBA stays RGBA (as A1111 keeps it); everything else becomes RGB.
  let data = decoded.rgba;
  if (!decoded.hasAlpha) {
    data = new Uint8Array(decoded.width * decoded.height * 3);
    for (let i = 0, j = 0; i < decoded.rgba.length; i += 4, j += 3) data.set(decoded.rgba.subarray(i, i + 3), j);
  }
  const params = {
    resizeMode: (fields.resize_mode ?? 0) as 0 | 1,
    upscalingResize: scale,
    width: fields.upscaling_resize_w ?? 512,
    height: fields.upscaling_resize_h ?? 512,
    crop: fields.upscaling_crop ?? true,
    upscaler1: fields.upscaler_1 ?? 'None',
    upscaler2: fields.upscaler_2 ?? 'None',
    upscaler2Visibility: fields.extras_upscaler_2_visibility ?? 0,
  };
  const plan = extrasUpscalePlan(decoded.width, decoded.height, params);
  if (plan.width < 1 || plan.height < 1) throw new CliError(`the result would be ${plan.width}x${plan.height} (sizes round down to a multiple of 8)`);
  const { image, info } = await extrasUpscale({ width: decoded.width, height: decoded.height, channels: decoded.hasAlpha ? 4 : 3, data }, params, model);
  const postprocessing = postprocessingText(info);
  const parameters = decoded.text.parameters ?? (decoded.userComment || undefined);
  const text: Record<string, string> = parameters === undefined ? { postprocessing } : { parameters, postprocessing };
  const png = image.channels === 4 ? encodePngRgba(image.data, image.width, image.height, text) : encodePng(image.data, image.width, image.height, text);
  const html = postprocessing.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
  return { image: png.toString('base64'), html_info: `<p>${html}</p>` };
}
