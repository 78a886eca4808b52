/**
 * `sdapi upscale IN.png -o OUT.png --remote URL`: A1111's extras (extra-single-image) on a server. In-process
 * upscaling is not available yet (the engine has no upscaler models): without --remote this is a usage error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decodeImage, type ExtrasInput } from '@sdapi/client';
import { CliError, EXIT, EXIT_CODES_HELP, printJson } from '../output.ts';
import { REMOTE_HELP, REMOTE_OPTIONS, remoteClient, remoteURL } from '../remote.ts';

const HELP = `usage: sdapi upscale IMAGE -o OUT.png --remote URL [options]

  --upscaler NAME          an upscaler of the server (\`GET /sdapi/v1/upscalers\`; default Lanczos)
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
  if (!url) throw new CliError('upscaling runs on a server for now', EXIT.USAGE, 'add --remote URL of a running `sdapi serve` or A1111');
  const fields = extrasFields(values);
  const input = readFileSync(positionals[0]);
  const res = await remoteClient(url, values).upscale(new Uint8Array(input.buffer, input.byteOffset, input.byteLength), fields);
  if (!res.image) throw new CliError('the server returned no image', EXIT.SERVER);
  writeFileSync(values.output, decodeImage(res.image));
  if (values.json) printJson({ path: values.output, html_info: res.html_info });
  else console.log(values.output);
  return EXIT.OK;
}
