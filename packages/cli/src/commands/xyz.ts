/**
 * `sdapi xyz --remote URL --x "Steps=10,20" --y "CFG Scale=5,7" --prompt P -o grid.png`: an X/Y/Z plot on a
 * server (sdapi or A1111) through the client's `xyzPlot` builder (axes by label, v1.10.1 tables). Writes the grid
 * to -o, and with --lone each cell next to it (`<name>-1.png`, …). In-process plots are not available: the plot
 * is a server script, so without --remote this is a usage error.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decodeImage, parseInfo, type XyzAxisSpec, xyzPlot } from '@sdapi/client';
import { CliError, EXIT, EXIT_CODES_HELP, printJson } from '../output.ts';
import { REMOTE_HELP, REMOTE_OPTIONS, remoteClient, remoteURL } from '../remote.ts';

const HELP = `usage: sdapi xyz --remote URL --x "LABEL=VALUES" [--y …] [--z …] -o grid.png [options]

  --x, --y, --z "LABEL=VALUES"  an axis by its label and values in the script's syntax, e.g. "Steps=10-30 (+10)",
                           "Sampler=Euler a,DPM++ 2M", "CFG Scale=5,7.5" (labels: A1111 v1.10.1 X/Y/Z tables)
  --prompt TEXT  --negative-prompt TEXT  --seed N  --steps N  --cfg-scale X  --width N  --height N
  --sampler NAME  --scheduler NAME
  --lone                   also write each cell (<output stem>-1.png, …)
  --sub-grids              also return one grid per Z value
  --no-legend              no axis labels
  --margin PX              space between cells
  --vary-seeds AXES        e.g. "xy": add the cell's index to the seed along these axes
  --keep-random-seeds      keep -1 seeds random per cell ("Keep -1 for seeds")
  -o, --output FILE        where to write the grid PNG
  --json                   print {paths, seeds, infotext} as JSON

${REMOTE_HELP}

${EXIT_CODES_HELP}`;

const OPTIONS = {
  x: { type: 'string' },
  y: { type: 'string' },
  z: { type: 'string' },
  prompt: { type: 'string' },
  'negative-prompt': { type: 'string' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  'cfg-scale': { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  sampler: { type: 'string' },
  scheduler: { type: 'string' },
  lone: { type: 'boolean' },
  'sub-grids': { type: 'boolean' },
  'no-legend': { type: 'boolean' },
  margin: { type: 'string' },
  'vary-seeds': { type: 'string' },
  'keep-random-seeds': { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  json: { type: 'boolean' },
  ...REMOTE_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

/** "Steps=10,20" → {axis: 'Steps', values: '10,20'} (values stay in the script's own syntax). */
export function parseAxis(text: string | undefined, flag: string): XyzAxisSpec | undefined {
  if (text === undefined) return undefined;
  const at = text.indexOf('=');
  if (at <= 0) throw new CliError(`--${flag} must be LABEL=VALUES, e.g. "Steps=10,20", got '${text}'`);
  return { axis: text.slice(0, at).trim(), values: text.slice(at + 1) };
}

function int(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new CliError(`--${name} must be an integer, got '${value}'`);
  return n;
}

function float(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new CliError(`--${name} must be a number, got '${value}'`);
  return n;
}

export async function xyz(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  if (values.help) {
    console.log(HELP);
    return EXIT.OK;
  }
  if (!values.output) throw new CliError('-o/--output is required (where to write the grid)');
  const url = remoteURL(values);
  if (!url) throw new CliError('X/Y/Z plots run on a server', EXIT.USAGE, 'add --remote URL of a running `sdapi serve` or A1111');
  const x = parseAxis(values.x, 'x');
  if (!x) throw new CliError('--x is required', EXIT.USAGE, 'sdapi xyz --x "Steps=10,20" -o grid.png --remote URL');
  let selection: ReturnType<typeof xyzPlot>;
  try {
    const vary = values['vary-seeds'] ?? '';
    selection = xyzPlot({
      x,
      y: parseAxis(values.y, 'y'),
      z: parseAxis(values.z, 'z'),
      drawLegend: !values['no-legend'],
      includeLoneImages: Boolean(values.lone),
      includeSubGrids: Boolean(values['sub-grids']),
      noFixedSeeds: Boolean(values['keep-random-seeds']),
      varySeeds: { x: vary.includes('x'), y: vary.includes('y'), z: vary.includes('z') },
      marginSize: int(values.margin, 'margin') ?? 0,
      // Values are given as text: read every axis from it, dropdown axes included.
      csvMode: true,
    });
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.USAGE);
  }
  const request = {
    prompt: values.prompt ?? '',
    negative_prompt: values['negative-prompt'] ?? '',
    seed: int(values.seed, 'seed'),
    steps: int(values.steps, 'steps'),
    cfg_scale: float(values['cfg-scale'], 'cfg-scale'),
    width: int(values.width, 'width'),
    height: int(values.height, 'height'),
    sampler_name: values.sampler,
    scheduler: values.scheduler,
    ...selection,
  };
  const res = await remoteClient(url, values).txt2img(Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined)));
  const images = res.images ?? [];
  if (images.length === 0) throw new CliError('the server returned no image', EXIT.SERVER);
  const info = parseInfo(res.info);
  const stem = values.output.replace(/\.png$/i, '');
  const paths = images.map((_, i) => (i === 0 ? (values.output as string) : `${stem}-${i}.png`));
  for (const [i, image] of images.entries()) writeFileSync(paths[i], decodeImage(image));
  if (values.json) printJson({ paths, seeds: info.all_seeds, infotext: info.infotexts?.[0] ?? null });
  else for (const path of paths) console.log(path);
  return EXIT.OK;
}
