/** X/Y/Z plot: the script_args layout (the axis tables and value parser are protocol's, tested there against the vectors). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expandXyzAxisValues, findXyzAxis, xyzAxisOptions, xyzPlot } from '../../src/index.ts';
import * as protocolScripts from '@sdapi/protocol/scripts';
import { parseCsvFields, toCsvRow } from '@sdapi/protocol/scripts';

test('the axis tables and value parser are @sdapi/protocol/scripts itself (its tests run every xyz vector)', () => {
  assert.equal(expandXyzAxisValues, protocolScripts.expandXyzAxisValues);
  assert.equal(xyzAxisOptions, protocolScripts.xyzAxisOptions);
  assert.equal(findXyzAxis, protocolScripts.findXyzAxis);
  assert.deepEqual(parseCsvFields(toCsvRow(['a, b', 'c'])), ['a, b', 'c']);
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
