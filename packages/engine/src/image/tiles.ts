/**
 * Overlapping tiles for tiled img2img (A1111's "SD upscale", spec §5.6): an image is cut into tile_w × tile_h
 * tiles that overlap by `overlap` px, spread evenly so the last tile ends at the border; after each tile has been
 * redrawn they are put back, each tile's first `overlap` columns (and each row's first `overlap` rows) blended
 * over what is already there with a linear ramp 0 → 255·(overlap−1)/overlap, like A1111's combine with
 * Pillow's L-mask paste (integer blend (a·m + b·(255−m))/255).
 */
import { mulDiv255, type Pixels, pixels } from './compose.ts';

export interface Tile {
  x: number;
  y: number;
  image: Pixels;
}

export interface TileGrid {
  tileWidth: number;
  tileHeight: number;
  imageWidth: number;
  imageHeight: number;
  overlap: number;
  /** Rows of tiles, top to bottom, each left to right. */
  rows: Tile[][];
}

/** How many tiles of `tile` px with `overlap` cover `size`, and their start offsets (the last one flush with the end). */
function offsets(size: number, tile: number, overlap: number): number[] {
  const count = Math.max(1, Math.ceil((size - overlap) / (tile - overlap)));
  const step = count > 1 ? (size - tile) / (count - 1) : 0;
  return Array.from({ length: count }, (_, i) => {
    const at = Math.trunc(i * step);
    return at + tile >= size ? size - tile : at; // negative when the image is smaller than a tile
  });
}

/** Pillow `crop`: the w×h box at (x, y), which may start left of or above the image; what lies outside is black. */
function cropRgb(img: Pixels, x: number, y: number, w: number, h: number): Pixels {
  const out = pixels(w, h, 3);
  const x0 = Math.max(0, x);
  const x1 = Math.min(img.width, x + w);
  for (let row = Math.max(0, -y); row < Math.min(h, img.height - y); row++) {
    if (x1 <= x0) break;
    const from = ((y + row) * img.width + x0) * 3;
    out.data.set(img.data.subarray(from, from + (x1 - x0) * 3), (row * w + (x0 - x)) * 3);
  }
  return out;
}

/**
 * Cuts an RGB image into overlapping tiles. An image narrower or lower than a tile is one tile that way, starting
 * left of (above) the image so that the image ends flush with the tile and black fills the rest, as A1111's
 * split_grid crops; combineTiles cuts the black off again.
 */
export function splitTiles(img: Pixels, tileWidth: number, tileHeight: number, overlap: number): TileGrid {
  if (img.channels !== 3) throw new RangeError(`splitTiles: RGB expected, got ${img.channels} channels`);
  if (overlap < 0 || overlap >= Math.min(tileWidth, tileHeight)) throw new RangeError(`splitTiles: overlap ${overlap} must be ≥ 0 and less than the tile size`);
  const xs = offsets(img.width, tileWidth, overlap);
  const rows = offsets(img.height, tileHeight, overlap).map((y) => xs.map((x) => ({ x, y, image: cropRgb(img, x, y, tileWidth, tileHeight) })));
  return { tileWidth, tileHeight, imageWidth: img.width, imageHeight: img.height, overlap, rows };
}

/** The blend weight of column/row i of an overlap (A1111: uint8(i·255/overlap)). */
const ramp = (i: number, overlap: number) => Math.trunc((i * 255) / overlap);

/**
 * Puts redrawn tiles back together (tiles are RGB of the grid's tile size). As A1111's combine_grid: every tile but
 * one starting at 0 blends its first `overlap` columns (rows) over what is there, which is black where nothing was
 * pasted yet (a tile starting left of the image, less than `overlap` px, darkens the image's first columns as in
 * A1111); whatever lies outside the image is cut off.
 */
export function combineTiles(grid: TileGrid): Pixels {
  const { imageWidth: W, imageHeight: H, overlap } = grid;
  const out = pixels(W, H, 3);
  const h = grid.tileHeight;
  for (const row of grid.rows) {
    const band = pixels(W, h, 3);
    for (const tile of row) {
      for (let y = 0; y < h; y++) {
        for (let x = Math.max(0, -tile.x); x < Math.min(grid.tileWidth, W - tile.x); x++) {
          const s = (y * grid.tileWidth + x) * 3;
          const d = (y * W + tile.x + x) * 3;
          const m = tile.x !== 0 && x < overlap ? ramp(x, overlap) : 255;
          for (let c = 0; c < 3; c++)
            band.data[d + c] = m === 255 ? tile.image.data[s + c] : mulDiv255(tile.image.data[s + c], m) + mulDiv255(band.data[d + c], 255 - m);
        }
      }
    }
    const y0 = row[0]?.y ?? 0;
    for (let y = Math.max(0, -y0); y < Math.min(h, H - y0); y++) {
      const m = y0 !== 0 && y < overlap ? ramp(y, overlap) : 255;
      for (let x = 0; x < W; x++) {
        const s = (y * W + x) * 3;
        const d = ((y0 + y) * W + x) * 3;
        for (let c = 0; c < 3; c++) out.data[d + c] = m === 255 ? band.data[s + c] : mulDiv255(band.data[s + c], m) + mulDiv255(out.data[d + c], 255 - m);
      }
    }
  }
  return out;
}
