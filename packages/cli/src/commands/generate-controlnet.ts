/**
 * `sdapi generate --controlnet MODEL:IMAGE[:WEIGHT]`: ControlNet units for an in-process job. MODEL is a file, or
 * a name the extension's rules find in `<data-dir>/models/ControlNet` (`tiny-controlnet [8dba536e]`, a stem, or
 * part of one); IMAGE is used as the control map as it is (module "none", Crop and Resize, Balanced).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { ControlNetCatalog, type ControlNetUnitParams, controlNetUnit, decodeImage } from '@sdapi/engine';
import { CliError } from '../output.ts';

/** Splits `MODEL:IMAGE[:WEIGHT]` (a trailing number is the weight; the model part may itself contain ':'). */
export function parseControlNetSpec(spec: string): { model: string; image: string; weight: number } {
  const parts = spec.split(':');
  let weight = 1;
  if (parts.length >= 3 && /^\d*\.?\d+$/.test(parts[parts.length - 1])) weight = Number(parts.pop());
  if (parts.length < 2) throw new CliError(`--controlnet must be MODEL:IMAGE[:WEIGHT], got '${spec}'`);
  const image = parts.pop() as string;
  const model = parts.join(':');
  if (!model || !image) throw new CliError(`--controlnet must be MODEL:IMAGE[:WEIGHT], got '${spec}'`);
  if (weight > 2) throw new CliError(`--controlnet weight must be within 0..2 (as the extension requires), got ${weight}`);
  return { model, image, weight };
}

/** The units the --controlnet flags describe. */
export async function controlNetUnits(specs: readonly string[] | undefined, dataDir: string): Promise<ControlNetUnitParams[]> {
  const units: ControlNetUnitParams[] = [];
  for (const spec of specs ?? []) {
    const { model, image, weight } = parseControlNetSpec(spec);
    const { path, name } = findModel(model, dataDir);
    if (!existsSync(image)) throw new CliError(`--controlnet image ${image} does not exist`);
    const decoded = await decodeImage(readFileSync(image)).catch((e: Error) => {
      throw new CliError(`--controlnet image ${image} is not an image (${e.message})`);
    });
    units.push(controlNetUnit({ modelPath: path, modelName: name, image: { width: decoded.width, height: decoded.height, rgba: decoded.rgba }, weight }));
  }
  return units;
}

function findModel(model: string, dataDir: string): { path: string; name: string } {
  if (existsSync(model)) {
    const path = resolve(model);
    // Named as the extension names files (`stem [hash8]`), so the infotext matches a server's.
    const entry = new ControlNetCatalog([dirname(path)]).list().find((e) => e.filename === path);
    return { path, name: entry?.name ?? basename(model, extname(model)) };
  }
  const catalog = new ControlNetCatalog([join(resolve(dataDir), 'models', 'ControlNet')]);
  const entry = catalog.find(model);
  if (!entry) {
    const known = catalog.list().map((e) => e.name);
    throw new CliError(
      `--controlnet model '${model}' is neither a file nor in ${join(dataDir, 'models', 'ControlNet')}`,
      undefined,
      known.length ? `available: ${known.join(', ')}` : 'put ControlNet .safetensors files there',
    );
  }
  return { path: entry.filename, name: entry.name };
}
