/** X/Y/Z plot: the axis tables and value expansion against A1111's own (vectors xyz_axis_*.json), and the script_args layout. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expandXyzAxisValues, findXyzAxis, xyzAxisOptions, xyzPlot } from '../../src/index.ts';
import { parseCsvFields, toCsvRow } from '@sdapi/protocol/scripts';
import { needVector, readVector } from '../helpers/spec.ts';

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

describe('axis values = xyz_axis_values.json', { skip: needVector('xyz_axis_values.json') }, () => {
  if (needVector('xyz_axis_values.json')) return;
  const v = readVector('xyz_axis_values.json');
  for (const c of v.cases as {
    type: 'int';
    values: string;
    expected?: unknown[];
    error?: string;
    label?: string;
    values_dropdown?: string[];
    csv_mode?: boolean;
    axis_has_choices?: boolean;
  }[]) {
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
});

describe('xyzPlot script_args', () => {
  test('18 arguments in v1.10.1 order, axes by label, dropdowns filled only for axes with choices', () => {
    const sel = xyzPlot({
      x: { axis: 'steps', values: [10, 20] },
      y: { axis: 'Sampler', values: ['Euler a', 'DPM++ 2M'] },
      includeLoneImages: true,
      marginSize: 4,
    });
    assert.equal(sel.script_name, 'X/Y/Z plot');
    assert.deepEqual(sel.script_args, [
      4,
      '10,20',
      [],
      9,
      'Euler a,DPM++ 2M',
      ['Euler a', 'DPM++ 2M'],
      0,
      '',
      [],
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      4,
      false,
    ]);
  });

  test('text values keep the script syntax; choice axes also get the parsed list; img2img and dev indices differ', () => {
    const sel = xyzPlot({
      x: { axis: 'CFG Scale', values: '5-9 [3]' },
      z: { axis: 'Checkpoint name', values: '"a, b.safetensors",c' },
      tab: 'img2img',
      version: 'dev',
      varySeeds: { y: true },
    });
    assert.deepEqual(sel.script_args.slice(0, 9), [5, '5-9 [3]', [], 0, '', [], 10, '"a, b.safetensors",c', ['a, b.safetensors', 'c']]);
    assert.equal(sel.script_args.length, 19, 'dev adds draw_grid');
    assert.equal(sel.script_args[14], true);
    assert.equal(findXyzAxis('Beta schedule alpha', 'txt2img', 'dev').index, 22);
    assert.equal(findXyzAxis('Beta schedule alpha', 'txt2img').index, 21);
  });

  test('unknown axes and tab-specific axes fail with the valid labels', () => {
    assert.throws(
      () => xyzPlot({ x: { axis: 'Hires steps', values: [1] }, tab: 'img2img' }),
      /no img2img axis "Hires steps" in A1111 v1.10.1; valid: Nothing, Seed, .*Image CFG Scale/,
    );
    assert.throws(() => xyzPlot({ x: { axis: 99, values: [1] } }), /no txt2img axis 99/);
    assert.throws(() => xyzPlot({ drawGrid: false }), /only on A1111 dev/);
  });
});
