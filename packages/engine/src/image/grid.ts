/**
 * Image grids and their legends, as A1111's scripts draw them (spec §4.5, §5.3, §5.4): `imageGrid` lays images
 * out in rows (cell = largest image, smaller ones centred), `drawGridAnnotations` adds column titles on top, row
 * titles on the left and optional margins between cells. Text is real text: each label is laid out by Pango
 * (through sharp's text input: word wrap, centring, strikethrough for inactive prompt-matrix parts) with the
 * bundled DejaVu Sans (assets/fonts, Bitstream Vera licence), so the result does not depend on the fonts of the
 * machine. Sizes follow A1111's layout rules: font size (cell w + cell h) / 25, line spacing half of it, a left
 * column 3/4 of a cell wide when there are row titles, a top band as tall as the tallest column title plus one
 * font size.
 */
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

/** 8-bit RGB, row-major HWC (the engine's GeneratedImage pixels). */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** One line of a legend cell; inactive lines (prompt matrix parts that are off) are grey and struck through. */
export interface GridAnnotation {
  text: string;
  active?: boolean;
}

export const GRID_FONT_FILE = fileURLToPath(new URL('../../assets/fonts/DejaVuSans.ttf', import.meta.url));
const GRID_FONT_FAMILY = 'DejaVu Sans';
const ACTIVE_COLOR = '#000000';
const INACTIVE_COLOR = '#999999';

/** `#rrggbb` (or `#rgb`) → bytes; anything else is white (A1111's default `grid_background_color`). */
export function gridColor(text: string | null | undefined): [number, number, number] {
  const m = /^#([0-9a-f]{6}|[0-9a-f]{3})$/i.exec(text?.trim() ?? '');
  if (!m) return [255, 255, 255];
  const hex = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
  return [0, 2, 4].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

function blank(width: number, height: number, background: readonly number[]): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i += 3) rgb.set(background, i);
  return { width, height, rgb };
}

/** Copies `src` into `dst` at (x, y), clipped to `dst`. */
export function pasteRgb(dst: RgbImage, src: RgbImage, x: number, y: number): void {
  for (let row = 0; row < src.height; row++) {
    const dy = y + row;
    if (dy < 0 || dy >= dst.height) continue;
    const x0 = Math.max(0, x);
    const x1 = Math.min(dst.width, x + src.width);
    if (x1 <= x0) continue;
    const from = (row * src.width + (x0 - x)) * 3;
    dst.rgb.set(src.rgb.subarray(from, from + (x1 - x0) * 3), (dy * dst.width + x0) * 3);
  }
}

/**
 * `images.image_grid(imgs, rows=…)`: columns = ceil(n / rows), cell = the largest width and height, each image
 * centred in its cell; a null entry (a cell that failed or was not reached) stays background.
 */
export function imageGrid(images: readonly (RgbImage | null)[], rows: number, background: readonly number[] = [255, 255, 255]): RgbImage {
  const present = images.filter((im): im is RgbImage => im !== null);
  if (present.length === 0) throw new RangeError('imageGrid: no images');
  const r = Math.max(1, Math.min(rows, images.length));
  const cols = Math.ceil(images.length / r);
  const w = Math.max(...present.map((im) => im.width));
  const h = Math.max(...present.map((im) => im.height));
  const grid = blank(cols * w, r * h, background);
  images.forEach((im, i) => {
    if (!im) return;
    pasteRgb(grid, im, (i % cols) * w + Math.floor((w - im.width) / 2), Math.floor(i / cols) * h + Math.floor((h - im.height) / 2));
  });
  return grid;
}

/** A rendered text block: RGBA pixels of the ink, laid out centred within `width`. */
interface TextBlock {
  width: number;
  height: number;
  rgba: Uint8Array;
}

const escapeMarkup = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Lays out one annotation with Pango: wrapped at `maxWidth`, centred, shrunk while a single word is too wide. */
async function renderText(a: GridAnnotation, fontSize: number, maxWidth: number): Promise<TextBlock | null> {
  if (a.text === '') return null;
  const active = a.active !== false;
  const markup = `<span foreground="${active ? ACTIVE_COLOR : INACTIVE_COLOR}"${active ? '' : ' strikethrough="true"'}>${escapeMarkup(a.text)}</span>`;
  const wrap = Math.max(1, Math.floor(maxWidth));
  for (let size = Math.max(1, fontSize); ; size--) {
    const { data, info } = await sharp({
      text: { text: markup, font: `${GRID_FONT_FAMILY} ${size}px`, fontfile: GRID_FONT_FILE, width: wrap, align: 'centre', wrap: 'word', rgba: true },
    })
      .raw()
      .toBuffer({ resolveWithObject: true });
    // Pango breaks inside a word only when the word alone is wider than the line; A1111 shrinks the font instead.
    if (info.width <= wrap || size <= 1 || !/\S{2,}/.test(a.text)) {
      return { width: info.width, height: info.height, rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
    }
  }
}

/** Alpha-blends a text block onto `dst` with its top-left corner at (x, y). */
function blendText(dst: RgbImage, block: TextBlock, x: number, y: number): void {
  const x0 = Math.round(x);
  const y0 = Math.round(y);
  for (let row = 0; row < block.height; row++) {
    const dy = y0 + row;
    if (dy < 0 || dy >= dst.height) continue;
    for (let col = 0; col < block.width; col++) {
      const dx = x0 + col;
      if (dx < 0 || dx >= dst.width) continue;
      const s = (row * block.width + col) * 4;
      const alpha = block.rgba[s + 3];
      if (alpha === 0) continue;
      const d = (dy * dst.width + dx) * 3;
      for (let c = 0; c < 3; c++) dst.rgb[d + c] = Math.round((block.rgba[s + c] * alpha + dst.rgb[d + c] * (255 - alpha)) / 255);
    }
  }
}

/** The lines of one legend cell, rendered, with their total height (lines separated by `spacing`). */
async function renderCell(lines: readonly GridAnnotation[], fontSize: number, maxWidth: number, spacing: number) {
  const blocks = (await Promise.all(lines.map((a) => renderText(a, fontSize, maxWidth)))).filter((b): b is TextBlock => b !== null);
  const height = blocks.length === 0 ? 0 : blocks.reduce((sum, b) => sum + b.height, 0) + spacing * (blocks.length - 1);
  return { blocks, height };
}

function drawCell(dst: RgbImage, cell: { blocks: TextBlock[] }, centreX: number, top: number, spacing: number): void {
  let y = top;
  for (const b of cell.blocks) {
    blendText(dst, b, centreX - b.width / 2, y);
    y += b.height + spacing;
  }
}

/**
 * `images.draw_grid_annotations(im, width, height, hor_texts, ver_texts, margin)`: `grid` is a grid of
 * `cellWidth` × `cellHeight` cells; the result has column titles (`horTexts[col]`, lines top to bottom) above,
 * row titles (`verTexts[row]`) on the left and `margin` px of white between cells. Empty titles take no room.
 */
export async function drawGridAnnotations(
  grid: RgbImage,
  cellWidth: number,
  cellHeight: number,
  horTexts: readonly (readonly GridAnnotation[])[],
  verTexts: readonly (readonly GridAnnotation[])[],
  margin = 0,
): Promise<RgbImage> {
  const cols = Math.floor(grid.width / cellWidth);
  const rows = Math.floor(grid.height / cellHeight);
  const fontSize = Math.floor((cellWidth + cellHeight) / 25);
  const spacing = Math.floor(fontSize / 2);
  const hasText = (texts: readonly (readonly GridAnnotation[])[]) => texts.some((lines) => lines.some((a) => a.text !== ''));
  const padLeft = hasText(verTexts) ? Math.floor((cellWidth * 3) / 4) : 0;
  const hor = await Promise.all(horTexts.slice(0, cols).map((lines) => renderCell(lines, fontSize, cellWidth, spacing)));
  const ver = await Promise.all(verTexts.slice(0, rows).map((lines) => renderCell(lines, fontSize, padLeft, spacing)));
  const tallest = Math.max(0, ...hor.map((c) => c.height));
  const padTop = tallest === 0 ? 0 : tallest + spacing * 2;

  const out = blank(grid.width + padLeft + margin * (cols - 1), grid.height + padTop + margin * (rows - 1), [255, 255, 255]);
  const cell = blank(cellWidth, cellHeight, [0, 0, 0]);
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      for (let y = 0; y < cellHeight; y++) {
        const from = ((row * cellHeight + y) * grid.width + col * cellWidth) * 3;
        cell.rgb.set(grid.rgb.subarray(from, from + cellWidth * 3), y * cellWidth * 3);
      }
      pasteRgb(out, cell, padLeft + (cellWidth + margin) * col, padTop + (cellHeight + margin) * row);
    }
  }
  for (const [col, c] of hor.entries()) drawCell(out, c, padLeft + (cellWidth + margin) * col + cellWidth / 2, padTop / 2 - c.height / 2, spacing);
  for (const [row, c] of ver.entries()) drawCell(out, c, padLeft / 2, padTop + (cellHeight + margin) * row + cellHeight / 2 - c.height / 2, spacing);
  return out;
}
