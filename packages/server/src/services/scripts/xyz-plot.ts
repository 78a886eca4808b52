/**
 * "X/Y/Z plot" (spec §5.3): one job per cell of up to three axes, then the grid. Everything that can be checked
 * is checked before the job is queued (axis indices, value syntax, samplers, checkpoints, styles, sizes, the
 * grid's size against `img_max_size_mp`), so a bad plot is a 422 naming the argument and no image is made.
 * Behaviour follows A1111 v1.10.1: seeds fixed once (unless "Keep -1 for seeds"), `vary_seeds_*` add the cell's
 * index, the costliest axis (checkpoint) iterated outermost, only each cell's first image used, output
 * `[grid, sub-grids…, lone images…]` with `index_of_first_image` 1 and the grid infotexts carrying `Script`,
 * `X Type`, `X Values`, `Fixed X Values`, … Deviations (better than A1111): `infotexts` are aligned with the
 * returned images and `all_prompts`/`all_seeds` hold one entry per cell; an interrupt ends the plot and returns
 * the cells made so far with a partial grid (missing cells left background); a cell that fails midway is left
 * empty and named in `warnings` (A1111 only logs it) — the job fails only if no cell could be made.
 */
import { drawGridAnnotations, type GeneratedImage, gridColor, imageGrid, type RgbImage, type Txt2ImgResult } from '@sdapi/engine';
import { csvItems, expandXyzAxisValues, toCsvRow, type XyzAxisOption, xyzAxisOptions } from '@sdapi/protocol';
import { ApiError } from '../errors.ts';
import { ArgReader, emptyResult, gridImage, imageLists, padArgs, rejectUnknown, ScriptProgress, typedError, withInfotextKeys } from './args.ts';
import { arg, type PreparedScript, type ScriptBase, type ScriptDef, type ScriptEnv, type ScriptResult } from './types.ts';
import { AXIS_BEHAVIOUR, axisLabel, type Cell, cellRefiner } from './xyz-axes.ts';

const TITLE = 'X/Y/Z plot';
const NAMES = [
  'x_type',
  'x_values',
  'x_values_dropdown',
  'y_type',
  'y_values',
  'y_values_dropdown',
  'z_type',
  'z_values',
  'z_values_dropdown',
  'draw_legend',
  'include_lone_images',
  'include_sub_grids',
  'no_fixed_seeds',
  'vary_seeds_x',
  'vary_seeds_y',
  'vary_seeds_z',
  'margin_size',
  'csv_mode',
] as const;
const DEFAULTS: readonly unknown[] = [1, '', [], 0, '', [], 0, '', [], true, false, false, false, false, false, false, 0, false];

interface Axis {
  name: 'X' | 'Y' | 'Z';
  option: XyzAxisOption;
  /** The values as parsed (legends), and as applied (after the axis' checks normalised them). */
  values: unknown[];
  applied: unknown[];
  /** The text the infotext records (`X Values`). */
  text: string;
  vary: boolean;
}

export const xyzPlot: ScriptDef = {
  title: TITLE,
  key: 'xyz_plot',
  tabs: ['txt2img', 'img2img'],
  args(env) {
    const labels = xyzAxisOptions(env.tab).map((a) => a.label);
    const type = (name: string, value: string) => arg(name, value, { choices: labels });
    return [
      type('X type', 'Seed'),
      arg('X values', ''),
      arg('X values', []),
      type('Y type', 'Nothing'),
      arg('Y values', ''),
      arg('Y values', []),
      type('Z type', 'Nothing'),
      arg('Z values', ''),
      arg('Z values', []),
      arg('Draw legend', true),
      arg('Include Sub Images', false),
      arg('Include Sub Grids', false),
      arg('Keep -1 for seeds', false),
      arg('Vary seeds for X', false),
      arg('Vary seeds for Y', false),
      arg('Vary seeds for Z', false),
      arg('Grid margins (px)', 0, { minimum: 0, maximum: 500, step: 2 }),
      arg('Use text inputs instead of dropdowns', false),
    ];
  },
  fromTyped: xyzFromTyped,
  prepare: prepareXyz,
};

/** `{x: {axis: 'Steps', values: [10, 20]}, lone_images: true, …}` → the 18 arguments. */
function xyzFromTyped(t: Record<string, unknown>, env: ScriptEnv): unknown[] {
  const known = [
    'x',
    'y',
    'z',
    'draw_legend',
    'include_lone_images',
    'lone_images',
    'include_sub_grids',
    'sub_grids',
    'no_fixed_seeds',
    'vary_seeds_x',
    'vary_seeds_y',
    'vary_seeds_z',
    'margin_size',
    'csv_mode',
  ];
  rejectUnknown('xyz_plot', t, known);
  const table = xyzAxisOptions(env.tab);
  const axis = (key: 'x' | 'y' | 'z'): unknown[] => {
    const spec = t[key];
    if (spec === undefined || spec === null) return [0, '', []];
    if (typeof spec !== 'object' || Array.isArray(spec)) throw typedError(`xyz_plot.${key}`, spec, 'must be {axis, values}');
    const { axis: a, values } = spec as { axis?: unknown; values?: unknown };
    const option = typeof a === 'number' ? table[a] : table.find((o) => typeof a === 'string' && o.label.toLowerCase() === a.toLowerCase());
    if (!option) throw typedError(`xyz_plot.${key}.axis`, a, `must be an axis label or index of the ${env.tab} table: ${table.map((o) => o.label).join(', ')}`);
    if (typeof values === 'string') return [option.index, values, option.hasChoices ? csvItems(values) : []];
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string' && typeof v !== 'number')) {
      throw typedError(`xyz_plot.${key}.values`, values, 'must be a list of strings/numbers or the script text ("1-5 (+2)")');
    }
    return [option.index, toCsvRow(values as (string | number)[]), option.hasChoices ? values.map(String) : []];
  };
  return [
    ...axis('x'),
    ...axis('y'),
    ...axis('z'),
    t.draw_legend ?? true,
    t.include_lone_images ?? t.lone_images ?? false,
    t.include_sub_grids ?? t.sub_grids ?? false,
    t.no_fixed_seeds ?? false,
    t.vary_seeds_x ?? false,
    t.vary_seeds_y ?? false,
    t.vary_seeds_z ?? false,
    t.margin_size ?? 0,
    t.csv_mode ?? false,
  ];
}

const randomSeed = () => Math.floor(Math.random() * 4294967294);
const fixSeed = (seed: number | null | undefined) => (seed === null || seed === undefined || seed === -1 ? randomSeed() : seed);

function prepareXyz(rawArgs: unknown[], base: ScriptBase, env: ScriptEnv): PreparedScript {
  const args = padArgs(rawArgs, DEFAULTS);
  const r = new ArgReader(TITLE, args, NAMES);
  const csvMode = r.bool(17);
  const noFixedSeeds = r.bool(12);
  const table = xyzAxisOptions(env.tab);
  const readAxis = (name: 'X' | 'Y' | 'Z', at: number, vary: boolean): Axis => {
    const typeArg = r.raw(at);
    const option =
      typeof typeArg === 'number' && Number.isInteger(typeArg)
        ? table[typeArg]
        : typeof typeArg === 'string'
          ? table.find((o) => o.label.toLowerCase() === typeArg.toLowerCase() || String(o.index) === typeArg.trim())
          : undefined;
    if (!option) throw r.error(at, `is not an axis of the ${env.tab} table (0–${table.length - 1}: ${table.map((o) => `${o.index} ${o.label}`).join(', ')})`);
    const behaviour = AXIS_BEHAVIOUR[option.label];
    if (!behaviour || behaviour.unsupported)
      throw r.error(at, `selects the axis "${option.label}", which this server cannot run: ${behaviour?.unsupported ?? 'unknown axis'}`);
    const dropdown = r.strings(at + 2);
    const fromDropdown = option.hasChoices && !csvMode;
    const text = fromDropdown ? toCsvRow(dropdown) : r.string(at + 1);
    let values: unknown[];
    try {
      values = expandXyzAxisValues({ type: option.type, values: r.string(at + 1), label: option.label, hasChoices: option.hasChoices, dropdown, csvMode });
    } catch (e) {
      throw r.error(fromDropdown ? at + 2 : at + 1, `cannot be read as ${option.label} values: ${(e as Error).message}`);
    }
    if (values.length === 0)
      throw r.error(
        fromDropdown ? at + 2 : at + 1,
        `gives no ${option.label} values${fromDropdown ? ' (this axis reads its dropdown list unless csv_mode is true)' : ''}`,
      );
    if ((option.label === 'Seed' || option.label === 'Var. seed') && !noFixedSeeds) {
      values = values.map((v) => (v === null || v === '' || v === -1 ? randomSeed() : v));
    }
    let applied = values;
    try {
      applied = behaviour.confirm?.(values, env, base) ?? values;
    } catch (e) {
      throw r.error(fromDropdown ? at + 2 : at + 1, (e as Error).message);
    }
    return { name, option, values, applied, text, vary: vary };
  };
  const x = readAxis('X', 0, r.bool(13));
  const y = readAxis('Y', 3, r.bool(14));
  const z = readAxis('Z', 6, r.bool(15));
  const drawLegend = r.bool(9);
  const includeLone = r.bool(10);
  const includeSubGrids = r.bool(11);
  const margin = r.int(16, 0, 500);

  const params = { ...base.params };
  if (!noFixedSeeds) {
    params.seed = fixSeed(params.seed);
    params.subseed = fixSeed(params.subseed);
  }
  if (env.options.return_grid === false) params.batchSize = 1;
  const cells = x.values.length * y.values.length * z.values.length;
  const gridMp = Math.round((cells * params.width * params.height) / 1e6);
  const maxMp = Number(env.options.img_max_size_mp ?? 200);
  if (!(gridMp < maxMp)) {
    throw new ApiError('INVALID_PARAMS', `${TITLE}: the grid would be too large (${gridMp} MPixels; option img_max_size_mp allows less than ${maxMp})`);
  }
  const plan: XyzPlan = {
    x,
    y,
    z,
    drawLegend,
    includeLone,
    includeSubGrids,
    margin,
    noFixedSeeds,
    background: gridColor(String(env.options.grid_background_color ?? '#ffffff')),
  };
  return { title: TITLE, jobCount: cells * params.nIter, run: (exec, hooks) => runXyz(plan, { ...base, params }, exec, hooks) };
}

interface XyzPlan {
  x: Axis;
  y: Axis;
  z: Axis;
  drawLegend: boolean;
  includeLone: boolean;
  includeSubGrids: boolean;
  margin: number;
  noFixedSeeds: boolean;
  background: [number, number, number];
}

/**
 * A1111's cell order: the axis with the strictly highest cost outermost, then the higher of the other two; with
 * no strict winner z, y, x (x innermost).
 */
export function cellOrder(nx: number, ny: number, nz: number, costs: { x: number; y: number; z: number }): [number, number, number][] {
  const { x, y, z } = costs;
  let order: ('x' | 'y' | 'z')[];
  if (x > y && x > z) order = ['x', y > z ? 'y' : 'z'];
  else if (y > x && y > z) order = ['y', x > z ? 'x' : 'z'];
  else if (z > x && z > y) order = ['z', x > y ? 'x' : 'y'];
  else order = ['z', 'y'];
  order.push((['x', 'y', 'z'] as const).find((a) => !order.includes(a)) ?? 'x');
  const n = { x: nx, y: ny, z: nz };
  const out: [number, number, number][] = [];
  const at: Record<'x' | 'y' | 'z', number> = { x: 0, y: 0, z: 0 };
  for (at[order[0]] = 0; at[order[0]] < n[order[0]]; at[order[0]]++) {
    for (at[order[1]] = 0; at[order[1]] < n[order[1]]; at[order[1]]++) {
      for (at[order[2]] = 0; at[order[2]] < n[order[2]]; at[order[2]]++) out.push([at.x, at.y, at.z]);
    }
  }
  return out;
}

interface CellOutput {
  image: GeneratedImage;
  result: Txt2ImgResult;
}

async function runXyz(
  plan: XyzPlan,
  base: ScriptBase,
  exec: Parameters<PreparedScript['run']>[0],
  hooks: Parameters<PreparedScript['run']>[1],
): Promise<ScriptResult> {
  const { x, y, z } = plan;
  const [nx, ny, nz] = [x.values.length, y.values.length, z.values.length];
  const order = cellOrder(nx, ny, nz, { x: x.option.cost, y: y.option.cost, z: z.option.cost });
  const progress = new ScriptProgress(hooks, order.length);
  const outputs: (CellOutput | null)[] = new Array(nx * ny * nz).fill(null);
  const warnings: string[] = [];
  let firstError: unknown = null;
  let interrupted = false;
  for (const [k, [ix, iy, iz]] of order.entries()) {
    if (progress.interrupted) {
      interrupted = true;
      break;
    }
    const cell: Cell = {
      params: { ...base.params, styles: [...base.params.styles] },
      checkpoint: base.checkpointOverride,
      refiner: { checkpoint: base.refiner?.checkpoint ?? null, switchAt: base.refiner?.switchAt ?? null },
    };
    for (const [axis, i] of [
      [x, ix],
      [y, iy],
      [z, iz],
    ] as const) {
      AXIS_BEHAVIOUR[axis.option.label].apply(cell, axis.applied[i], axis.applied);
    }
    if (x.vary) cell.params.seed += ix;
    if (y.vary) cell.params.seed += iy * (x.vary ? nx : 1);
    if (z.vary) cell.params.seed += iz * (x.vary ? nx : 1) * (y.vary ? ny : 1);
    try {
      const result = await exec.generate(cell.params, cell.checkpoint, progress.forRun(k), cellRefiner(cell));
      if (result.images[0]) outputs[ix + iy * nx + iz * nx * ny] = { image: result.images[0], result };
      interrupted ||= result.interrupted;
    } catch (e) {
      firstError ??= e;
      warnings.push(
        `X/Y/Z plot: cell ${[x, y, z].map((a, j) => `${a.name}=${axisLabel(a.option, a.values[[ix, iy, iz][j]]) || '-'}`).join(' ')} failed: ${(e as Error).message}`,
      );
    }
    progress.done(k);
  }
  const made = outputs.filter((o): o is CellOutput => o !== null);
  if (made.length === 0) {
    if (firstError) throw firstError;
    return emptyResult(base, interrupted);
  }
  return assemble(plan, outputs, made, { interrupted, warnings });
}

/** The grids, their infotexts and the result object (A1111's processed_result, a copy of the first cell's). */
async function assemble(
  plan: XyzPlan,
  outputs: (CellOutput | null)[],
  made: CellOutput[],
  status: { interrupted: boolean; warnings: string[] },
): Promise<ScriptResult> {
  const { x, y, z } = plan;
  const [nx, ny, nz] = [x.values.length, y.values.length, z.values.length];
  const cellW = Math.max(...made.map((o) => o.image.width));
  const cellH = Math.max(...made.map((o) => o.image.height));
  const blank = { width: cellW, height: cellH, rgb: new Uint8Array(cellW * cellH * 3).fill(255) };
  for (let i = 0; i < blank.rgb.length; i += 3) blank.rgb.set(plan.background, i);
  const label = (axis: Axis, i: number) => [{ text: axisLabel(axis.option, axis.values[i]) }];

  const subGrids: RgbImage[] = [];
  const subInfotexts: string[] = [];
  const axisKeys = (axis: Axis): [string, unknown][] => {
    if (axis.option.label === 'Nothing') return [];
    const keys: [string, unknown][] = [
      [`${axis.name} Type`, axis.option.label],
      [`${axis.name} Values`, axis.text],
    ];
    if ((axis.option.label === 'Seed' || axis.option.label === 'Var. seed') && !plan.noFixedSeeds)
      keys.push([`Fixed ${axis.name} Values`, axis.values.join(', ')]);
    return keys;
  };
  const firstOf = (iz: number) => outputs[iz * nx * ny] ?? outputs.slice(iz * nx * ny, (iz + 1) * nx * ny).find((o) => o !== null) ?? made[0];
  for (let iz = 0; iz < nz; iz++) {
    const images = outputs.slice(iz * nx * ny, (iz + 1) * nx * ny).map((o) => (o ? o.image : blank));
    let grid = imageGrid(images, ny, plan.background);
    if (plan.drawLegend) {
      grid = await drawGridAnnotations(
        grid,
        cellW,
        cellH,
        x.values.map((_, i) => label(x, i)),
        y.values.map((_, i) => label(y, i)),
        plan.margin,
      );
    }
    subGrids.push(grid);
    subInfotexts.push(withInfotextKeys(firstOf(iz).image.infotext, [['Script', TITLE], ...axisKeys(x), ...axisKeys(y)]));
  }
  let full = imageGrid(subGrids, 1, plan.background);
  if (plan.drawLegend) {
    const subW = Math.max(...subGrids.map((g) => g.width));
    const subH = Math.max(...subGrids.map((g) => g.height));
    full = await drawGridAnnotations(
      full,
      subW,
      subH,
      z.values.map((_, i) => label(z, i)),
      [[{ text: '' }]],
    );
  }
  const first = firstOf(0);
  const fullInfotext = withInfotextKeys(first.image.infotext, [['Script', TITLE], ...axisKeys(x), ...axisKeys(y), ...axisKeys(z)]);
  const images: GeneratedImage[] = [gridImage(full, first.image, fullInfotext)];
  if (plan.includeSubGrids) images.push(...subGrids.map((g, iz) => gridImage(g, firstOf(iz).image, subInfotexts[iz])));
  if (plan.includeLone) images.push(...made.map((o) => o.image));
  const template = first.result;
  const warnings = [...(template.warnings ?? []), ...status.warnings];
  return {
    ...template,
    images,
    ...imageLists(made.map((o) => o.image)),
    interrupted: status.interrupted,
    detectedMaps: undefined,
    indexOfFirstImage: 1,
    ...(warnings.length > 0 ? { warnings } : { warnings: undefined }),
  };
}
