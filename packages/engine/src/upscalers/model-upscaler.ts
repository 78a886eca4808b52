/**
 * A model upscaler (ESRGAN / Real-ESRGAN, rrdbnet.ts) run the way A1111 v1.10.1 runs its model upscalers
 * (behaviour learnt from it, written anew): the image goes in as BGR in [0, 1], comes out clamped to [0, 1], ×255
 * and rounded; large images are cut into tiles of option `ESRGAN_tile` px overlapping by `ESRGAN_tile_overlap`
 * (image/tiles.ts, A1111's split_grid/combine_grid with every length × the model's scale), each tile upscaled
 * alone. `Upscaler.upscale` then repeats the model until the image covers ⌊W·s/8⌋·8 × ⌊H·s/8⌋·8 (three times at
 * most) and a Lanczos resize gives that size (pixel-upscale.ts).
 */
import { basename } from 'node:path';
import { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { convert, type Pixels, pixels } from '../image/compose.ts';
import { pixelUpscaleSteps } from '../image/pixel-upscale.ts';
import { combineTiles, splitTiles } from '../image/tiles.ts';
import { compileGraph } from '../runtime/compile.ts';
import type { OrtSession } from '../runtime/ort.ts';
import { Tensor } from '../tensor.ts';
import { buildRrdbGraph, detectRrdb, type RrdbConfig, rrdbKeyOf } from './rrdbnet.ts';

export interface TileOptions {
  /** Tile side in px (A1111 option ESRGAN_tile, default 192); 0 runs the whole image at once. */
  tile: number;
  /** Overlap in px (ESRGAN_tile_overlap, default 8). */
  overlap: number;
}

export class ModelUpscaler {
  private constructor(
    readonly path: string,
    readonly config: RrdbConfig,
    private readonly session: OrtSession,
  ) {}

  /** Reads and compiles an ESRGAN-family file; another kind of file is a CheckpointError naming it. */
  static async open(path: string, options: { threads?: number } = {}): Promise<ModelUpscaler> {
    const file = SafetensorsFile.open(path);
    try {
      const config = detectRrdb(file);
      const session = await compileGraph(buildRrdbGraph(config), file, { keyOf: rrdbKeyOf(config), intraOpThreads: options.threads });
      return new ModelUpscaler(path, config, session);
    } finally {
      file.close(); // the weights are inside the session now
    }
  }

  get name(): string {
    return basename(this.path).replace(/\.safetensors$/i, '');
  }

  /**
   * One pass of the model over an RGB image (A1111's upscale_pil_patch). A model that folds the image first
   * (pixel_unshuffle by r) gets it reflect-padded to a multiple of r and its output cropped back, as spandrel
   * (A1111's model loader) does.
   */
  async run(img: Pixels): Promise<Pixels> {
    const r = this.config.unshuffle;
    const padded = reflectPad(img, Math.ceil(img.width / r) * r, Math.ceil(img.height / r) * r);
    const { width: w, height: h } = padded;
    const plane = w * h;
    const input = new Float32Array(3 * plane);
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) input[(2 - c) * plane + p] = padded.data[p * padded.channels + c] / 255; // RGB → BGR planes
    }
    const out = (await this.session.run({ image: new Tensor([1, 3, h, w], input) })).upscaled;
    const [, , H, W] = out.shape;
    const s = this.config.scale;
    const [outW, outH] = [img.width * s, img.height * s];
    const result = pixels(outW, outH, 3);
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        for (let c = 0; c < 3; c++) result.data[(y * outW + x) * 3 + c] = toByte(out.data[(2 - c) * H * W + y * W + x]);
      }
    }
    return result;
  }

  /**
   * A1111's upscale_with_model: the whole image, or tiles upscaled one by one and put back together. An interrupt
   * (`signal`) between tiles gives the input back, as A1111 does.
   */
  async runTiled(img: Pixels, { tile, overlap }: TileOptions, signal?: AbortSignal): Promise<Pixels> {
    const rgb = convert(img, 3); // Pillow convert("RGB"): an alpha is dropped, not composited
    if (tile <= 0) return this.run(rgb);
    const grid = splitTiles(rgb, tile, tile, overlap);
    const s = this.config.scale;
    const rows = [];
    for (const row of grid.rows) {
      const done = [];
      for (const t of row) {
        if (signal?.aborted) return img;
        done.push({ x: t.x * s, y: t.y * s, image: await this.run(t.image) });
      }
      rows.push(done);
    }
    return combineTiles({ tileWidth: tile * s, tileHeight: tile * s, imageWidth: rgb.width * s, imageHeight: rgb.height * s, overlap: overlap * s, rows });
  }

  /** A1111's Upscaler.upscale with this model: scales `img` by `scale` (to a multiple of 8). */
  upscale(img: Pixels, scale: number, tiles: TileOptions, signal?: AbortSignal): Promise<Pixels> {
    return pixelUpscaleSteps(img, scale, (step) => this.runTiled(step, tiles, signal), signal);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * A1111's `(255.0 * clamp(x, 0, 1)).round().astype(uint8)` on a float32 array: the product in float32, rounded half
 * to even (numpy's round).
 */
function toByte(v: number): number {
  const x = Math.fround(Math.fround(Math.min(1, Math.max(0, v))) * 255);
  const floor = Math.floor(x);
  const diff = x - floor;
  return diff > 0.5 || (diff === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
}

/** torch `F.pad(mode="reflect")` on the right and bottom, to w × h (the edge pixel is not repeated). */
function reflectPad(img: Pixels, w: number, h: number): Pixels {
  if (img.width === w && img.height === h) return img;
  const out = pixels(w, h, img.channels);
  const mirror = (i: number, n: number) => (i < n ? i : 2 * (n - 1) - i);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const from = (mirror(y, img.height) * img.width + mirror(x, img.width)) * img.channels;
      out.data.set(img.data.subarray(from, from + img.channels), (y * w + x) * img.channels);
    }
  }
  return out;
}
