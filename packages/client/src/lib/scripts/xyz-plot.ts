/**
 * `script_args` for A1111's X/Y/Z plot (spec a1111-api.md §5.3): 18 positional arguments in v1.10.1 (19 on
 * dev), axes given by label instead of table index. Values go both into the text field (as CSV) and, for axes
 * with a choice list, into the dropdown list, so the request means the same with `csv_mode` on or off.
 * `expandXyzAxisValues` previews how the script turns a values string into cells (vector xyz_axis_values.json).
 */
// The axis tables and value parser are the server's own (pure, no schema library): one copy, in @sdapi/protocol.
import { csvItems, findXyzAxis, toCsvRow, type XyzTab, type XyzVersion } from '@sdapi/protocol/scripts';

export interface XyzAxisSpec {
  /** Label ("Steps", "CFG Scale", "Sampler", …, case-insensitive) or index in the tab's table. */
  axis: string | number;
  /** A list of values, or the script's own syntax as text ("1-5 (+2)", "10-30 [3]", "Euler a, DPM++ 2M"). */
  values: readonly (string | number)[] | string;
}

export interface XyzPlotOptions {
  x?: XyzAxisSpec;
  y?: XyzAxisSpec;
  z?: XyzAxisSpec;
  drawLegend?: boolean;
  includeLoneImages?: boolean;
  includeSubGrids?: boolean;
  /** "Keep -1 for seeds". */
  noFixedSeeds?: boolean;
  varySeeds?: { x?: boolean; y?: boolean; z?: boolean };
  marginSize?: number;
  /** Read every axis from its text (default false: dropdown lists for axes with choices). */
  csvMode?: boolean;
  /** Only on A1111 dev (a 19th argument). */
  drawGrid?: boolean;
  tab?: XyzTab;
  version?: XyzVersion;
}

export interface ScriptSelection {
  script_name: string;
  script_args: unknown[];
}

/**
 * @example
 * await sd.txt2img({ prompt: 'a cat', ...xyzPlot({ x: { axis: 'Steps', values: [10, 20] }, y: { axis: 'Sampler', values: ['Euler a', 'DPM++ 2M'] } }) });
 */
export function xyzPlot(opts: XyzPlotOptions): ScriptSelection {
  const { tab = 'txt2img', version = 'v1.10.1' } = opts;
  const axis = (spec: XyzAxisSpec | undefined): [number, string, string[]] => {
    if (!spec) return [0, '', []];
    const option = findXyzAxis(spec.axis, tab, version);
    const list = typeof spec.values === 'string' ? csvItems(spec.values) : spec.values.map(String);
    const text = typeof spec.values === 'string' ? spec.values : toCsvRow(spec.values);
    return [option.index, text, option.hasChoices ? list : []];
  };
  const vary = opts.varySeeds ?? {};
  const args: unknown[] = [
    ...axis(opts.x),
    ...axis(opts.y),
    ...axis(opts.z),
    opts.drawLegend ?? true,
    opts.includeLoneImages ?? false,
    opts.includeSubGrids ?? false,
    opts.noFixedSeeds ?? false,
    vary.x ?? false,
    vary.y ?? false,
    vary.z ?? false,
    opts.marginSize ?? 0,
    opts.csvMode ?? false,
  ];
  if (version === 'dev') args.push(opts.drawGrid ?? true);
  else if (opts.drawGrid !== undefined) throw new RangeError('X/Y/Z plot: drawGrid exists only on A1111 dev (version: "dev")');
  return { script_name: 'X/Y/Z plot', script_args: args };
}

export { type AxisValuesInput, expandXyzAxisValues } from '@sdapi/protocol/scripts';
