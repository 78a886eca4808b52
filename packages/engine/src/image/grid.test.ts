/** Grids and legends: layout sizes, centring, margins, and that legends are drawn as ink where A1111 puts them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drawGridAnnotations, gridColor, imageGrid, type RgbImage } from './grid.ts';

const solid = (w: number, h: number, v: number): RgbImage => ({ width: w, height: h, rgb: new Uint8Array(w * h * 3).fill(v) });
const at = (im: RgbImage, x: number, y: number) => im.rgb[(y * im.width + x) * 3];
/** Pixels darker than mid-grey inside a rectangle: text ink on a white band. */
function ink(im: RgbImage, x0: number, y0: number, x1: number, y1: number): number {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (at(im, x, y) < 128) n++;
  return n;
}

test('imageGrid: rows × ceil(n/rows) cells of the largest size, smaller images centred, missing cells background', () => {
  const grid = imageGrid([solid(8, 8, 10), solid(4, 4, 20), null], 2, gridColor('#808080'));
  assert.deepEqual([grid.width, grid.height], [16, 16]); // 2 rows, 2 columns
  assert.equal(at(grid, 0, 0), 10);
  assert.equal(at(grid, 8 + 2, 2), 20); // the 4×4 image centred in the 8×8 cell
  assert.equal(at(grid, 8, 0), 0x80);
  assert.equal(at(grid, 0, 8), 0x80); // the null cell
  assert.deepEqual(gridColor('nonsense'), [255, 255, 255]);
});

test('drawGridAnnotations: a left column 3/4 cell wide, a top band, margins, and ink in the legends', async () => {
  const cells = [solid(100, 100, 200), solid(100, 100, 200), solid(100, 100, 200), solid(100, 100, 200)];
  const grid = imageGrid(cells, 2);
  const out = await drawGridAnnotations(grid, 100, 100, [[{ text: 'Seed: 1' }], [{ text: 'Seed: 2' }]], [[{ text: 'Steps: 2' }], [{ text: 'Steps: 3' }]], 6);
  const padLeft = 75;
  const padTop = out.height - 200 - 6;
  assert.equal(out.width, 200 + padLeft + 6);
  assert.ok(padTop > 8 && padTop < 40, `top band ${padTop}px`);
  // Cells are where the layout says, margins white.
  assert.equal(at(out, padLeft + 1, padTop + 1), 200);
  assert.equal(at(out, padLeft + 103, padTop + 50), 255);
  assert.equal(at(out, padLeft + 106 + 1, padTop + 106 + 1), 200);
  // Each column and row title left ink in its own area, none in the top-left corner.
  assert.ok(ink(out, padLeft, 0, padLeft + 100, padTop) > 20, 'first column title');
  assert.ok(ink(out, padLeft + 106, 0, out.width, padTop) > 20, 'second column title');
  assert.ok(ink(out, 0, padTop, padLeft, padTop + 100) > 20, 'first row title');
  assert.ok(ink(out, 0, padTop + 106, padLeft, out.height) > 20, 'second row title');
  assert.equal(ink(out, 0, 0, padLeft, padTop), 0);
});

test('drawGridAnnotations: no titles → the grid unchanged; inactive lines are grey', async () => {
  const grid = imageGrid([solid(50, 50, 90)], 1);
  const same = await drawGridAnnotations(grid, 50, 50, [[{ text: '' }]], [[{ text: '' }]]);
  assert.deepEqual([same.width, same.height], [50, 50]);
  assert.deepEqual(same.rgb, grid.rgb);
  const off = await drawGridAnnotations(imageGrid([solid(200, 200, 255)], 1), 200, 200, [[{ text: 'in a hat', active: false }]], [[]]);
  const band = off.rgb.subarray(0, (off.height - 200) * off.width * 3);
  const darkest = Math.min(...band);
  assert.ok(darkest > 100 && darkest < 200, `inactive text is grey (darkest ${darkest})`);
});
