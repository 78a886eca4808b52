/** `sdapi xyz` against an sdapi server (fake engine): the grid and the cells written, axes by label. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { decodePng } from '@sdapi/engine';
import { buildApp } from '@sdapi/server';
import { FakeGenerator } from '../../server/test/helpers/fake-generator.ts';
import { CliError } from '../src/output.ts';
import { parseAxis, xyz } from '../src/commands/xyz.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdapi-xyz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('sdapi xyz --x "Seed=1,2" --y "Steps=1,2" --lone writes the grid and four cells', async () => {
  const generator = new FakeGenerator();
  const app = await buildApp({ generator });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  after(() => app.close());
  const out = join(dir, 'grid.png');
  const log = console.log;
  const lines: string[] = [];
  console.log = (line: string) => lines.push(line);
  try {
    const code = await xyz(['--remote', url, '--x', 'Seed=1,2', '--y', 'Steps=1,2', '--width', '8', '--height', '8', '--lone', '--no-legend', '-o', out]);
    assert.equal(code, 0);
  } finally {
    console.log = log;
  }
  assert.deepEqual(lines, [out, ...[1, 2, 3, 4].map((i) => join(dir, `grid-${i}.png`))]);
  const grid = decodePng(readFileSync(out));
  assert.deepEqual([grid.width, grid.height], [16, 16]);
  assert.match(grid.text.parameters, /X Type: Seed, X Values: "1,2".*Y Type: Steps/);
  assert.equal(generator.calls.length, 4);
});

test('sdapi xyz: an axis must be LABEL=VALUES, and an unknown label is named', async () => {
  assert.deepEqual(parseAxis('CFG Scale=5, 7.5', 'x'), { axis: 'CFG Scale', values: '5, 7.5' });
  assert.throws(() => parseAxis('Steps', 'y'), CliError);
  await assert.rejects(xyz(['--remote', 'http://127.0.0.1:9', '--x', 'Stepz=1', '-o', join(dir, 'n.png')]), /no txt2img axis "Stepz"/);
});
