/**
 * `script_args` for A1111's X/Y/Z plot (spec a1111-api.md §5.3): 18 positional arguments in v1.10.1 (19 on
 * dev), axes given by label instead of table index. Values go both into the text field (as CSV) and, for axes
 * with a choice list, into the dropdown list, so the request means the same with `csv_mode` on or off.
 * `expandXyzAxisValues` previews how the script turns a values string into cells (vector xyz_axis_values.json).
 */
import { parseCsvFields, toCsvRow } from './csv.ts';
import { findXyzAxis, type XyzTab, type XyzValueType, type XyzVersion } from './xyz-axes.ts';

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

function csvItems(text: string): string[] {
  return parseCsvFields(text)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export interface AxisValuesInput {
  type: XyzValueType;
  values: string;
  /** The axis label; "Nothing" yields one empty cell. */
  label?: string;
  hasChoices?: boolean;
  dropdown?: readonly string[];
  csvMode?: boolean;
}

/** The cells an axis produces, as the script computes them; bad values throw with Python's message. */
export function expandXyzAxisValues({ type, values, label, hasChoices = false, dropdown = [], csvMode = true }: AxisValuesInput): unknown[] {
  if (label === 'Nothing') return [0];
  const items = hasChoices && !csvMode ? [...dropdown] : csvItems(values);
  if (type === 'int') return items.flatMap(expandInt);
  if (type === 'float') return items.flatMap(expandFloat);
  if (type === 'str_permutations') return permutations(items);
  return items;
}

// "a-b", "a-b (+s)", "a-b [n]"; a sign may be followed by spaces (then int() rejects it, as in A1111).
const INT_STEP = /^\s*([+-]?\s*\d+)\s*-\s*([+-]?\s*\d+)(?:\s*\(([+-]\d+)\s*\))?\s*$/;
const INT_COUNT = /^\s*([+-]?\s*\d+)\s*-\s*([+-]?\s*\d+)(?:\s*\[(\d+)\s*\])?\s*$/;
// The script's float pattern uses an unescaped `.`: any character may follow the digits ("1e-3" → "1e" − 3).
const NUM = String.raw`[+-]?\s*\d+(?:.\d*)?`;
const FLOAT_STEP = new RegExp(String.raw`^\s*(${NUM})\s*-\s*(${NUM})(?:\s*\(([+-]\d+(?:.\d*)?)\s*\))?\s*$`);
const FLOAT_COUNT = new RegExp(String.raw`^\s*(${NUM})\s*-\s*(${NUM})(?:\s*\[(\d+(?:.\d*)?)\s*\])?\s*$`);

function expandInt(item: string): number[] {
  let m = INT_STEP.exec(item);
  if (m) {
    const [a, b, s] = [pyInt(m[1]), pyInt(m[2]), m[3] === undefined ? 1 : pyInt(m[3])];
    if (s === 0) throw new RangeError('range() arg 3 must not be zero');
    return pyRange(a, b + 1, s);
  }
  m = INT_COUNT.exec(item);
  if (m) return linspace(pyInt(m[1]), pyInt(m[2]), pyInt(m[3])).map(Math.trunc);
  return [pyInt(item)];
}

function expandFloat(item: string): number[] {
  let m = FLOAT_STEP.exec(item);
  if (m) {
    const [a, b, s] = [pyFloat(m[1]), pyFloat(m[2]), m[3] === undefined ? 1 : pyFloat(m[3])];
    return arange(a, b + s, s);
  }
  m = FLOAT_COUNT.exec(item);
  if (m) return linspace(pyFloat(m[1]), pyFloat(m[2]), pyInt(m[3]));
  return [pyFloat(item)];
}

/** Python `int(str)`: optional sign directly before the digits, surrounding whitespace allowed. */
function pyInt(text: string): number {
  if (!/^\s*[+-]?\d+(?:_\d+)*\s*$/.test(text)) throw new RangeError(`invalid literal for int() with base 10: ${pyRepr(text)}`);
  return Number.parseInt(text.replace(/_/g, ''), 10);
}

/** Python `float(str)`: decimal or exponent notation, inf/nan; anything else throws Python's message. */
function pyFloat(text: string): number {
  const t = text.trim().replace(/(\d)_(?=\d)/g, '$1');
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(t)) return Number(t);
  if (/^[+-]?(?:inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return Number.NaN;
  throw new RangeError(`could not convert string to float: ${pyRepr(text)}`);
}

function pyRepr(text: string): string {
  return text.includes("'") && !text.includes('"') ? `"${text}"` : `'${text.replace(/'/g, "\\'")}'`;
}

/** Python range(start, stop, step). */
function pyRange(start: number, stop: number, step: number): number[] {
  const out: number[] = [];
  for (let v = start; step > 0 ? v < stop : v > stop; v += step) out.push(v);
  return out;
}

/**
 * numpy.arange: ceil((stop − start) / step) values start + i·delta, where numpy takes delta as
 * (start + step) − start (so 1 + 3·0.3 gives 1.9000000000000001, as in A1111).
 */
function arange(start: number, stop: number, step: number): number[] {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  return Array.from({ length: n }, (_, i) => start + i * delta);
}

/** numpy.linspace(start, stop, n): i·step + start, the last value exactly `stop`. */
function linspace(start: number, stop: number, n: number): number[] {
  if (n <= 0) return [];
  if (n === 1) return [start];
  const step = (stop - start) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? stop : start + i * step));
}

/** itertools.permutations order. */
function permutations(items: string[]): string[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((first, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [first, ...rest]));
}
