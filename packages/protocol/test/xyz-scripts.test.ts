/**
 * The X/Y/Z plot tables and value parser the server runs plots with, against A1111's own (vectors
 * xyz_axis_options.json, xyz_axis_options.dev.json, xyz_axis_values.json): every case of each file.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expandXyzAxisValues, formatXyzValue, parseCsvFields, toCsvRow, type XyzValueType, xyzAxisOptions } from '../src/index.ts';
import { needVector, readVector } from './helpers/spec.ts';

type VectorAxis = { index: number; label: string; type: string; has_choices: boolean; cost: number };

for (const [file, version] of [
  ['xyz_axis_options.json', 'v1.10.1'],
  ['xyz_axis_options.dev.json', 'dev'],
] as const) {
  describe(`axis tables = ${file}`, { skip: needVector(file) }, () => {
    for (const tab of ['txt2img', 'img2img'] as const) {
      test(`${tab} (${version})`, () => {
        const expected = readVector<Record<string, VectorAxis[]>>(file)[tab].map((a) => ({
          index: a.index,
          label: a.label,
          type: a.type,
          hasChoices: a.has_choices,
          cost: a.cost,
        }));
        assert.deepEqual(xyzAxisOptions(tab, version), expected);
      });
    }
  });
}

interface ValueCase {
  type: XyzValueType;
  values: string;
  expected?: unknown[];
  error?: string;
  label?: string;
  values_dropdown?: string[];
  csv_mode?: boolean;
  axis_has_choices?: boolean;
}

describe('axis values = xyz_axis_values.json', { skip: needVector('xyz_axis_values.json') }, () => {
  if (needVector('xyz_axis_values.json')) return;
  const v = readVector('xyz_axis_values.json');
  for (const c of v.cases as ValueCase[]) {
    test(`${c.type} ${JSON.stringify(c.values)}${c.values_dropdown ? ' (dropdown)' : ''}`, () => {
      const run = () =>
        expandXyzAxisValues({
          type: c.type,
          values: c.values,
          label: c.label,
          hasChoices: c.axis_has_choices,
          dropdown: c.values_dropdown,
          csvMode: c.csv_mode ?? true,
        });
      if (c.error) assert.throws(run, { message: c.error.replace(/^ValueError: /, '') });
      else assert.deepEqual(run(), c.expected);
    });
  }
  test('list_to_csv_string and back', () => {
    for (const { list, list_to_csv_string } of v.list_to_csv_string as { list: string[]; list_to_csv_string: string }[]) {
      assert.equal(toCsvRow(list), list_to_csv_string);
      assert.deepEqual(parseCsvFields(list_to_csv_string), list);
    }
  });
  test('legend labels (format_value, format_value_add_label)', () => {
    for (const l of v.labels as { value: unknown; format_value: unknown; format_value_add_label: string }[]) {
      // The vector's values are Python's: 2.0 arrives here as 2, so the type comes from the expected text.
      const isFloat = typeof l.value === 'number' && /\./.test(l.format_value_add_label);
      const type: XyzValueType = isFloat ? 'float' : typeof l.value === 'number' ? 'int' : 'str';
      assert.equal(`CFG Scale: ${formatXyzValue(type, l.value)}`, l.format_value_add_label);
    }
  });
});
