/**
 * The X/Y/Z plot script's value parser (spec a1111-api.md §5.3; vector xyz_axis_values.json): how a values text
 * (or the dropdown list) becomes the cells of one axis. Pure and isomorphic: the server validates and runs plots
 * with it. (packages/client keeps an identical copy for its builders until it takes @sdapi/protocol at run time.)
 */
import { parseCsvFields } from './csv.ts';
import type { XyzValueType } from './xyz-axes.ts';

/** CSV items stripped, empty ones dropped (the script's `csv_string_to_list_strip`). */
export function csvItems(text: string): string[] {
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

/**
 * A cell value as the script prints it in legends and infotexts: floats rounded to 8 decimals and written as
 * Python does (`2.0`, `0.3`), ints as is, permutations joined with ", " (format_value_join_list).
 */
export function formatXyzValue(type: XyzValueType, value: unknown): string {
  if (Array.isArray(value)) return value.join(', ');
  if (type === 'float' && typeof value === 'number') return pyFloatText(Number(value.toFixed(8)));
  return String(value);
}

/** Python's `str(float)`: shortest round-trip digits, `.0` on integral values, exponent outside [1e-4, 1e16). */
function pyFloatText(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const abs = Math.abs(x);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [m, e] = x.toExponential().split('e');
    return `${m}e${e[0] === '-' ? '-' : '+'}${e.slice(1).padStart(2, '0')}`;
  }
  const s = String(x);
  return Number.isInteger(x) ? `${s}.0` : s;
}
